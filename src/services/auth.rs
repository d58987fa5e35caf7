//! Staff login and token refresh, with failed-login counting, slow-down and lock-out.
use crate::auth::jwt::{StaffClaims, TYP_ACCESS, TYP_REFRESH, TokenError};
use crate::auth::password;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::kv::limiter::Limit;
use crate::repo;
use crate::repo::staff::Staff;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Digest;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"username": "dispatcher", "password": "minsheng-demo"}))]
pub struct LoginRequest {
    pub username: Option<String>,
    #[schema(value_type = Option<String>)]
    pub password: Option<SecretString>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = Option<String>)]
    pub old_password: Option<SecretString>,
    #[schema(value_type = Option<String>)]
    pub new_password: Option<SecretString>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenAnswer {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(value_type = String, example = "Bearer")]
    pub token_type: &'static str,
    pub expires_in: i64,
    /// The signed-in staff member: id, username, name, roles, region and unit.
    #[schema(value_type = Object)]
    pub staff: Value,
}

fn claims(s: &Staff, path: &str, typ: &str, ttl: i64, fam: &str, now: DateTime<Utc>) -> StaffClaims {
    StaffClaims {
        sub: s.id.to_string(),
        typ: typ.into(),
        name: s.name.clone(),
        roles: s.roles.iter().map(|r| r.as_str().to_string()).collect(),
        region_id: s.region_id,
        region_path: path.into(),
        unit_id: s.unit_id,
        tv: s.token_version,
        fam: Some(fam.to_string()),
        iat: now.timestamp(),
        exp: (now + Duration::seconds(ttl)).timestamp(),
        jti: uuid::Uuid::new_v4().to_string(),
    }
}

/// Where a pair of tokens goes: a new login starts a family, a refresh continues one (from the
/// refresh token's id it replaces).
enum Session<'a> {
    New,
    Continue { family: &'a str, from_jti: &'a str },
}

async fn issue(state: &AppState, s: &Staff, session: Session<'_>) -> ApiResult<TokenAnswer> {
    let now = state.now();
    let region = repo::regions::get(&state.db.conn, s.region_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("staff region missing")))?;
    let auth = &state.settings.auth;
    let family = match session {
        Session::New => uuid::Uuid::new_v4().simple().to_string(),
        Session::Continue { family, .. } => family.to_string(),
    };
    let access_claims = claims(s, &region.path, TYP_ACCESS, auth.access_ttl_seconds, &family, now);
    let refresh_claims = claims(s, &region.path, TYP_REFRESH, auth.refresh_ttl_seconds, &family, now);
    let expires = now + Duration::seconds(auth.refresh_ttl_seconds);
    match session {
        Session::New => {
            repo::sessions::create(&state.db.conn, &family, s.id, &refresh_claims.jti, now, expires).await?;
        }
        Session::Continue { from_jti, .. } => {
            // Of two uses of the same refresh token only one moves the family on.
            if !repo::sessions::rotate(&state.db.conn, &family, from_jti, &refresh_claims.jti, expires).await? {
                return Err(reused(state, &family, s, now).await);
            }
        }
    }
    Ok(TokenAnswer {
        access_token: state.keys.staff.sign(&access_claims)?,
        refresh_token: state.keys.staff.sign(&refresh_claims)?,
        token_type: "Bearer",
        expires_in: auth.access_ttl_seconds,
        staff: json!({"id": s.id, "username": s.username, "name": s.name, "roles": s.roles,
                      "region_id": s.region_id, "region_name": region.name, "region_level": region.level,
                      "unit_id": s.unit_id,
                      "must_change_password": s.must_change_password}),
    })
}

/// A refresh token used a second time was copied: the whole login (every token of its family,
/// access tokens included) stops working, and the person must sign in again.
async fn reused(state: &AppState, family: &str, s: &Staff, now: DateTime<Utc>) -> ApiError {
    if let Err(e) = repo::sessions::revoke(&state.db.conn, family, "refresh token reused", now).await {
        return ApiError::internal(e);
    }
    tracing::warn!(username = %s.username, family, "refresh token reused: login revoked");
    metrics::counter!("minsheng_refresh_reuse_total").increment(1);
    ApiError::unauthorized(codes::TOKEN_REUSED, "登录凭证已被使用过，为安全起见本次登录已失效，请重新登录")
}

