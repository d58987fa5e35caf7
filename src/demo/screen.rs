//! The demo's big screen for the county hall: a screen token made at every start (a token is shown
//! only once, so the one of an earlier start cannot be printed again; that one is revoked).
use crate::domain::screen_token::ScreenToken;
use crate::repo;
use crate::repo::screens::NewScreen;
use crate::state::AppState;
use anyhow::Context;

const HALL: &str = "县民生服务中心大厅（演示）";

/// The link of a fresh screen token for the whole county.
pub async fn hall_screen(state: &AppState) -> anyhow::Result<String> {
    let db = &state.db.conn;
    let county =
        repo::regions::all_under(db, "/").await?.into_iter().find(|r| r.parent_id.is_none()).context("no county")?;
    let admin = repo::staff::by_username(db, "admin").await?.context("the demo admin is missing")?;
    let now = state.now();
    for s in repo::screens::list_in(db, vec![county.id]).await? {
        if s.name == HALL && s.revoked_at.is_none() {
            repo::screens::revoke(db, s.id, now).await?;
        }
    }
    let token = ScreenToken::from_random(rand::random());
    let hash = token.hash();
    let screen = NewScreen { name: HALL, region_id: county.id, token_hash: &hash, created_by: admin.id };
    repo::screens::create(db, screen, now).await?;
    Ok(format!("{}/screen/?token={}", state.public_url(), token.expose()))
}
