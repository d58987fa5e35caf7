//! What no handler should have to remember, as three layers around every route (see `startup::run`):
//! a panic answers the same 500 as `ApiError::internal` (with the request id) instead of dropping
//! the connection; every error speaks the contract (JSON on the API, a Chinese page on pages) even
//! when the framework wrote it; and every response carries the security headers its type needs.
use crate::error::codes;
use crate::error::{ApiError, REQUEST_ID};
use crate::html::{self, Frame, MessagePage, NotFoundPage};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use futures_util::FutureExt;
use std::any::Any;
use std::panic::AssertUnwindSafe;

/// The policy of every HTML page. The pages load their scripts, styles and fonts from `/assets/`
/// only and carry no inline script, style or event handler; photos are previewed from `blob:`
/// URLs (and `data:` for small images), and the scripts speak only to this origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self'; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// Paths answered with HTML pages for people (villagers, cadres, staff); everything else is an API
/// (JSON). An error on a page path is shown as a Chinese page, never as JSON or framework text.
pub fn is_page(path: &str) -> bool {
    path == "/" || ["/c/", "/t/", "/r/", "/w/", "/console", "/screen", "/redblack"].iter().any(|p| path.starts_with(p))
}

fn content_type(headers: &HeaderMap) -> String {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").trim().to_ascii_lowercase()
}

fn is_html(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("text/html")
}

/// JSON (ours) or XML (the Open311 facade's error format): an answer a client can read already.
fn is_structured(headers: &HeaderMap) -> bool {
    let ct = content_type(headers);
    let essence = ct.split(';').next().unwrap_or("").trim();
    essence == "application/json"
        || essence.ends_with("+json")
        || essence == "application/xml"
        || essence == "text/xml"
        || essence.ends_with("+xml")
}

/// Catches a panic in anything below it (extractors, handlers) and answers what
/// `ApiError::internal` answers: a 500 naming the request id, the cause in the log (a Chinese page
/// on a page path). Sits inside `observe`, so the request id is in scope. The panic took the request
/// with it, so the answer travels up as an `Err` carrying its finished response (see
/// `edit_error_answer`); holding a clone of the request instead would break the router.
pub async fn catch_panics<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let page = is_page(req.path());
    let route = format!("{} {}", req.method(), req.match_pattern().unwrap_or_else(|| req.path().to_string()));
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let call = match std::panic::catch_unwind(AssertUnwindSafe(|| next.call(req))) {
        Ok(call) => call,
        Err(payload) => return Err(panicked(payload, &route, page, state.as_ref().map(|s| s.get_ref()))),
    };
    match AssertUnwindSafe(call).catch_unwind().await {
        Ok(res) => res,
        Err(payload) => Err(panicked(payload, &route, page, state.as_ref().map(|s| s.get_ref()))),
    }
}

struct ProbeGuard {
    health: std::sync::Arc<std::sync::Mutex<crate::kv::breaker::Breaker>>,
    answered: bool,
}

impl Drop for ProbeGuard {
    fn drop(&mut self) {
        if !self.answered
            && let Ok(mut b) = self.health.lock()
        {
            b.record(false, std::time::Instant::now());
        }
    }
}

