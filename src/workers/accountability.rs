//! Checks the accountability rules (追责红线, `services::accountability`) every
//! `accountability.interval_seconds`. Any number of instances may run it: each breach has a unique
//! key, so one record is written per breach.
use crate::state::AppState;
use chrono::{DateTime, Utc};

/// Answers how many records this pass wrote.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    Ok(crate::services::accountability::run_once(state, now).await?.len())
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = ?e, "accountability rules not checked; trying again");
        }
        tokio::time::sleep(every).await;
    }
}
