//! Screen tokens (an admin makes one for a hall's big screen, revokes it at will) and who may watch
//! the dashboard stream: a staff member with a watching role, or a live screen token. A screen token
//! is read-only and opens nothing but the stream and the screen's own data: the staff extractor
//! (`auth::StaffUser`) does not accept it.
use super::directory::{Change, audit};
use crate::auth::StaffUser;
use crate::auth::extract::staff_from_token;
use crate::domain::roles::Role;
use crate::domain::screen_token::ScreenToken;
use crate::error::{ApiError, ApiResult, codes};
use crate::repo;
use crate::repo::screens::{NewScreen, Screen};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"name": "县政务大厅", "region_id": 1}))]
pub struct NewScreenBody {
    pub name: String,
    pub region_id: i64,
}

/// The answer to a new screen: the only time its token is shown.
#[derive(Serialize)]
pub struct CreatedScreen {
    pub id: i64,
    pub name: String,
    pub region_id: i64,
    pub token: String,
    pub url: String,
}

#[derive(Serialize)]
pub struct ScreenView {
    pub id: i64,
    pub name: String,
    pub region_id: i64,
    pub region_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub active: bool,
}

fn view(s: Screen, region_name: Option<String>) -> ScreenView {
    ScreenView {
        id: s.id,
        name: s.name,
        region_id: s.region_id,
        region_name,
        created_at: s.created_at,
        active: s.revoked_at.is_none(),
        revoked_at: s.revoked_at,
    }
}

pub async fn create(state: &AppState, user: &StaffUser, body: NewScreenBody) -> ApiResult<CreatedScreen> {
    user.require_any(&[Role::Admin])?;
    let name = super::clean_text(&body.name, "name")?;
    if name.is_empty() || name.chars().count() > 50 {
        return Err(ApiError::validation("name", "请填写大屏名称（不超过50字）"));
    }
    let region = repo::regions::get(&state.db.conn, body.region_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, "region_id", "区域不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::out_of_scope());
    }
    let token = ScreenToken::from_random(rand::random());
    let now = state.now();
    let tx = state.db.begin().await?;
    let hash = token.hash();
    let s = NewScreen { name: &name, region_id: region.id, token_hash: &hash, created_by: user.id };
    let screen = repo::screens::create(&*tx, s, now).await?;
    let after = json!({"name": name, "region_id": region.id});
    let change = Change {
        action: "create",
        entity: "screen",
        entity_id: screen.id.to_string(),
        region_path: &region.path,
        before: None,
        after: Some(after),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(screen_id = screen.id, region_id = region.id, "screen token made");
    Ok(CreatedScreen {
        id: screen.id,
        name: screen.name,
        region_id: region.id,
        url: format!("{}/screen/?token={}", state.public_url(), token.expose()),
        token: token.expose().to_string(),
    })
}

/// The screens of the admin's regions, newest first (revoked ones marked); never their tokens.
pub async fn list(state: &AppState, user: &StaffUser) -> ApiResult<Vec<ScreenView>> {
    user.require_any(&[Role::Admin])?;
    let regions = repo::regions::all_under(&state.db.conn, &user.scope.region_path).await?;
    let ids: Vec<i64> = regions.iter().map(|r| r.id).collect();
    let screens = repo::screens::list_in(&state.db.conn, ids).await?;
    let name_of = |id: i64| regions.iter().find(|r| r.id == id).map(|r| r.name.clone());
    Ok(screens.into_iter().map(|s| view(s.clone(), name_of(s.region_id))).collect())
}

/// Revokes a screen at once: its token opens nothing from now on, and its open streams end at
/// their next heartbeat.
pub async fn revoke(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<()> {
    user.require_any(&[Role::Admin])?;
    let not_found = || ApiError::not_found("大屏不存在或已停用");
    let screen = repo::screens::get(&state.db.conn, id).await?.ok_or_else(not_found)?;
    let region = repo::regions::get(&state.db.conn, screen.region_id).await?.ok_or_else(not_found)?;
    if !user.covers_region(&region.path) {
        return Err(not_found());
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    if !repo::screens::revoke(&*tx, id, now).await? {
        return Err(not_found());
    }
    let change = Change {
        action: "revoke",
        entity: "screen",
        entity_id: id.to_string(),
        region_path: &region.path,
        before: Some(json!({"name": screen.name, "active": true})),
        after: Some(json!({"active": false})),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(screen_id = id, "screen token revoked");
    Ok(())
}

/// Who watches a stream, and the region whose events they may see.
#[derive(Clone, Debug)]
pub enum Viewer {
    Staff { user: StaffUser, token_version: i32 },
    Screen { id: i64, region_id: i64, region_path: String },
}

/// The roles that watch the dashboard (admins hold every role).
const WATCHERS: [Role; 3] = [Role::Leader, Role::Inspector, Role::Dispatcher];

impl Viewer {
    /// The viewer a token stands for: a screen token (by its shape) or a staff access token.
    pub async fn authenticate(state: &AppState, token: &str, path: &str) -> ApiResult<Viewer> {
        if let Some(t) = ScreenToken::parse(token) {
            return screen(state, &t).await;
        }
        let (user, token_version) = staff_from_token(state, token, path).await?;
        user.require_any(&WATCHERS)?;
        Ok(Viewer::Staff { user, token_version })
    }

    /// Whether an event in the region at `region_path` is for this viewer.
    pub fn covers(&self, region_path: &str) -> bool {
        match self {
            Viewer::Staff { user, .. } => user.covers_region(region_path),
            Viewer::Screen { region_path: mine, .. } => region_path.starts_with(mine.as_str()),
        }
    }

    /// Whether the credential still holds (a screen not revoked; a person still active, with the
    /// same token version). The access token's own expiry is checked once, at connection.
    pub async fn still_valid(&self, state: &AppState) -> ApiResult<bool> {
        Ok(match self {
            Viewer::Screen { id, .. } => {
                repo::screens::get(&state.db.conn, *id).await?.is_some_and(|s| s.revoked_at.is_none())
            }
            Viewer::Staff { user, token_version } => repo::staff::get(&state.db.conn, user.id)
                .await?
                .is_some_and(|s| s.active && s.token_version == *token_version),
        })
    }
}

async fn screen(state: &AppState, token: &ScreenToken) -> ApiResult<Viewer> {
    let revoked = || ApiError::unauthorized(codes::TOKEN_REVOKED, "大屏凭证无效或已停用，请联系管理员");
    let screen = repo::screens::active_by_hash(&state.db.conn, &token.hash()).await?.ok_or_else(revoked)?;
    let region = repo::regions::get(&state.db.conn, screen.region_id).await?.ok_or_else(revoked)?;
    Ok(Viewer::Screen { id: screen.id, region_id: region.id, region_path: region.path })
}
