//! Villager sign-in (SMS one-time code, WeChat) and their own tickets. Codes are stored hashed with
//! their send time in the key-value store; expiry and the resend cooldown are judged from `now`.
use crate::auth::VillagerUser;
use crate::auth::jwt::{TYP_VILLAGER, VillagerClaims};
use crate::domain::phone::Phone;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::sms::templates;
use crate::state::AppState;
use crate::wechat::{self, WechatError};
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::time::Duration;

#[derive(Serialize)]
pub struct OtpSent {
    pub expires_in: i64,
    pub resend_after: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VillagerToken {
    pub access_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    pub expires_in: i64,
}

/// What is kept for a sent code: its hash and when it was sent.
#[derive(Serialize, Deserialize)]
struct OtpRecord {
    hash: String,
    sent_at: i64,
}

fn otp_key(phone: &Phone) -> String {
    format!("otp:{}", phone.as_str())
}

/// Verification attempts at the code sent at `sent_at` (every attempt counts; a right one ends it).
fn attempts_key(phone: &Phone, sent_at: i64) -> String {
    format!("otp:tries:{}:{sent_at}", phone.as_str())
}

fn code_hash(state: &AppState, phone: &Phone, code: &str, sent_at: i64) -> Hmac<Sha256> {
    let mut mac = state.keys.one_time_code.mac();
    mac.update(format!("otp|{}|{code}|{sent_at}", phone.as_str()).as_bytes());
    mac
}

fn parse_phone(raw: &Option<String>) -> ApiResult<Phone> {
    let raw = raw.as_deref().unwrap_or("");
    if raw.trim().is_empty() {
        return Err(ApiError::validation("phone", "请填写手机号码"));
    }
    Phone::parse(raw).ok_or_else(|| ApiError::validation("phone", "手机号码格式不正确，请填写11位手机号"))
}

async fn record(state: &AppState, phone: &Phone) -> ApiResult<Option<OtpRecord>> {
    let raw =
        state.kv().get(&otp_key(phone)).await.map_err(|e| ApiError::unavailable(format!("验证码服务暂不可用：{e}")))?;
    Ok(raw.and_then(|r| serde_json::from_str(&r).ok()))
}

async fn attempts(state: &AppState, phone: &Phone, sent_at: i64) -> u64 {
    let v = state.kv().get(&attempts_key(phone, sent_at)).await.ok().flatten();
    v.and_then(|v| v.parse().ok()).unwrap_or(0)
}

fn too_many(code: &'static str, message: &str, until: i64, now: DateTime<Utc>) -> ApiError {
    ApiError::too_many(code, message, (until - now.timestamp()).max(1) as u64)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"phone": "13800001234"}))]
pub struct OtpRequest {
    pub phone: Option<String>,
}

/// Sends a 6-digit code by SMS (through the outbox, urgent so quiet hours never hold it).
pub async fn send_otp(state: &AppState, req: &OtpRequest, ip: &str) -> ApiResult<OtpSent> {
    let phone = parse_phone(&req.phone)?;
    let now = state.now();
    let cfg = &state.settings.otp;
    if let Some(prev) = record(state, &phone).await? {
        let expires = prev.sent_at + cfg.ttl_seconds;
        if now.timestamp() < expires && attempts(state, &phone, prev.sent_at).await >= cfg.max_attempts {
            return Err(too_many(codes::OTP_LOCKED, "验证码错误次数过多，请稍后再试", expires, now));
        }
        if now.timestamp() < prev.sent_at + cfg.resend_seconds {
            return Err(too_many(
                codes::OTP_COOLDOWN,
                "验证码已发送，请稍后再重新获取",
                prev.sent_at + cfg.resend_seconds,
                now,
            ));
        }
    }
    let limits = &state.settings.limits;
    let checks =
        [(format!("otp:phone:{}", phone.as_str()), limits.otp_per_phone), (format!("otp:ip:{ip}"), limits.otp_per_ip)];
    if let Err(e) = state.limiter.hit_all(&checks, now).await {
        return Err(ApiError::too_many(codes::RATE_LIMITED, "获取验证码过于频繁，请稍后再试", e.retry_after));
    }
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    let sent_at = now.timestamp();
    let hash = hex::encode(code_hash(state, &phone, &code, sent_at).finalize().into_bytes());
    let value = serde_json::to_string(&OtpRecord { hash, sent_at }).map_err(ApiError::internal)?;
    let ttl = Duration::from_secs((cfg.ttl_seconds + cfg.resend_seconds).max(1) as u64);
    state
        .kv()
        .set(&otp_key(&phone), &value, ttl)
        .await
        .map_err(|e| ApiError::unavailable(format!("验证码服务暂不可用：{e}")))?;
    let tx = state.db.begin().await?;
    let msg = templates::otp(&state.settings.county.sms_sign, &code, cfg.ttl_seconds / 60);
    repo::outbox::enqueue(&*tx, &msg, phone.as_str(), None, now).await?;
    tx.commit().await?;
    tracing::info!(phone = %phone, "one-time code sent");
    Ok(OtpSent { expires_in: cfg.ttl_seconds, resend_after: cfg.resend_seconds })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"phone": "13800001234", "code": "123456"}))]
pub struct VerifyRequest {
    pub phone: Option<String>,
    pub code: Option<String>,
}

