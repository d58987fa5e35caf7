//! The weekly red/black list (红黑榜, issue 17 point 3): every Monday from 08:00 (county time) the
//! best and worst `ranking.redblack_size` ranked units of each tier for the previous ISO week are
//! published — once, whichever instance gets there first (a unique week), stored with their inputs
//! (every unit's counts and rates), never changed (append-only table), each list hash-chained to the
//! one before it like ticket events. Staff read it at `GET /api/v1/stats/redblack?week=`, everyone
//! at `/redblack` (unit names and numbers only: no person, no phone, no villager).
use super::stats::{STATS_ROLES, UnitRates, formula, ranked_units, rules};
use crate::auth::StaffUser;
use crate::domain::values::Tier as Line;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::redblack::{NewList, Published};
use crate::state::AppState;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// An ISO week, written `2026-W49`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Week {
    pub monday: NaiveDate,
}

impl Week {
    pub fn parse(s: &str) -> Option<Week> {
        let (y, w) = s.trim().split_once("-W")?;
        let (year, week) = (y.parse::<i32>().ok()?, w.parse::<u32>().ok()?);
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|monday| Week { monday })
    }

    pub fn of(day: NaiveDate) -> Week {
        Week { monday: day - Duration::days(day.weekday().num_days_from_monday().into()) }
    }

    pub fn label(self) -> String {
        let iso = self.monday.iso_week();
        format!("{}-W{:02}", iso.year(), iso.week())
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    pub fn previous(self) -> Week {
        Week { monday: self.monday - Duration::days(7) }
    }
}

/// The week whose list is due at `now`: the previous week once Monday 08:00 (county time) has come,
/// else the week before it.
pub fn due_week(state: &AppState, now: DateTime<Utc>) -> Week {
    let local = now.with_timezone(&state.tz());
    let this = Week::of(local.date_naive());
    let eight = state
        .tz()
        .from_local_datetime(&this.monday.and_hms_opt(8, 0, 0).unwrap_or_default())
        .earliest()
        .map(|t| t.with_timezone(&Utc));
    if eight.is_some_and(|at| now >= at) { this.previous() } else { this.previous().previous() }
}

#[derive(Serialize)]
struct Tier<'a> {
    tier: Line,
    tier_label: &'static str,
    red: Vec<&'a UnitRates>,
    black: Vec<&'a UnitRates>,
}

/// The best and worst `n` ranked units of each tier (a unit is never on both: with fewer than 2n
/// ranked, the black list takes what the red one left).
fn tiers(rows: &[UnitRates], n: usize) -> Vec<Tier<'_>> {
    Line::ALL
        .iter()
        .map(|tier| {
            let ranked: Vec<&UnitRates> = rows.iter().filter(|r| r.tier == *tier && r.rank.is_some()).collect();
            let red: Vec<&UnitRates> = ranked.iter().take(n).copied().collect();
            let black: Vec<&UnitRates> = ranked.iter().skip(red.len()).rev().take(n).copied().collect();
            let tier_label = rows.iter().find(|r| r.tier == *tier).map_or("", |r| r.tier_label);
            Tier { tier: *tier, tier_label, red, black }
        })
        .collect()
}

