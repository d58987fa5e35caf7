//! Typed urges (催办, issue 20 point 5): the printable notice (催办单) of a written urge, and urges
//! counted per unit over a period — by type and level, with the sweeper's automatic urges apart.
use super::stats::{PeriodQuery, STATS_ROLES, period, scoped_region};
use super::tickets::{load_readable, local_day_start};
use crate::auth::StaffUser;
use crate::cards::case::UrgeSheet;
use crate::domain::ticket::Action;
use crate::domain::values::{URGE_LEVELS, UrgeType, urge_level_label};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn local(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.tz()).format("%Y-%m-%d %H:%M").to_string()
}

fn stamp(state: &AppState, v: &Value) -> Option<String> {
    v.as_str().and_then(|s| s.parse::<DateTime<Utc>>().ok()).map(|at| local(state, at))
}

/// The 催办单 of urge event `seq` of ticket `no`, for staff who may read the ticket: (file name, PDF).
/// 404 when the event is not a written urge. No requester name or phone is printed.
pub async fn notice_pdf(state: &AppState, user: &StaffUser, no: &str, seq: i32) -> ApiResult<(String, Vec<u8>)> {
    let l = load_readable(state, user, no).await?;
    let db = &state.db.conn;
    let t = l.ticket;
    let events = repo::tickets::events_of(db, t.id).await?;
    let e = events
        .iter()
        .find(|e| e.seq == seq && e.is(Action::Urge))
        .ok_or_else(|| ApiError::not_found("该工单没有这条催办记录"))?;
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    if data["type"].as_str() != Some(UrgeType::Written.as_str()) {
        return Err(ApiError::not_found("只有书面催办才有催办单"));
    }
    let category = repo::catalog::category(db, &t.category_code).await?.map_or(t.category_code.clone(), |c| c.name);
    let unit = match data["unit_id"].as_i64() {
        Some(id) => repo::regions::unit(db, id).await?.map(|u| u.name).unwrap_or_default(),
        None => String::new(),
    };
    let level = data["level"].as_i64().and_then(|l| i32::try_from(l).ok()).unwrap_or(1);
    let mut fields = vec![
        ("诉求分类", category),
        ("诉求类型", t.kind.label().to_string()),
        ("被催办单位", if unit.is_empty() { "—".into() } else { unit }),
        ("受理时间", local(state, t.created_at)),
    ];
    if let Some(r) = stamp(state, &data["respond_by"]) {
        fields.push(("响应时限", r));
    }
    if let Some(r) = stamp(state, &data["resolve_by"]) {
        fields.push(("办结时限", r));
    }
    fields.push(("催办级别", urge_level_label(level).unwrap_or("一般催办").to_string()));
    fields.push(("催办方式", UrgeType::Written.label().to_string()));
    fields.push(("催办人", format!("{}（{}）", e.actor_name, data["issuer_role"].as_str().unwrap_or("工作人员"))));
    fields.push(("催办时间", local(state, e.at)));
    let year = e.at.with_timezone(&state.tz()).format("%Y");
    let sheet = UrgeSheet {
        county: state.settings.county.name.clone(),
        number: format!("催字〔{year}〕{}-{}号", t.no, e.seq),
        ticket_no: t.no.clone(),
        fields,
        note: e.note.clone().unwrap_or_default(),
        made_at: e.at.with_timezone(&state.tz()).format("%Y年%m月%d日").to_string(),
    };
    let name = format!("催办单-{}-{}.pdf", t.no, e.seq);
    let pdf = tokio::task::spawn_blocking(move || crate::cards::case::render_urge(&sheet))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::internal(anyhow::anyhow!("urge notice: {e}")))?;
    Ok((name, pdf))
}

#[derive(Default)]
struct UnitUrges {
    by_type: BTreeMap<&'static str, i64>,
    by_level: BTreeMap<i32, i64>,
    manual: i64,
    auto: i64,
}

/// `GET /stats/urges`: urges made in the period (local dates, inclusive) on tickets of the region
/// (default the caller's own, within their scope), per unit urged: counts by type and by level,
/// the staff's urges in all (`total`) and the sweeper's automatic ones (`auto`) apart.
pub async fn counts(state: &AppState, user: &StaffUser, q: &PeriodQuery) -> ApiResult<Value> {
    user.require_any(&STATS_ROLES)?;
    let (from, to) = period(state, q)?;
    let region = scoped_region(state, user, q.region_id).await?;
    let start = local_day_start(state, from);
    let end = local_day_start(state, to + Duration::days(1));
    let db = &state.db.conn;
    let mut units: BTreeMap<i64, UnitUrges> = BTreeMap::new();
    for raw in repo::stats::urge_events(db, &region.path, start, end).await? {
        let data: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let Some(unit_id) = data["unit_id"].as_i64() else { continue };
        let u = units.entry(unit_id).or_default();
        if data["auto"].as_bool() == Some(true) {
            u.auto += 1;
            continue;
        }
        // Urges made before types existed count as phone urges of level 1, the defaults.
        let t = data["type"].as_str().and_then(UrgeType::parse).unwrap_or(UrgeType::Phone);
        let level = data["level"].as_i64().and_then(|l| i32::try_from(l).ok()).unwrap_or(1);
        *u.by_type.entry(t.as_str()).or_default() += 1;
        *u.by_level.entry(level).or_default() += 1;
        u.manual += 1;
    }
    let mut items = vec![];
    for (unit_id, u) in units {
        let name = repo::regions::unit(db, unit_id).await?.map(|u| u.name).unwrap_or_default();
        let by_type: serde_json::Map<String, Value> = UrgeType::ALL
            .iter()
            .map(|t| (t.as_str().to_string(), json!(u.by_type.get(t.as_str()).unwrap_or(&0))))
            .collect();
        let by_level: serde_json::Map<String, Value> =
            URGE_LEVELS.iter().map(|(l, _)| (l.to_string(), json!(u.by_level.get(l).unwrap_or(&0)))).collect();
        items.push(json!({"unit": {"id": unit_id, "name": name}, "by_type": by_type, "by_level": by_level,
                          "total": u.manual, "auto": u.auto}));
    }
    items.sort_by(|a, b| b["total"].as_i64().cmp(&a["total"].as_i64()));
    let types: Vec<Value> = UrgeType::ALL.iter().map(|t| json!({"type": t, "label": t.label()})).collect();
    let levels: Vec<Value> = URGE_LEVELS.iter().map(|(l, label)| json!({"level": l, "label": label})).collect();
    Ok(json!({
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "from": from,
        "to": to,
        "types": types,
        "levels": levels,
        "items": items,
    }))
}
