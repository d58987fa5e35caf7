//! Statistics: counts and the five rates for a region over a period (dates in the county's zone).
use super::tickets::{local_day_end, local_day_start};
use crate::auth::StaffUser;
use crate::domain::metrics::{Counts, Rates};
use crate::domain::roles::Role;
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
        .ok_or_else(|| ApiError::unprocessable("unknown_region", "region_id", "地区不存在"))?;
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