/// The hash of a list in the chain: SHA-256 over the previous hash and the list's content.
pub fn list_hash(prev_hash: &str, week: &str, published_at: DateTime<Utc>, payload: &str, formula: &str) -> String {
    let mut h = Sha256::new();
    for part in [prev_hash, week, &published_at.to_rfc3339(), payload, formula] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Publishes the list of `week` for the whole county if nobody has: `Ok(true)` when this call
/// wrote it, `Ok(false)` when it was already there (published by another instance or an earlier
/// pass).
pub async fn publish(state: &AppState, week: Week, now: DateTime<Utc>) -> ApiResult<bool> {
    let db = &state.db.conn;
    let label = week.label();
    if repo::redblack::by_week(db, &label).await?.is_some() {
        return Ok(false);
    }
    let Some(county) = repo::regions::all_under(db, "/").await?.into_iter().find(|r| r.parent_id.is_none()) else {
        return Ok(false);
    };
    let rows = ranked_units(state, &county.path, week.monday, week.sunday()).await?;
    let n = state.settings.ranking.redblack_size;
    let payload = json!({
        "week": label,
        "from": week.monday,
        "to": week.sunday(),
        "region": {"id": county.id, "name": county.name},
        "min_visits": state.settings.ranking.min_visits,
        "size": n,
        "rules": rules(state.settings.ranking.min_visits),
        "tiers": tiers(&rows, n),
        "inputs": rows,
    });
    let payload = serde_json::to_string(&payload).map_err(ApiError::internal)?;
    let formula = formula(state);
    let tx = state.db.begin().await?;
    let prev = repo::redblack::latest(&*tx).await?.map(|p| p.hash).unwrap_or_default();
    let hash = list_hash(&prev, &label, now, &payload, &formula);
    let list = NewList {
        week: &label,
        published_at: now,
        payload: &payload,
        formula: &formula,
        prev_hash: &prev,
        hash: &hash,
    };
    match repo::redblack::insert(&*tx, list).await {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    tx.commit().await?;
    tracing::info!(week = %label, "red/black list published");
    Ok(true)
}

/// Whether every published list's hash holds and links to the one before.
pub async fn chain_ok(state: &AppState) -> ApiResult<bool> {
    let mut prev = String::new();
    for p in repo::redblack::chain(&state.db.conn).await? {
        if p.prev_hash != prev || list_hash(&p.prev_hash, &p.week, p.published_at, &p.payload, &p.formula) != p.hash {
            tracing::warn!(week = %p.week, "red/black chain broken");
            return Ok(false);
        }
        prev = p.hash;
    }
    Ok(true)
}

/// A published list as the API and the page show it (its inputs stay in the store).
pub fn view(p: &Published) -> Value {
    let payload: Value = serde_json::from_str(&p.payload).unwrap_or(Value::Null);
    json!({"week": p.week, "published_at": p.published_at, "from": payload["from"], "to": payload["to"],
           "region": payload["region"], "min_visits": payload["min_visits"], "size": payload["size"],
           "tiers": payload["tiers"], "formula": p.formula, "rules": payload["rules"],
           "hash": p.hash, "prev_hash": p.prev_hash})
}

/// The list of `week`, or of the latest published week.
pub async fn find(state: &AppState, week: Option<&str>) -> ApiResult<Published> {
    let db = &state.db.conn;
    let found = match week.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => {
            let week = Week::parse(w).ok_or_else(|| ApiError::validation("week", "周次格式应为 2026-W49"))?;
            repo::redblack::by_week(db, &week.label()).await?
        }
        None => repo::redblack::latest(db).await?,
    };
    found.ok_or_else(|| ApiError::not_found("该周的红黑榜尚未发布"))
}

/// `GET /api/v1/stats/redblack?week=`: the list, the other published weeks and the chain's state.
pub async fn for_staff(state: &AppState, user: &StaffUser, week: Option<&str>) -> ApiResult<Value> {
    user.require_any(&STATS_ROLES)?;
    let p = find(state, week).await?;
    let mut v = view(&p);
    v["weeks"] = json!(repo::redblack::weeks(&state.db.conn, 104).await?);
    v["chain_ok"] = json!(chain_ok(state).await?);
    Ok(v)
}

/// The publishing worker's pass: publishes the due week's list if it is missing.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<bool> {
    publish(state, due_week(state, now), now).await.map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_parse_and_print_as_iso_weeks() {
        let w = Week::parse("2026-W49").unwrap();
        assert_eq!(w.monday, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(w.label(), "2026-W49");
        assert_eq!(w.sunday(), NaiveDate::from_ymd_opt(2026, 12, 6).unwrap());
        assert_eq!(Week::of(NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()), w);
        assert_eq!(w.previous().label(), "2026-W48");
        assert_eq!(Week::parse("2027-W01").unwrap().previous().label(), "2026-W53");
        for bad in ["2026-49", "2026-W54", "W49", ""] {
            assert!(Week::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_hash_covers_every_part() {
        let at = Utc::now();
        let h = list_hash("", "2026-W49", at, "{}", "f");
        assert_ne!(h, list_hash("x", "2026-W49", at, "{}", "f"));
        assert_ne!(h, list_hash("", "2026-W48", at, "{}", "f"));
        assert_ne!(h, list_hash("", "2026-W49", at, "{ }", "f"));
        assert_ne!(h, list_hash("", "2026-W49", at, "{}", "g"));
        assert_eq!(h, list_hash("", "2026-W49", at, "{}", "f"));
    }
}
