//! Tiered handling (小事村办、难事乡镇担、大事县管). A dispatcher escalates an order straight to the unit
//! of a higher level (by default the lead unit of the parent region). A cadre's `escalate` is a
//! request: it is ledgered with its reason and waits for the dispatcher, who approves it (by
//! escalating) or refuses it with a reason — the first handler cannot shed an order alone
//! (首办负责). A missed response is escalated by the sweeper with the system as actor.
use super::{ActionBody, Effects, OrderNotice, optional, required};
use crate::auth::StaffUser;
use crate::domain::sla::{AssignmentDeadlines, Calendar};
use crate::domain::values::{AssignmentStatus, EscalationDecision};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::AssignmentPatch;
use crate::repo::assignments::{Assignment, NewAssignment};
use crate::repo::regions::Unit;
use crate::services::orders::{assignment_deadlines_with, calendar, fmt_local, unit_recipients};
use crate::services::tickets::Loaded;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;
use std::collections::HashMap;

fn active(l: &Loaded) -> ApiResult<&Assignment> {
    l.active().ok_or_else(|| ApiError::conflict(codes::NO_ASSIGNMENT, "工单没有在办的派单"))
}

/// A request is pending when it was made and not yet decided.
pub fn pending(a: &Assignment) -> bool {
    a.escalation_requested_at.is_some() && a.escalation_decided_at.is_none()
}

/// The default target: the lead unit of the parent region of the unit now holding the order.
pub async fn default_target<C: ConnectionTrait>(db: &C, unit_id: i64) -> ApiResult<Unit> {
    let unit = repo::regions::unit(db, unit_id).await?.ok_or_else(|| ApiError::not_found("承办单位不存在"))?;
    let region = repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("地区不存在"))?;
    let Some(parent) = region.parent_id else {
        return Err(ApiError::conflict(codes::CANNOT_ESCALATE, "已是县级承办单位，无法再提级"));
    };
    repo::regions::lead_unit(db, parent)
        .await?
        .ok_or_else(|| ApiError::conflict(codes::CANNOT_ESCALATE, "上级地区没有牵头承办单位，请由派单员指定"))
}

/// The unit that supervises another: the lead unit of the parent region; for a county-level unit,
/// the county's own lead unit (e.g. the 民生服务中心 over the county departments).
pub async fn supervising_unit<C: ConnectionTrait>(db: &C, unit_id: i64) -> ApiResult<Option<Unit>> {
    let Some(unit) = repo::regions::unit(db, unit_id).await? else { return Ok(None) };
    let Some(region) = repo::regions::get(db, unit.region_id).await? else { return Ok(None) };
    let lead = match region.parent_id {
        Some(parent) => repo::regions::lead_unit(db, parent).await?,
        None => repo::regions::lead_unit(db, region.id).await?,
    };
    Ok(lead.filter(|l| l.id != unit.id))
}

/// A dispatcher's own choice of target: an active unit of a region above (or the lead unit of the
/// same region as) the unit holding the order, inside the dispatcher's scope.
async fn chosen_target(state: &AppState, user: &StaffUser, from: i64, id: i64) -> ApiResult<Unit> {
    let db = &state.db.conn;
    let bad = |m: &str| ApiError::unprocessable(codes::UNIT_NOT_ABOVE, "unit_id", m.to_string());
    let unit = repo::regions::unit(db, id)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_UNIT, "unit_id", "承办单位不存在或已停用"))?;
    let current = repo::regions::unit(db, from).await?.ok_or_else(|| ApiError::not_found("承办单位不存在"))?;
    let (Some(target_region), Some(current_region)) =
        (repo::regions::get(db, unit.region_id).await?, repo::regions::get(db, current.region_id).await?)
    else {
        return Err(ApiError::not_found("地区不存在"));
    };
    if unit.id == current.id {
        return Err(bad("不能提级给当前承办单位"));
    }
    let above = current_region.path.starts_with(&target_region.path) && current_region.path != target_region.path;
    let same_region_lead = current_region.id == target_region.id && unit.is_lead && !current.is_lead;
    if !(above || same_region_lead) {
        return Err(bad("提级只能交给上级地区的承办单位"));
    }
    if !user.covers_region(&target_region.path) {
        return Err(ApiError::unprocessable(codes::UNIT_OUT_OF_SCOPE, "unit_id", "该承办单位不在您的派单范围内"));
    }
    Ok(unit)
}

pub async fn escalate(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    let reason = match optional(&body.reason, "reason")? {
        Some(r) => r,
        None if pending(a) => a.escalation_reason.clone().unwrap_or_default(),
        None => return Err(ApiError::validation("reason", "请填写提级理由")),
    };
    let target = match body.unit_id {
        Some(id) => chosen_target(state, user, a.unit_id, id).await?,
        None => default_target(&state.db.conn, a.unit_id).await?,
    };
    effects(state, l, a, &target, reason, Some(user.id), now).await
}

/// The escalation itself, for a dispatcher or the sweeper (`dispatched_by` None = the system).
pub async fn effects(
    state: &AppState,
    l: &Loaded,
    a: &Assignment,
    target: &Unit,
    reason: String,
    dispatched_by: Option<i64>,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    effects_with(state, l, a, target, reason, dispatched_by, now, &mut Lookups::default()).await
}

/// What an escalation reads besides its ticket and order: the same for many orders of a batch (the
/// SLA sweeper escalates hundreds in one pass), so a batch keeps them and reads each once.
#[derive(Default)]
pub struct Lookups {
    calendar: Option<Calendar>,
    unit_names: HashMap<i64, String>,
    category_names: HashMap<String, String>,
    recipients: HashMap<i64, Vec<(String, Option<i64>)>>,
}

