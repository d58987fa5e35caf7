//! `POST /api/v1/auth/login`, `POST /api/v1/auth/refresh`.
use crate::error::ApiResult;
use crate::routes::body::JsonBody;
use crate::services::auth::{self, LoginRequest, RefreshRequest};
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

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login).service(refresh);
}
