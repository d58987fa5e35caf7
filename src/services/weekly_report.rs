//! The weekly report e-mail (issue 17 point 7): after Monday's red/black list is published, each
//! configured leader gets one e-mail for that week — the five rates and the composite score against
//! the week before, the red/black list as published, the open orders past their deadline by unit,
//! the hotspots, and the rankings workbook attached (the `/exports/units.xlsx` builder). It is
//! rendered once and written to the outbox (channel `email`, one row per leader under the key
//! `weekly_report/{week}/{address}`, unique), so several instances write it once and the e-mail
//! sender retries it until the server takes it. `minsheng report weekly` prints it or sends it by hand.
use super::hotspots::{HotspotQuery, hotspots};
use super::redblack::{Week, due_week, find, view};
use super::stats::{PeriodQuery, Summary, summary, units};
use crate::auth::StaffUser;
use crate::domain::roles::{Role, Scope};
use crate::email::{Mode, Stored, StoredAttachment, XLSX};
use crate::error::{ApiError, ApiResult};
use crate::html::{HotspotLine, OverdueLine, RateLine, RedBlackTier, WeeklyReport, WeeklyReportHtml, WeeklyReportText};
use crate::repo;
use crate::repo::outbox::{NewKeyed, OutboxMessage};
use crate::repo::redblack::Published;
use crate::sms::values::{OutboxChannel, OutboxKind};
use crate::state::AppState;
use askama::Template;
use chrono::{DateTime, Datelike, Utc};
use std::collections::HashMap;

/// Units with overdue orders listed by name; the rest are summed in one line.
const OVERDUE_LINES: usize = 15;
/// Hotspots listed (the biggest first).
const HOTSPOT_LINES: usize = 10;

/// The report of one week, rendered.
pub struct Report {
    pub week: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub filename: String,
    pub xlsx: Vec<u8>,
}

