//! The weekly report e-mail (`templates/email/`): the same content as HTML (inline styles and
//! tables, as mail programs need; no stylesheet, no script, no image) and as plain text.
use super::RedBlackTier;
use askama::Template;

/// One of the five rates (or the composite score) this week, last week and the change.
pub struct RateLine {
    pub name: &'static str,
    pub value: String,
    pub previous: String,
    /// "↑2.5个百分点", "↓1.0", "持平" or "—".
    pub change: String,
    /// `good`, `bad` or `flat`: how the change reads (a higher reopen rate is bad).
    pub tone: &'static str,
    /// Numerator and denominator this week, "37/40".
    pub fraction: String,
}

pub struct OverdueLine {
    pub unit: String,
    pub count: i64,
}

pub struct HotspotLine {
    /// "东坝镇 石桥村".
    pub place: String,
    pub category: String,
    pub count: i64,
    pub previous: i64,
    /// "+3", "−1" or "0".
    pub change: String,
    pub phones: i64,
    pub cluster: bool,
}

/// Everything the report says, shared by both templates.
pub struct WeeklyReport {
    pub county: String,
    pub week: String,
    /// "2026年第49周".
    pub week_title: String,
    /// "2026-11-30 至 2026-12-06".
    pub period: String,
    pub published: String,
    pub received: i64,
    pub visited: i64,
    pub rates: Vec<RateLine>,
    pub tiers: Vec<RedBlackTier>,
    pub size: u64,
    pub overdue: Vec<OverdueLine>,
    pub overdue_total: i64,
    /// Units with overdue orders beyond the lines shown, and their orders.
    pub overdue_more: (usize, i64),
    pub hotspots: Vec<HotspotLine>,
    pub cluster_phones: i64,
    pub formula: String,
    pub rules: Vec<String>,
    pub attachment: String,
    pub list_link: String,
}

#[derive(Template)]
#[template(path = "email/weekly_report.html")]
pub struct WeeklyReportHtml<'a> {
    pub r: &'a WeeklyReport,
}

#[derive(Template)]
#[template(path = "email/weekly_report.txt")]
pub struct WeeklyReportText<'a> {
    pub r: &'a WeeklyReport,
}
