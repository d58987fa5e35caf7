//! Persistence: the only code that uses `entity::*`. Functions take any connection or transaction,
//! so a service decides what commits together.
pub mod assignments;
pub mod calendar;
pub mod card_scans;
pub mod cards;
pub mod catalog;
pub mod evidence;
pub mod idempotency;
pub mod lookup;
pub mod outbox;
pub mod regions;
pub mod return_visits;
pub mod sla_policies;
pub mod sms;
pub mod staff;
pub mod stats;
pub mod sweep;
pub mod tickets;
pub mod uploads;
pub mod visits;

use sea_orm::sea_query::LikeExpr;

/// Paging of lists: `page` from 1, `per_page` 1–100 (default 20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

impl Page {
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Page {
        Page { page: page.unwrap_or(1).max(1), per_page: per_page.unwrap_or(20).clamp(1, 100) }
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.per_page
    }
}

/// `LIKE` pattern matching every materialised path under `path` (paths hold only digits and '/').
pub fn like_prefix(path: &str) -> String {
    format!("{path}%")
}

/// A `LIKE` pattern for user text: `%` and `_` in the text match themselves.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A contains-pattern with an explicit escape character (SQLite has no default one).
pub fn contains(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(text))).escape('\\')
}
