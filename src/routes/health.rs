//! Operations: liveness, readiness (database and Redis), Prometheus metrics.
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde_json::json;

#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state.db.ping().await.is_ok();
    let redis = match &state.redis {
        None => json!("not_configured"),
        Some(conn) => {
            let mut c = conn.clone();
            let pong: Result<String, _> = redis::cmd("PING").query_async(&mut c).await;
            json!(if pong.is_ok() { "ok" } else { "unavailable" })
        }
    };
    let ready = db_ok && redis != json!("unavailable");
    let body = json!({"status": if ready { "ready" } else { "not_ready" }, "database": if db_ok { "ok" } else { "unavailable" }, "redis": redis});
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let text = state.prometheus.as_ref().map(|h| h.render()).unwrap_or_default();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
