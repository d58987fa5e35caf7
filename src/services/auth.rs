//! Staff login and token refresh, with failed-login counting, slow-down and lock-out.
use crate::auth::jwt::{StaffClaims, TYP_ACCESS, TYP_REFRESH, TokenError};
use crate::auth::password;
use crate::domain::roles::parse_roles;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::staff::Staff;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct LoginRequest {
    pub username: Option<String>,
    pub password: Option<SecretString>,
}

#[derive(Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

#[derive(Serialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub staff: Value,
}

fn claims(s: &Staff, path: &str, typ: &str, ttl: i64, now: DateTime<Utc>) -> StaffClaims {
    StaffClaims {
        sub: s.id.to_string(),
        typ: typ.into(),
        name: s.name.clone(),
        roles: parse_roles(&s.roles).iter().map(|r| r.as_str().to_string()).collect(),
        region_id: s.region_id,
        region_path: path.into(),
        unit_id: s.unit_id,
        tv: s.token_version,
        iat: now.timestamp(),
        exp: (now + Duration::seconds(ttl)).timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
    }
}

async fn issue(state: &AppState, s: &Staff) -> ApiResult<TokenAnswer> {
    let now = state.now();
    let region = repo::regions::get(&state.db.conn, s.region_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("staff region missing")))?;
    let auth = &state.settings.auth;
    let access = state.keys.sign(&claims(s, &region.path, TYP_ACCESS, auth.access_ttl_seconds, now))?;
    let refresh = state.keys.sign(&claims(s, &region.path, TYP_REFRESH, auth.refresh_ttl_seconds, now))?;
    Ok(TokenAnswer {
        access_token: access,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: auth.access_ttl_seconds,
        staff: json!({"id": s.id, "username": s.username, "name": s.name, "roles": parse_roles(&s.roles),
                      "region_id": s.region_id, "region_name": region.name, "unit_id": s.unit_id}),
    })
}

fn invalid() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "用户名或密码错误")
}

/// Failed logins from one address, whatever the usernames: guessing across accounts (or at names
/// that do not exist) is slowed down as guessing at one account is.
async fn failed_from(state: &AppState, ip: &str, now: chrono::DateTime<chrono::Utc>) {
    let _ = state.limiter.hit(&login_subject(ip), state.settings.limits.login_failures_per_ip, now).await;
}

fn login_subject(ip: &str) -> String {
    format!("login:ip:{ip}")
}

pub async fn login(state: &AppState, req: &LoginRequest, ip: &str) -> ApiResult<TokenAnswer> {
    let username = req.username.as_deref().map(str::trim).unwrap_or("");
    if username.is_empty() {
        return Err(ApiError::validation("username", "请输入用户名"));
    }
    let Some(password) = req.password.clone() else {
        return Err(ApiError::validation("password", "请输入密码"));
    };
    let db = &state.db.conn;
    let now = state.now();
    if let Err(e) = state.limiter.peek(&login_subject(ip), state.settings.limits.login_failures_per_ip, now).await {
        return Err(ApiError::too_many("rate_limited", "登录失败次数过多，请稍后再试", e.retry_after));
    }
    let staff = repo::staff::by_username(db, username).await?.filter(|s| s.active);
    let Some(staff) = staff else {
        // Same work as a real check, so response time does not reveal which usernames exist.
        password::verify(password, state.dummy_hash.to_string()).await;
        failed_from(state, ip, now).await;
        return Err(invalid());
    };
    if let Some(until) = staff.locked_until
        && until > now
    {
        let secs = (until - now).num_seconds().max(1) as u64;
        return Err(ApiError::too_many(
            "login_locked",
            format!("登录失败次数过多，账号已临时锁定，请{}分钟后再试", secs.div_ceil(60)),
            secs,
        ));
    }
    if !password::verify(password, staff.password_hash.clone()).await {
        let auth = &state.settings.auth;
        let lock_until = now + Duration::seconds(auth.lockout_seconds);
        let (failed, locked) = repo::staff::record_failed_login(db, &staff, auth.max_failed_logins, lock_until).await?;
        failed_from(state, ip, now).await;
        tracing::warn!(username = %staff.username, failed, "failed login");
        metrics::counter!("minsheng_failed_logins_total").increment(1);
        // Each further failure answers a little later (slows guessing without holding a thread).
        tokio::time::sleep(std::time::Duration::from_millis(150 * failed.clamp(0, 5) as u64)).await;
        if locked || failed >= auth.max_failed_logins {
            return Err(ApiError::too_many(
                "login_locked",
                format!("登录失败次数过多，账号已临时锁定{}分钟", auth.lockout_seconds / 60),
                auth.lockout_seconds as u64,
            ));
        }
        return Err(invalid());
    }
    if staff.failed_logins > 0 || staff.locked_until.is_some() {
        repo::staff::reset_failed_logins(db, staff.id).await?;
    }
    tracing::info!(username = %staff.username, "login");
    issue(state, &staff).await
}

pub async fn refresh(state: &AppState, req: &RefreshRequest) -> ApiResult<TokenAnswer> {
    let token = req
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::validation("refresh_token", "缺少 refresh_token"))?;
    let claims: StaffClaims = state.keys.verify(token).map_err(|e| match e {
        TokenError::Expired => ApiError::unauthorized("token_expired", "登录已过期，请重新登录"),
        TokenError::Invalid => ApiError::unauthorized("token_invalid", "登录凭证无效，请重新登录"),
    })?;
    if claims.typ != TYP_REFRESH {
        return Err(ApiError::unauthorized("token_invalid", "这不是刷新凭证"));
    }
    let id: i64 =
        claims.sub.parse().map_err(|_| ApiError::unauthorized("token_invalid", "登录凭证无效，请重新登录"))?;
    let staff = repo::staff::get(&state.db.conn, id)
        .await?
        .filter(|s| s.active && s.token_version == claims.tv)
        .ok_or_else(|| ApiError::unauthorized("token_revoked", "登录凭证已失效，请重新登录"))?;
    issue(state, &staff).await
}
