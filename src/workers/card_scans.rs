//! Writes the card scans counted in memory (`cards::scans::ScanCounter`) to `card_scans`, adding to
//! each card's day in one transaction. If the write fails, the counts go back into memory and the
//! next pass tries again, so the intake page never waits for, or fails because of, the statistic.
use crate::repo;
use crate::state::AppState;
use chrono::{DateTime, Utc};

/// Flushes the pending scans; returns how many scans were written. `now` is unused by the flush
/// itself (each scan's day was fixed when it happened) and kept for the common worker signature.
pub async fn run_once(state: &AppState, _now: DateTime<Utc>) -> anyhow::Result<i64> {
    let pending = state.card_scans.take();
    if pending.is_empty() {
        return Ok(0);
    }
    let total: i64 = pending.values().sum();
    // One order for every instance, so two flushing at once lock rows in the same order (no deadlock).
    let mut rows: Vec<(&(i64, chrono::NaiveDate), &i64)> = pending.iter().collect();
    rows.sort_unstable();
    let write = async {
        let tx = state.db.begin().await?;
        for ((card_id, day), n) in rows {
            repo::card_scans::add(&*tx, *card_id, *day, *n).await?;
        }
        tx.commit().await
    };
    if let Err(e) = write.await {
        state.card_scans.restore(pending);
        return Err(anyhow::Error::new(e).context("writing card scans"));
    }
    metrics::counter!("minsheng_card_scans_total").increment(total as u64);
    Ok(total)
}

pub async fn run_loop(state: AppState, every: std::time::Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = run_once(&state, state.now()).await {
            tracing::warn!(error = ?e, "card scan flush failed; counts kept for the next pass");
        }
    }
}
