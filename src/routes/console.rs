//! The staff console (`/console/`): one static page whose script speaks the JSON API with the
//! staff member's token. Everything it shows is decided by the API (roles, scope, allowed actions).
use crate::html;
use actix_web::{HttpResponse, get, web};

#[get("/console")]
async fn console_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/console/")).finish()
}

#[get("/console/")]
async fn console() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(html::CONSOLE)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(console_redirect).service(console);
}