impl Lookups {
    async fn deadlines(
        &mut self,
        state: &AppState,
        t: &crate::repo::tickets::Ticket,
        now: DateTime<Utc>,
    ) -> ApiResult<AssignmentDeadlines> {
        let db = &state.db.conn;
        let cal = match self.calendar.take() {
            Some(c) => c,
            None => calendar(db).await?,
        };
        let cal = &*self.calendar.insert(cal);
        let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
        assignment_deadlines_with(state, db, t, &policy, cal, now).await
    }

    /// A unit's name (empty for an unknown unit).
    pub async fn unit_name(&mut self, state: &AppState, unit: i64) -> ApiResult<String> {
        if let Some(n) = self.unit_names.get(&unit) {
            return Ok(n.clone());
        }
        let n = repo::regions::unit(&state.db.conn, unit).await?.map(|u| u.name).unwrap_or_default();
        self.unit_names.insert(unit, n.clone());
        Ok(n)
    }

    async fn category_name(&mut self, state: &AppState, code: &str) -> ApiResult<String> {
        if let Some(n) = self.category_names.get(code) {
            return Ok(n.clone());
        }
        let n = repo::catalog::category(&state.db.conn, code).await?.map(|c| c.name).unwrap_or_default();
        self.category_names.insert(code.to_string(), n.clone());
        Ok(n)
    }

    async fn recipients(&mut self, state: &AppState, unit: i64) -> ApiResult<Vec<(String, Option<i64>)>> {
        if let Some(r) = self.recipients.get(&unit) {
            return Ok(r.clone());
        }
        let r = unit_recipients(&state.db.conn, unit, None).await?;
        self.recipients.insert(unit, r.clone());
        Ok(r)
    }
}

/// `effects`, with what it reads kept in `lk` for the next escalation of the batch.
#[allow(clippy::too_many_arguments)]
pub async fn effects_with(
    state: &AppState,
    l: &Loaded,
    a: &Assignment,
    target: &Unit,
    reason: String,
    dispatched_by: Option<i64>,
    now: DateTime<Utc>,
    lk: &mut Lookups,
) -> ApiResult<Effects> {
    let t = &l.ticket;
    let dl = lk.deadlines(state, t, now).await?;
    let from = lk.unit_name(state, a.unit_id).await?;
    let approved = pending(a);
    let mut fx = Effects::new(true);
    fx.note = Some(reason);
    fx.data = json!({"from_unit_id": a.unit_id, "from_unit_name": from, "unit_id": target.id,
                     "unit_name": target.name, "approved_request": approved, "auto": dispatched_by.is_none(),
                     "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by});
    let mut end = AssignmentPatch::end(AssignmentStatus::Escalated, fx.note.as_deref(), now);
    if approved {
        end.escalation_decided_at = Some(Some(now));
        end.escalation_decision = Some(Some(EscalationDecision::Approved));
    }
    fx.assignment_update = Some((a.id, end));
    fx.new_assignment = Some(NewAssignment {
        ticket_id: t.id,
        unit_id: target.id,
        assignee_id: None,
        dispatched_by,
        escalated_from_id: Some(a.id),
        reopened: a.reopened,
        deadlines: dl,
        role: crate::domain::values::AssignmentRole::Lead,
    });
    let category = lk.category_name(state, &t.category_code).await?;
    for (phone, staff) in lk.recipients(state, target.id).await? {
        let notice =
            OrderNotice::Escalation { category: category.clone(), respond_by: fmt_local(state, dl.respond_by) };
        fx.order_sms.push((phone, staff, notice));
    }
    Ok(fx)
}

/// A cadre asks to escalate: ledgered (internal), the order stays with the unit until decided.
pub async fn request(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let a = active(l)?;
    if pending(a) {
        return Err(ApiError::conflict(codes::ESCALATION_PENDING, "已申请提级，请等待派单员审批"));
    }
    let reason = required(&body.reason, "reason", "提级理由")?;
    let target = default_target(&state.db.conn, a.unit_id).await?;
    let mut fx = Effects::new(false);
    fx.note = Some(reason.clone());
    fx.data = json!({"assignment_id": a.id, "target_unit_id": target.id, "target_unit_name": target.name});
    let patch = AssignmentPatch {
        escalation_requested_at: Some(now),
        escalation_requested_by: user.is_person().then_some(user.id),
        escalation_reason: Some(reason),
        escalation_decided_at: Some(None),
        escalation_decision: Some(None),
        ..Default::default()
    };
    fx.assignment_update = Some((a.id, patch));
    Ok(fx)
}

/// The dispatcher refuses a cadre's request: the unit keeps the order.
pub fn refuse(l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let a = active(l)?;
    if !pending(a) {
        return Err(ApiError::conflict(codes::NO_ESCALATION_REQUEST, "该工单没有待审批的提级申请"));
    }
    let mut fx = Effects::new(false);
    fx.note = Some(required(&body.reason, "reason", "驳回理由")?);
    fx.data = json!({"assignment_id": a.id, "requested_reason": a.escalation_reason});
    let patch = AssignmentPatch {
        escalation_decided_at: Some(Some(now)),
        escalation_decision: Some(Some(EscalationDecision::Refused)),
        ..Default::default()
    };
    fx.assignment_update = Some((a.id, patch));
    Ok(fx)
}
