//! 三老合议: `GET|POST /api/v1/villages/{id}/council`, `PATCH /api/v1/villages/{id}/council/{member_id}`
//! (staff of the village's scope), and the public `GET /api/v1/villages/{id}/notices` of published
//! decisions (the page form is `/v/{id}/notices`, in `pages`).
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::council::{self, MemberUpdate, NewMemberBody};
use crate::state::AppState;
use actix_web::{HttpResponse, get, patch, post, web};
use serde_json::json;

#[utoipa::path(tag = "council", responses((status = 200, description = "村民议事会成员", body = Object)))]
#[get("/villages/{id}/council")]
async fn members(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (village, items) = council::list(&state, &user, *id).await?;
    let total = items.len();
    Ok(HttpResponse::Ok().json(json!({"village": {"id": village.id, "name": village.name}, "items": items,
        "total": total, "page": 1, "per_page": total.max(1), "titles": council::TITLES,
        "min_members": council::MIN_MEMBERS})))
}

#[utoipa::path(tag = "council", request_body = crate::services::council::NewMemberBody, responses((status = 201, description = "已添加议事会成员", body = crate::services::council::MemberView)))]
#[post("/villages/{id}/council")]
async fn add(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: JsonBody<NewMemberBody>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(council::add(&state, &user, *id, &body).await?))
}

#[utoipa::path(tag = "council", request_body = crate::services::council::MemberUpdate, responses((status = 200, description = "已修改议事会成员", body = crate::services::council::MemberView)))]
#[patch("/villages/{id}/council/{member_id}")]
async fn update(
    state: web::Data<AppState>,
    user: StaffUser,
    path: web::Path<(i64, i64)>,
    body: JsonBody<MemberUpdate>,
) -> ApiResult<HttpResponse> {
    let (id, member_id) = path.into_inner();
    Ok(HttpResponse::Ok().json(council::update(&state, &user, id, member_id, &body).await?))
}

#[utoipa::path(tag = "council", security(()), params(crate::openapi::PageParams), responses((status = 200, description = "村民议事会已公开的合议决定", body = Object)))]
#[get("/villages/{id}/notices")]
async fn notices(state: web::Data<AppState>, id: web::Path<i64>, page: Page) -> ApiResult<HttpResponse> {
    let (village, items, total) = council::notices(&state, *id, page).await?;
    let list = ListAnswer::new(items, total, page);
    Ok(HttpResponse::Ok().json(json!({"village": {"id": village.id, "name": village.name}, "items": list.items,
        "total": list.total, "page": list.page, "per_page": list.per_page})))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(members).service(add).service(update).service(notices);
}
