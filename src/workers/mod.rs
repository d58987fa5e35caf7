//! Background workers. Each has a `run_once(&state, now)` that tests call directly with a chosen
//! time, and a loop that calls it; all of them can be switched off (`application.workers_enabled`).
pub mod card_scans;
pub mod outbox;
pub mod sla_sweeper;

use crate::state::AppState;
use std::time::Duration;

/// Starts every worker loop on the current runtime.
pub fn spawn_all(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let sms_idle = Duration::from_millis(state.settings.sms.poll_ms);
    vec![
        tokio::spawn(card_scans::run_loop(state.clone(), Duration::from_secs(10))),
        tokio::spawn(sla_sweeper::run_loop(state.clone(), Duration::from_secs(30))),
        tokio::spawn(outbox::run_loop(state, sms_idle)),
    ]
}
