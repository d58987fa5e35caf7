//! Accountability records (追责红线) for inspectors: `GET /api/v1/accountability`,
//! `GET /api/v1/accountability/counts`, `GET /api/v1/accountability/{id}`,
//! `POST /api/v1/accountability/{id}/decide`.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::accountability::{self, DecideRequest, ListQuery};
use crate::services::stats::PeriodQuery;
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};

#[utoipa::path(tag = "accountability", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "追责记录列表", body = crate::openapi::Page)))]
#[get("/accountability")]
async fn list(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = accountability::list(&state, &user, &q, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "accountability", params(PeriodQuery), responses((status = 200, description = "各单位各规则的追责记录数", body = Object)))]
#[get("/accountability/counts")]
async fn counts(state: web::Data<AppState>, user: StaffUser, q: web::Query<PeriodQuery>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accountability::counts(&state, &user, &q).await?))
}

#[utoipa::path(tag = "accountability", responses((status = 200, description = "追责记录及其证据", body = Object)))]
#[get("/accountability/{id}")]
async fn detail(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accountability::get(&state, &user, *id).await?))
}

#[utoipa::path(tag = "accountability", request_body = crate::services::accountability::DecideRequest, responses((status = 200, description = "追责记录已处理", body = Object)))]
#[post("/accountability/{id}/decide")]
async fn decide(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<DecideRequest>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(accountability::decide(&state, &user, *id, &body).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // `counts` before `{id}`: the literal path must win.
    cfg.service(list).service(counts).service(detail).service(decide);
}
