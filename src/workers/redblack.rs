//! Publishes the weekly red/black list once Monday 08:00 (county time) has come
//! (`services::redblack`), then queues that week's report e-mail to the leaders
//! (`services::weekly_report`). Any number of instances may run it: the week is unique, one wins;
//! each leader's e-mail of a week has a unique outbox key, one row is written. A pass that finds the
//! list published but the e-mail missing (an instance stopped in between) writes it then.
use crate::services::{redblack, weekly_report};
use crate::state::AppState;
use chrono::{DateTime, Utc};

/// Answers whether this pass published the list.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<bool> {
    let published = redblack::run_once(state, now).await?;
    if let Err(e) = weekly_report::queue_due(state, now).await {
        tracing::warn!(error = %e, "weekly report e-mail not queued; trying again");
    }
    Ok(published)
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = ?e, "red/black list not published; trying again");
        }
        tokio::time::sleep(every).await;
    }
}
