//! The order with a unit: dispatch it (deadlines stored on the new assignment, an SMS with the
//! cadre's signed link), redirect (改派) or withdraw (撤回) it before it is signed for, accept,
//! return (退单) to the dispatcher, report progress, resolve, urge.
use super::{ActionBody, Effects, OrderNotice, optional, required, unit_recipients};
use crate::auth::StaffUser;
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::domain::ticket::Status;
use crate::domain::values::{AssignmentStatus, UrgeType, urge_level_label};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::AssignmentPatch;
use crate::repo::assignments::{Assignment, NewAssignment};
use crate::repo::regions::Unit;
use crate::repo::staff::Staff;
use crate::repo::tickets::{Actor, Ticket};
use crate::services::change;
use crate::services::leaves;
use crate::services::orders::{assignment_deadlines, fmt_local, suggested_unit};
use crate::services::tickets::Loaded;
use crate::services::wechat_notices::{Event, VillagerNotice};
use crate::sms::templates;
use crate::sms::values::OutboxKind;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

fn active(l: &Loaded) -> ApiResult<&Assignment> {
    l.active().ok_or_else(|| ApiError::conflict(codes::NO_ASSIGNMENT, "工单没有在办的派单"))
}

/// A unit an order (or, `what` = 协办单位, a part of one) may be given to: active and inside the
/// dispatcher's scope; refused at `field` otherwise.
pub(super) async fn usable_unit(
    state: &AppState,
    user: &StaffUser,
    id: i64,
    field: &str,
    what: &str,
) -> ApiResult<Unit> {
    let db = &state.db.conn;
    let unit = repo::regions::unit(db, id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_UNIT, field, format!("{what}不存在或已停用")))?;
    let region = repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("地区不存在"))?;
    if !user.covers_region(&region.path) {
        return Err(ApiError::unprocessable(codes::UNIT_OUT_OF_SCOPE, field, format!("该{what}不在您的派单范围内")));
    }
    Ok(unit)
}

/// The unit (and optional cadre) an order is given to: active, inside the dispatcher's scope, the
/// cadre a member of that unit.
async fn target(state: &AppState, user: &StaffUser, body: &ActionBody) -> ApiResult<(Unit, Option<Staff>)> {
    let db = &state.db.conn;
    let unit_id = body.unit_id.ok_or_else(|| ApiError::validation("unit_id", "请选择承办单位"))?;
    let unit = usable_unit(state, user, unit_id, "unit_id", "承办单位").await?;
    let assignee = match body.assignee_id {
        Some(id) => Some(
            repo::staff::get(db, id)
                .await?
                .filter(|s| s.active && s.unit_id == Some(unit.id) && s.roles.contains(&Role::Cadre))
                .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_ASSIGNEE, "assignee_id", "承办人不属于该单位"))?,
        ),
        None => None,
    };
    Ok((unit, assignee))
}

