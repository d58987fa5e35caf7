//! The staff console (`/console/`): one static page whose script speaks the JSON API with the
//! staff member's token. Everything it shows is decided by the API (roles, scope, allowed actions).
use crate::html;
use actix_web::{HttpResponse, get};

#[utoipa::path(tag = "pages", responses((status = 308, description = "跳转到 /console/")))]
#[get("/console")]
async fn console_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect().insert_header(("Location", "/console/")).finish()
}

#[utoipa::path(tag = "pages", responses((status = 200, description = "工作台页面", content_type = "text/html")))]
#[get("/console/")]
async fn console() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("X-Frame-Options", "DENY"))
        .body(html::CONSOLE)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(console_redirect).service(console);
}