/// Reads the county's numbers as a county leader would (the report goes to them).
fn county_reader(county: &repo::regions::Region) -> StaffUser {
    StaffUser {
        id: 0,
        name: "周报".into(),
        region_id: county.id,
        scope: Scope { roles: vec![Role::Leader], region_path: county.path.clone(), unit_id: None },
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or("—".into(), |r| format!("{:.1}%", r * 100.0))
}

/// A change between two values, with its direction and how it reads.
fn change(
    now: Option<f64>,
    before: Option<f64>,
    scale: f64,
    unit: &str,
    higher_is_better: bool,
) -> (String, &'static str) {
    let (Some(a), Some(b)) = (now, before) else { return ("—".into(), "flat") };
    let d = (a - b) * scale;
    if d.abs() < 0.05 {
        return ("持平".into(), "flat");
    }
    let arrow = if d > 0.0 { "↑" } else { "↓" };
    let tone = if (d > 0.0) == higher_is_better { "good" } else { "bad" };
    (format!("{arrow}{:.1}{unit}", d.abs()), tone)
}

fn fraction(n: f64, d: i64) -> String {
    format!("{}/{d}", (n * 10.0).round() / 10.0)
}

fn rate_lines(now: &Summary, before: &Summary, basic: f64) -> Vec<RateLine> {
    let (c, r, p) = (&now.counts, &now.rates, &before.rates);
    let rates = [
        ("响应率", r.response_rate, p.response_rate, fraction(c.responded_in_time as f64, c.response_due), true),
        ("解决率", r.resolution_rate, p.resolution_rate, fraction(c.solved as f64, c.visited), true),
        (
            "满意率",
            r.satisfaction_rate,
            p.satisfaction_rate,
            fraction(c.satisfied as f64 + c.basically_satisfied as f64 * basic, c.visited),
            true,
        ),
        ("办结率", r.closure_rate, p.closure_rate, fraction(c.resolved_or_closed as f64, c.received), true),
        ("重办率", r.reopen_rate, p.reopen_rate, fraction(c.reopenings as f64, c.resolutions), false),
    ];
    let mut lines: Vec<RateLine> = rates
        .into_iter()
        .map(|(name, a, b, fraction, up)| {
            let (change, tone) = change(a, b, 100.0, "个百分点", up);
            RateLine { name, value: percent(a), previous: percent(b), change, tone, fraction }
        })
        .collect();
    let score = |s: Option<f64>| s.map_or("—".into(), |s| format!("{s:.1}"));
    let (delta, tone) = change(r.composite_score, p.composite_score, 1.0, "分", true);
    lines.push(RateLine {
        name: "综合得分",
        value: score(r.composite_score),
        previous: score(p.composite_score),
        change: delta,
        tone,
        fraction: String::new(),
    });
    lines
}

fn signed(n: i64) -> String {
    match n {
        0 => "持平".into(),
        n if n > 0 => format!("+{n}"),
        n => format!("−{}", n.abs()),
    }
}

/// Renders the report of the week of `list` (a published list) as of `now`.
pub async fn build(state: &AppState, list: &Published, now: DateTime<Utc>) -> ApiResult<Report> {
    let db = &state.db.conn;
    let week =
        Week::parse(&list.week).ok_or_else(|| ApiError::internal(anyhow::anyhow!("stored week {:?}", list.week)))?;
    let county = repo::regions::all_under(db, "/")
        .await?
        .into_iter()
        .find(|r| r.parent_id.is_none())
        .ok_or_else(|| ApiError::not_found("尚未设置县级地区"))?;
    let reader = county_reader(&county);
    let period =
        |w: Week| PeriodQuery { from: Some(w.monday.to_string()), to: Some(w.sunday().to_string()), region_id: None };
    let this_week = summary(state, &reader, &period(week)).await?;
    let last_week = summary(state, &reader, &period(week.previous())).await?;
    let rankings = units(state, &reader, &period(week), repo::Page { page: 1, per_page: 100_000 }).await?;
    let xlsx = tokio::task::spawn_blocking(move || super::exports::units_xlsx(&rankings))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;

    let region_ids = repo::regions::all_under(db, &county.path).await?.into_iter().map(|r| r.id).collect();
    let unit_names: HashMap<i64, String> =
        repo::regions::units_in(db, region_ids).await?.into_iter().map(|u| (u.id, u.name)).collect();
    let overdue_rows = repo::weekly_report::overdue_by_unit(db, now).await?;
    let overdue_total = overdue_rows.iter().map(|(_, n)| n).sum();
    let overdue: Vec<OverdueLine> = overdue_rows
        .iter()
        .take(OVERDUE_LINES)
        .map(|(id, n)| OverdueLine {
            unit: unit_names.get(id).cloned().unwrap_or_else(|| format!("单位{id}")),
            count: *n,
        })
        .collect();
    let rest = &overdue_rows[overdue.len()..];
    let overdue_more = (rest.len(), rest.iter().map(|(_, n)| n).sum());

    let hot_query = HotspotQuery {
        from: Some(week.monday.to_string()),
        to: Some(week.sunday().to_string()),
        region_id: None,
        level: None,
        min: None,
    };
    let hot = hotspots(state, &reader, &hot_query).await?;
    let cluster_phones = hot["cluster_phones"].as_i64().unwrap_or(super::hotspots::CLUSTER_PHONES);
    let hotspots: Vec<HotspotLine> = hot["items"]
        .as_array()
        .into_iter()
        .flatten()
        .take(HOTSPOT_LINES)
        .map(|h| {
            let name = h["region"]["name"].as_str().unwrap_or("");
            HotspotLine {
                place: match h["township"].as_str() {
                    Some(t) => format!("{t} {name}"),
                    None => name.to_string(),
                },
                category: h["category"]["name"].as_str().unwrap_or("").to_string(),
                count: h["count"].as_i64().unwrap_or(0),
                previous: h["previous"].as_i64().unwrap_or(0),
                change: signed(h["change"].as_i64().unwrap_or(0)),
                phones: h["phones"].as_i64().unwrap_or(0),
                cluster: h["cluster"].as_bool().unwrap_or(false),
            }
        })
        .collect();

    let published = view(list);
    let rules = published["rules"].as_array().into_iter().flatten().filter_map(|r| r.as_str().map(String::from));
    let label = week.label();
    let iso = week.monday.iso_week();
    let week_title = format!("{}年第{}周", iso.year(), iso.week());
    let filename = format!("单位排名-{label}.xlsx");
    let report = WeeklyReport {
        county: county.name.clone(),
        week: label.clone(),
        week_title: week_title.clone(),
        period: format!("{} 至 {}", week.monday, week.sunday()),
        published: list.published_at.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M").to_string(),
        received: this_week.counts.received,
        visited: this_week.counts.visited,
        rates: rate_lines(&this_week, &last_week, state.settings.metrics.satisfaction_basic_weight),
        tiers: RedBlackTier::all_of(&published["tiers"]),
        size: published["size"].as_u64().unwrap_or(0),
        overdue,
        overdue_total,
        overdue_more,
        hotspots,
        cluster_phones,
        formula: list.formula.clone(),
        rules: rules.collect(),
        attachment: filename.clone(),
        list_link: format!("{}/redblack?week={label}", state.public_url()),
    };
    let html = WeeklyReportHtml { r: &report }.render().map_err(ApiError::internal)?;
    let text = WeeklyReportText { r: &report }.render().map_err(ApiError::internal)?;
    let (m, s) = (week.monday, week.sunday());
    let subject = format!(
        "【{}】接诉即办工作周报 {week_title}（{}月{}日—{}月{}日）",
        county.name,
        m.month(),
        m.day(),
        s.month(),
        s.day()
    );
    Ok(Report { week: label, subject, text, html, filename, xlsx })
}

/// The report of `week` (`2026-W49`), or of the latest published week.
pub async fn for_week(state: &AppState, week: Option<&str>) -> ApiResult<Report> {
    let list = find(state, week).await?;
    build(state, &list, state.now()).await
}

/// The outbox key of the report of `week` to `address`: one e-mail per week and leader.
pub fn dedup_key(week: &str, address: &str) -> String {
    format!("weekly_report/{week}/{}", address.trim().to_lowercase())
}

/// What `queue` did.
#[derive(Debug)]
pub enum Queued {
    /// E-mail is off (`email.smtp_url` empty) or nobody is configured to receive it.
    Skipped(&'static str),
    /// `written` new rows; `rows`: every row of that week, new or earlier (by whichever instance).
    Rows { written: usize, rows: Vec<OutboxMessage> },
}

static SKIP_LOGGED: std::sync::Once = std::sync::Once::new();

/// Why nothing is queued with these settings, if nothing is.
fn skip_reason(state: &AppState) -> Option<&'static str> {
    let cfg = &state.settings.email;
    if cfg.mode() == Mode::Off {
        Some("email.smtp_url is not set: the weekly report is not e-mailed")
    } else if cfg.leaders.is_empty() {
        Some("email.leaders is empty: the weekly report is not e-mailed")
    } else {
        None
    }
}

/// Writes the report of the week of `list` to the outbox for every configured leader who does not
/// have it yet. Rendered only when someone is missing it; safe to call again and from several
/// instances at once (`ON CONFLICT DO NOTHING` on the key).
pub async fn queue(state: &AppState, list: &Published, now: DateTime<Utc>) -> ApiResult<Queued> {
    if let Some(reason) = skip_reason(state) {
        return Ok(Queued::Skipped(reason));
    }
    let db = &state.db.conn;
    let leaders = &state.settings.email.leaders;
    let keys: Vec<String> = leaders.iter().map(|l| dedup_key(&list.week, l)).collect();
    let existing = repo::outbox::by_dedup_keys(db, keys.clone()).await?;
    let missing: Vec<(&String, &String)> =
        leaders.iter().zip(&keys).filter(|(_, k)| !existing.iter().any(|m| m.dedup_key.as_ref() == Some(*k))).collect();
    if missing.is_empty() {
        return Ok(Queued::Rows { written: 0, rows: existing });
    }
    let report = build(state, list, now).await?;
    let stored = Stored {
        subject: report.subject.clone(),
        html: report.html,
        attachments: vec![StoredAttachment::new(&report.filename, XLSX, &report.xlsx)],
        about: report.week.clone(),
    };
    let params = serde_json::to_string(&stored).map_err(ApiError::internal)?;
    let tx = state.db.begin().await?;
    let mut written = 0;
    for (leader, key) in missing {
        let row = NewKeyed {
            kind: OutboxKind::WeeklyReport,
            channel: OutboxChannel::Email,
            recipient: leader,
            body: &report.text,
            template: OutboxKind::WeeklyReport.as_str(),
            params: &params,
            dedup_key: key,
        };
        if repo::outbox::enqueue_once(&*tx, row, now).await? {
            written += 1;
        }
    }
    tx.commit().await?;
    if written > 0 {
        tracing::info!(week = %list.week, leaders = written, "weekly report e-mail queued");
    }
    Ok(Queued::Rows { written, rows: repo::outbox::by_dedup_keys(db, keys).await? })
}

/// After publishing: queues the report of the week due at `now` if its list is published. E-mail
/// off is said once per process, not at every pass.
pub async fn queue_due(state: &AppState, now: DateTime<Utc>) -> ApiResult<Queued> {
    if let Some(reason) = skip_reason(state) {
        SKIP_LOGGED.call_once(|| tracing::info!("{reason}"));
        return Ok(Queued::Skipped(reason));
    }
    let week = due_week(state, now).label();
    match repo::redblack::by_week(&state.db.conn, &week).await? {
        Some(list) => queue(state, &list, now).await,
        None => Ok(Queued::Rows { written: 0, rows: vec![] }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_read_as_points_with_their_direction() {
        assert_eq!(change(Some(0.925), Some(0.9), 100.0, "个百分点", true), ("↑2.5个百分点".into(), "good"));
        assert_eq!(change(Some(0.2), Some(0.1), 100.0, "个百分点", false), ("↑10.0个百分点".into(), "bad"));
        assert_eq!(change(Some(0.5), Some(0.5), 100.0, "个百分点", true), ("持平".into(), "flat"));
        assert_eq!(change(None, Some(0.5), 100.0, "个百分点", true), ("—".into(), "flat"));
        assert_eq!(change(Some(80.0), Some(82.5), 1.0, "分", true), ("↓2.5分".into(), "bad"));
        assert_eq!((signed(3), signed(-2), signed(0)), ("+3".into(), "−2".into(), "持平".into()));
    }

    #[test]
    fn the_key_is_one_per_week_and_address() {
        assert_eq!(dedup_key("2026-W49", " Leader@X.cn "), "weekly_report/2026-W49/leader@x.cn");
    }
}