/// A new assignment to `unit` with deadlines counted from `now`, and the SMS with the order link to
/// whoever will hold it.
async fn give<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    dispatched_by: Option<i64>,
    l: &Loaded,
    unit: &Unit,
    assignee: Option<&Staff>,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let t = &l.ticket;
    let dl = assignment_deadlines(state, db, t, now).await?;
    // A cadre on leave: the order goes to their deputy, and the ledger says on whose behalf.
    let deputy = match assignee {
        Some(s) => leaves::stand_in(db, s, now).await?,
        None => None,
    };
    let on_behalf_of = deputy.as_ref().and(assignee);
    let assignee = deputy.as_ref().or(assignee);
    let mut fx = Effects::new(true);
    fx.data = json!({"unit_id": unit.id, "unit_name": unit.name, "assignee_id": assignee.map(|s| s.id),
                     "assignee_name": assignee.map(|s| s.name.clone()),
                     "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by});
    if let (Some(away), Some(obj)) = (on_behalf_of, fx.data.as_object_mut()) {
        obj.insert("on_behalf_of".into(), json!({"id": away.id, "name": away.name}));
        obj.insert("on_behalf_label".into(), json!(format!("（代{}办理）", away.name)));
    }
    fx.new_assignment = Some(NewAssignment {
        ticket_id: t.id,
        unit_id: unit.id,
        assignee_id: assignee.map(|s| s.id),
        dispatched_by,
        escalated_from_id: None,
        reopened: l.status() == Status::Reopened || l.active().is_some_and(|a| a.reopened),
        deadlines: dl,
        role: crate::domain::values::AssignmentRole::Lead,
    });
    let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
    let village = repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default();
    for (phone, staff) in
        leaves::recipients(db, unit_recipients(db, unit.id, assignee.map(|s| s.id)).await?, now).await?
    {
        let notice = OrderNotice::Assignment {
            category: category.clone(),
            village: village.clone(),
            respond_by: fmt_local(state, dl.respond_by),
        };
        fx.order_sms.push((phone, staff, notice));
    }
    Ok(fx)
}

pub async fn dispatch(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let t = &l.ticket;
    let (unit, assignee) = target(state, user, body).await?;
    let assisting = super::joint::assisting_units(state, user, body, unit.id).await?;
    let mut fx = give(state, &state.db.conn, Some(user.id), l, &unit, assignee.as_ref(), now).await?;
    fx.note = optional(&body.note, "note")?;
    fx.new_parts = super::joint::parts(state, user, l, assisting, &unit, now).await?;
    if let Some(obj) = fx.data.as_object_mut() {
        obj.insert("late".into(), json!(t.dispatch_by.is_some_and(|by| now > by)));
    }
    if t.first_dispatched_at.is_none() {
        fx.patch.first_dispatched_at = Some(now);
    }
    fx.patch.dispatch_by = Some(None);
    // A reopened ticket may already be back with its unit (重办): the new dispatch supersedes that.
    if let Some(a) = l.active() {
        fx.assignment_update = Some((a.id, AssignmentPatch::end(AssignmentStatus::Superseded, Some("改派"), now)));
    }
    Ok(fx)
}

/// 自动派单: a card intake in a category marked `auto_dispatch`, inside the intake's transaction. The
/// system registers the ticket and gives it to the unit routing suggests (the category's default
/// level applied to the village), both ledgered as done by the system; the cadres' SMS is queued in
/// the same transaction. Without a suggested unit the ticket waits for a dispatcher, as any other.
/// Both changes are `commit_in_deferred`: the caller recomputes the ticket's derived columns and
/// roll-ups (`change::refresh_derived`) before it commits.
pub async fn auto_dispatch<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket: Ticket,
    registration: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let Some(choice) = suggested_unit(db, &ticket).await? else {
        tracing::warn!(ticket_no = %ticket.no, category = %ticket.category_code, "auto dispatch: no unit to suggest");
        return Ok(ticket);
    };
    let Some(unit) = repo::regions::unit(db, choice.id).await?.filter(|u| u.active) else { return Ok(ticket) };
    let ticket =
        change::commit_in_deferred(state, db, &ticket, Action::Register, Actor::system(), registration, now).await?;
    let l = Loaded::with(ticket, vec![]);
    let mut fx = give(state, db, None, &l, &unit, None, now).await?;
    if let Some(obj) = fx.data.as_object_mut() {
        obj.insert("auto".into(), json!(true));
        obj.insert("late".into(), json!(false));
    }
    fx.patch.first_dispatched_at = Some(now);
    fx.patch.dispatch_by = Some(None);
    change::commit_in_deferred(state, db, &l.ticket, Action::Dispatch, Actor::system(), fx, now).await
}

/// Tells whoever was sent an order that it was taken from them (改派 or 撤回), except `keep` (the
/// cadre of the same unit who now holds it).
async fn recall_sms(
    state: &AppState,
    l: &Loaded,
    a: &Assignment,
    what: &str,
    keep: Option<i64>,
) -> ApiResult<Vec<(templates::Message, String)>> {
    let sign = &state.settings.county.sms_sign;
    Ok(unit_recipients(&state.db.conn, a.unit_id, a.assignee_id)
        .await?
        .into_iter()
        .filter(|(_, staff)| keep.is_none() || *staff != keep)
        .map(|(phone, _)| (templates::recall(sign, &l.ticket.no, what), phone))
        .collect())
}

/// 改派: before the unit signs for the order, the dispatcher gives it to another unit (or another
/// cadre of the same unit). The old assignment ends `superseded`, the new one's clock starts now,
/// the first unit is told by SMS that the order is no longer theirs.
pub async fn redirect(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    let reason = required(&body.reason, "reason", "改派理由")?;
    let (unit, assignee) = target(state, user, body).await?;
    let new_assignee = assignee.as_ref().map(|s| s.id);
    if unit.id == a.unit_id && (new_assignee.is_none() || new_assignee == a.assignee_id) {
        return Err(ApiError::unprocessable(
            codes::SAME_ASSIGNMENT,
            "unit_id",
            "改派对象与当前承办单位相同，请选择其他单位或该单位的其他承办人",
        ));
    }
    let from = repo::regions::unit(&state.db.conn, a.unit_id).await?.map(|u| u.name).unwrap_or_default();
    let mut fx = give(state, &state.db.conn, Some(user.id), l, &unit, assignee.as_ref(), now).await?;
    fx.note = Some(reason);
    if let Some(obj) = fx.data.as_object_mut() {
        obj.insert("from_assignment_id".into(), json!(a.id));
        obj.insert("from_unit_id".into(), json!(a.unit_id));
        obj.insert("from_unit_name".into(), json!(from));
    }
    fx.assignment_update = Some((a.id, AssignmentPatch::end(AssignmentStatus::Superseded, Some("改派"), now)));
    let keep = if unit.id == a.unit_id { new_assignee } else { None };
    fx.sms = recall_sms(state, l, a, "改派", keep).await?;
    Ok(fx)
}

