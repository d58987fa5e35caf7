//! The city 12345 platform: the puller files the orders addressed to the county as hotline tickets,
//! the pusher tells the platform what became of them. Both run only with `upstream.base_url` set.
//!
//! Pull: page after page from the stored cursor; each order is filed once (`intake::file_upstream`,
//! the unique upstream id decides), and the cursor the page hands back is stored only once every
//! order of the page is filed. A failed page (timeout, 5xx) ends the pass with the cursor where it
//! was: the next pass asks for the same page again and skips what was already filed. An order that
//! can never become a ticket (no description) is logged and counted, not retried forever.
//!
//! Push: outbox rows of channel `upstream`, claimed under a lease like e-mail. A transient failure
//! counts an attempt and waits (backoff with jitter); a refusal (4xx) or the last attempt makes the
//! row dead (shown in the outbox console, where an admin can resend it). A change never overtakes an
//! earlier one of the same order that has not gone out.
use crate::repo;
use crate::services::intake::{self, UpstreamFiled};
use crate::sms::retry;
use crate::sms::values::OutboxChannel;
use crate::state::AppState;
use crate::upstream::{Failure, HttpUpstream, Upstream};
use chrono::{DateTime, Duration, Utc};

/// The cursor row of the order pull.
pub const ORDERS: &str = "orders";

/// What one pull did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullPass {
    pub pages: usize,
    pub created: usize,
    pub duplicates: usize,
    /// Orders that cannot become tickets (logged with the reason).
    pub refused: usize,
    /// Why the pass stopped early, if it did (the cursor stays where it was).
    pub failed: Option<String>,
}

/// What one push pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushPass {
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    /// Held back behind an earlier change of the same order.
    pub held: usize,
    pub unreadable: usize,
}