fn invalid() -> ApiError {
    ApiError::unauthorized(codes::INVALID_CREDENTIALS, "用户名或密码错误")
}

fn locked_here(retry_after: u64) -> ApiError {
    ApiError::too_many(
        codes::LOGIN_LOCKED,
        format!("登录失败次数过多，该账号在本设备上已临时锁定，请{}分钟后再试", retry_after.div_ceil(60)),
        retry_after,
    )
}

/// Failed logins from one address, whatever the usernames: guessing across accounts (or at names
/// that do not exist) is slowed down as guessing at one account is.
fn ip_subject(ip: &str) -> String {
    format!("login:ip:{ip}")
}

/// Failed logins at one username from one address. Keyed by the name as typed (lower-cased), known
/// or not, so an unknown name locks exactly as a real one does and the lock tells nothing; and a
/// stranger elsewhere cannot lock the owner out of their own desk.
fn pair_subject(username: &str, ip: &str) -> String {
    let name = hex::encode(sha2::Sha256::digest(username.to_lowercase().as_bytes()));
    format!("login:pair:{}:{ip}", &name[..32])
}

/// Counts one failed login against the address and the (name, address) pair; the answer says
/// whether the pair is now locked.
async fn count_failure(state: &AppState, username: &str, ip: &str, now: DateTime<Utc>) -> Option<u64> {
    let limits = &state.settings.limits;
    let _ = state.limiter.hit(&ip_subject(ip), limits.login_failures_per_ip, now).await;
    state.limiter.hit(&pair_subject(username, ip), pair_limit(state), now).await.err().map(|e| e.retry_after)
}

fn pair_limit(state: &AppState) -> Limit {
    let auth = &state.settings.auth;
    // The failure that reaches `max_failed_logins` locks: the limiter refuses the hit after `max`.
    Limit { max: (auth.max_failed_logins.max(1) - 1) as u64, window_seconds: auth.lockout_seconds.max(1) as u64 }
}

/// Counts a failed login (address, name at address, and the account across all addresses) and gives
/// the answer. An unknown name runs the same statements against no row (id 0 is never a staff id).
async fn failed_login(
    state: &AppState,
    staff: Option<&Staff>,
    username: &str,
    ip: &str,
    now: DateTime<Utc>,
) -> ApiResult<ApiError> {
    let pair_locked = count_failure(state, username, ip, now).await;
    let auth = &state.settings.auth;
    let lock_until = now + Duration::seconds(auth.account_lockout_seconds);
    let id = staff.map_or(0, |s| s.id);
    let (failed, locked) =
        repo::staff::record_failed_login(&state.db.conn, id, auth.account_max_failed_logins, lock_until).await?;
    if let Some(s) = staff {
        if locked {
            // Guessing at one account from many addresses: lock it everywhere, and say so loudly.
            tracing::error!(username = %s.username, "account locked after failed logins from several addresses");
            metrics::counter!("minsheng_account_lockouts_total").increment(1);
        }
        tracing::warn!(username = %s.username, failed, "failed login");
    }
    metrics::counter!("minsheng_failed_logins_total").increment(1);
    Ok(match pair_locked {
        Some(retry_after) => locked_here(retry_after),
        None => invalid(),
    })
}

/// Wrong password and unknown name do the same work in the same order (a password hash check, the
/// two limiter hits, one database statement) and give the same answer, so neither the time nor the
/// text tells whether the name exists. No deliberate delay: the limits do the slowing down.
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
    let limits = &state.settings.limits;
    if let Err(e) = state.limiter.peek(&ip_subject(ip), limits.login_failures_per_ip, now).await {
        return Err(ApiError::too_many(codes::RATE_LIMITED, "登录失败次数过多，请稍后再试", e.retry_after));
    }
    if let Err(e) = state.limiter.peek(&pair_subject(username, ip), pair_limit(state), now).await {
        return Err(locked_here(e.retry_after));
    }
    let staff = repo::staff::by_username(db, username).await?.filter(|s| s.active);
    if let Some(until) = staff.as_ref().and_then(|s| s.locked_until).filter(|u| *u > now) {
        let secs = (until - now).num_seconds().max(1) as u64;
        return Err(ApiError::too_many(
            codes::ACCOUNT_LOCKED,
            format!("该账号登录失败次数过多，已被锁定，请{}分钟后再试或联系管理员", secs.div_ceil(60)),
            secs,
        ));
    }
    // An account without a usable password (imported, not yet given one) costs the same work as an
    // unknown name and never signs in.
    let usable = staff.as_ref().filter(|s| s.password_hash.starts_with("$argon2"));
    let hash = usable.map_or_else(|| state.dummy_hash.to_string(), |s| s.password_hash.clone());
    let ok = password::verify(password, hash).await && usable.is_some();
    let staff = match staff {
        Some(s) if ok => s,
        staff => return Err(failed_login(state, staff.as_ref(), username, ip, now).await?),
    };
    if staff.failed_logins > 0 || staff.locked_until.is_some() {
        repo::staff::reset_failed_logins(db, staff.id).await?;
    }
    tracing::info!(username = %staff.username, "login");
    issue(state, &staff, Session::New).await
}