/// 撤回: before the unit signs for the order, the dispatcher takes it back; the ticket waits for
/// dispatch again with the dispatch clock restarted, and the unit is told by SMS.
pub async fn withdraw(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let a = active(l)?;
    let t = &l.ticket;
    let reason = required(&body.reason, "reason", "撤回理由")?;
    let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
    let dispatch_by = super::desk_deadline(now, policy.dispatch_minutes);
    let unit = repo::regions::unit(db, a.unit_id).await?.map(|u| u.name).unwrap_or_default();
    // Internal, like 退单: the requester sees the order waiting for dispatch again.
    let mut fx = Effects::new(false);
    fx.note = Some(reason);
    fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id, "unit_name": unit, "dispatch_by": dispatch_by});
    fx.patch.current_assignment_id = Some(None);
    fx.patch.unit_id = Some(None);
    fx.patch.dispatch_by = Some(Some(dispatch_by));
    fx.assignment_update = Some((a.id, AssignmentPatch::end(AssignmentStatus::Superseded, Some("撤回"), now)));
    fx.sms = recall_sms(state, l, a, "撤回", None).await?;
    Ok(fx)
}

pub fn accept(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"assignment_id": a.id, "in_time": now <= a.respond_by, "respond_by": a.respond_by});
    // The sweeper's next look stays where it was; when it comes it sees the step done and moves on.
    let patch = AssignmentPatch {
        accepted_at: Some(now),
        assignee_id: (a.assignee_id.is_none() && user.is_person()).then_some(user.id),
        ..Default::default()
    };
    fx.assignment_update = Some((a.id, patch));
    // The requester hears of it by WeChat if they subscribed in the mini-program; no SMS otherwise
    // (they had the receipt when filing), an SMS only if the WeChat message cannot go.
    if l.ticket.requester_openid.is_some() {
        let t = &l.ticket;
        let link = format!("{}/t/{}", state.public_url(), t.no);
        let sms = templates::accepted(&state.settings.county.sms_sign, &t.no, &link);
        fx.villager_notice = Some(VillagerNotice { event: Event::Accepted, sms, sms_without_wechat: false });
    }
    Ok(fx)
}

/// 退单: the unit gives the order back with a reason; the dispatcher's clock starts again.
pub async fn return_(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let a = active(l)?;
    let t = &l.ticket;
    let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
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

/// 催办 by a dispatcher or leader: a message to whoever holds the order. The urge has a type
/// (phone by default; a written one prints as a 催办单) and a level (1 一般催办 by default, 2 重点催办,
/// 3 挂牌督办), both checked before anything is written and kept in the event's data with the unit
/// urged and the issuer's role, so urges can be counted per unit and the notice printed later.
pub async fn urge(state: &AppState, user: &StaffUser, l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    let urge_type = match body.urge_type.as_deref().map(str::trim) {
        None | Some("") => UrgeType::Phone,
        Some(t) => UrgeType::parse(t)
            .ok_or_else(|| ApiError::validation("type", format!("催办方式不正确，可选：{}", UrgeType::names())))?,
    };
    let level = body.level.unwrap_or(1);
    let level_label = urge_level_label(level)
        .ok_or_else(|| ApiError::validation("level", "催办级别只能是1（一般催办）、2（重点催办）或3（挂牌督办）"))?;
    let a = active(l)?;
    let mut fx = Effects::new(false);
    fx.note = optional(&body.note, "note")?;
    let sign = &state.settings.county.sms_sign;
    let limit = state.settings.limits.urge_sms_per_recipient;
    let now = state.now();
    let mut held = 0;
    let sms_note = match (level, fx.note.as_deref().unwrap_or("")) {
        (1, n) => n.to_string(),
        (_, "") => format!("【{level_label}】"),
        (_, n) => format!("【{level_label}】{n}"),
    };
    for (phone, _) in unit_recipients(&state.db.conn, a.unit_id, a.assignee_id).await? {
        // Every urge is on the ledger; the SMS to one person about one order is throttled, so ten
        // clicks are not ten messages.
        let subject = format!("sms:urge:{}:{phone}", l.ticket.id);
        if state.limiter.hit(&subject, limit, now).await.is_err() {
            held += 1;
            continue;
        }
        fx.sms.push((templates::urge(sign, &l.ticket.no, &sms_note), phone));
    }
    if held > 0 {
        metrics::counter!("minsheng_sms_held_total", "kind" => OutboxKind::Urge.as_str()).increment(held as u64);
    }
    let issuer_role = [Role::Leader, Role::Inspector, Role::Dispatcher, Role::Admin]
        .into_iter()
        .find(|r| user.has(*r))
        .map_or("工作人员", |r| r.label());
    fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id, "sms_sent": fx.sms.len(), "sms_held": held,
                     "type": urge_type, "level": level, "issuer_role": issuer_role,
                     "respond_by": a.respond_by, "resolve_by": a.resolve_by});
    Ok(fx)
}
