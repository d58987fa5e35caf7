//! The order with a unit: dispatch it (deadlines stored on the new assignment, an SMS with the
//! cadre's signed link), accept, return (退单) to the dispatcher, report progress, resolve, urge.
use super::{ActionBody, Effects, OrderNotice, optional, required, unit_recipients};
use crate::auth::StaffUser;
use crate::domain::ticket::Status;
use crate::domain::values::AssignmentStatus;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::AssignmentPatch;
use crate::repo::assignments::{Assignment, NewAssignment};
use crate::services::orders::{assignment_deadlines, fmt_local};
use crate::services::tickets::Loaded;
use crate::sms::templates;
use crate::sms::values::OutboxKind;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::json;

fn active(l: &Loaded) -> ApiResult<&Assignment> {
    l.active().ok_or_else(|| ApiError::conflict(codes::NO_ASSIGNMENT, "工单没有在办的派单"))
}

pub async fn dispatch(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let unit_id = body.unit_id.ok_or_else(|| ApiError::validation("unit_id", "请选择承办单位"))?;
    let unit = repo::regions::unit(db, unit_id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_UNIT, "unit_id", "承办单位不存在或已停用"))?;
    let unit_region = repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("地区不存在"))?;
    if !user.covers_region(&unit_region.path) {
        return Err(ApiError::unprocessable(codes::UNIT_OUT_OF_SCOPE, "unit_id", "该承办单位不在您的派单范围内"));
    }
    let assignee = match body.assignee_id {
        Some(id) => Some(
            repo::staff::get(db, id)
                .await?
                .filter(|s| {
                    s.active && s.unit_id == Some(unit.id) && s.roles.contains(&crate::domain::roles::Role::Cadre)
                })
                .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_ASSIGNEE, "assignee_id", "承办人不属于该单位"))?,
        ),
        None => None,
    };
    let dl = assignment_deadlines(state, db, t, now).await?;
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"unit_id": unit.id, "unit_name": unit.name, "assignee_id": assignee.as_ref().map(|s| s.id),
                     "assignee_name": assignee.as_ref().map(|s| s.name.clone()),
                     "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by,
                     "late": t.dispatch_by.is_some_and(|by| now > by)});
    if t.first_dispatched_at.is_none() {
        fx.patch.first_dispatched_at = Some(now);
    }
    fx.patch.dispatch_by = Some(None);
    // A reopened ticket may already be back with its unit (重办): the new dispatch supersedes that.
    if let Some(a) = l.active() {
        fx.assignment_update = Some((a.id, AssignmentPatch::end(AssignmentStatus::Superseded, Some("改派"), now)));
    }
    fx.new_assignment = Some(NewAssignment {
        ticket_id: t.id,
        unit_id: unit.id,
        assignee_id: assignee.as_ref().map(|s| s.id),
        dispatched_by: Some(user.id),
        escalated_from_id: None,
        reopened: l.status() == Status::Reopened,
        deadlines: dl,
    });
    let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
    let village = repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default();
    for (phone, staff) in unit_recipients(db, unit.id, assignee.as_ref().map(|s| s.id)).await? {
        let notice = OrderNotice::Assignment {
            category: category.clone(),
            village: village.clone(),
            respond_by: fmt_local(state, dl.respond_by),
        };
        fx.order_sms.push((phone, staff, notice));
    }
    Ok(fx)
}

pub fn accept(user: &StaffUser, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let a = active(l)?;
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"assignment_id": a.id, "in_time": now <= a.respond_by, "respond_by": a.respond_by});
    // The sweeper's next look stays where it was; when it comes it sees the step done and moves on.
    let patch = AssignmentPatch {
        accepted_at: Some(now),
        assignee_id: a.assignee_id.is_none().then_some(user.id),
        ..Default::default()
    };
    fx.assignment_update = Some((a.id, patch));
    Ok(fx)
}

/// 退单: the unit gives the order back with a reason; the dispatcher's clock starts again.
pub async fn return_(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let a = active(l)?;
    let t = &l.ticket;
    let policy = repo::catalog::policy_for(db, &t.category_code, t.priority).await?;
    let dispatch_by = super::desk_deadline(now, policy.dispatch_minutes);
    let unit = repo::regions::unit(db, a.unit_id).await?.map(|u| u.name).unwrap_or_default();
    let mut fx = Effects::new(false);
    fx.note = Some(required(&body.reason, "reason", "退单理由")?);
    fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id, "unit_name": unit, "dispatch_by": dispatch_by});
    fx.patch.current_assignment_id = Some(None);
    fx.patch.unit_id = Some(None);
    fx.patch.dispatch_by = Some(Some(dispatch_by));
    fx.assignment_update = Some((a.id, AssignmentPatch::end(AssignmentStatus::Returned, fx.note.as_deref(), now)));
    Ok(fx)
}

pub fn progress(l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let a = active(l)?;
    let mut fx = Effects::new(true);
    fx.note = Some(required(&body.note, "note", "办理进展")?);
    fx.data = json!({"assignment_id": a.id, "first": a.first_progress_at.is_none(),
                     "in_time": now <= a.progress_by});
    if a.first_progress_at.is_none() {
        fx.assignment_update = Some((a.id, AssignmentPatch { first_progress_at: Some(now), ..Default::default() }));
    }
    Ok(fx)
}

pub async fn resolve(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let a = active(l)?;
    let mut fx = Effects::new(true);
    fx.note = Some(required(&body.result, "result", "办理结果")?);
    fx.data = json!({"assignment_id": a.id, "in_time": now <= a.resolve_by, "resolve_by": a.resolve_by});
    let patch = AssignmentPatch {
        resolved_at: Some(now),
        first_progress_at: a.first_progress_at.is_none().then_some(now),
        ..AssignmentPatch::end(AssignmentStatus::Completed, None, now)
    };
    fx.assignment_update = Some((a.id, patch));
    super::closing::resolution_effects(state, &l.ticket, &mut fx, now).await?;
    Ok(fx)
}

/// 催办 by a dispatcher or leader: a message to whoever holds the order.
pub async fn urge(state: &AppState, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let a = active(l)?;
    let mut fx = Effects::new(false);
    fx.note = optional(&body.note, "note")?;
    let sign = &state.settings.county.sms_sign;
    let limit = state.settings.limits.urge_sms_per_recipient;
    let now = state.now();
    let mut held = 0;
    for (phone, _) in unit_recipients(&state.db.conn, a.unit_id, a.assignee_id).await? {
        // Every urge is on the ledger; the SMS to one person about one order is throttled, so ten
        // clicks are not ten messages.
        let subject = format!("sms:urge:{}:{phone}", l.ticket.id);
        if state.limiter.hit(&subject, limit, now).await.is_err() {
            held += 1;
            continue;
        }
        fx.sms.push((templates::urge(sign, &l.ticket.no, fx.note.as_deref().unwrap_or("")), phone));
    }
    if held > 0 {
        metrics::counter!("minsheng_sms_held_total", "kind" => OutboxKind::Urge.as_str()).increment(held as u64);
    }
    fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id, "sms_sent": fx.sms.len(), "sms_held": held});
    Ok(fx)
}
