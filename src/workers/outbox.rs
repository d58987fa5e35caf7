//! The outbox worker: claims due messages (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL), holds
//! back what must wait (quiet hours) or must not go (opt-outs), sends the rest through the gateway
//! (providers in order, rate limits, failover) and records each provider call and the result.
//! Delivery is at-least-once: a message is marked sent only after a provider accepted it, and a
//! worker that dies leaves its claim to run out, so another worker sends the message again.
//! Neither Alibaba nor Tencent deduplicates, so a message whose last send may have reached a
//! provider (a timeout after the request went out, or a claim that ran out because its worker died)
//! is "in doubt": before sending it again the worker asks the provider (QuerySendDetails,
//! PullSmsSendStatusByPhoneNumber). Found → sent, no second send. Not found → sent again, once the
//! receipt window (`unknown_wait_seconds` after the doubtful send) is over. The query failing → asked
//! again later, never sent blind. Each query is an `sms_attempts` row (`found`, `not_found`,
//! `query_failed`).
use crate::domain::phone::mask;
use crate::repo;
use crate::sms::gateway::{Answer, Call, Delivery, Verdict};
use crate::sms::values::AttemptOutcome;
use crate::sms::{OutgoingSms, kinds, quiet, retry};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt;
use sea_orm::ConnectionTrait;
use std::collections::HashSet;

/// Attempts before a message is given up (dead), unless `sms.max_attempts` says otherwise.
pub const MAX_ATTEMPTS: i32 = 6;

/// Backoff ceiling before attempt `n + 1` with the default settings: 30 s, 1 min, 2 min, … 1 h.
pub fn backoff(attempts: i32) -> Duration {
    retry::backoff(30, 3600, attempts)
}

/// What one pass did with the messages it claimed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub sent: usize,
    /// Failed this attempt, will try again after backoff.
    pub retried: usize,
    pub dead: usize,
    /// Waiting for quiet hours to end or a rate-limit window to turn (not an attempt).
    pub deferred: usize,
    /// Withheld because the recipient opted out.
    pub suppressed: usize,
    /// Claimed rows that do not read back (a corrupt value, or one a newer version wrote): reported
    /// and left leased, so they hold up neither this pass nor the next ones.
    pub unreadable: usize,
    /// In doubt (their last send may have gone): the providers were asked before anything else.
    pub queried: usize,
    /// Of those, found taken by a provider: marked sent without sending again (counted in `sent`).
    pub found: usize,
}

/// Sends what is due at `now`; returns how many messages a provider accepted.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    Ok(run_pass(state, now).await?.sent)
}

