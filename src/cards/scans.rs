//! Scan counting without touching the database on the request path: opening `/c/{code}` adds one to
//! an in-process counter (a mutex held for a hash-map increment), and the `card_scans` worker adds
//! the counts to the `card_scans` table. A failed flush puts the counts back for the next pass; only
//! a crash between two flushes loses scans, which is acceptable for a usage statistic.
use chrono::NaiveDate;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Scans not yet written, by (card id, county-local day).
pub type Pending = HashMap<(i64, NaiveDate), i64>;

#[derive(Debug, Default)]
pub struct ScanCounter {
    pending: Mutex<Pending>,
}

impl ScanCounter {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic elsewhere while holding the lock leaves a valid map; keep counting.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, card_id: i64, day: NaiveDate) {
        *self.lock().entry((card_id, day)).or_default() += 1;
    }

    /// Takes everything counted so far, leaving the counter empty.
    pub fn take(&self) -> Pending {
        std::mem::take(&mut *self.lock())
    }

    /// Puts counts back after a failed flush (added to whatever arrived in the meantime).
    pub fn restore(&self, counts: Pending) {
        let mut pending = self.lock();
        for (key, n) in counts {
            *pending.entry(key).or_default() += n;
        }
    }

    /// Scans counted and not yet written.
    pub fn pending(&self) -> i64 {
        self.lock().values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_card_and_day_survive_a_failed_flush() {
        let c = ScanCounter::default();
        let d1 = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let d2 = d1.succ_opt().unwrap();
        c.record(1, d1);
        c.record(1, d1);
        c.record(2, d2);
        let taken = c.take();
        assert_eq!(taken[&(1, d1)], 2);
        assert_eq!(c.pending(), 0);
        c.record(1, d1);
        c.restore(taken);
        assert_eq!(c.pending(), 4);
        assert_eq!(c.take()[&(1, d1)], 3);
    }
}
