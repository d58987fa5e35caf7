//! The retention job (`services::retention`): every `retention.interval_seconds`, removes the
//! requester's personal data from tickets that ended more than `retention.days` ago. Any number of
//! instances may run it: each ticket is anonymised by one conditional update.
use crate::services::retention::{self, Report};
use crate::state::AppState;
use chrono::{DateTime, Utc};

pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Report> {
    Ok(retention::run(state, now, false).await?)
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = ?e, "retention pass failed; trying again");
        }
        tokio::time::sleep(every).await;
    }
}
