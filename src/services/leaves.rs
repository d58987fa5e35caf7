//! Leave and deputies (请假与代理): an admin records that a cadre is away from `from` to `to` and
//! names a deputy, a cadre of the same unit (the unit keeps the cadre's open orders, so the deputy
//! already sees and acts on them; a deputy from another unit would need a second scope, left out).
//! While the leave runs, new orders meant for the cadre go to the deputy (`stand_in`), the order SMS
//! goes to the deputy's phone and contact cards show the deputy; when it ends or is cancelled,
//! routing goes back by itself, since everything asks `stand_in` with the action's own time.
use crate::auth::StaffUser;
use crate::domain::card::Contact;
use crate::domain::roles::Role;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::leaves::{Leave, NewLeave};
use crate::repo::staff::Staff;
use crate::services::clean_text;
use crate::services::directory::{Change, audit};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use serde_json::{Value, json};

/// The longest leave recorded at once; a longer absence is a change of staff, not a leave.
const MAX_DAYS: i64 = 180;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"from": "2026-12-10", "to": "2026-12-12", "deputy_id": 5, "reason": "外出培训"}))]
pub struct LeaveBody {
    pub from: Option<String>,
    pub to: Option<String>,
    pub deputy_id: Option<i64>,
    pub reason: Option<String>,
}

/// Who acts for `staff` at `at`: the deputy of a running leave (active, with the same unit), else
/// nobody (the cadre acts themself).
pub async fn stand_in<C: ConnectionTrait>(db: &C, staff: &Staff, at: DateTime<Utc>) -> ApiResult<Option<Staff>> {
    let Some(leave) = repo::leaves::active(db, staff.id, at).await? else { return Ok(None) };
    Ok(repo::staff::get(db, leave.deputy_id).await?.filter(|d| d.active && d.unit_id == staff.unit_id))
}

/// The people an order SMS goes to, each one on leave replaced by their deputy (once each).
pub async fn recipients<C: ConnectionTrait>(
    db: &C,
    list: Vec<(String, Option<i64>)>,
    at: DateTime<Utc>,
) -> ApiResult<Vec<(String, Option<i64>)>> {
    let mut out: Vec<(String, Option<i64>)> = Vec::with_capacity(list.len());
    for (phone, id) in list {
        let stand = match id {
            Some(id) => match repo::staff::get(db, id).await? {
                Some(s) => stand_in(db, &s, at).await?,
                None => None,
            },
            None => None,
        };
        let entry = match stand {
            Some(d) => match d.phone {
                Some(p) => (p, Some(d.id)),
                None => (phone, id),
            },
            None => (phone, id),
        };
        if !out.iter().any(|(p, s)| *p == entry.0 && *s == entry.1) {
            out.push(entry);
        }
    }
    Ok(out)
}

/// A card's contacts as served at `at`: a cadre on leave is shown as their deputy, marked （代）. The
/// printed snapshot is not rewritten, so the card shows the cadre again once the leave ends.
pub async fn on_card<C: ConnectionTrait>(
    db: &C,
    mut contacts: Vec<Contact>,
    at: DateTime<Utc>,
) -> ApiResult<Vec<Contact>> {
    for leave in repo::leaves::all_active(db, at).await? {
        let Some(away) = repo::staff::get(db, leave.staff_id).await? else { continue };
        let Some(phone) = away.phone.clone() else { continue };
        if !contacts.iter().any(|c| c.phone == phone) {
            continue;
        }
        let Some(deputy) = stand_in(db, &away, at).await? else { continue };
        let Some(deputy_phone) = deputy.phone else { continue };
        for c in contacts.iter_mut().filter(|c| c.phone == phone) {
            c.name = format!("{}（代）", deputy.name);
            c.phone = deputy_phone.clone();
        }
    }
    Ok(contacts)
}

fn leave_json(l: &Leave, deputy: Option<&Staff>, now: DateTime<Utc>) -> Value {
    json!({
        "id": l.id,
        "staff_id": l.staff_id,
        "deputy": {"id": l.deputy_id, "name": deputy.map(|d| d.name.clone())},
        "from": l.from,
        "to": l.to,
        "reason": l.reason,
        "created_by": l.created_by,
        "created_at": l.created_at,
        "cancelled_at": l.cancelled_at,
        "current": l.cancelled_at.is_none() && l.from <= now && now < l.to,
    })
}

fn audit_json(l: &Leave) -> Value {
    json!({"id": l.id, "staff_id": l.staff_id, "deputy_id": l.deputy_id, "from": l.from, "to": l.to,
           "reason": l.reason, "cancelled_at": l.cancelled_at})
}

/// The cadre whose leave this is, inside the admin's region; and that region's path.
async fn cadre_in_scope(state: &AppState, user: &StaffUser, id: i64) -> ApiResult<(Staff, String)> {
    if !user.is_admin() {
        return Err(ApiError::forbidden("仅管理员可登记请假"));
    }
    let db = &state.db.conn;
    let s = repo::staff::get(db, id).await?.ok_or_else(|| ApiError::not_found("人员不存在"))?;
    let region = repo::regions::get(db, s.region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::out_of_scope());
    }
    Ok((s, region.path))
}

