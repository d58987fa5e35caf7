//! Cards: the public card, and for staff issue / rotate / revoke / list / details / edit, and scan
//! figures per region. Downloads are in `card_render`.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::domain::values::CardStatus;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::card_admin;
use crate::services::cards::{self, CardLookup};
use crate::state::AppState;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::Deserialize;
use serde_json::Value;

#[get("/cards/{code}")]
async fn public_card(state: web::Data<AppState>, code: web::Path<String>) -> ApiResult<HttpResponse> {
    match cards::lookup(&state, &code).await? {
        CardLookup::Active(card) => Ok(HttpResponse::Ok().json(card)),
        CardLookup::Ended { status: CardStatus::Rotated, .. } => {
            Err(ApiError::gone(codes::CARD_ROTATED, "该联系卡已更换，请扫描村里张贴的新卡片"))
        }
        CardLookup::Ended { .. } => Err(ApiError::gone(codes::CARD_REVOKED, "该联系卡已停用")),
        CardLookup::Unknown => Err(ApiError::not_found("联系卡不存在")),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    region_id: Option<i64>,
}

#[get("/cards")]
async fn list(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<ListQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = card_admin::list(&state, &user, q.status.as_deref(), q.region_id, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[get("/cards/{code}/details")]
async fn details(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::details(&state, &user, &code).await?))
}

#[patch("/cards/{code}")]
async fn edit(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    body: JsonBody<Value>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::edit(&state, &user, &code, &body).await?))
}

#[post("/cards/{code}/contacts/refresh")]
async fn refresh(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::refresh_contacts(&state, &user, &code).await?))
}

#[derive(Deserialize)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

#[get("/regions/{id}/card-scans")]
async fn region_scans(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    q: web::Query<PeriodQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::region_scans(&state, &user, *id, q.from.as_deref(), q.to.as_deref()).await?))
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
    cfg.service(list)
        .service(public_card)
        .service(issue)
        .service(revoke)
        .service(details)
        .service(edit)
        .service(refresh)
        .service(region_scans);
}
