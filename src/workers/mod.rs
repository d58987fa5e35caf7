//! Background workers. Each has a `run_once(&state, now)` that tests call directly with a chosen
//! time, and a loop that calls it. The shared workers (SLA sweeper, outbox) can be switched off
//! (`application.workers_enabled`) on instances that only serve HTTP; the card-scan flush cannot:
//! the counts it writes live in this process's memory, so every instance that serves `/c/{code}`
//! flushes its own.
pub mod accountability;
pub mod card_scans;
pub mod email;
pub mod outbox;
pub mod redblack;
pub mod retention;
pub mod sla_sweeper;
pub mod upstream;
pub mod wechat;

use crate::state::AppState;
use std::time::Duration;

/// Starts the worker loops on the current runtime: the card-scan flush always, the shared workers
/// when `application.workers_enabled`.
pub fn spawn_all(state: AppState) -> Vec<tokio::task::JoinHandle<()>> {
    let flush = Duration::from_secs(state.settings.application.scan_flush_seconds.max(1));
    let mut handles = vec![tokio::spawn(card_scans::run_loop(state.clone(), flush))];
    if state.settings.application.workers_enabled {
        let sms_idle = Duration::from_millis(state.settings.sms.poll_ms);
        handles.push(tokio::spawn(sla_sweeper::run_loop(state.clone(), Duration::from_secs(30))));
        handles.push(tokio::spawn(redblack::run_loop(state.clone(), Duration::from_secs(60))));
        let every = Duration::from_secs(state.settings.accountability.interval_seconds.max(1));
        handles.push(tokio::spawn(accountability::run_loop(state.clone(), every)));
        handles.push(tokio::spawn(email::run_loop(state.clone(), Duration::from_secs(5))));
        let retention_every = Duration::from_secs(state.settings.retention.interval_seconds.max(60));
        handles.push(tokio::spawn(retention::run_loop(state.clone(), retention_every)));
        // The city 12345 platform, when configured.
        if state.settings.upstream.enabled() {
            handles.push(tokio::spawn(upstream::pull_loop(state.clone())));
            handles.push(tokio::spawn(upstream::push_loop(state.clone(), Duration::from_secs(5))));
        }
        let wechat_idle = Duration::from_millis(state.settings.wechat.subscribe.poll_ms.max(100));
        handles.push(tokio::spawn(wechat::run_loop(state.clone(), wechat_idle)));
        handles.push(tokio::spawn(outbox::run_loop(state, sms_idle)));
    }
    handles
}