fn time(raw: Option<&str>, field: &str, what: &str) -> ApiResult<DateTime<Utc>> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty());
    let raw = raw.ok_or_else(|| ApiError::validation(field, format!("请填写{what}")))?;
    DateTime::parse_from_rfc3339(raw).map(|t| t.with_timezone(&Utc)).map_err(|_| {
        ApiError::validation(field, format!("{what}格式不正确，应为 RFC 3339 时间，如 2026-12-08T08:00:00+08:00"))
    })
}

pub async fn create(state: &AppState, user: &StaffUser, staff_id: i64, b: &LeaveBody) -> ApiResult<Value> {
    let (cadre, region_path) = cadre_in_scope(state, user, staff_id).await?;
    let db = &state.db.conn;
    let now = state.now();
    if !cadre.active || !cadre.roles.contains(&Role::Cadre) || cadre.unit_id.is_none() {
        return Err(ApiError::unprocessable(codes::BAD_REQUEST, "staff_id", "只能为在职的承办人登记请假"));
    }
    let from = time(b.from.as_deref(), "from", "开始时间")?;
    let to = time(b.to.as_deref(), "to", "结束时间")?;
    if to <= from {
        return Err(ApiError::validation("to", "结束时间须晚于开始时间"));
    }
    if to <= now {
        return Err(ApiError::validation("to", "结束时间须在将来"));
    }
    if to - from > Duration::days(MAX_DAYS) {
        return Err(ApiError::validation("to", format!("一次请假最长{MAX_DAYS}天")));
    }
    let reason = clean_text(b.reason.as_deref().unwrap_or(""), "reason")?;
    if reason.is_empty() {
        return Err(ApiError::validation("reason", "请填写请假事由"));
    }
    if reason.chars().count() > 200 {
        return Err(ApiError::validation("reason", "请假事由不超过200字"));
    }
    let deputy_id = b.deputy_id.ok_or_else(|| ApiError::validation("deputy_id", "请选择代理人"))?;
    if deputy_id == cadre.id {
        return Err(ApiError::validation("deputy_id", "代理人不能是请假人本人"));
    }
    let deputy = repo::staff::get(db, deputy_id)
        .await?
        .filter(|d| d.active && d.roles.contains(&Role::Cadre) && d.unit_id == cadre.unit_id)
        .ok_or_else(|| ApiError::validation("deputy_id", "代理人须为同一单位在职的承办人"))?;
    if !repo::leaves::overlapping(db, deputy.id, from, to).await?.is_empty() {
        return Err(ApiError::validation("deputy_id", "代理人在这段时间也请了假"));
    }
    let tx = state.db.begin().await?;
    if !repo::leaves::overlapping(&*tx, cadre.id, from, to).await?.is_empty() {
        return Err(ApiError::conflict(codes::DUPLICATE, "这段时间已登记过请假").with_field("from"));
    }
    let new = NewLeave { staff_id: cadre.id, deputy_id: deputy.id, from, to, reason: &reason, created_by: user.id };
    let leave = repo::leaves::create(&*tx, new, now).await?;
    let change = Change {
        action: "create",
        entity: "leave",
        entity_id: leave.id.to_string(),
        region_path: &region_path,
        before: None,
        after: Some(audit_json(&leave)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(staff = cadre.id, deputy = deputy.id, leave = leave.id, by = user.id, "leave recorded");
    Ok(leave_json(&leave, Some(&deputy), now))
}

pub async fn list(state: &AppState, user: &StaffUser, staff_id: i64) -> ApiResult<Value> {
    let (cadre, _) = cadre_in_scope(state, user, staff_id).await?;
    let db = &state.db.conn;
    let now = state.now();
    let mut items = Vec::new();
    for l in repo::leaves::of_staff(db, cadre.id).await? {
        let deputy = repo::staff::get(db, l.deputy_id).await?;
        items.push(leave_json(&l, deputy.as_ref(), now));
    }
    Ok(json!({"items": items}))
}

pub async fn cancel(state: &AppState, user: &StaffUser, staff_id: i64, leave_id: i64) -> ApiResult<Value> {
    let (cadre, region_path) = cadre_in_scope(state, user, staff_id).await?;
    let now = state.now();
    let tx = state.db.begin().await?;
    let before = repo::leaves::get(&*tx, leave_id)
        .await?
        .filter(|l| l.staff_id == cadre.id)
        .ok_or_else(|| ApiError::not_found("请假记录不存在"))?;
    if before.cancelled_at.is_some() || !repo::leaves::cancel(&*tx, leave_id, now).await? {
        return Err(ApiError::conflict(codes::CONFLICT, "该请假已取消"));
    }
    let after = Leave { cancelled_at: Some(now), ..before.clone() };
    let change = Change {
        action: "cancel",
        entity: "leave",
        entity_id: leave_id.to_string(),
        region_path: &region_path,
        before: Some(audit_json(&before)),
        after: Some(audit_json(&after)),
    };
    audit(&*tx, user, now, change).await?;
    tx.commit().await?;
    tracing::info!(staff = cadre.id, leave = leave_id, by = user.id, "leave cancelled");
    let deputy = repo::staff::get(&state.db.conn, after.deputy_id).await?;
    Ok(leave_json(&after, deputy.as_ref(), now))
}