/// One pass over the due messages at `now`.
pub async fn run_pass(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Pass> {
    let cfg = state.sms.settings();
    let lease = Duration::seconds(cfg.lease_seconds);
    let (claimed, unreadable) = {
        let tx = state.db.begin().await?;
        let mut c = repo::outbox::claim_due(&*tx, now, lease, cfg.batch_size).await?;
        for m in &mut c.messages {
            // A claim that ran out: its worker died (or stalled) somewhere between claiming and
            // recording, perhaps after a provider took the message. Which provider is not known.
            if let Some(expired) = m.locked_until {
                let since = m.doubt_since.map_or(expired - lease, |s| s.min(expired - lease));
                repo::outbox::set_doubt(&*tx, m.id, Some(since), None).await?;
                (m.doubt_since, m.doubt_provider) = (Some(since), None);
            }
        }
        tx.commit().await?;
        (c.messages, c.unreadable)
    };
    for e in &unreadable {
        tracing::error!(error = %e, "outbox message unreadable: not sent");
        metrics::counter!("minsheng_outbox_unreadable_total").increment(1);
    }
    let mut pass = Pass { claimed: claimed.len(), unreadable: unreadable.len(), ..Pass::default() };
    if claimed.is_empty() {
        return Ok(pass);
    }
    let optional: Vec<String> =
        claimed.iter().filter(|m| !kinds::essential(m.kind)).map(|m| m.recipient.clone()).collect();
    let opted: HashSet<String> = repo::sms::opted_out(&state.db.conn, &optional).await?.into_iter().collect();
    let quiet_end = quiet_end(state, now);
    let mut to_send = Vec::with_capacity(claimed.len());
    for m in claimed {
        if let Some(until) = quiet_end.filter(|_| kinds::waits_out_quiet_hours(m.kind, m.urgent)) {
            let tx = state.db.begin().await?;
            repo::outbox::defer(&*tx, m.id, until, "deferred: quiet hours").await?;
            tx.commit().await?;
            pass.deferred += 1;
            continue;
        }
        if !kinds::essential(m.kind) && opted.contains(&m.recipient) {
            let tx = state.db.begin().await?;
            repo::outbox::suppress(&*tx, m.id, "opted_out: 收信人已回复TD退订").await?;
            tx.commit().await?;
            tracing::info!(outbox_id = m.id, to = %mask(&m.recipient), kind = m.kind.as_str(), "sms withheld: opted out");
            pass.suppressed += 1;
            continue;
        }
        to_send.push(m);
    }
    // Up to `concurrency` messages wait on providers at once; each is recorded as soon as its answer
    // is in, so a worker that dies loses at most the results it was waiting for.
    let results: Vec<anyhow::Result<(Outcome, bool)>> = futures_util::stream::iter(to_send)
        .map(|m| async move {
            let msg = OutgoingSms {
                id: m.id,
                phone: m.recipient.clone(),
                body: m.body.clone(),
                template: m.template.clone(),
                params: serde_json::from_str(&m.params).unwrap_or_default(),
            };
            let Some(since) = m.doubt_since else {
                let delivery = state.sms.deliver(&msg, m.urgent, now, state.tz()).await;
                return record(state, &m, delivery, now).await.map(|o| (o, false));
            };
            // Tencent keeps reports for seven days (Alibaba its records for 30): a doubt older than
            // that can no longer be settled by asking, and waiting longer only keeps the message back.
            let askable = now - since <= Duration::days(7);
            let asked = if askable { state.sms.ask(&msg, m.doubt_provider, since, now).await } else { None };
            let Some(asked) = asked else {
                // Nobody to ask (console, the generic gateway, which drops repeats by its key), or
                // too late to ask.
                let delivery = state.sms.deliver(&msg, m.urgent, now, state.tz()).await;
                return record(state, &m, delivery, now).await.map(|o| (o, false));
            };
            let window_end = since + Duration::seconds(cfg.unknown_wait_seconds);
            let outcome = match asked.answer {
                Answer::Found { provider, found } => {
                    record_found(state, &m, provider, found, &asked.calls, now).await?
                }
                Answer::NotFound if now < window_end => {
                    // The provider may list it only once its receipt is in (Tencent): wait that long.
                    let why = "in doubt: not found at the provider yet, asking again after the receipt window";
                    wait(state, &m, &asked.calls, window_end, why, now).await?
                }
                Answer::NotFound => {
                    // It did not go: a normal attempt, failover allowed.
                    let mut delivery = state.sms.deliver(&msg, m.urgent, now, state.tz()).await;
                    delivery.calls.splice(0..0, asked.calls);
                    record(state, &m, delivery, now).await?
                }
                Answer::Failed(error) => {
                    // Nothing is known: sending now could reach the villager twice.
                    let delay = retry::retry_delay(cfg.backoff_base_seconds, cfg.backoff_max_seconds, m.id, m.attempts);
                    tracing::warn!(outbox_id = m.id, error = %error, "sms in doubt and the status query failed: not sent, asking again later");
                    let why = format!("in doubt: status query failed ({error}), asking again later");
                    wait(state, &m, &asked.calls, now + delay, &why, now).await?
                }
                Answer::RateLimited { until } => {
                    wait(state, &m, &asked.calls, until, "in doubt: query rate limit", now).await?
                }
            };
            Ok(outcome.queried())
        })
        .buffer_unordered(cfg.concurrency.max(1))
        .collect()
        .await;
    for r in results {
        let (outcome, queried) = r?;
        pass.queried += usize::from(queried);
        match outcome {
            Outcome::Sent => pass.sent += 1,
            Outcome::Found => {
                pass.sent += 1;
                pass.found += 1;
            }
            Outcome::Retried => pass.retried += 1,
            Outcome::Dead => pass.dead += 1,
            Outcome::Deferred => pass.deferred += 1,
        }
    }
    Ok(pass)
}

/// What `record` made of one attempt.
enum Outcome {
    Sent,
    /// A provider's records show it took the message: sent, without sending again.
    Found,
    Retried,
    Dead,
    Deferred,
}

impl Outcome {
    /// With the mark of a message whose providers were asked first.
    fn queried(self) -> (Outcome, bool) {
        (self, true)
    }
}

/// Writes the status queries of a message in doubt (and logs a provider that could not answer).
async fn record_calls<C: ConnectionTrait>(
    db: &C,
    m: &repo::outbox::OutboxMessage,
    calls: &[Call],
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    for c in calls {
        repo::sms::insert_attempt(db, m.id, c.provider, c.outcome, c.error.clone(), c.latency_ms, now).await?;
        if c.outcome == AttemptOutcome::ProviderFault {
            // Signature, template, balance or credentials: someone has to act.
            tracing::error!(outbox_id = m.id, provider = c.provider.as_str(), error = ?c.error, "sms provider fault");
        }
    }
    Ok(())
}

/// A provider's records show it took a message whose send was in doubt: sent (not another attempt),
/// and delivered or failed when the records already say so, as a receipt would.
async fn record_found(
    state: &AppState,
    m: &repo::outbox::OutboxMessage,
    provider: crate::sms::values::ProviderName,
    found: crate::sms::Found,
    calls: &[Call],
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let tx = state.db.begin().await?;
    record_calls(&*tx, m, calls, now).await?;
    repo::outbox::mark_found(&*tx, m.id, provider, found.provider_message_id.clone(), now).await?;
    if let Some(delivered) = found.delivered {
        let code = found.code.clone().unwrap_or_else(|| (if delivered { "DELIVERED" } else { "FAILED" }).into());
        repo::outbox::apply_receipt(&*tx, m.id, delivered, &code, now).await?;
    }
    tx.commit().await?;
    tracing::info!(outbox_id = m.id, to = %mask(&m.recipient), provider = provider.as_str(), "sms in doubt found at the provider: not sent again");
    metrics::counter!("minsheng_sms_found_total", "provider" => provider.as_str()).increment(1);
    Ok(Outcome::Found)
}

/// A message in doubt that may not go yet: its queries recorded, back in the queue at `until` (not an
/// attempt), still in doubt.
async fn wait(
    state: &AppState,
    m: &repo::outbox::OutboxMessage,
    calls: &[Call],
    until: DateTime<Utc>,
    why: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let tx = state.db.begin().await?;
    record_calls(&*tx, m, calls, now).await?;
    repo::outbox::defer(&*tx, m.id, until, why).await?;
    tx.commit().await?;
    Ok(Outcome::Deferred)
}

fn quiet_end(state: &AppState, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let q = &state.sms.settings().quiet_hours;
    if !q.enabled {
        return None;
    }
    quiet::quiet_until(now, state.tz(), quiet::parse_hm(&q.start)?, quiet::parse_hm(&q.end)?)
}

/// Writes the provider calls and the message's new state in one transaction.
async fn record(
    state: &AppState,
    m: &repo::outbox::OutboxMessage,
    d: Delivery,
    now: DateTime<Utc>,
) -> anyhow::Result<Outcome> {
    let cfg = state.sms.settings();
    let to = mask(&m.recipient);
    let tx = state.db.begin().await?;
    if state.db.is_postgres() {
        // Not waiting for the WAL flush: a crash may forget the last few results, and those messages
        // are sent again, which at-least-once already allows. It takes the disk out of every send.
        tx.execute_unprepared("SET LOCAL synchronous_commit TO OFF").await?;
    }
    record_calls(&*tx, m, &d.calls, now).await?;
    // An unknown outcome is retried like a failure, only later (see below), and the provider is
    // asked first. Any other answer settles a doubt the message had (it was asked, or nobody could be).
    let unknown = matches!(d.verdict, Verdict::Unknown(_));
    if unknown {
        let provider = d.calls.iter().rev().find(|c| c.outcome == AttemptOutcome::Unknown).map(|c| c.provider);
        repo::outbox::set_doubt(&*tx, m.id, Some(now), provider).await?;
    } else if m.doubt_since.is_some() && !matches!(d.verdict, Verdict::Sent { .. }) {
        repo::outbox::set_doubt(&*tx, m.id, None, None).await?;
    }
    let outcome = match d.verdict {
        Verdict::Sent { provider, provider_message_id } => {
            repo::outbox::mark_sent(&*tx, m.id, provider, provider_message_id, now).await?;
            metrics::counter!("minsheng_sms_sent_total", "provider" => provider.as_str()).increment(1);
            Outcome::Sent
        }
        Verdict::Rejected(error) => {
            tracing::warn!(outbox_id = m.id, to = %to, error = %error, "sms rejected, dead");
            repo::outbox::mark_failed(&*tx, m.id, &error, true, now).await?;
            metrics::counter!("minsheng_sms_dead_total").increment(1);
            Outcome::Dead
        }
        Verdict::Retry(error) | Verdict::Unknown(error) => {
            let dead = m.attempts + 1 >= cfg.max_attempts;
            let mut delay = retry::retry_delay(cfg.backoff_base_seconds, cfg.backoff_max_seconds, m.id, m.attempts);
            if unknown {
                // It may have gone: give its delivery receipt time to arrive (which ends it) first.
                delay = delay.max(chrono::Duration::seconds(cfg.unknown_wait_seconds));
            }
            tracing::warn!(outbox_id = m.id, to = %to, error = %error, attempt = m.attempts + 1, dead, "sms send failed");
            repo::outbox::mark_failed(&*tx, m.id, &error, dead, now + delay).await?;
            if dead {
                metrics::counter!("minsheng_sms_dead_total").increment(1);
                Outcome::Dead
            } else {
                Outcome::Retried
            }
        }
        Verdict::Deferred { reason, until } => {
            tracing::info!(outbox_id = m.id, to = %to, reason = %reason, until = %until, "sms deferred by provider limit");
            repo::outbox::defer(&*tx, m.id, until, &format!("deferred: {reason}")).await?;
            Outcome::Deferred
        }
        Verdict::RateLimited { until } => {
            repo::outbox::defer(&*tx, m.id, until, "deferred: rate limit").await?;
            Outcome::Deferred
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// Runs `sms.workers` worker loops; each pauses `idle` when it found less than a full batch.
pub async fn run_loop(state: AppState, idle: std::time::Duration) {
    let n = state.settings.sms.workers.max(1);
    futures_util::future::join_all((0..n).map(|_| one_loop(state.clone(), idle))).await;
}

async fn one_loop(state: AppState, idle: std::time::Duration) {
    let batch = state.sms.settings().batch_size as usize;
    loop {
        match run_pass(&state, state.now()).await {
            Ok(p) if p.claimed + p.unreadable >= batch => tokio::task::yield_now().await,
            Ok(_) => tokio::time::sleep(idle).await,
            Err(e) => {
                tracing::error!(error = ?e, "outbox worker pass failed");
                tokio::time::sleep(idle).await;
            }
        }
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
