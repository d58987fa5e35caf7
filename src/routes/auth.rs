//! `POST /api/v1/auth/login`, `POST /api/v1/auth/refresh`, `POST /api/v1/auth/password`.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::routes::body::JsonBody;
use crate::services::auth::{self, LoginRequest, PasswordChange, RefreshRequest};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, post, web};

#[utoipa::path(tag = "auth", security(()), request_body = crate::services::auth::LoginRequest, responses((status = 200, description = "访问令牌与刷新令牌", body = crate::services::auth::TokenAnswer)))]
#[post("/auth/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<LoginRequest>) -> ApiResult<HttpResponse> {
    let ip = super::client_ip(&req, &state);
    Ok(HttpResponse::Ok().json(auth::login(&state, &body, &ip).await?))
}

#[utoipa::path(tag = "auth", security(()), request_body = crate::services::auth::RefreshRequest, responses((status = 200, description = "新的访问令牌", body = crate::services::auth::TokenAnswer)))]
#[post("/auth/refresh")]
async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(auth::refresh(&state, &body).await?))
}

#[utoipa::path(tag = "auth", request_body = crate::services::auth::PasswordChange, responses((status = 200, description = "密码已修改", body = Object)))]
#[post("/auth/password")]
async fn password(
    state: web::Data<AppState>,
    user: StaffUser,
    body: JsonBody<PasswordChange>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(auth::change_password(&state, &user, &body).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login).service(refresh).service(password);
}
