//! Villager sign-in and their own tickets: `/auth/otp`, `/auth/otp/verify`, `/auth/wechat`,
//! `/me/tickets`.
use super::ListAnswer;
use crate::auth::VillagerUser;
use crate::error::ApiResult;
use crate::repo::Page;
use crate::routes::body::JsonBody;
use crate::services::villagers::{self, OtpRequest, VerifyRequest, WechatRequest};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};

#[utoipa::path(tag = "villagers", security(()), request_body = crate::services::villagers::OtpRequest, responses((status = 202, description = "验证码已发送", body = Object)))]
#[post("/auth/otp")]
async fn otp(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<OtpRequest>) -> ApiResult<HttpResponse> {
    let ip = super::client_ip(&req, &state);
    Ok(HttpResponse::Accepted().json(villagers::send_otp(&state, &body, &ip).await?))
}

#[utoipa::path(tag = "villagers", security(()), request_body = crate::services::villagers::VerifyRequest, responses((status = 200, description = "村民访问令牌", body = crate::services::villagers::VillagerToken)))]
#[post("/auth/otp/verify")]
async fn verify(state: web::Data<AppState>, body: JsonBody<VerifyRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(villagers::verify_otp(&state, &body).await?))
}

#[utoipa::path(tag = "villagers", security(()), request_body = crate::services::villagers::WechatRequest, responses((status = 200, description = "村民访问令牌", body = crate::services::villagers::VillagerToken)))]
#[post("/auth/wechat")]
async fn wechat(state: web::Data<AppState>, body: JsonBody<WechatRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(villagers::wechat_login(&state, &body).await?))
}

#[utoipa::path(tag = "villagers", params(crate::openapi::PageParams), responses((status = 200, description = "我的诉求", body = crate::openapi::Page)))]
#[get("/me/tickets")]
async fn my_tickets(state: web::Data<AppState>, me: VillagerUser, page: Page) -> ApiResult<HttpResponse> {
    let (items, total) = villagers::my_tickets(&state, &me, page).await?;
    Ok(HttpResponse::Ok().json(ListAnswer::new(items, total, page)))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(otp).service(verify).service(wechat).service(my_tickets);
}
