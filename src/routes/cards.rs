//! Cards: the public card, and issue / rotate / revoke / list for staff.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::error::{ApiError, ApiResult};
use crate::repo::Page;
use crate::services::cards::{self, CardLookup};
use crate::state::AppState;
use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;

#[get("/cards/{code}")]
async fn public_card(state: web::Data<AppState>, code: web::Path<String>) -> ApiResult<HttpResponse> {
    match cards::lookup(&state, &code).await? {
        CardLookup::Active(card) => Ok(HttpResponse::Ok().json(card)),
        CardLookup::Ended { status, .. } if status == "rotated" => {
            Err(ApiError::gone("card_rotated", "该联系卡已更换，请扫描村里张贴的新卡片"))
        }
        CardLookup::Ended { .. } => Err(ApiError::gone("card_revoked", "该联系卡已停用")),
        CardLookup::Unknown => Err(ApiError::not_found("联系卡不存在")),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[get("/cards")]
async fn list(state: web::Data<AppState>, user: StaffUser, q: web::Query<ListQuery>) -> ApiResult<HttpResponse> {
    let page = Page::new(q.page, q.per_page);
    let (items, total) = cards::list(&state, &user, q.status.as_deref(), page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[post("/villages/{id}/cards")]
async fn issue(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(cards::issue(&state, &user, *id).await?))
}

#[post("/cards/{code}/revoke")]
async fn revoke(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(cards::revoke(&state, &user, &code).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(public_card).service(issue).service(revoke);
}
