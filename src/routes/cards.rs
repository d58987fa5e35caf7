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

#[utoipa::path(tag = "cards", security(()), responses((status = 200, description = "联系卡公开信息（官员姓名、电话、分类）", body = Object)))]
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

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    status: Option<String>,
    region_id: Option<i64>,
}

#[utoipa::path(tag = "cards", params(ListQuery, crate::openapi::PageParams), responses((status = 200, description = "联系卡列表", body = crate::openapi::Page)))]
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

#[utoipa::path(tag = "cards", responses((status = 200, description = "联系卡详情", body = Object)))]
#[get("/cards/{code}/details")]
async fn details(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::details(&state, &user, &code).await?))
}

#[utoipa::path(tag = "cards", request_body = Object, responses((status = 200, description = "修改后的联系卡", body = Object)))]
#[patch("/cards/{code}")]
async fn edit(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    body: JsonBody<Value>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::edit(&state, &user, &code, &body).await?))
}

#[utoipa::path(tag = "cards", responses((status = 200, description = "刷新联系人后的联系卡", body = Object)))]
#[post("/cards/{code}/contacts/refresh")]
async fn refresh(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::refresh_contacts(&state, &user, &code).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PeriodQuery {
    from: Option<String>,
    to: Option<String>,
}

#[utoipa::path(tag = "cards", params(PeriodQuery), responses((status = 200, description = "扫码统计", body = Object)))]
#[get("/regions/{id}/card-scans")]
async fn region_scans(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    q: web::Query<PeriodQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(card_admin::region_scans(&state, &user, *id, q.from.as_deref(), q.to.as_deref()).await?))
}

#[utoipa::path(tag = "cards", responses((status = 201, description = "新发放的联系卡", body = Object)))]
#[post("/villages/{id}/cards")]
async fn issue(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Created().json(cards::issue(&state, &user, *id).await?))
}

#[utoipa::path(tag = "cards", responses((status = 200, description = "已停用的联系卡", body = Object)))]
#[post("/cards/{code}/revoke")]
async fn revoke(state: web::Data<AppState>, user: StaffUser, code: web::Path<String>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(cards::revoke(&state, &user, &code).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list)
        .service(public_card)
        .service(issue)
        .service(revoke)
        .service(details)
        .service(edit)
        .service(refresh)
        .service(region_scans);
}
