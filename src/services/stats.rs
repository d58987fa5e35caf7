//! Statistics: counts and the five rates for a region over a period (dates in the county's zone).
use super::tickets::{local_day_end, local_day_start};
use crate::auth::StaffUser;
use crate::domain::metrics::{Counts, Rates};
use crate::domain::roles::Role;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::stats::Population;
use crate::state::AppState;
use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Deserialize)]
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

pub async fn summary(state: &AppState, user: &StaffUser, q: &PeriodQuery) -> ApiResult<Summary> {
    user.require_any(&STATS_ROLES)?;
    let (from, to) = period(state, q)?;
    let db = &state.db.conn;
    let region_id = q.region_id.unwrap_or(user.region_id);
    let region = repo::regions::get(db, region_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, "region_id", "地区不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::forbidden("该地区不在您的管辖范围内"));
    }
    let counts = repo::stats::counts(
        db,
        &Population::Region(region.path.clone()),
        local_day_start(state, from),
        local_day_end(state, to),
        state.now(),
    )
    .await?;
    let rates = counts.rates(&state.weights());
    Ok(Summary {
        region: json!({"id": region.id, "name": region.name, "level": region.level}),
        from,
        to,
        counts,
        rates,
    })
}

#[derive(Serialize)]
pub struct UnitRates {
    pub unit: Value,
    pub level: crate::domain::values::HandlingLevel,
    pub region_id: i64,
    pub counts: Counts,
    #[serde(flatten)]
    pub rates: Rates,
    /// 1 = best composite score; units without data come last with no rank.
    pub rank: Option<u32>,
}

#[derive(Serialize)]
pub struct UnitsAnswer {
    pub region: Value,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub items: Vec<UnitRates>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Ranks by composite score, highest first; equal scores share a rank (1, 2, 2, 4).
pub fn rank(items: &mut [UnitRates]) {
    items.sort_by(|a, b| {
        b.rates
            .composite_score
            .partial_cmp(&a.rates.composite_score)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.unit["id"].as_i64().cmp(&b.unit["id"].as_i64()))
    });
    let mut last: Option<(f64, u32)> = None;
    for (i, it) in items.iter_mut().enumerate() {
        it.rank = it.rates.composite_score.map(|s| match last {
            Some((prev, r)) if (prev - s).abs() < 1e-9 => r,
            _ => {
                last = Some((s, i as u32 + 1));
                i as u32 + 1
            }
        });
    }
}

pub async fn units(
    state: &AppState,
    user: &StaffUser,
    q: &PeriodQuery,
    page: crate::repo::Page,
) -> ApiResult<UnitsAnswer> {
    user.require_any(&STATS_ROLES)?;
    let (from, to) = period(state, q)?;
    let db = &state.db.conn;
    let region_id = q.region_id.unwrap_or(user.region_id);
    let region = repo::regions::get(db, region_id)
        .await?
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_REGION, "region_id", "地区不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::forbidden("该地区不在您的管辖范围内"));
    }
    let counts =
        repo::stats::unit_counts(db, &region.path, local_day_start(state, from), local_day_end(state, to), state.now())
            .await?;
    let all = crate::repo::Page { page: 1, per_page: u64::MAX / 2 };
    let (units, _) = repo::regions::list_units(db, &region.path, None, None, all).await?;
    let weights = state.weights();
    let mut items: Vec<UnitRates> = units
        .into_iter()
        .map(|(u, _)| {
            let c = counts.get(&u.id).cloned().unwrap_or_default();
            UnitRates {
                unit: json!({"id": u.id, "name": u.name}),
                level: u.level,
                region_id: u.region_id,
                rates: c.rates(&weights),
                counts: c,
                rank: None,
            }
        })
        .collect();
    rank(&mut items);
    let total = items.len() as u64;
    let items = items.into_iter().skip(page.offset() as usize).take(page.per_page as usize).collect();
    Ok(UnitsAnswer {
        region: json!({"id": region.id, "name": region.name, "level": region.level}),
        from,
        to,
        items,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}
