//! Statistics: counts and the five rates for a region over a period (dates in the county's zone).
use super::tickets::{local_day_end, local_day_start};
use crate::auth::StaffUser;
use crate::domain::metrics::{Counts, Dimensions, Rates};
use crate::domain::roles::Role;
use crate::domain::values::{HandlingLevel, Tier};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::state::AppState;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::cmp::Ordering;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub region_id: Option<i64>,
}

#[derive(Serialize)]
pub struct Summary {
    pub region: Value,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub counts: Counts,
    /// Each rate's numerator over its denominator, as the ranking rows show them.
    pub fractions: Fractions,
    pub dimensions: Dimensions,
    #[serde(flatten)]
    pub rates: Rates,
}

/// Roles that read statistics.
pub const STATS_ROLES: [Role; 5] = [Role::Leader, Role::Inspector, Role::Dispatcher, Role::Operator, Role::Caller];

fn date(v: &Option<String>, field: &str) -> ApiResult<Option<NaiveDate>> {
    match v.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD")),
    }
}

/// The inclusive local-date period of a query: default the last 30 days up to today.
pub fn period(state: &AppState, q: &PeriodQuery) -> ApiResult<(NaiveDate, NaiveDate)> {
    let today = state.now().with_timezone(&state.tz()).date_naive();
    let to = date(&q.to, "to")?.unwrap_or(today);
    let from = date(&q.from, "from")?.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(ApiError::validation("from", "开始日期不能晚于结束日期"));
    }
    if (to - from).num_days() > 3660 {
        return Err(ApiError::validation("from", "统计区间不能超过10年"));
    }
    Ok((from, to))
}

/// Brings the roll-ups to this instant (orders whose deadline passed since their last change)
/// before they are read.
pub async fn caught_up(state: &AppState) -> ApiResult<()> {
    repo::rollups::catch_up(&state.db, state.rollup_offset(), state.now()).await?;
    Ok(())
}

/// The region a statistic is asked for (default the user's own), if the user's scope covers it.
pub async fn scoped_region(state: &AppState, user: &StaffUser, id: Option<i64>) -> ApiResult<repo::regions::Region> {
    let region = repo::regions::get(&state.db.conn, id.unwrap_or(user.region_id))
        .await?
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, "region_id", "地区不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::forbidden("该地区不在您的管辖范围内"));
    }
    Ok(region)
}

pub async fn summary(state: &AppState, user: &StaffUser, q: &PeriodQuery) -> ApiResult<Summary> {
    user.require_any(&STATS_ROLES)?;
    let (from, to) = period(state, q)?;
    let db = &state.db.conn;
    let region = scoped_region(state, user, q.region_id).await?;
    caught_up(state).await?;
    let counts = repo::rollups::region_counts(db, &region.path, from, to).await?;
    let weights = state.weights();
    let rates = counts.rates(&weights);
    Ok(Summary {
        region: json!({"id": region.id, "name": region.name, "level": region.level}),
        from,
        to,
        fractions: Fractions::of(&counts, weights.basic),
        dimensions: counts.scores.dimensions(),
        counts,
        rates,
    })
}

/// A numerator over its denominator, as every ranked row shows them.
#[derive(Serialize)]
pub struct Fraction {
    pub numerator: f64,
    pub denominator: i64,
}

#[derive(Serialize)]
pub struct Fractions {
    pub response: Fraction,
    pub resolution: Fraction,
    pub satisfaction: Fraction,
    pub closure: Fraction,
    pub reopen: Fraction,
}

impl Fractions {
    pub fn of(c: &Counts, basic_weight: f64) -> Fractions {
        let f = |numerator: f64, denominator: i64| Fraction { numerator, denominator };
        Fractions {
            response: f(c.responded_in_time as f64, c.response_due),
            resolution: f(c.solved as f64, c.visited),
            satisfaction: f(c.satisfied as f64 + c.basically_satisfied as f64 * basic_weight, c.visited),
            closure: f(c.resolved_or_closed as f64, c.received),
            reopen: f(c.reopenings as f64, c.resolutions),
        }
    }
}

