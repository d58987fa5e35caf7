//! Provider callbacks (API.md "Provider callbacks"): `POST /hooks/sms/{provider}/status` for
//! delivery receipts and `POST /hooks/sms/{provider}/inbound` for replies. Each provider proves
//! itself with its own secret (401 and nothing written otherwise) and gets the acknowledgement it
//! expects; a failure on our side answers 5xx so the provider pushes again.
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::services::{sms_receipts, sms_replies};
use crate::sms::callbacks::{self, Presented};
use crate::sms::values::ProviderName;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;

/// How old a signed callback may be.
const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn authenticate(state: &AppState, req: &HttpRequest, provider: ProviderName, body: &[u8]) -> ApiResult<()> {
    let query = web::Query::<TokenQuery>::from_query(req.query_string()).ok();
    let http = &state.settings.sms.http;
    let presented = Presented {
        token: query.as_ref().and_then(|q| q.token.as_deref()).or_else(|| header(req, "x-callback-token")),
        timestamp: header(req, &http.timestamp_header),
        signature: header(req, &http.signature_header),
        body,
    };
    let secret = state.settings.sms.callback_secret(provider);
    if callbacks::authenticate(provider, secret, &presented, state.now(), MAX_SKEW_SECONDS) {
        return Ok(());
    }
    let provider = provider.as_str();
    tracing::warn!(provider, configured = secret.is_some(), "sms callback refused: bad secret or signature");
    metrics::counter!("minsheng_sms_callbacks_refused_total", "provider" => provider).increment(1);
    Err(ApiError::unauthorized(codes::INVALID_CALLBACK_SIGNATURE, "回调密钥或签名不正确"))
}

fn provider_of(name: &str) -> ApiResult<ProviderName> {
    ProviderName::parse(name).ok_or_else(|| ApiError::not_found("未知的短信服务商"))
}

/// The generic gateway and the console get a summary of what their push did.
fn reports_back(provider: ProviderName) -> bool {
    matches!(provider, ProviderName::Http | ProviderName::Console)
}

#[utoipa::path(tag = "hooks", request_body = Object, responses((status = 200, description = "已收到回执", body = Object)))]
#[post("/hooks/sms/{provider}/status")]
async fn status(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let provider = provider_of(&path)?;
    authenticate(&state, &req, provider, &body)?;
    let receipts = callbacks::parse_receipts(provider, &body).map_err(|m| ApiError::validation("body", m))?;
    let applied = sms_receipts::apply(&state, provider, &receipts).await?;
    let mut ack = callbacks::ack(provider);
    if let Some(obj) = ack.as_object_mut().filter(|_| reports_back(provider)) {
        obj.insert("matched".into(), applied.matched.into());
        obj.insert("unmatched".into(), applied.unmatched.into());
    }
    Ok(HttpResponse::Ok().json(ack))
}

#[utoipa::path(tag = "hooks", request_body = Object, responses((status = 200, description = "已收到上行短信", body = Object)))]
#[post("/hooks/sms/{provider}/inbound")]
async fn inbound(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let provider = provider_of(&path)?;
    authenticate(&state, &req, provider, &body)?;
    let replies = callbacks::parse_inbound(provider, &body).map_err(|m| ApiError::validation("body", m))?;
    let mut outcomes = Vec::with_capacity(replies.len());
    for r in &replies {
        outcomes.push(sms_replies::handle(&state, provider, r).await?);
    }
    let mut ack = callbacks::ack(provider);
    if let Some(obj) = ack.as_object_mut().filter(|_| reports_back(provider)) {
        obj.insert("outcomes".into(), outcomes.into());
    }
    Ok(HttpResponse::Ok().json(ack))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(status).service(inbound);
}
