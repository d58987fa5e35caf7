//! The outbox worker: claims due messages, sends them through the provider, records the result.
//! Delivery is at-least-once: a message is marked sent only after the provider accepted it.
use crate::domain::phone::mask;
use crate::repo;
use crate::sms::{OutgoingSms, SendError};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};

/// Attempts before a message is given up (dead).
pub const MAX_ATTEMPTS: i32 = 6;
const BATCH: u64 = 50;

/// Backoff before attempt `n + 1` (after `n` failures): 30 s, 1 min, 2 min, … capped at 1 h.
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds((30i64 << attempts.clamp(0, 7)).min(3600))
}

/// Sends what is due at `now`; returns how many messages were handed to the provider successfully.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let claimed = {
        let tx = state.db.begin().await?;
        let rows = repo::outbox::claim_due(&*tx, now, Duration::minutes(5), BATCH).await?;
        tx.commit().await?;
        rows
    };
    let mut sent = 0;
    for m in claimed {
        let msg = OutgoingSms {
            id: m.id,
            phone: m.recipient.clone(),
            body: m.body.clone(),
            template: m.template.clone(),
            params: serde_json::from_str(&m.params).unwrap_or_default(),
        };
        match state.sms.send(&msg).await {
            Ok(ok) => {
                repo::outbox::mark_sent(&state.db.conn, m.id, state.sms.name(), ok.provider_message_id, now).await?;
                sent += 1;
            }
            Err(e) => {
                let dead = matches!(e, SendError::Rejected(_)) || m.attempts + 1 >= MAX_ATTEMPTS;
                tracing::warn!(outbox_id = m.id, to = %mask(&m.recipient), error = %e, dead, "sms send failed");
                repo::outbox::mark_failed(&state.db.conn, m.id, &e.to_string(), dead, now + backoff(m.attempts))
                    .await?;
            }
        }
    }
    if sent > 0 {
        metrics::counter!("minsheng_sms_sent_total").increment(sent as u64);
    }
    Ok(sent)
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::error!(error = ?e, "outbox worker pass failed");
        }
        tokio::time::sleep(every).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(super::backoff(0).num_seconds(), 30);
        assert_eq!(super::backoff(1).num_seconds(), 60);
        assert_eq!(super::backoff(20).num_seconds(), 3600);
    }
}