/// Paths that never need the database (or check it themselves, as `/readyz` does).
fn without_database(path: &str) -> bool {
    path.starts_with("/assets/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

/// The database breaker (`Db::health`): while the database is unreachable, requests are answered
/// 503 `unavailable` at once (with `Retry-After`) instead of each waiting out the pool's acquire
/// timeout; after the cooldown one request goes through as a probe. Every request that went
/// through reports what it came to: an answer that is not "database down" closes the breaker.
pub async fn database_breaker<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else { return next.call(req).await };
    if without_database(req.path()) {
        return next.call(req).await;
    }
    let health = state.db.health.clone();
    let (allowed, probing) = match health.lock() {
        Ok(mut b) => (b.allow(std::time::Instant::now()), b.state == crate::kv::breaker::State::Probing),
        Err(_) => (true, false),
    };
    if !allowed {
        metrics::counter!("minsheng_database_breaker_refusals_total").increment(1);
        return Err(ApiError::database_down().into());
    }
    // A probe whose request is dropped (the client went away) must not leave the breaker waiting
    // for it: it counts as a failure, and the next cooldown sends another probe.
    let mut probe = probing.then(|| ProbeGuard { health: health.clone(), answered: false });
    let res = next.call(req).await;
    if let Some(p) = probe.as_mut() {
        p.answered = true;
    }
    let down = match &res {
        Ok(r) => r.response().error().and_then(|e| e.as_error::<ApiError>()).is_some_and(ApiError::is_database_down),
        Err(e) => e.as_error::<ApiError>().is_some_and(ApiError::is_database_down),
    };
    if let Ok(mut b) = health.lock() {
        let was_open = b.is_open();
        b.record(!down, std::time::Instant::now());
        match (was_open, b.is_open()) {
            (false, true) => tracing::error!("database unreachable: requests are answered 503 until it is back"),
            (true, false) => tracing::warn!("database reachable again"),
            _ => {}
        }
    }
    res
}

fn panicked(payload: Box<dyn Any + Send>, route: &str, page: bool, state: Option<&AppState>) -> actix_web::Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into());
    let err = ApiError::internal(anyhow::anyhow!("handler panicked on {route}: {what}"));
    let json = err.error_response(); // logs the cause with the request id
    let answer = if page {
        page_error(StatusCode::INTERNAL_SERVER_ERROR, page_message(StatusCode::INTERNAL_SERVER_ERROR, None), state)
    } else {
        json
    };
    answered(format!("panic on {route}"), answer)
}

/// An error whose answer is already made: the server sends `answer` as it is.
fn answered(cause: String, answer: HttpResponse) -> actix_web::Error {
    InternalError::from_response(cause, answer).into()
}

/// Lets a middleware edit the answer an `Err` from below will be sent as (add its headers, put the
/// contract body in), as it would edit a response.
pub fn edit_error_answer(e: actix_web::Error, edit: impl FnOnce(&mut HttpResponse)) -> actix_web::Error {
    let cause = e.to_string();
    let mut answer = e.error_response();
    edit(&mut answer);
    answered(cause, answer)
}

/// The code and message of an error the framework (not our code) answered with, by status.
fn framework_error(status: StatusCode) -> ApiError {
    let (code, message) = match status.as_u16() {
        400 => (codes::BAD_REQUEST, "请求格式不正确"),
        401 => (codes::UNAUTHORIZED, "请先登录"),
        403 => (codes::FORBIDDEN, "没有权限执行此操作"),
        404 => (codes::NOT_FOUND, "请求的地址不存在"),
        405 => (codes::METHOD_NOT_ALLOWED, "该地址不支持此请求方法"),
        406 => (codes::NOT_ACCEPTABLE, "无法提供所请求的格式"),
        408 => (codes::REQUEST_TIMEOUT, "请求超时，请重试"),
        409 => (codes::CONFLICT, "请求与当前状态冲突"),
        411 => (codes::LENGTH_REQUIRED, "请求缺少长度信息（Content-Length）"),
        413 => (codes::PAYLOAD_TOO_LARGE, "请求体过大"),
        414 => (codes::URI_TOO_LONG, "请求地址过长"),
        415 => (codes::UNSUPPORTED_MEDIA_TYPE, "不支持的请求内容类型"),
        422 => (codes::UNPROCESSABLE, "请求内容无法处理"),
        429 => (codes::RATE_LIMITED, "请求过于频繁，请稍后再试"),
        431 => (codes::HEADERS_TOO_LARGE, "请求头过大"),
        503 => (codes::UNAVAILABLE, "服务暂不可用，请稍后重试"),
        s if s < 500 => (codes::BAD_REQUEST, "请求无法处理"),
        _ => (codes::INTERNAL_ERROR, "服务器内部错误，请稍后重试"),
    };
    ApiError::new(status, code, message)
}

/// Wording for villagers and cadres when a page request fails below the page's own handling.
fn page_message(status: StatusCode, api: Option<&ApiError>) -> String {
    if status.is_server_error() {
        let id = REQUEST_ID.try_with(|id| id.clone()).ok();
        let suffix = id.map(|id| format!("（错误编号 {id}）")).unwrap_or_default();
        return format!("系统繁忙，请稍后再试，或拨打服务热线。{suffix}");
    }
    match status.as_u16() {
        404 => "页面不存在，请核对链接后重试。".into(),
        405 => "页面不支持这种打开方式，请返回后重试。".into(),
        413 => "提交的内容过多（例如文字太长或照片太大），请删减后重新提交。".into(),
        _ => api.map(|e| e.message.clone()).unwrap_or_else(|| framework_error(status).message),
    }
}

