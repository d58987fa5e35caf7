//! Hotspots (issue 17 point 4, 未诉先办): where the same problem keeps coming — requests per
//! category and village (grids count with their village), or per category and township — over a
//! period, against the period of the same length just before it, with the repeat clusters: the same
//! category in one place from several different phones, the sign of a shared problem to act on
//! before more people have to ask.
use super::stats::{PeriodQuery, STATS_ROLES, period, scoped_region};
use super::tickets::{local_day_end, local_day_start};
use crate::auth::StaffUser;
use crate::domain::values::RegionLevel;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::state::AppState;
use chrono::Duration;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;

/// Phones from which a place's requests of one category make a repeat cluster.
pub const CLUSTER_PHONES: i64 = 3;
const MAX_ITEMS: usize = 200;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HotspotQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub region_id: Option<i64>,
    /// `village` (default) or `township`.
    pub level: Option<String>,
    /// Only places with at least this many requests in the period (default 2).
    pub min: Option<i64>,
}

#[derive(Serialize)]
pub struct Hotspot {
    pub category: Value,
    pub region: Value,
    pub township: Option<String>,
    pub count: i64,
    pub previous: i64,
    /// count − previous.
    pub change: i64,
    /// Different phones among the period's requests.
    pub phones: i64,
    /// The same category here from at least `CLUSTER_PHONES` different phones.
    pub cluster: bool,
}

/// `GET /api/v1/stats/hotspots`.
pub async fn hotspots(state: &AppState, user: &StaffUser, q: &HotspotQuery) -> ApiResult<Value> {
    user.require_any(&STATS_ROLES)?;
    let pq = PeriodQuery { from: q.from.clone(), to: q.to.clone(), region_id: q.region_id };
    let (from, to) = period(state, &pq)?;
    let level = match q.level.as_deref().unwrap_or("village") {
        "village" => RegionLevel::Village,
        "township" => RegionLevel::Township,
        _ => return Err(ApiError::validation("level", "level 只能是 village 或 township")),
    };
    let min = q.min.unwrap_or(2);
    if !(1..=1000).contains(&min) {
        return Err(ApiError::validation("min", "min 应为1到1000的整数"));
    }
    let db = &state.db.conn;
    let region = scoped_region(state, user, q.region_id).await?;
    let (start, end) = (local_day_start(state, from), local_day_end(state, to));
    let days = (to - from).num_days() + 1;
    let now = repo::stats::place_counts(db, &region.path, start, end).await?;
    let before = repo::stats::place_counts(db, &region.path, start - Duration::days(days), start).await?;
    let regions: HashMap<i64, repo::regions::Region> =
        repo::regions::all_under(db, &region.path).await?.into_iter().map(|r| (r.id, r)).collect();
    let names: HashMap<String, String> =
        repo::catalog::every_category(db).await?.into_iter().map(|c| (c.code, c.name)).collect();
    // The place a ticket counts for at the asked level: the region of that level on its path.
    let place = |path: &str| -> Option<i64> {
        path.split('/')
            .filter_map(|p| p.parse::<i64>().ok())
            .find(|id| regions.get(id).is_some_and(|r| r.level == level))
    };
    let mut current: HashMap<(String, i64), (i64, i64)> = HashMap::new();
    for c in &now {
        if let Some(p) = place(&c.region_path) {
            let e = current.entry((c.category_code.clone(), p)).or_default();
            e.0 += c.tickets;
            // Phones are counted per region row; a phone in two grids of a village counts twice
            // at most, which only makes a cluster more likely to show, never hides one.
            e.1 += c.phones;
        }
    }
    let mut previous: HashMap<(String, i64), i64> = HashMap::new();
    for c in &before {
        if let Some(p) = place(&c.region_path) {
            *previous.entry((c.category_code.clone(), p)).or_default() += c.tickets;
        }
    }
    let township_of = |r: &repo::regions::Region| -> Option<String> {
        r.path
            .split('/')
            .filter_map(|p| p.parse::<i64>().ok())
            .find_map(|id| regions.get(&id).filter(|x| x.level == RegionLevel::Township).map(|x| x.name.clone()))
    };
    let mut items: Vec<Hotspot> = current
        .into_iter()
        .filter(|(_, (n, _))| *n >= min)
        .filter_map(|((code, rid), (count, phones))| {
            let r = regions.get(&rid)?;
            let prev = previous.get(&(code.clone(), rid)).copied().unwrap_or(0);
            Some(Hotspot {
                category: json!({"code": code, "name": names.get(&code).cloned().unwrap_or_else(|| code.clone())}),
                region: json!({"id": r.id, "name": r.name, "level": r.level}),
                township: if level == RegionLevel::Township { None } else { township_of(r) },
                count,
                previous: prev,
                change: count - prev,
                phones,
                cluster: phones >= CLUSTER_PHONES,
            })
        })
        .collect();
    items.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.change.cmp(&a.change))
            .then(a.region["id"].as_i64().cmp(&b.region["id"].as_i64()))
            .then(a.category["code"].as_str().cmp(&b.category["code"].as_str()))
    });
    let total = items.len();
    items.truncate(MAX_ITEMS);
    Ok(json!({
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "from": from, "to": to,
        "previous_from": from - Duration::days(days), "previous_to": from - Duration::days(1),
        "level": level, "min": min, "cluster_phones": CLUSTER_PHONES,
        "total": total, "items": items,
    }))
}