#[derive(Serialize)]
pub struct UnitRates {
    pub unit: Value,
    pub level: HandlingLevel,
    /// The line a unit is ranked on: village committees, township offices, county departments, and
    /// companies outside government (水电气热、通信) on their own.
    pub tier: Tier,
    pub tier_label: &'static str,
    pub region_id: i64,
    pub counts: Counts,
    pub fractions: Fractions,
    /// 态度、能力、便利、效率: the mean score (1–5) and how many visits gave it.
    pub dimensions: Dimensions,
    #[serde(flatten)]
    pub rates: Rates,
    /// 1 = best composite score within the tier; `None` for a unit not ranked this period.
    pub rank: Option<u32>,
    /// Why a unit is not ranked: `no_data`, `too_few_visits` or `new_unit`.
    pub unranked_reason: Option<&'static str>,
    /// 挂起: orders of the period paused at least once, and their paused days (one decimal),
    /// shown beside the rates (a pause is approved, so it does not lower them).
    pub paused_orders: i64,
    pub paused_days: f64,
    /// 催办: urges the unit received in the period, by staff (`urges`) and by the sweeper on a
    /// missed deadline (`auto_urges`); by type and level in `GET /stats/urges`.
    pub urges: i64,
    pub auto_urges: i64,
    #[serde(skip)]
    pub unit_id: i64,
}

#[derive(Serialize)]
pub struct UnitsAnswer {
    pub region: Value,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// How the score is computed and who is ranked, in words (shown wherever a rank is shown).
    pub formula: String,
    pub rules: Vec<String>,
    pub min_visits: i64,
    pub items: Vec<UnitRates>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// The composite score's formula with the configured weights.
pub fn formula(state: &AppState) -> String {
    let m = &state.settings.metrics;
    format!(
        "综合得分 = {}×响应率 + {}×解决率 + {}×满意率（满意率 = (满意 + 基本满意×{}) ÷ 回访数）",
        m.weight_response, m.weight_resolution, m.weight_satisfaction, m.satisfaction_basic_weight
    )
}

/// The ranking rules in words.
pub fn rules(min_visits: i64) -> Vec<String> {
    vec![
        "同一层级的单位之间排名：村委会与村委会、乡镇与乡镇、县直部门与县直部门，水电气热等公共服务企业单列".into(),
        format!("本期有效回访不少于{min_visits}件的单位才参与排名"),
        "本期开始之后新设的单位，本期不参与排名".into(),
        "得分相同时，依次比较满意率、有效回访件数，再按单位编号先后，名次不并列".into(),
    ]
}

/// Why a unit is not ranked this period, if it is not.
fn unranked(rates: &Rates, c: &Counts, created_after_start: bool, min_visits: i64) -> Option<&'static str> {
    if rates.composite_score.is_none() {
        Some("no_data")
    } else if created_after_start {
        Some("new_unit")
    } else if c.visited < min_visits {
        Some("too_few_visits")
    } else {
        None
    }
}

/// Ranks within each tier: composite score, then satisfaction rate, then visits (higher first),
/// then the unit's id; every ranked unit has its own place. Rows come tier by tier (village,
/// township, county), ranked units first in rank order, then the unranked ones.
pub fn rank(items: &mut [UnitRates]) {
    let desc =
        |a: Option<f64>, b: Option<f64>| b.unwrap_or(-1.0).partial_cmp(&a.unwrap_or(-1.0)).unwrap_or(Ordering::Equal);
    items.sort_by(|a, b| {
        let tier = |u: &UnitRates| Tier::ALL.iter().position(|l| *l == u.tier);
        tier(a)
            .cmp(&tier(b))
            .then(a.unranked_reason.is_some().cmp(&b.unranked_reason.is_some()))
            .then(desc(a.rates.composite_score, b.rates.composite_score))
            .then(desc(a.rates.satisfaction_rate, b.rates.satisfaction_rate))
            .then(b.counts.visited.cmp(&a.counts.visited))
            .then(a.unit_id.cmp(&b.unit_id))
    });
    let mut place = 0;
    let mut tier = None;
    for it in items.iter_mut() {
        if tier != Some(it.tier) {
            tier = Some(it.tier);
            place = 0;
        }
        if it.unranked_reason.is_none() {
            place += 1;
            it.rank = Some(place);
        }
    }
}

