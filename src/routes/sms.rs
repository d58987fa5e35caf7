//! The SMS gateway for staff (`services::sms_admin`): the outbox, provider health, the operators'
//! queue of replies no rule understood, and opt-outs.
use super::ListAnswer;
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::sms_admin::{self, HandleRequest, OutboxQuery};
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, post, web};
use serde::Deserialize;

#[utoipa::path(tag = "sms", params(OutboxQuery, crate::openapi::PageParams), responses((status = 200, description = "短信外发箱（电话已打码）", body = crate::openapi::Page)))]
#[get("/outbox")]
async fn outbox(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<OutboxQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = sms_admin::outbox(&state, &user, &q, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "sms", responses((status = 200, description = "一条外发短信", body = Object)))]
#[get("/outbox/{id}")]
async fn outbox_one(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sms_admin::message(&state, &user, *id).await?))
}

#[utoipa::path(tag = "sms", responses((status = 200, description = "已重新排队", body = Object)))]
#[post("/outbox/{id}/resend")]
async fn resend(state: web::Data<AppState>, user: StaffUser, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sms_admin::resend(&state, &user, *id).await?))
}

#[utoipa::path(tag = "sms", responses((status = 200, description = "短信服务商状态", body = Object)))]
#[get("/sms/providers")]
async fn providers(state: web::Data<AppState>, user: StaffUser) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(sms_admin::providers(&state, &user).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RepliesQuery {
    status: Option<String>,
}

#[utoipa::path(tag = "sms", params(RepliesQuery, crate::openapi::PageParams), responses((status = 200, description = "待处理的上行短信", body = crate::openapi::Page)))]
#[get("/sms/replies")]
async fn replies(
    state: web::Data<AppState>,
    user: StaffUser,
    q: web::Query<RepliesQuery>,
    page: Page,
) -> ApiResult<HttpResponse> {
    let (items, total) = sms_admin::replies(&state, &user, q.status.as_deref(), page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

#[utoipa::path(tag = "sms", request_body = Option<crate::services::sms_admin::HandleRequest>, responses((status = 200, description = "已处理", body = Object)))]
#[post("/sms/replies/{id}/handle")]
async fn handle_reply(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    body: Option<JsonBody<HandleRequest>>,
) -> ApiResult<HttpResponse> {
    let req = body.map(|b| b.into_inner()).unwrap_or_default();
    Ok(HttpResponse::Ok().json(sms_admin::handle_reply(&state, &user, *id, &req).await?))
}

#[utoipa::path(tag = "sms", params(crate::openapi::PageParams), responses((status = 200, description = "退订名单", body = crate::openapi::Page)))]
#[get("/sms/opt-outs")]
async fn opt_outs(state: web::Data<AppState>, user: StaffUser, page: Page) -> ApiResult<HttpResponse> {
    let (items, total) = sms_admin::opt_outs(&state, &user, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

/// A villager who asks (by phone, in person) to get messages again.
#[utoipa::path(tag = "sms", responses((status = 204, description = "已移出退订名单")))]
#[delete("/sms/opt-outs/{phone}")]
async fn remove_opt_out(
    state: web::Data<AppState>,
    user: StaffUser,
    phone: web::Path<String>,
) -> ApiResult<HttpResponse> {
    sms_admin::remove_opt_out(&state, &user, &phone).await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(outbox)
        .service(outbox_one)
        .service(resend)
        .service(providers)
        .service(replies)
        .service(handle_reply)
        .service(opt_outs)
        .service(remove_opt_out);
}