/// The safety net: an error response that is not already the contract's JSON (or a page) becomes
/// one, so a framework error nobody thought of cannot answer English text or an empty body. On a
/// page path (`is_page`) any error that is not HTML becomes the Chinese message page.
pub async fn contract_errors<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let page = is_page(req.path());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    match next.call(req).await {
        Ok(res) => {
            let error = res.response().error();
            let fresh = contract_answer(page, res.status(), res.headers(), error, state.as_ref().map(|s| s.get_ref()));
            Ok(match fresh {
                Some(fresh) => {
                    let mut res = res.map_into_boxed_body();
                    let kept = kept_headers(res.headers(), &fresh);
                    res = res.into_response(fresh);
                    kept.into_iter().for_each(|(n, v)| {
                        res.headers_mut().append(n, v);
                    });
                    res
                }
                None => res.map_into_boxed_body(),
            })
        }
        Err(e) => {
            let answer = e.error_response();
            let fresh =
                contract_answer(page, answer.status(), answer.headers(), Some(&e), state.as_ref().map(|s| s.get_ref()));
            Err(match fresh {
                Some(mut fresh) => {
                    for (n, v) in kept_headers(answer.headers(), &fresh) {
                        fresh.headers_mut().append(n, v);
                    }
                    answered(e.to_string(), fresh)
                }
                None => answered(e.to_string(), answer),
            })
        }
    }
}

/// The contract's answer for an error response that is not one yet; `None` when it is fine as is.
fn contract_answer(
    page: bool,
    status: StatusCode,
    headers: &HeaderMap,
    error: Option<&actix_web::Error>,
    state: Option<&AppState>,
) -> Option<HttpResponse> {
    if !(status.is_client_error() || status.is_server_error()) {
        return None;
    }
    if (page && is_html(headers)) || (!page && (is_structured(headers) || is_html(headers))) {
        return None;
    }
    let api = error.and_then(|e| e.as_error::<ApiError>());
    if page {
        return Some(page_error(status, page_message(status, api), state));
    }
    let mut e = framework_error(status);
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        let cause = error.map(|e| e.to_string()).unwrap_or_else(|| "no error attached".into());
        e = ApiError::internal(anyhow::anyhow!("{status} from the framework: {cause}"));
    }
    Some(e.error_response())
}

/// The Chinese message page in the villagers' frame (a 404: the not-found page with its links).
fn page_error(status: StatusCode, message: String, state: Option<&AppState>) -> HttpResponse {
    let county = state.map(|s| s.settings.county.name.as_str()).unwrap_or("");
    if status == StatusCode::NOT_FOUND {
        return not_found_page(county);
    }
    let frame = Frame::new(county, "出错了", "民声直达", county);
    html::respond(status, &MessagePage { frame, title: "出错了", message: &message, hotline: None })
}

/// The 404 page for people: Chinese, with the way to 查询进度 and home.
fn not_found_page(county: &str) -> HttpResponse {
    let frame = Frame::new(county, "页面不存在", "民声直达", county);
    let message = "您打开的地址不存在，可能是链接不完整或已过期。请核对短信或联系卡上的地址。";
    html::respond(StatusCode::NOT_FOUND, &NotFoundPage { frame, message })
}

/// Whether the request's `Accept` prefers an HTML page to JSON: a browser's address bar does
/// (`text/html,…,*/*;q=0.8`), an API client does not (`application/json`, `*/*` or nothing).
pub fn prefers_html(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mut best: Option<(f32, bool)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
            .next()
            .unwrap_or(1.0);
        let html = essence == "text/html" || essence == "application/xhtml+xml";
        let json = essence == "application/json" || essence.ends_with("+json");
        if (html || json) && q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, html));
        }
    }
    best.is_some_and(|(_, html)| html)
}