pub async fn verify_otp(state: &AppState, req: &VerifyRequest) -> ApiResult<VillagerToken> {
    let phone = parse_phone(&req.phone)?;
    let code = req.code.as_deref().unwrap_or("").trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::validation("code", "请输入6位数字验证码"));
    }
    let now = state.now();
    let cfg = &state.settings.otp;
    let invalid = || ApiError::unauthorized(codes::OTP_INVALID, "验证码错误或已过期");
    let rec = record(state, &phone).await?.ok_or_else(invalid)?;
    let expires = rec.sent_at + cfg.ttl_seconds;
    if now.timestamp() >= expires {
        return Err(invalid());
    }
    // The attempt is counted (one atomic INCR) before the code is compared, so parallel guesses
    // cannot each compare first and be counted later: attempt max+1 is refused whatever it says.
    let ttl = Duration::from_secs(cfg.ttl_seconds.max(1) as u64);
    let attempt = state
        .kv()
        .incr(&attempts_key(&phone, rec.sent_at), ttl)
        .await
        .map_err(|e| ApiError::unavailable(format!("验证码服务暂不可用：{e}")))?;
    if attempt > cfg.max_attempts {
        return Err(too_many(codes::OTP_LOCKED, "验证码错误次数过多，请稍后再试", expires, now));
    }
    let expected = hex::decode(&rec.hash).unwrap_or_default();
    let given = code_hash(state, &phone, code, rec.sent_at).finalize().into_bytes();
    if !crate::domain::mac::equal(&given, &expected) {
        if attempt >= cfg.max_attempts {
            return Err(too_many(codes::OTP_LOCKED, "验证码错误次数过多，请稍后再试", expires, now));
        }
        let left = cfg.max_attempts - attempt;
        return Err(ApiError::unauthorized(codes::OTP_INVALID, format!("验证码错误，还可尝试{left}次")));
    }
    let _ = state.kv().del(&otp_key(&phone)).await;
    issue(state, format!("phone:{}", phone.as_str()), Some(phone.as_str().to_string()), None)
}

fn issue(state: &AppState, sub: String, phone: Option<String>, openid: Option<String>) -> ApiResult<VillagerToken> {
    let now = state.now().timestamp();
    let ttl = state.settings.villager.token_ttl_seconds;
    let claims = VillagerClaims { sub, typ: TYP_VILLAGER.into(), phone, openid, iat: now, exp: now + ttl };
    Ok(VillagerToken { access_token: state.keys.villager.sign(&claims)?, token_type: "Bearer", expires_in: ttl })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct WechatRequest {
    pub code: Option<String>,
}

/// A county without a mini-program: a client error (the feature is off), not a server fault.
fn wechat_disabled() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, codes::WECHAT_DISABLED, "本县尚未开通微信登录，请使用短信验证码登录")
}

pub async fn wechat_login(state: &AppState, req: &WechatRequest) -> ApiResult<VillagerToken> {
    if !wechat::is_configured(&state.settings.wechat) {
        return Err(wechat_disabled());
    }
    let code = req.code.as_deref().map(str::trim).filter(|c| !c.is_empty() && c.len() <= 128);
    let code = code.ok_or_else(|| ApiError::validation("code", "缺少微信登录凭证 code"))?;
    match wechat::code2session(&state.http, &state.settings.wechat, code).await {
        Ok(s) => issue(state, format!("wechat:{}", s.openid), None, Some(s.openid)),
        Err(e) => {
            tracing::warn!(error = %e, "wechat login failed");
            Err(match e {
                WechatError::InvalidCode => {
                    ApiError::unauthorized(codes::WECHAT_CODE_INVALID, "微信登录凭证无效或已过期，请重新进入小程序")
                }
                WechatError::RateLimited => {
                    ApiError::too_many(codes::WECHAT_RATE_LIMITED, "登录过于频繁，请稍后再试", 60)
                }
                WechatError::Blocked => ApiError::forbidden("微信账号存在风险，暂不能登录，请拨打服务热线"),
                WechatError::NotConfigured => wechat_disabled(),
                WechatError::Busy | WechatError::Transport(_) => ApiError::unavailable("微信服务繁忙，请稍后再试"),
                WechatError::Other(..) => {
                    ApiError::new(StatusCode::BAD_GATEWAY, codes::WECHAT_ERROR, "微信登录失败，请稍后再试")
                }
            })
        }
    }
}

#[derive(Serialize)]
pub struct MyTicket {
    pub no: String,
    pub status: crate::domain::ticket::Status,
    pub status_label: &'static str,
    pub category: String,
    pub summary: String,
    pub created_at: DateTime<Utc>,
    pub tracking_url: String,
}

pub async fn my_tickets(state: &AppState, me: &VillagerUser, page: Page) -> ApiResult<(Vec<MyTicket>, u64)> {
    let (rows, total) =
        repo::tickets::of_requester(&state.db.conn, me.phone.as_deref(), me.openid.as_deref(), page).await?;
    let items = rows
        .into_iter()
        .map(|t| MyTicket {
            tracking_url: format!("{}/t/{}", state.public_url(), t.no),
            status_label: t.status.label(),
            summary: crate::domain::privacy::mask_personal_numbers(&t.description).chars().take(60).collect(),
            no: t.no,
            status: t.status,
            category: t.category_code,
            created_at: t.created_at,
        })
        .collect();
    Ok((items, total))
}