/// Every unit under `region_path` with its counts, rates and rank within its tier over the local
/// dates `[from, to]` (the rows of `/stats/units` and of the red/black list).
pub async fn ranked_units(
    state: &AppState,
    region_path: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<UnitRates>> {
    let db = &state.db.conn;
    let start = local_day_start(state, from);
    caught_up(state).await?;
    let counts = repo::rollups::unit_counts(db, region_path, from, to).await?;
    let end = local_day_end(state, to);
    let paused = repo::stats::paused_by_unit(db, region_path, start, end, state.now()).await?;
    let urges = repo::stats::urges_per_unit(db, region_path, start, end).await?;
    let all = crate::repo::Page { page: 1, per_page: u64::MAX / 2 };
    let (units, _) = repo::regions::list_units(db, region_path, None, None, all).await?;
    let weights = state.weights();
    let min_visits = state.settings.ranking.min_visits;
    let mut items: Vec<UnitRates> = units
        .into_iter()
        .map(|(u, _)| {
            let c = counts.get(&u.id).cloned().unwrap_or_default();
            let rates = c.rates(&weights);
            let (paused_orders, paused_minutes) = paused.get(&u.id).copied().unwrap_or_default();
            let (urged, auto_urges) = urges.get(&u.id).copied().unwrap_or_default();
            UnitRates {
                unit: json!({"id": u.id, "name": u.name}),
                level: u.level,
                tier: Tier::of(u.kind, u.level),
                tier_label: Tier::of(u.kind, u.level).label(),
                region_id: u.region_id,
                fractions: Fractions::of(&c, weights.basic),
                dimensions: c.scores.dimensions(),
                unranked_reason: unranked(&rates, &c, u.created_at > start, min_visits),
                rates,
                counts: c,
                rank: None,
                paused_orders,
                paused_days: (paused_minutes as f64 / 144.0).round() / 10.0,
                urges: urged,
                auto_urges,
                unit_id: u.id,
            }
        })
        .collect();
    rank(&mut items);
    Ok(items)
}

pub async fn units(
    state: &AppState,
    user: &StaffUser,
    q: &PeriodQuery,
    page: crate::repo::Page,
) -> ApiResult<UnitsAnswer> {
    user.require_any(&STATS_ROLES)?;
    let (from, to) = period(state, q)?;
    let region = scoped_region(state, user, q.region_id).await?;
    let items = ranked_units(state, &region.path, from, to).await?;
    let min_visits = state.settings.ranking.min_visits;
    let total = items.len() as u64;
    let items = items.into_iter().skip(page.offset() as usize).take(page.per_page as usize).collect();
    Ok(UnitsAnswer {
        region: json!({"id": region.id, "name": region.name, "level": region.level}),
        from,
        to,
        formula: formula(state),
        rules: rules(min_visits),
        min_visits,
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// At most this many overdue orders are listed on the dashboard (the total says how many there are).
pub const OVERDUE_LIMIT: u64 = 100;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionQuery {
    pub region_id: Option<i64>,
}

/// `GET /stats/overdue`: the open orders in scope past their response or result deadline now, who
/// holds each (the assignee, or the unit while nobody has signed for it) and for how long, longest
/// overdue first, at most [`OVERDUE_LIMIT`]. No name or phone of a requester.
pub async fn overdue(state: &AppState, user: &StaffUser, q: &RegionQuery) -> ApiResult<Value> {
    user.require_any(&STATS_ROLES)?;
    let region = scoped_region(state, user, q.region_id).await?;
    let now = state.now();
    let (rows, total) = repo::stats::overdue_orders(&state.db.conn, &region.path, now, OVERDUE_LIMIT).await?;
    let items: Vec<Value> = rows
        .into_iter()
        .map(|o| {
            let (deadline, label, since) = if o.accepted_at.is_none() && o.respond_by < now {
                ("respond", "响应", o.respond_by)
            } else {
                ("resolve", "办理", o.resolve_by)
            };
            let holder = match (&o.assignee_id, &o.assignee_name) {
                (Some(id), Some(name)) => json!({"kind": "assignee", "id": id, "name": name, "unit": o.unit_name}),
                _ => json!({"kind": "unit", "id": o.unit_id, "name": o.unit_name, "unit": o.unit_name}),
            };
            json!({
                "ticket_no": o.no,
                "status": o.status,
                "category": {"code": o.category_code, "name": o.category_name.unwrap_or(o.category_code.clone())},
                "region": {"id": o.region_id, "name": o.region_name},
                "unit": {"id": o.unit_id, "name": o.unit_name},
                "holder": holder,
                "deadline": deadline,
                "deadline_label": label,
                "overdue_since": since,
                "overdue_seconds": (now - since).num_seconds(),
            })
        })
        .collect();
    Ok(json!({
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "now": now,
        "total": total,
        "limit": OVERDUE_LIMIT,
        "order": "longest_overdue_first",
        "items": items,
    }))
}
