//! The hall's big screen (`/screen/`): every panel's numbers for one region in one answer. A screen
//! token shows its own region; a leader or inspector shows their own region or one under it. Only
//! counts, categories, places, states and ages: never a requester's name, phone or description.
use super::redblack::{self, Week};
use super::screens::Viewer;
use super::stats::{self, Fractions};
use crate::domain::roles::Role;
use crate::domain::ticket::Status;
use crate::domain::values::{Channel, RegionLevel};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::regions::Region;
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// The staff roles that open the big screen (admins hold every role).
pub const SCREEN_ROLES: [Role; 2] = [Role::Leader, Role::Inspector];
/// Days the rates, the heat table and the mean times cover (today included).
pub const PERIOD_DAYS: i64 = 30;
/// Weeks of the rates' trend (this week included).
pub const TREND_WEEKS: i64 = 12;
/// Rows of the per-unit load panel, of the heat table, columns of the heat table, latest requests.
const UNIT_ROWS: usize = 12;
const HEAT_ROWS: usize = 12;
const HEAT_COLUMNS: usize = 8;
const LATEST: u64 = 20;
const OVERDUE_ROWS: u64 = 6;

/// The region a viewer's screen shows: a screen token's own; for staff, `region_id` (default their
/// own) if their scope covers it.
pub async fn region_of(state: &AppState, viewer: &Viewer, region_id: Option<i64>) -> ApiResult<Region> {
    match viewer {
        Viewer::Screen { region_id: own, .. } => {
            if region_id.is_some_and(|id| id != *own) {
                return Err(ApiError::forbidden("大屏凭证只能查看其所属地区"));
            }
            repo::regions::get(&state.db.conn, *own).await?.ok_or_else(|| ApiError::not_found("地区不存在"))
        }
        Viewer::Staff { user, .. } => {
            user.require_any(&SCREEN_ROLES)?;
            stats::scoped_region(state, user, region_id).await
        }
    }
}

/// How long an answer serves the screens of one region while no event has arrived: every screen
/// refetches after an event, and a hall may have many.
const CACHE_FOR: Duration = Duration::seconds(2);

/// One region's last answer: the live version it saw, when it was made, the answer.
type Cached = (String, DateTime<Utc>, Arc<Value>);

/// The last answer per region.
#[derive(Default)]
pub struct Cache(std::sync::Mutex<HashMap<i64, Cached>>);

/// Every panel of the big screen for `region`, as of now: the answer made for another screen of the
/// region less than [`CACHE_FOR`] ago when no event has arrived since.
pub async fn cached_overview(state: &AppState, region: &Region) -> ApiResult<Arc<Value>> {
    let now = state.now();
    let head = state.live.version();
    let lock = |c: &Cache| c.0.lock().unwrap_or_else(|p| p.into_inner()).get(&region.id).cloned();
    if let Some((id, at, answer)) = lock(&state.screen_cache)
        && id == head
        && now >= at
        && now - at < CACHE_FOR
    {
        return Ok(answer);
    }
    let answer = Arc::new(overview(state, region).await?);
    let mut cache = state.screen_cache.0.lock().unwrap_or_else(|p| p.into_inner());
    // A region a screen no longer shows does not stay: at most one entry per region ever asked for,
    // and those past their time are dropped whenever one is written.
    cache.retain(|_, (_, at, _)| now >= *at && now - *at < CACHE_FOR);
    cache.insert(region.id, (head, now, answer.clone()));
    Ok(answer)
}

/// Every panel of the big screen for `region`, as of now.
pub async fn overview(state: &AppState, region: &Region) -> ApiResult<Value> {
    let db = &state.db.conn;
    let now = state.now();
    let today = now.with_timezone(&state.tz()).date_naive();
    let day_start = super::tickets::local_day_start(state, today);
    let from = today - Duration::days(PERIOD_DAYS - 1);
    let period_start = super::tickets::local_day_start(state, from);
    let path = region.path.as_str();
    stats::caught_up(state).await?;

    let by_hour =
        repo::screen::intake_by_channel_hour(db, path, day_start, now + Duration::seconds(1), state.rollup_offset())
            .await?;
    let mut hours = [0i64; 24];
    let mut channels: HashMap<&str, i64> = HashMap::new();
    for r in &by_hour {
        if let Some(h) = usize::try_from(r.hour).ok().filter(|h| *h < 24) {
            hours[h] += r.n;
        }
        *channels.entry(r.channel.as_str()).or_default() += r.n;
    }
    let received_today: i64 = hours.iter().sum();
    let channels: Vec<Value> = Channel::ALL
        .iter()
        .map(|c| json!({"channel": c.as_str(), "label": c.label(), "count": channels.get(c.as_str()).copied().unwrap_or(0)}))
        .collect();

    let loads = repo::screen::open_by_unit(db, path, now).await?;
    let open: i64 = loads.iter().map(|u| u.open).sum();
    let overdue: i64 = loads.iter().map(|u| u.overdue).sum();
    let units: Vec<Value> = loads
        .iter()
        .take(UNIT_ROWS)
        .map(|u| json!({"unit": {"id": u.unit_id, "name": u.unit_name}, "open": u.open, "overdue": u.overdue}))
        .collect();
    let resolved_today = repo::screen::resolved_between(db, path, day_start, now + Duration::seconds(1)).await?;

    let weights = state.weights();
    let counts = repo::rollups::region_counts(db, path, from, today).await?;
    let rates = counts.rates(&weights);
    let mut trend = Vec::new();
    let this_week = Week::of(today);
    for back in (0..TREND_WEEKS).rev() {
        let week = Week { monday: this_week.monday - Duration::weeks(back) };
        let to = week.sunday().min(today);
        let c = repo::rollups::region_counts(db, path, week.monday, to).await?;
        trend.push(json!({"week": week.label(), "from": week.monday, "to": to, "rates": c.rates(&weights), "received": c.received}));
    }

    let durations = repo::screen::durations(db, path, period_start, now + Duration::seconds(1)).await?;
    let (late, late_total) = repo::stats::overdue_orders(db, path, now, OVERDUE_ROWS).await?;
    let late: Vec<Value> = late
        .into_iter()
        .map(|o| {
            let since = if o.accepted_at.is_none() && o.respond_by < now { o.respond_by } else { o.resolve_by };
            json!({"ticket_no": o.no, "category": o.category_name.unwrap_or(o.category_code), "place": o.region_name,
                   "unit": o.unit_name, "holder": o.assignee_name.unwrap_or_default(), "overdue_seconds": (now - since).num_seconds()})
        })
        .collect();

    let redblack = match redblack::find(state, None).await {
        Ok(p) => redblack::view(&p),
        Err(e) if e.status == actix_web::http::StatusCode::NOT_FOUND => Value::Null,
        Err(e) => return Err(e),
    };

    Ok(json!({
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "county": state.settings.county.name,
        "now": now,
        "today": today,
        "period": {"from": from, "to": today, "days": PERIOD_DAYS},
        "today_counts": {"received": received_today, "resolved": resolved_today, "open": open, "overdue": overdue},
        "channels": channels,
        "hours": hours,
        "units": units,
        "units_total": loads.len(),
        "rates": rates,
        "fractions": Fractions::of(&counts, weights.basic),
        "counts": {"received": counts.received, "visited": counts.visited, "resolved_or_closed": counts.resolved_or_closed},
        "trend": trend,
        "dimensions": counts.scores.dimensions(),
        "durations": {
            "respond_seconds": durations.respond_seconds, "responded": durations.responded,
            "resolve_seconds": durations.resolve_seconds, "resolved": durations.resolved,
        },
        "overdue": {"total": late_total, "items": late},
        "redblack": redblack,
        "heat": heat(state, region, from, today).await?,
        "latest": latest(state, path, now).await?,
    }))
}