pub async fn refresh(state: &AppState, req: &RefreshRequest) -> ApiResult<TokenAnswer> {
    let token = req
        .refresh_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::validation("refresh_token", "缺少 refresh_token"))?;
    let claims: StaffClaims = state.keys.staff.verify(token).map_err(|e| match e {
        TokenError::Expired => ApiError::unauthorized(codes::TOKEN_EXPIRED, "登录已过期，请重新登录"),
        TokenError::Invalid => ApiError::unauthorized(codes::TOKEN_INVALID, "登录凭证无效，请重新登录"),
    })?;
    if claims.typ != TYP_REFRESH {
        return Err(ApiError::unauthorized(codes::TOKEN_INVALID, "这不是刷新凭证"));
    }
    let id: i64 =
        claims.sub.parse().map_err(|_| ApiError::unauthorized(codes::TOKEN_INVALID, "登录凭证无效，请重新登录"))?;
    let staff = repo::staff::get(&state.db.conn, id)
        .await?
        .filter(|s| s.active && s.token_version == claims.tv)
        .ok_or_else(crate::auth::extract::revoked)?;
    let family_id = claims.fam.as_deref().ok_or_else(crate::auth::extract::revoked)?;
    let family = repo::sessions::get(&state.db.conn, family_id)
        .await?
        .filter(|f| f.staff_id == staff.id && f.revoked_at.is_none())
        .ok_or_else(crate::auth::extract::revoked)?;
    issue(state, &staff, Session::Continue { family: &family.id, from_jti: &claims.jti }).await
}

/// A staff member changes their own password (a temporary one must be changed before anything
/// else): the old one is checked, the new one has 10 to 128 characters and differs from it. Every
/// earlier token stops working; the answer is a new login.
pub async fn change_password(
    state: &AppState,
    user: &crate::auth::StaffUser,
    req: &PasswordChange,
) -> ApiResult<TokenAnswer> {
    use secrecy::ExposeSecret;
    let old = req.old_password.clone().ok_or_else(|| ApiError::validation("old_password", "请输入原密码"))?;
    let new = req.new_password.clone().ok_or_else(|| ApiError::validation("new_password", "请输入新密码"))?;
    let len = new.expose_secret().chars().count();
    if !(10..=128).contains(&len) {
        return Err(ApiError::validation("new_password", "新密码须为10到128个字符"));
    }
    if new.expose_secret() == old.expose_secret() {
        return Err(ApiError::validation("new_password", "新密码不能与原密码相同"));
    }
    let db = &state.db.conn;
    let staff = repo::staff::get(db, user.id).await?.ok_or_else(crate::auth::extract::revoked)?;
    if !password::verify(old, staff.password_hash.clone()).await {
        return Err(ApiError::validation("old_password", "原密码不正确"));
    }
    let auth = &state.settings.auth;
    let params = password::HashParams { memory_kib: auth.argon2_memory_kib, iterations: auth.argon2_iterations };
    let hash = password::hash(new, params).await.map_err(ApiError::internal)?;
    repo::staff::set_password(db, staff.id, &hash, false).await?;
    let staff = repo::staff::get(db, user.id).await?.ok_or_else(crate::auth::extract::revoked)?;
    tracing::info!(username = %staff.username, "password changed");
    issue(state, &staff, Session::New).await
}
