//! HTTP routes: thin handlers that extract, call a service and shape the answer.
pub mod accountability;
pub mod admin;
pub mod auth;
pub mod body;
pub mod card_render;
pub mod cards;
pub mod console;
pub mod council;
pub mod docs;
pub mod exports;
pub mod health;
pub mod hooks;
pub mod imports;
pub mod multipart;
pub mod open311;
pub mod orders;
pub mod pages;
pub mod paging;
pub mod screen;
pub mod screens;
pub mod sla;
pub mod sms;
pub mod stats;
pub mod stream;
pub mod tickets;
pub mod uploads;
pub mod villagers;
pub mod visits;
pub mod worklink;

use actix_web::web;
use serde::Serialize;

/// The list shape of API.md: `{items, total, page, per_page}`.
#[derive(Serialize)]
pub struct ListAnswer<T: Serialize> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

impl<T: Serialize> ListAnswer<T> {
    pub fn new(items: Vec<T>, total: u64, page: crate::repo::Page) -> Self {
        ListAnswer { items, total, page: page.page, per_page: page.per_page }
    }
}

/// A list whose `total` may be capped (the staff ticket list): API.md's list shape plus
/// `total_capped` — true when more match than were counted, `total` then being a lower bound.
#[derive(Serialize)]
pub struct CappedListAnswer<T: Serialize> {
    pub items: Vec<T>,
    pub total: u64,
    pub total_capped: bool,
    pub page: u64,
    pub per_page: u64,
}

/// The client's address for abuse limits: the peer, or the first X-Forwarded-For hop when the
/// deployment says a trusted proxy sets it.
pub fn client_ip(req: &actix_web::HttpRequest, state: &crate::state::AppState) -> String {
    if state.settings.limits.trust_forwarded_for
        && let Some(ip) = req.connection_info().realip_remote_addr()
    {
        return ip.split(',').next().unwrap_or(ip).trim().to_string();
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// Refuses, before any handler runs, a request whose decoded path or query carries a control
/// character (NUL cannot even reach PostgreSQL, and none belongs in an address: a 400 naming the
/// parameter), and a compressed request body (415): no client of ours compresses what it sends, and
/// a few kilobytes of gzip can inflate to gigabytes that would be decompressed only to be refused.
pub async fn refuse_malformed_requests(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use crate::domain::text::clean;
    let path = percent_encoding::percent_decode_str(req.path()).decode_utf8_lossy();
    let mut refused = None;
    let encoded = req.headers().get(actix_web::http::header::CONTENT_ENCODING);
    if encoded.is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity")) {
        refused = Some(crate::error::ApiError::new(
            actix_web::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            crate::error::codes::UNSUPPORTED_ENCODING,
            "不接受压缩的请求体，请以未压缩的形式提交",
        ));
    } else if clean(&path).is_err() {
        refused = Some(crate::error::ApiError::validation("path", "地址中含有不允许的控制字符"));
    } else if let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        && let Some((k, _)) = pairs.iter().find(|(k, v)| clean(k).is_err() || clean(v).is_err())
    {
        refused =
            Some(crate::error::ApiError::validation(crate::domain::text::scrub(k), "查询参数中含有不允许的控制字符"));
    }
    match refused {
        // The Open311 facade's clients read the standard's error list.
        Some(e) if req.path().starts_with("/open311/") => {
            let res = open311::refuse_at(req.path(), e);
            Ok(req.into_response(res).map_into_right_body())
        }
        Some(e) => Err(e.into()),
        None => next.call(req).await.map(|r| r.map_into_left_body()),
    }
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    health::configure(cfg);
    docs::configure(cfg);
    pages::configure(cfg);
    hooks::configure(cfg);
    console::configure(cfg);
    worklink::configure(cfg);
    screen::configure_page(cfg);
    open311::configure(cfg);
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .configure(auth::configure)
            .configure(cards::configure)
            .configure(card_render::configure)
            .configure(tickets::configure)
            .configure(stats::configure)
            .configure(admin::configure)
            .configure(imports::configure)
            .configure(exports::configure)
            .configure(uploads::configure)
            .configure(villagers::configure)
            .configure(visits::configure)
            .configure(accountability::configure)
            .configure(council::configure)
            .configure(sms::configure)
            .configure(sla::configure)
            .configure(orders::configure)
            .configure(screens::configure)
            .configure(open311::configure_keys)
            .configure(screen::configure)
            .configure(stream::configure),
    );
}
