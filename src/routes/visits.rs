//! Appeals against return visits: `POST /api/v1/return-visits/{visit_id}/appeals`,
//! `GET /api/v1/appeals`, `POST /api/v1/appeals/{id}/decide`.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::appeals::{self, AppealRequest, DecisionRequest};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

#[utoipa::path(tag = "appeals", request_body = crate::services::appeals::AppealRequest, responses((status = 201, description = "申诉已提交", body = Object)))]
#[post("/return-visits/{visit_id}/appeals")]
async fn appeal(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<AppealRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(appeals::create(&state, &user, *id, &body).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    status: Option<String>,
}

#[utoipa::path(tag = "appeals", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "申诉列表", body = crate::openapi::Page)))]
#[get("/appeals")]
async fn list(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = appeals::list(&state, &user, q.status.as_deref().filter(|s| !s.is_empty()), page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "appeals", request_body = crate::services::appeals::DecisionRequest, responses((status = 200, description = "申诉已裁决", body = Object)))]
#[post("/appeals/{id}/decide")]
async fn decide(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(appeals::decide(&state, &user, *id, &body).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(appeal).service(list).service(decide);
}