/// Headers of the original answer that still apply to its replacement (Allow, Retry-After,
/// WWW-Authenticate…): not its content headers, nor any the replacement sets itself.
fn kept_headers(original: &HeaderMap, fresh: &HttpResponse) -> Vec<(HeaderName, HeaderValue)> {
    original
        .iter()
        .filter(|(name, _)| {
            ![header::CONTENT_TYPE, header::CONTENT_LENGTH, header::CONTENT_ENCODING].contains(*name)
                && !fresh.headers().contains_key(*name)
        })
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

/// `X-Content-Type-Options: nosniff` on everything; on HTML pages also the content security
/// policy, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer` (card codes, ticket numbers,
/// phone tails and signed tokens travel in page URLs, and no page needs a referrer). A page that
/// sets one of these itself keeps its own.
pub async fn security_headers<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    match next.call(req).await {
        Ok(mut res) => {
            add_security_headers(res.headers_mut());
            Ok(res)
        }
        Err(e) => Err(edit_error_answer(e, |answer| add_security_headers(answer.headers_mut()))),
    }
}

fn add_security_headers(headers: &mut HeaderMap) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if is_html(headers) {
        for (name, value) in [
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "no-referrer"),
        ] {
            if !headers.contains_key(&name) {
                headers.insert(name, HeaderValue::from_static(value));
            }
        }
    }
}

/// The default service: 405 when the path exists with other methods (a GET on a POST-only
/// endpoint), 404 otherwise. The router cannot say which methods the path has (each `#[get]` and
/// `#[post]` is its own resource), so there is no `Allow` header.
///
/// An unknown address outside `/api/` asked for by a browser (its `Accept` prefers HTML) is the
/// Chinese not-found page with links on; API clients keep the JSON error.
pub async fn no_route(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    // A path the API has, asked with a method it does not: 405 with the methods it does have.
    let allowed = crate::openapi::allowed_methods(req.path());
    let error = if !allowed.is_empty() || req.resource_map().has_resource(req.path()) {
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, codes::METHOD_NOT_ALLOWED, "该地址不支持此请求方法")
    } else {
        ApiError::not_found("请求的地址不存在")
    };
    let allow = (error.status == StatusCode::METHOD_NOT_ALLOWED)
        .then(|| actix_web::http::header::HeaderValue::from_str(&allowed.join(", ")).ok())
        .flatten();
    // The Open311 facade's clients read the standard's error list, in the format the path names.
    if req.path().starts_with("/open311/") {
        let mut res = crate::routes::open311::refuse_at(req.path(), error);
        if let Some(v) = allow {
            res.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        return Ok(res);
    }
    if error.status == StatusCode::METHOD_NOT_ALLOWED {
        let mut resp = actix_web::ResponseError::error_response(&error);
        if let Some(v) = allow {
            resp.headers_mut().insert(actix_web::http::header::ALLOW, v);
        }
        return Ok(resp);
    }
    let api = req.path() == "/api" || req.path().starts_with("/api/");
    if !api && prefers_html(req.headers()) {
        let county = req.app_data::<web::Data<AppState>>().map(|s| s.settings.county.name.clone()).unwrap_or_default();
        return Ok(not_found_page(&county));
    }
    Err(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_told_from_the_api_by_path() {
        for p in ["/", "/c/ABC", "/t/QH1", "/r/tok", "/w/tok/accept", "/console/", "/console/visits"] {
            assert!(is_page(p), "{p}");
        }
        for p in ["/api/v1/tickets", "/hooks/sms/http/status", "/metrics", "/healthz", "/assets/css/app.css"] {
            assert!(!is_page(p), "{p}");
        }
    }

    #[test]
    fn json_and_xml_count_as_structured_and_text_does_not() {
        let with = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
            h
        };
        assert!(is_structured(&with("application/json")));
        assert!(is_structured(&with("application/problem+json; charset=utf-8")));
        assert!(is_structured(&with("text/xml; charset=utf-8")));
        assert!(!is_structured(&with("text/plain; charset=utf-8")));
        assert!(!is_structured(&HeaderMap::new()));
        assert!(is_html(&with("Text/HTML; charset=utf-8")));
    }

    #[test]
    fn every_framework_status_gets_a_code_and_chinese() {
        for s in [400u16, 401, 403, 404, 405, 406, 408, 409, 411, 413, 414, 415, 418, 422, 429, 431, 500, 502, 503] {
            let e = framework_error(StatusCode::from_u16(s).unwrap());
            assert_eq!(e.status.as_u16(), s);
            assert!(!e.code.is_empty() && e.message.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{s}");
        }
    }
}
