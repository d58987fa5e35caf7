//! Publishes the weekly red/black list once Monday 08:00 (county time) has come
//! (`services::redblack`); any number of instances may run it: the week is unique, one wins.
use crate::services::redblack;
use crate::state::AppState;
use chrono::{DateTime, Utc};

pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<bool> {
    redblack::run_once(state, now).await
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = ?e, "red/black list not published; trying again");
        }
        tokio::time::sleep(every).await;
    }
}
