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

#[post("/return-visits/{visit_id}/appeals")]
async fn appeal(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<AppealRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(appeals::create(&state, &user, *id, &body).await?))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
}

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

#[post("/appeals/{id}/decide")]
async fn decide(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<DecisionRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(appeals::decide(&state, &user, *id, &body).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(appeal).service(list).service(decide);
}
