//! `POST /api/v1/auth/login`, `POST /api/v1/auth/refresh`, `POST /api/v1/auth/password`.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::routes::body::JsonBody;
use crate::services::auth::{self, LoginRequest, PasswordChange, RefreshRequest};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, post, web};

#[post("/auth/login")]
async fn login(state: web::Data<AppState>, req: HttpRequest, body: JsonBody<LoginRequest>) -> ApiResult<HttpResponse> {
    let ip = super::client_ip(&req, &state);
    Ok(HttpResponse::Ok().json(auth::login(&state, &body, &ip).await?))
}

#[post("/auth/refresh")]
async fn refresh(state: web::Data<AppState>, body: JsonBody<RefreshRequest>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(auth::refresh(&state, &body).await?))
}

#[post("/auth/password")]
async fn password(
    state: web::Data<AppState>,
    user: StaffUser,
    body: JsonBody<PasswordChange>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(auth::change_password(&state, &user, &body).await?))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login).service(refresh).service(password);
}