/// One pull against the configured platform (nothing when it is off).
pub async fn pull_pass(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<PullPass> {
    if !state.settings.upstream.enabled() {
        return Ok(PullPass::default());
    }
    pull_with(state, &HttpUpstream::new(&state.settings.upstream)?, now).await
}

pub async fn pull_with(state: &AppState, up: &dyn Upstream, now: DateTime<Utc>) -> anyhow::Result<PullPass> {
    let cfg = &state.settings.upstream;
    let mut pass = PullPass::default();
    let mut cursor = repo::upstream::cursor(&state.db.conn, ORDERS).await?;
    for _ in 0..cfg.max_pages.max(1) {
        let page = match up.fetch_orders(cursor.as_deref(), cfg.page_size.max(1), now).await {
            Ok(p) => p,
            Err(e) => {
                match &e {
                    Failure::Transient(_) => {
                        tracing::warn!(error = %e, cursor = ?cursor, "12345 pull failed; the next pass asks again")
                    }
                    // Refused (401, 404, an answer that does not read): a configuration to fix.
                    Failure::Permanent(_) => {
                        tracing::error!(error = %e, cursor = ?cursor, "12345 pull refused; the next pass asks again")
                    }
                }
                metrics::counter!("minsheng_upstream_pull_failures_total").increment(1);
                pass.failed = Some(e.to_string());
                return Ok(pass);
            }
        };
        pass.pages += 1;
        for order in &page.orders {
            match intake::file_upstream(state, order).await {
                Ok(UpstreamFiled::Created { ticket_no }) => {
                    tracing::info!(upstream_id = %order.id, ticket_no = %ticket_no, "12345 order filed");
                    metrics::counter!("minsheng_upstream_orders_total", "outcome" => "created").increment(1);
                    pass.created += 1;
                }
                Ok(UpstreamFiled::Duplicate) => {
                    tracing::debug!(upstream_id = %order.id, "12345 order already filed");
                    pass.duplicates += 1;
                }
                // A client error is about the order itself: asking again brings the same order.
                Err(e) if e.status.is_client_error() => {
                    tracing::error!(upstream_id = %order.id, error = %e.message, field = ?e.field, "12345 order cannot be filed");
                    metrics::counter!("minsheng_upstream_orders_total", "outcome" => "refused").increment(1);
                    pass.refused += 1;
                }
                // Our own trouble (the database): stop here; the page is asked for again.
                Err(e) => {
                    tracing::error!(upstream_id = %order.id, error = %e.message, "12345 order not filed; the page is pulled again");
                    pass.failed = Some(e.message);
                    return Ok(pass);
                }
            }
        }
        if let Some(next) = page.next_cursor.filter(|c| Some(c) != cursor.as_ref()) {
            repo::upstream::save_cursor(&state.db.conn, ORDERS, &next, now).await?;
            cursor = Some(next);
        }
        if !page.has_more || page.orders.is_empty() {
            break;
        }
    }
    Ok(pass)
}

/// One push pass against the configured platform (nothing when it is off: the rows wait).
pub async fn push_pass(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<PushPass> {
    if !state.settings.upstream.enabled() {
        return Ok(PushPass::default());
    }
    push_with(state, &HttpUpstream::new(&state.settings.upstream)?, now).await
}

pub async fn push_with(state: &AppState, up: &dyn Upstream, now: DateTime<Utc>) -> anyhow::Result<PushPass> {
    let cfg = &state.settings.upstream;
    let claimed = {
        let tx = state.db.begin().await?;
        let lease = Duration::seconds(cfg.lease_seconds);
        let c = repo::outbox::claim_due_on(&*tx, OutboxChannel::Upstream, now, lease, cfg.batch_size).await?;
        tx.commit().await?;
        c
    };
    for e in &claimed.unreadable {
        tracing::error!(error = %e, "outbox 12345 push unreadable: not sent");
    }
    let mut pass =
        PushPass { claimed: claimed.messages.len(), unreadable: claimed.unreadable.len(), ..PushPass::default() };
    for m in claimed.messages {
        if repo::upstream::earlier_push_unsent(&state.db.conn, &m.recipient, m.id).await? {
            // Not an attempt: it goes once the earlier change has (or is resent, if dead).
            let until = now + Duration::seconds(cfg.backoff_base_seconds.max(1));
            repo::outbox::defer(&state.db.conn, m.id, until, "waiting for an earlier change of the order").await?;
            pass.held += 1;
            continue;
        }
        let result = up.push_status(&m.recipient, &m.body, now).await;
        let tx = state.db.begin().await?;
        match result {
            Ok(()) => {
                repo::outbox::mark_accepted(&*tx, m.id, Some(m.recipient.clone()), now).await?;
                tracing::info!(outbox_id = m.id, upstream_id = %m.recipient, "12345 status pushed");
                metrics::counter!("minsheng_upstream_pushed_total").increment(1);
                pass.sent += 1;
            }
            Err(e) => {
                let dead = matches!(e, Failure::Permanent(_)) || m.attempts + 1 >= cfg.max_attempts;
                let delay = retry::retry_delay(cfg.backoff_base_seconds, cfg.backoff_max_seconds, m.id, m.attempts);
                tracing::warn!(outbox_id = m.id, upstream_id = %m.recipient, error = %e, attempt = m.attempts + 1, dead, "12345 status not pushed");
                repo::outbox::mark_failed(&*tx, m.id, &e.to_string(), dead, now + delay).await?;
                if dead {
                    metrics::counter!("minsheng_upstream_push_dead_total").increment(1);
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

/// Pulls every `poll_seconds` (at once again while pages remain).
pub async fn pull_loop(state: AppState) {
    let idle = std::time::Duration::from_secs(state.settings.upstream.poll_seconds.max(1));
    loop {
        if let Err(e) = pull_pass(&state, state.now()).await {
            tracing::error!(error = ?e, "12345 pull pass failed");
        }
        tokio::time::sleep(idle).await;
    }
}

/// Keeps pushing; pauses `idle` after a pass that found less than a full batch.
pub async fn push_loop(state: AppState, idle: std::time::Duration) {
    let batch = state.settings.upstream.batch_size as usize;
    loop {
        match push_pass(&state, state.now()).await {
            Ok(p) if p.claimed + p.unreadable >= batch && p.held < p.claimed => tokio::task::yield_now().await,
            Ok(_) => tokio::time::sleep(idle).await,
            Err(e) => {
                tracing::error!(error = ?e, "12345 push pass failed");
                tokio::time::sleep(idle).await;
            }
        }
    }
}