/// The village × category table over the period: the busiest places (villages, or the region's own
/// places when it is a village) and the most asked-about categories.
async fn heat(state: &AppState, region: &Region, from: NaiveDate, to: NaiveDate) -> ApiResult<Value> {
    let db = &state.db.conn;
    let places = repo::screen::received_by_place(db, &region.path, from, to).await?;
    let under = repo::regions::all_under(db, &region.path).await?;
    let villages: Vec<&Region> = under.iter().filter(|r| r.level == RegionLevel::Village).collect();
    // Each ticket's place counts in the village it lies in; a place above the villages (a request
    // filed to a township itself) is its own row.
    let row_of = |path: &str| -> Option<&Region> {
        villages
            .iter()
            .copied()
            .filter(|v| path.starts_with(v.path.as_str()))
            .max_by_key(|v| v.path.len())
            .or_else(|| under.iter().find(|r| r.path == path))
    };
    let mut cells: HashMap<(i64, String), i64> = HashMap::new();
    let mut by_row: HashMap<i64, i64> = HashMap::new();
    let mut by_category: HashMap<String, i64> = HashMap::new();
    for p in &places {
        let Some(row) = row_of(&p.region_path) else { continue };
        *cells.entry((row.id, p.category_code.clone())).or_default() += p.n;
        *by_row.entry(row.id).or_default() += p.n;
        *by_category.entry(p.category_code.clone()).or_default() += p.n;
    }
    let mut categories: Vec<(String, i64)> = by_category.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    categories.truncate(HEAT_COLUMNS);
    let mut rows: Vec<(i64, i64)> = by_row.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.truncate(HEAT_ROWS);
    let names: HashMap<String, String> =
        repo::catalog::every_category(db).await?.into_iter().map(|c| (c.code, c.name)).collect();
    let max = cells.values().copied().max().unwrap_or(0);
    Ok(json!({
        "categories": categories.iter().map(|(code, _)| json!({"code": code, "name": names.get(code).cloned().unwrap_or_else(|| code.clone())})).collect::<Vec<_>>(),
        "rows": rows.iter().map(|(id, total)| {
            let name = under.iter().find(|r| r.id == *id).map(|r| r.name.clone()).unwrap_or_default();
            let counts: Vec<i64> = categories.iter().map(|(code, _)| cells.get(&(*id, code.clone())).copied().unwrap_or(0)).collect();
            json!({"region": {"id": id, "name": name}, "counts": counts, "total": total})
        }).collect::<Vec<_>>(),
        "max": max,
    }))
}

/// The latest requests: category, place, state and age; nothing that names the requester.
async fn latest(state: &AppState, path: &str, now: DateTime<Utc>) -> ApiResult<Vec<Value>> {
    let rows = repo::screen::latest(&state.db.conn, path, LATEST).await?;
    Ok(rows
        .into_iter()
        .map(|t| {
            let place = match (t.region_level.as_deref(), t.parent_name) {
                (Some("grid"), Some(parent)) => parent,
                _ => t.region_name.unwrap_or_default(),
            };
            let status_label = Status::parse(&t.status).map_or("", Status::label);
            let channel_label = Channel::parse(&t.channel).map_or("", Channel::label);
            json!({"ticket_no": t.no, "category": t.category_name.unwrap_or(t.category_code), "place": place,
                   "status": t.status, "status_label": status_label, "channel_label": channel_label,
                   "at": t.created_at, "age_seconds": (now - t.created_at).num_seconds().max(0)})
        })
        .collect())
}
