//! Open311 API keys: an admin makes one for an outside application (shown once), lists them (never
//! the key) and revokes them; the facade turns a presented key into the filing it stands for.
use super::directory::{Change, audit};
use super::intake::Open311Filing;
use crate::auth::StaffUser;
use crate::domain::open311::ApiKey;
use crate::domain::roles::Role;
use crate::error::{ApiError, ApiResult, codes};
use crate::kv::limiter::Limit;
use crate::repo;
use crate::repo::open311::{ApiKeyRow, NewKey};
use crate::state::AppState;
use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "市民服务App", "per_minute": 30, "per_day": 2000}))]
pub struct NewKeyBody {
    pub name: Option<String>,
    /// Requests the key may file per minute and per day (default: `limits.open311_per_*`).
    pub per_minute: Option<u32>,
    pub per_day: Option<u32>,
}

/// The answer to a new key: the only time the key itself is shown.
#[derive(Serialize)]
pub struct CreatedKey {
    pub id: i64,
    pub name: String,
    pub api_key: String,
    pub per_minute: u32,
    pub per_day: u32,
}

#[derive(Serialize)]
pub struct KeyView {
    pub id: i64,
    pub name: String,
    pub per_minute: i32,
    pub per_day: i32,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub active: bool,
}

fn view(k: ApiKeyRow) -> KeyView {
    KeyView {
        id: k.id,
        name: k.name,
        per_minute: k.per_minute,
        per_day: k.per_day,
        created_by: k.created_by,
        created_at: k.created_at,
        last_used_at: k.last_used_at,
        active: k.revoked_at.is_none(),
        revoked_at: k.revoked_at,
    }
}

const LIMIT_MAX: u32 = 100_000;

fn limit(v: Option<u32>, default: Limit, field: &str) -> ApiResult<u32> {
    match v {
        None => Ok(u32::try_from(default.max).unwrap_or(LIMIT_MAX).min(LIMIT_MAX)),
        Some(n) if (1..=LIMIT_MAX).contains(&n) => Ok(n),
        Some(_) => Err(ApiError::validation(field, format!("提交上限须为1–{LIMIT_MAX}之间的整数"))),
    }
}

pub async fn create(state: &AppState, user: &StaffUser, body: NewKeyBody) -> ApiResult<CreatedKey> {
    user.require_any(&[Role::Admin])?;
    let name = super::clean_text(body.name.as_deref().unwrap_or(""), "name")?;
    if name.is_empty() || name.chars().count() > 50 {
        return Err(ApiError::validation("name", "请填写使用该密钥的应用或单位名称（不超过50字）"));
    }
    let l = &state.settings.limits;
    let per_minute = limit(body.per_minute, l.open311_per_minute, "per_minute")?;
    let per_day = limit(body.per_day, l.open311_per_day, "per_day")?;
    let key = ApiKey::from_random(rand::random());
    let now = state.now();
    let tx = state.db.begin().await?;
    let hash = key.hash();
    let new = NewKey {
        name: &name,
        key_hash: &hash,
        per_minute: per_minute as i32,
        per_day: per_day as i32,
        created_by: user.id,
    };
    let row = repo::open311::create_key(&*tx, new, now).await?;
    let change = Change {
        action: "create",
        entity: "open311_key",
        entity_id: row.id.to_string(),
        region_path: &user.scope.region_path,
        before: None,
        after: Some(json!({"name": name, "per_minute": per_minute, "per_day": per_day})),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(key_id = row.id, "open311 key made");
    Ok(CreatedKey { id: row.id, name: row.name, api_key: key.expose().to_string(), per_minute, per_day })
}

/// Every key, newest first (revoked ones marked); never the key itself nor its hash.
pub async fn list(state: &AppState, user: &StaffUser) -> ApiResult<Vec<KeyView>> {
    user.require_any(&[Role::Admin])?;
    Ok(repo::open311::keys(&state.db.conn).await?.into_iter().map(view).collect())
}

/// Revokes a key at once: requests presenting it are refused (403) from now on.
pub async fn revoke(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<()> {
    user.require_any(&[Role::Admin])?;
    let not_found = || ApiError::not_found("API 密钥不存在或已停用");
    let key = repo::open311::key(&state.db.conn, id).await?.ok_or_else(not_found)?;
    let now = state.now();
    let tx = state.db.begin().await?;
    if !repo::open311::revoke_key(&*tx, id, now).await? {
        return Err(not_found());
    }
    let change = Change {
        action: "revoke",
        entity: "open311_key",
        entity_id: id.to_string(),
        region_path: &user.scope.region_path,
        before: Some(json!({"name": key.name, "active": true})),
        after: Some(json!({"active": false})),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(key_id = id, "open311 key revoked");
    Ok(())
}

/// The filing a presented `api_key` stands for: a missing, malformed, unknown or revoked key is a
/// 403 (the standard's answer to a bad key), the same for each so that keys cannot be probed.
pub async fn filing(state: &AppState, raw: Option<&str>) -> ApiResult<Open311Filing> {
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "api_key 无效或已停用，请向县级管理员申请有效的 API 密钥",
        )
    };
    let key = raw.and_then(ApiKey::parse).ok_or_else(refused)?;
    let row = repo::open311::active_key_by_hash(&state.db.conn, &key.hash()).await?.ok_or_else(refused)?;
    Ok(Open311Filing {
        key_id: row.id,
        key_name: row.name,
        per_minute: Limit { max: row.per_minute.max(1) as u64, window_seconds: 60 },
        per_day: Limit { max: row.per_day.max(1) as u64, window_seconds: 86_400 },
        media_url: None,
    })
}

/// Notes the key's use after a request was filed (best effort: the request stands either way).
pub async fn used(state: &AppState, key_id: i64) {
    if let Err(e) = repo::open311::touch_key(&state.db.conn, key_id, state.now()).await {
        tracing::warn!(key_id, error = %e, "could not note the open311 key's use");
    }
}
