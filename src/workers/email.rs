//! The e-mail sender of the outbox: claims due rows of channel `email` (a lease, `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, as for SMS), builds each message from what the row stored and hands it to
//! the SMTP server (or the console transport). A refusal, a timeout or a server that is down counts
//! an attempt and the row waits (backoff with jitter) for the next; after `email.max_attempts` it is
//! dead, shown in the outbox console and API, where an admin can resend it. Nothing is deleted.
//! With e-mail off (`email.smtp_url` empty) rows are left pending, untouched, until it is on.
use crate::email::{Composed, Stored};
use crate::repo;
use crate::repo::outbox::OutboxMessage;
use crate::sms::retry;
use crate::sms::values::OutboxChannel;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// What one pass did with the e-mails it claimed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    /// Failed this attempt; pending again after backoff.
    pub retried: usize,
    pub dead: usize,
    pub unreadable: usize,
}

/// Sends the e-mails due at `now`; answers how many the server accepted.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    Ok(run_pass(state, now).await?.sent)
}

pub async fn run_pass(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Pass> {
    let cfg = &state.settings.email;
    let Some(transport) = cfg.transport()? else { return Ok(Pass::default()) };
    let claimed = {
        let tx = state.db.begin().await?;
        let lease = Duration::seconds(cfg.lease_seconds);
        let c = repo::outbox::claim_due_on(&*tx, OutboxChannel::Email, now, lease, cfg.batch_size).await?;
        tx.commit().await?;
        c
    };
    for e in &claimed.unreadable {
        tracing::error!(error = %e, "outbox e-mail unreadable: not sent");
    }
    let mut pass = Pass { claimed: claimed.messages.len(), unreadable: claimed.unreadable.len(), ..Pass::default() };
    for m in claimed.messages {
        let result = match compose(state, &m, now) {
            // A row that cannot become a message never will: dead at once, with the reason.
            Err(e) => Err((format!("unusable: {e:#}"), true)),
            Ok(c) => match transport.send(&c).await {
                Ok(()) => Ok(c.message_id),
                Err(e) => Err((format!("{e:#}"), false)),
            },
        };
        let tx = state.db.begin().await?;
        match result {
            Ok(message_id) => {
                repo::outbox::mark_email_sent(&*tx, m.id, &message_id, now).await?;
                tracing::info!(outbox_id = m.id, to = %m.recipient, "e-mail sent");
                metrics::counter!("minsheng_email_sent_total").increment(1);
                pass.sent += 1;
            }
            Err((error, hopeless)) => {
                let dead = hopeless || m.attempts + 1 >= cfg.max_attempts;
                let delay = retry::retry_delay(cfg.backoff_base_seconds, cfg.backoff_max_seconds, m.id, m.attempts);
                tracing::warn!(outbox_id = m.id, to = %m.recipient, error = %error, attempt = m.attempts + 1, dead, "e-mail not sent");
                repo::outbox::mark_failed(&*tx, m.id, &error, dead, now + delay).await?;
                if dead {
                    metrics::counter!("minsheng_email_dead_total").increment(1);
                    pass.dead += 1;
                } else {
                    pass.retried += 1;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(pass)
}

fn compose(state: &AppState, m: &OutboxMessage, now: DateTime<Utc>) -> anyhow::Result<Composed> {
    let stored: Stored = serde_json::from_str(&m.params)?;
    crate::email::compose(&state.settings.email.sender()?, m.id, &m.recipient, &m.body, &stored, now)
}

/// Keeps sending; pauses `idle` after a pass that found less than a full batch.
pub async fn run_loop(state: AppState, idle: std::time::Duration) {
    if state.settings.email.transport().ok().flatten().is_none() {
        return;
    }
    let batch = state.settings.email.batch_size as usize;
    loop {
        match run_pass(&state, state.now()).await {
            Ok(p) if p.claimed + p.unreadable >= batch => tokio::task::yield_now().await,
            Ok(_) => tokio::time::sleep(idle).await,
            Err(e) => {
                tracing::error!(error = ?e, "e-mail sender pass failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}
