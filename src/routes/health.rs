//! Operations: liveness, readiness (database and Redis), Prometheus metrics.
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde_json::json;

#[utoipa::path(tag = "health", responses((status = 200, description = "存活", body = Object)))]
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

#[utoipa::path(tag = "health", responses((status = 200, description = "就绪", body = Object), (status = 503, description = "数据库或 Redis 不可用", body = Object)))]
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state.db.ping().await.is_ok();
    let redis = match &state.redis {
        None => json!("not_configured"),
        Some(conn) => {
            let mut c = conn.clone();
            // Bounded like every Redis call: a readiness probe must answer in time whatever Redis does.
            let ping = redis::cmd("PING");
            let pong =
                tokio::time::timeout(std::time::Duration::from_millis(500), ping.query_async::<String>(&mut c)).await;
            json!(if matches!(pong, Ok(Ok(_))) { "ok" } else { "unavailable" })
        }
    };
    let ready = db_ok && redis != json!("unavailable");
    let body = json!({"status": if ready { "ready" } else { "not_ready" }, "database": if db_ok { "ok" } else { "unavailable" }, "redis": redis});
    if ready { HttpResponse::Ok().json(body) } else { HttpResponse::ServiceUnavailable().json(body) }
}

#[utoipa::path(tag = "health", security((), ("bearer" = [])), responses((status = 200, description = "Prometheus 指标", content_type = "text/plain")))]
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    if let Err(e) = may_read_metrics(&req, state.settings.observability.metrics_token()) {
        let mut refused = actix_web::ResponseError::error_response(&e);
        if e.status == actix_web::http::StatusCode::UNAUTHORIZED {
            refused.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        return refused;
    }
    let text = state.prometheus.as_ref().map(|h| h.render()).unwrap_or_default();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(text)
}

/// Headers a reverse proxy adds: a request carrying one came through a proxy, whatever its peer.
const PROXY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// `/metrics` (request counts per route, latencies, SMS figures) is for the operator's scraper:
/// a direct loopback connection, or the configured bearer token from anywhere. A loopback peer
/// with a proxy header is a proxy on this host passing someone else's request: refused. A wrong
/// token is refused even on loopback, so a misconfigured scraper is noticed.
fn may_read_metrics(req: &HttpRequest, token: Option<&str>) -> ApiResult<()> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match (token, presented) {
        (Some(expected), Some(given)) if same_secret(expected, given) => return Ok(()),
        (_, Some(_)) => return Err(refused_token()),
        (_, None) => {}
    }
    let loopback = req.peer_addr().is_some_and(|a| a.ip().to_canonical().is_loopback());
    let proxied = PROXY_HEADERS.iter().any(|h| req.headers().contains_key(*h));
    if loopback && !proxied {
        return Ok(());
    }
    Err(match token {
        Some(_) => refused_token(),
        None => ApiError::forbidden("监控指标仅对本机开放"),
    })
}

fn refused_token() -> ApiError {
    ApiError::unauthorized(codes::INVALID_METRICS_TOKEN, "需要有效的监控指标访问令牌")
}

/// Compares digests, so the time taken says nothing about how much of the token was right.
fn same_secret(expected: &str, given: &str) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(expected.as_bytes()), Sha256::digest(given.as_bytes()));
    crate::domain::mac::equal(&a, &b)
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
