//! The WeChat sender of the outbox: claims due rows of channel `wechat` (a lease, `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, as for SMS and e-mail) and sends each as a subscribe message with the
//! cached access token (`wechat::send_subscribe`). Sent: done. Refused (43101 the villager did not
//! or no longer subscribes, a bad template, data or page): dead at once. Transport, 5xx, busy:
//! pending again after backoff, dead after `wechat.subscribe.max_attempts`. A dead WeChat message
//! writes its SMS fallback in the same transaction (once: `dedup_key`), so the villager still hears.
//! Like villager SMS, the messages wait out the quiet hours (`sms.quiet_hours`).
use crate::repo;
use crate::repo::outbox::{NewMessage, OutboxMessage};
use crate::sms::values::OutboxChannel;
use crate::sms::{quiet, retry};
use crate::state::AppState;
use crate::wechat::{self, SendOutcome};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// What one pass did with the messages it claimed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    /// Failed this attempt; pending again after backoff.
    pub retried: usize,
    /// Given up (refused or out of attempts).
    pub dead: usize,
    /// SMS fallbacks written for the dead ones.
    pub fallbacks: usize,
    /// Held until the SMS quiet hours end (villager progress is not urgent; not an attempt).
    pub deferred: usize,
    pub unreadable: usize,
}

/// Sends the WeChat messages due at `now`; answers how many WeChat accepted.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    Ok(run_pass(state, now).await?.sent)
}

pub async fn run_pass(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Pass> {
    let s = &state.settings.wechat;
    let cfg = &s.subscribe;
    if !wechat::is_configured(s) {
        return Ok(Pass::default());
    }
    let claimed = {
        let tx = state.db.begin().await?;
        let lease = Duration::seconds(cfg.lease_seconds);
        let c = repo::outbox::claim_due_on(&*tx, OutboxChannel::Wechat, now, lease, cfg.batch_size).await?;
        tx.commit().await?;
        c
    };
    for e in &claimed.unreadable {
        tracing::error!(error = %e, "outbox wechat message unreadable: not sent");
    }
    let mut pass = Pass { claimed: claimed.messages.len(), unreadable: claimed.unreadable.len(), ..Pass::default() };
    let quiet_end = quiet_end(state, now);
    for m in claimed.messages {
        if let Some(until) = quiet_end {
            let tx = state.db.begin().await?;
            repo::outbox::defer(&*tx, m.id, until, "deferred: quiet hours").await?;
            tx.commit().await?;
            pass.deferred += 1;
            continue;
        }
        let outcome = match stored_body(&m) {
            Some(body) => {
                wechat::send_subscribe(&state.http, state.kv().as_ref(), &state.wechat_token_refresh, s, now, &body)
                    .await
            }
            None => SendOutcome::Refused(0, "unusable: no subscribe body stored".into()),
        };
        let tx = state.db.begin().await?;
        match outcome {
            SendOutcome::Sent(msgid) => {
                repo::outbox::mark_accepted(&*tx, m.id, msgid, now).await?;
                tracing::info!(outbox_id = m.id, kind = m.kind.as_str(), "wechat subscribe message sent");
                metrics::counter!("minsheng_wechat_sent_total").increment(1);
                pass.sent += 1;
            }
            SendOutcome::Refused(code, msg) => {
                let error = format!("refused: errcode {code}: {msg}");
                tracing::warn!(outbox_id = m.id, error = %error, "wechat subscribe message refused: SMS instead");
                repo::outbox::mark_failed(&*tx, m.id, &error, true, now).await?;
                pass.dead += 1;
                pass.fallbacks += usize::from(fallback(&*tx, &m, now).await?);
            }
            SendOutcome::Retry(error) => {
                let dead = m.attempts + 1 >= cfg.max_attempts;
                let delay = retry::retry_delay(cfg.backoff_base_seconds, cfg.backoff_max_seconds, m.id, m.attempts);
                tracing::warn!(outbox_id = m.id, error = %error, attempt = m.attempts + 1, dead, "wechat send failed");
                repo::outbox::mark_failed(&*tx, m.id, &error, dead, now + delay).await?;
                if dead {
                    pass.dead += 1;
                    pass.fallbacks += usize::from(fallback(&*tx, &m, now).await?);
                } else {
                    pass.retried += 1;
                }
            }
        }
        tx.commit().await?;
    }
    Ok(pass)
}

/// The end of the SMS quiet hours (`sms.quiet_hours`) when `now` is inside them: progress messages
/// to villagers wait for the morning, by WeChat as by SMS.
fn quiet_end(state: &AppState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let q = &state.sms.settings().quiet_hours;
    if !q.enabled {
        return None;
    }
    quiet::quiet_until(now, state.tz(), quiet::parse_hm(&q.start)?, quiet::parse_hm(&q.end)?)
}

fn stored_body(m: &OutboxMessage) -> Option<Value> {
    let params: Value = serde_json::from_str(&m.params).ok()?;
    params.get("send").filter(|v| v.is_object()).cloned()
}

/// Writes the SMS the villager gets instead (the text stored with the WeChat message, to the
/// ticket's requester phone), once per WeChat message; false when there is no phone to send to or
/// the fallback was written before.
async fn fallback<C: sea_orm::ConnectionTrait>(
    db: &C,
    m: &OutboxMessage,
    now: DateTime<Utc>,
) -> Result<bool, sea_orm::DbErr> {
    let phone = match m.ticket_id {
        Some(id) => repo::tickets::by_id(db, id).await?.map(|t| t.requester_phone).unwrap_or_default(),
        None => String::new(),
    };
    if phone.is_empty() {
        tracing::warn!(outbox_id = m.id, "wechat message given up and no phone for an SMS fallback");
        return Ok(false);
    }
    let params: Value = serde_json::from_str(&m.params).unwrap_or_default();
    let sms_params = params.get("sms").cloned().unwrap_or_else(|| serde_json::json!({})).to_string();
    let row = NewMessage {
        kind: m.kind,
        channel: OutboxChannel::Sms,
        recipient: &phone,
        body: &m.body,
        params: &sms_params,
        ticket_id: m.ticket_id,
        dedup_key: &format!("wechat:fallback:{}", m.id),
    };
    let written = repo::outbox::enqueue_message(db, row, now).await?.is_some();
    if written {
        metrics::counter!("minsheng_wechat_sms_fallback_total").increment(1);
    }
    Ok(written)
}

/// Keeps sending; pauses `idle` after a pass that found less than a full batch.
pub async fn run_loop(state: AppState, idle: std::time::Duration) {
    if !wechat::is_configured(&state.settings.wechat) {
        return;
    }
    let batch = state.settings.wechat.subscribe.batch_size as usize;
    loop {
        match run_pass(&state, state.now()).await {
            Ok(p) if p.claimed + p.unreadable >= batch => tokio::task::yield_now().await,
            Ok(_) => tokio::time::sleep(idle).await,
            Err(e) => {
                tracing::error!(error = ?e, "wechat sender pass failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}
