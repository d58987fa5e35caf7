//! Persistence: the only code that uses `entity::*`. Functions take any connection or transaction,
//! so a service decides what commits together.
pub mod accountability;
pub mod assignments;
pub mod audit;
pub mod bulk;
pub mod calendar;
pub mod card_scans;
pub mod cards;
pub mod catalog;
pub mod council;
pub mod evidence;
pub mod idempotency;
pub mod leaves;
pub mod lookup;
pub mod open311;
pub mod outbox;
pub mod redblack;
pub mod regions;
pub mod retention;
pub mod return_visits;
pub mod rollups;
pub mod screen;
pub mod screens;
pub mod search;
pub mod secrets;
pub mod sessions;
pub mod sla_policies;
pub mod sms;
pub mod staff;
pub mod stats;
pub mod sweep;
pub mod ticket_links;
pub mod tickets;
pub mod uploads;
pub mod upstream;
pub mod visits;
pub mod wechat_subscriptions;
pub mod weekly_report;

use sea_orm::DbErr;
use sea_orm::sea_query::LikeExpr;

/// A stored enumeration value read back: one the code does not know means a corrupt row, an error
/// naming the table, column and row — never silently a default.
pub fn stored<T>(
    table: &'static str,
    column: &'static str,
    id: impl std::fmt::Display,
    raw: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<T, DbErr> {
    parse(raw).ok_or_else(|| DbErr::Type(format!("{table}.{column} of row {id} holds {raw:?}, not a known value")))
}

/// Paging of lists: `page` from 1 to `MAX_PAGE`, `per_page` 1–100 (default 20). Built only through
/// `Page::parse` (the list routes' query extractor, `routes::paging`), so the offset always fits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub page: u64,
    pub per_page: u64,
}

/// The deepest page a list serves: 100 million rows at 100 a page.
pub const MAX_PAGE: u64 = 1_000_000;
pub const MAX_PER_PAGE: u64 = 100;

/// Which paging parameter is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageError {
    Page,
    PerPage,
}

impl Page {
    pub const FIRST: Page = Page { page: 1, per_page: 20 };

    /// Reads `page` and `per_page` as given in a query string (absent or empty = default).
    pub fn parse(page: Option<&str>, per_page: Option<&str>) -> Result<Page, PageError> {
        let num = |v: Option<&str>, default: u64, max: u64, err: PageError| match v.map(str::trim) {
            None => Ok(default),
            Some(s) => s.parse::<u64>().ok().filter(|n| (1..=max).contains(n)).ok_or(err),
        };
        Ok(Page {
            page: num(page, 1, MAX_PAGE, PageError::Page)?,
            per_page: num(per_page, 20, MAX_PER_PAGE, PageError::PerPage)?,
        })
    }

    pub fn offset(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.per_page)
    }
}

/// `LIKE` pattern matching every materialised path under `path` (paths hold only digits and '/').
pub fn like_prefix(path: &str) -> String {
    format!("{path}%")
}

/// A materialised path column with its leading `old` part replaced by `new` (`'new' || substr(col, n)`),
/// for moving a subtree. Paths hold only ASCII digits and '/', so they are written as literals (a
/// bound parameter's placeholder differs between the two databases inside a custom expression).
pub(crate) fn repath(col: &str, new: &str, old: &str) -> Result<sea_orm::sea_query::SimpleExpr, DbErr> {
    let is_path = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit() || b == b'/');
    if !is_path(new) || !is_path(old) {
        return Err(DbErr::Custom(format!("not a region path: {new:?} / {old:?}")));
    }
    Ok(sea_orm::sea_query::Expr::cust(format!("'{new}' || substr({col}, {})", old.len() + 1)))
}

/// A `LIKE` pattern for user text: `%` and `_` in the text match themselves.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A contains-pattern with an explicit escape character (SQLite has no default one).
pub fn contains(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape_like(text))).escape('\\')
}
