//! 联合办理: an order given to a lead unit (主办) and assisting units (协办). Each assisting unit
//! holds an assignment of its own (`role = assist`) with its own deadlines, reminders and SMS link;
//! its cadre signs for the part (`assist_accept`) and reports it (`assist_report`); the dispatcher
//! may release a part that is not needed (`assist_release`). The lead resolves only when no part
//! is owed (`domain::ticket::joint_guard`, checked in `change::commit_in`). Each part counts in its
//! own unit's rates, like any assignment: signed for in time, reported (its 办结).
use super::{ActionBody, Effects, optional, required};
use crate::auth::StaffUser;
use crate::domain::values::{AssignmentRole, AssignmentStatus};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::{Assignment, AssignmentPatch, NewAssignment};
use crate::repo::regions::Unit;
use crate::services::change::{NewPart, OrderNotice};
use crate::services::leaves;
use crate::services::orders::{assignment_deadlines, fmt_local, unit_recipients};
use crate::services::tickets::Loaded;
use crate::sms::templates;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde_json::json;

/// At most this many assisting units on one order: a joint order is a few departments, not a
/// broadcast.
pub const MAX_ASSISTING: usize = 5;

/// The assisting units named for a dispatch: each active and inside the dispatcher's scope, none
/// the lead, none named twice, at most `MAX_ASSISTING`. Checked before anything is written.
pub async fn assisting_units(state: &AppState, user: &StaffUser, body: &ActionBody, lead: i64) -> ApiResult<Vec<Unit>> {
    let ids = body.assisting_unit_ids.clone().unwrap_or_default();
    let field = "assisting_unit_ids";
    if ids.len() > MAX_ASSISTING {
        return Err(ApiError::unprocessable(codes::ASSISTING_UNITS, field, format!("协办单位最多{MAX_ASSISTING}个")));
    }
    let mut units = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if *id == lead {
            return Err(ApiError::unprocessable(codes::ASSISTING_UNITS, field, "协办单位不能是主办单位本身"));
        }
        if ids[..i].contains(id) {
            return Err(ApiError::unprocessable(codes::ASSISTING_UNITS, field, "协办单位不能重复"));
        }
        units.push(super::handling::usable_unit(state, user, *id, field, "协办单位").await?);
    }
    Ok(units)
}

/// The assisting parts of a dispatch: one assignment per unit with the order's deadlines counted
/// from now, and the SMS with its own order link to whoever holds it.
pub async fn parts(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    units: Vec<Unit>,
    lead: &Unit,
    now: DateTime<Utc>,
) -> ApiResult<Vec<NewPart>> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
    let village = repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default();
    let mut out = Vec::with_capacity(units.len());
    for unit in units {
        let dl = assignment_deadlines(state, db, t, now).await?;
        let mut sms = vec![];
        for (phone, staff) in leaves::recipients(db, unit_recipients(db, unit.id, None).await?, now).await? {
            let notice = OrderNotice::Assist {
                category: category.clone(),
                village: village.clone(),
                lead: lead.name.clone(),
                respond_by: fmt_local(state, dl.respond_by),
            };
            sms.push((phone, staff, notice));
        }
        out.push(NewPart {
            assignment: NewAssignment {
                ticket_id: t.id,
                unit_id: unit.id,
                assignee_id: None,
                dispatched_by: Some(user.id),
                escalated_from_id: None,
                reopened: false,
                deadlines: dl,
                role: AssignmentRole::Assist,
            },
            unit_name: unit.name,
            sms,
        });
    }
    Ok(out)
}

/// The open part the actor acts on: their own unit's; an admin (no unit) names it with `unit_id`.
fn part_for<'a>(user: &StaffUser, l: &'a Loaded, body: &ActionBody) -> ApiResult<&'a Assignment> {
    let unit = user.scope.unit_id.filter(|_| l.part_of(user.scope.unit_id).is_some()).or(body.unit_id);
    l.part_of(unit).ok_or_else(|| ApiError::conflict(codes::NO_PART, "该工单没有贵单位待办的协办任务"))
}

async fn unit_name(state: &AppState, id: i64) -> ApiResult<String> {
    Ok(repo::regions::unit(&state.db.conn, id).await?.map(|u| u.name).unwrap_or_default())
}

/// 签收协办: the assisting unit signs for its part (its response, counted in its own rates).
pub async fn accept(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let part = part_for(user, l, body)?;
    if part.accepted_at.is_some() {
        return Err(ApiError::conflict(codes::NO_PART, "贵单位已签收该协办任务，请反馈协办情况"));
    }
    let mut fx = Effects::new(false);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"assignment_id": part.id, "unit_id": part.unit_id, "unit_name": unit_name(state, part.unit_id).await?,
                     "in_time": now <= part.respond_by, "respond_by": part.respond_by});
    let patch = AssignmentPatch {
        accepted_at: Some(now),
        assignee_id: (part.assignee_id.is_none() && user.is_person()).then_some(user.id),
        ..Default::default()
    };
    fx.assignment_update = Some((part.id, patch));
    Ok(fx)
}

/// 协办反馈: the assisting unit reports its part done; the part ends `completed` with the report
/// kept on it (its resolution, counted in its own rates). Signing for it is implied if not done.
pub async fn report(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let part = part_for(user, l, body)?;
    let note = required(&body.note, "note", "协办情况")?;
    let open_after = l.open_parts().filter(|a| a.id != part.id).count();
    let mut fx = Effects::new(false);
    fx.note = Some(note.clone());
    fx.data = json!({"assignment_id": part.id, "unit_id": part.unit_id, "unit_name": unit_name(state, part.unit_id).await?,
                     "in_time": now <= part.resolve_by, "resolve_by": part.resolve_by, "parts_open": open_after});
    let patch = AssignmentPatch {
        accepted_at: part.accepted_at.is_none().then_some(now),
        assignee_id: (part.assignee_id.is_none() && user.is_person()).then_some(user.id),
        first_progress_at: part.first_progress_at.is_none().then_some(now),
        resolved_at: Some(now),
        report_note: Some(note),
        ..AssignmentPatch::end(AssignmentStatus::Completed, None, now)
    };
    fx.assignment_update = Some((part.id, patch));
    Ok(fx)
}

/// 解除协办: the dispatcher releases a unit from its part (named by `unit_id`), with a reason; the
/// unit is told its link no longer applies.
pub async fn release(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let unit = body.unit_id.ok_or_else(|| ApiError::validation("unit_id", "请选择要解除的协办单位"))?;
    let part = l
        .part_of(Some(unit))
        .ok_or_else(|| ApiError::unprocessable(codes::NO_PART, "unit_id", "该单位没有待办的协办任务"))?;
    let reason = required(&body.reason, "reason", "解除协办理由")?;
    let mut fx = Effects::new(false);
    fx.note = Some(reason.clone());
    fx.data = json!({"assignment_id": part.id, "unit_id": part.unit_id, "unit_name": unit_name(state, part.unit_id).await?,
                     "parts_open": l.open_parts().count() - 1});
    fx.assignment_update = Some((part.id, AssignmentPatch::end(AssignmentStatus::Released, Some(&reason), now)));
    let sign = &state.settings.county.sms_sign;
    for (phone, _) in unit_recipients(&state.db.conn, part.unit_id, part.assignee_id).await? {
        fx.sms.push((templates::recall(sign, &l.ticket.no, "解除协办"), phone));
    }
    Ok(fx)
}
