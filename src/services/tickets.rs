//! Ticket actions (API.md "Actions"): each checks role and scope, asks the state machine, then in one
//! transaction applies the conditional update with exactly one ledger event, plus the assignment and
//! outbox rows the action implies.
use super::views::{TicketView, ticket_view};
use crate::auth::StaffUser;
use crate::domain::ledger::ledger_time;
use crate::domain::roles::{Role, SignoffParty, TicketFacts};
use crate::domain::ticket::{Action, Status, transition};
use crate::domain::values::{Kind, Priority};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::{Assignment, NewAssignment};
use crate::repo::tickets::{Actor, Applied, NewEvent, Ticket};
use crate::sms::templates::{self, Message};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::{assignments, tickets};
use sea_orm::{ConnectionTrait, Value};
use serde::Deserialize;
use serde_json::json;

/// Body of `POST /api/v1/tickets/{no}/{action}`: the union of every action's fields.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ActionBody {
    pub note: Option<String>,
    pub reason: Option<String>,
    pub result: Option<String>,
    pub decision: Option<String>,
    pub unit_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub upload_ids: Option<Vec<String>>,
    pub category: Option<String>,
    pub kind: Option<String>,
    pub priority: Option<String>,
    pub party: Option<String>,
    pub into: Option<String>,
}

/// A ticket with the facts its permissions depend on.
pub struct Loaded {
    pub ticket: Ticket,
    pub assignments: Vec<Assignment>,
    pub unit_ids: Vec<i64>,
}

impl Loaded {
    pub fn facts(&self) -> TicketFacts<'_> {
        TicketFacts {
            region_path: &self.ticket.region_path,
            current_unit_id: self.current_unit(),
            unit_ids: &self.unit_ids,
        }
    }

    /// The active assignment, if a unit holds the order now.
    pub fn active(&self) -> Option<&Assignment> {
        self.assignments.iter().find(|a| Some(a.id) == self.ticket.current_assignment_id && a.status == "active")
    }

    /// Unit of the current assignment (still set after resolution, for the handler's sign-off).
    fn current_unit(&self) -> Option<i64> {
        let id = self.ticket.current_assignment_id?;
        self.assignments.iter().find(|a| a.id == id).map(|a| a.unit_id)
    }

    pub fn status(&self) -> Status {
        Status::parse(&self.ticket.status).unwrap_or(Status::Submitted)
    }
}

pub async fn load<C: ConnectionTrait>(db: &C, no: &str) -> ApiResult<Loaded> {
    let ticket = repo::tickets::by_no(db, no).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let assignments = repo::assignments::of_ticket(db, ticket.id).await?;
    let mut unit_ids: Vec<i64> = assignments.iter().map(|a| a.unit_id).collect();
    unit_ids.dedup();
    Ok(Loaded { ticket, assignments, unit_ids })
}

/// Loads a ticket the caller may read (403 outside their scope).
pub async fn load_readable(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<Loaded> {
    let l = load(&state.db.conn, no).await?;
    if !user.scope.can_read(&l.facts()) {
        return Err(ApiError::out_of_scope());
    }
    Ok(l)
}

fn required(v: &Option<String>, field: &str, what: &str) -> ApiResult<String> {
    match v.as_deref().map(str::trim) {
        Some(s) if !s.is_empty() => {
            if s.chars().count() > 2000 {
                Err(ApiError::validation(field, format!("{what}不能超过2000个字")))
            } else {
                Ok(s.to_string())
            }
        }
        _ => Err(ApiError::validation(field, format!("请填写{what}"))),
    }
}

fn optional(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(|s| s.chars().take(2000).collect())
}

/// What an action writes besides the ticket row and the event.
struct Effects {
    extra: Vec<(tickets::Column, Value)>,
    note: Option<String>,
    data: serde_json::Value,
    public: bool,
    /// Messages to send: (message, phone).
    sms: Vec<(Message, String)>,
    new_assignment: Option<NewAssignment>,
    /// The active assignment's changes: (id, columns).
    assignment_update: Option<(i64, Vec<(assignments::Column, Value)>)>,
    upload_ids: Vec<String>,
}

impl Effects {
    fn new(public: bool) -> Self {
        Effects {
            extra: vec![],
            note: None,
            data: json!({}),
            public,
            sms: vec![],
            new_assignment: None,
            assignment_update: None,
            upload_ids: vec![],
        }
    }
}

fn fmt_local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.tz()).format("%m月%d日%H:%M").to_string()
}

/// Phones to notify for a unit's order: the named assignee, else the unit's cadres, else its duty phone.
pub async fn unit_phones<C: ConnectionTrait>(db: &C, unit_id: i64, assignee: Option<i64>) -> ApiResult<Vec<String>> {
    if let Some(id) = assignee
        && let Some(s) = repo::staff::get(db, id).await?
        && let Some(p) = s.phone
    {
        return Ok(vec![p]);
    }
    let phones: Vec<String> =
        repo::staff::cadres_of_unit(db, unit_id).await?.into_iter().filter_map(|s| s.phone).collect();
    if !phones.is_empty() {
        return Ok(phones);
    }
    Ok(repo::regions::unit(db, unit_id).await?.and_then(|u| u.phone).into_iter().collect())
}

async fn validate_uploads(state: &AppState, ids: &Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let ids = ids.clone().unwrap_or_default();
    if ids.len() > 9 {
        return Err(ApiError::validation("upload_ids", "附件最多9个"));
    }
    for id in &ids {
        if !repo::uploads::is_free(&state.db.conn, id).await? {
            return Err(ApiError::unprocessable("unknown_upload", "upload_ids", "附件不存在或已被使用"));
        }
    }
    Ok(ids)
}

/// Runs `action` on ticket `no` for `user`.
pub async fn act(
    state: &AppState,
    user: &StaffUser,
    no: &str,
    action: Action,
    body: &ActionBody,
) -> ApiResult<TicketView> {
    let l = load_readable(state, user, no).await?;
    let party =
        match action {
            Action::Signoff => {
                let p = body.party.as_deref().ok_or_else(|| ApiError::validation("party", "请选择会签方"))?;
                Some(SignoffParty::parse(p).ok_or_else(|| {
                    ApiError::validation("party", "会签方只能是 requester、handler、leader 或 principal")
                })?)
            }
            _ => None,
        };
    if !user.scope.can_act(action, &l.facts(), party) {
        return Err(ApiError::forbidden(format!("您无权对该工单执行「{}」", action.label())));
    }
    let from = l.status();
    let to = transition(from, action).map_err(|e| ApiError::conflict("illegal_transition", e.message()))?;
    let now = ledger_time(state.now());
    let fx = effects(state, user, &l, action, party, body, now).await?;
    commit(state, &l.ticket, to, action, Actor::staff(user.id, &user.name), fx, now).await?;
    let fresh = repo::tickets::by_no(&state.db.conn, no).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    Ok(ticket_view(&state.db.conn, &fresh).await?)
}

/// Writes the action's effects in one transaction: assignment first (the ticket points at it), then
/// the conditional ticket update with its event, then uploads and messages. A stale ticket rolls
/// everything back and answers 409.
async fn commit(
    state: &AppState,
    ticket: &Ticket,
    to: Status,
    action: Action,
    actor: Actor,
    mut fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let tx = state.db.begin().await?;
    if let Some(new) = fx.new_assignment.take() {
        let a = repo::assignments::create(&*tx, new, now).await?;
        fx.extra.push((tickets::Column::CurrentAssignmentId, Some(a.id).into()));
        fx.extra.push((tickets::Column::UnitId, Some(a.unit_id).into()));
        if let Some(obj) = fx.data.as_object_mut() {
            obj.insert("assignment_id".into(), json!(a.id));
        }
    }
    if !fx.upload_ids.is_empty()
        && let Some(obj) = fx.data.as_object_mut()
    {
        obj.insert("upload_ids".into(), json!(fx.upload_ids));
    }
    let ev = NewEvent { action: action.as_str(), actor, note: fx.note, data: fx.data, public: fx.public };
    let fresh = match repo::tickets::apply(&*tx, ticket, to, fx.extra, &ev, now).await? {
        Applied::Done(t) => *t,
        Applied::Stale => {
            return Err(ApiError::conflict("conflict", "工单已被他人处理，请刷新后重试"));
        }
    };
    if let Some((id, cols)) = fx.assignment_update {
        repo::assignments::set(&*tx, id, cols).await?;
    }
    repo::uploads::attach(&*tx, &fx.upload_ids, ticket.id).await?;
    for (msg, phone) in &fx.sms {
        repo::outbox::enqueue(&*tx, msg, phone, Some(ticket.id), now).await?;
    }
    tx.commit().await?;
    tracing::info!(ticket_no = %ticket.no, action = action.as_str(), from = %ticket.status, to = %to, "ticket action");
    metrics::counter!("minsheng_ticket_actions_total", "action" => action.as_str()).increment(1);
    Ok(fresh)
}

async fn effects(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    action: Action,
    party: Option<SignoffParty>,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let db = &state.db.conn;
    let t = &l.ticket;
    let sign = &state.settings.county.sms_sign;
    let mut fx = Effects::new(true);
    match action {
        Action::Register => {
            let mut category = t.category_code.clone();
            if let Some(c) = optional(&body.category) {
                repo::catalog::category(db, &c)
                    .await?
                    .filter(|c| c.active)
                    .ok_or_else(|| ApiError::unprocessable("unknown_category", "category", "诉求分类不存在"))?;
                category = c;
            }
            let kind = match body.kind.as_deref() {
                Some(k) => Kind::parse(k)
                    .ok_or_else(|| ApiError::validation("kind", format!("诉求类型不正确，可选：{}", Kind::names())))?,
                None => Kind::parse(&t.kind).unwrap_or(Kind::Help),
            };
            let priority = match body.priority.as_deref() {
                Some(p) => Priority::parse(p)
                    .ok_or_else(|| ApiError::validation("priority", "紧急程度只能是 normal 或 urgent"))?,
                None => Priority::parse(&t.priority).unwrap_or(Priority::Normal),
            };
            let policy = repo::catalog::policy_for(db, &category, priority.as_str()).await?;
            fx.note = optional(&body.note);
            fx.data = json!({"category": category, "kind": kind.as_str(), "priority": priority.as_str(),
                             "late": t.register_by.is_some_and(|by| now > by)});
            fx.extra = vec![
                (tickets::Column::CategoryCode, category.into()),
                (tickets::Column::Kind, kind.as_str().into()),
                (tickets::Column::Priority, priority.as_str().into()),
                (tickets::Column::SignoffRequired, policy.signoff_required.into()),
                (tickets::Column::RegisteredAt, Some(now).into()),
            ];
        }
        Action::Dispatch => {
            let unit_id = body.unit_id.ok_or_else(|| ApiError::validation("unit_id", "请选择承办单位"))?;
            let unit = repo::regions::unit(db, unit_id)
                .await?
                .filter(|u| u.active)
                .ok_or_else(|| ApiError::unprocessable("unknown_unit", "unit_id", "承办单位不存在或已停用"))?;
            let unit_region =
                repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("地区不存在"))?;
            if !user.covers_region(&unit_region.path) {
                return Err(ApiError::unprocessable("unit_out_of_scope", "unit_id", "该承办单位不在您的派单范围内"));
            }
            let assignee = match body.assignee_id {
                Some(id) => Some(
                    repo::staff::get(db, id)
                        .await?
                        .filter(|s| s.active && s.unit_id == Some(unit.id) && s.roles.contains("cadre"))
                        .ok_or_else(|| {
                            ApiError::unprocessable("unknown_assignee", "assignee_id", "承办人不属于该单位")
                        })?,
                ),
                None => None,
            };
            let policy = repo::catalog::policy_for(db, &t.category_code, &t.priority).await?;
            let dl = state.clock().assignment(&policy, now);
            fx.note = optional(&body.note);
            fx.data = json!({"unit_id": unit.id, "unit_name": unit.name, "assignee_id": assignee.as_ref().map(|s| s.id),
                             "assignee_name": assignee.as_ref().map(|s| s.name.clone()),
                             "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by});
            if t.first_dispatched_at.is_none() {
                fx.extra.push((tickets::Column::FirstDispatchedAt, Some(now).into()));
            }
            // A reopened ticket may already be back with its unit: the new dispatch supersedes that.
            if let Some(a) = l.active() {
                fx.assignment_update = Some(end_cols("superseded", Some("改派"), now, a.id));
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
            let link = format!("{}/console/", state.public_url());
            for phone in unit_phones(db, unit.id, assignee.as_ref().map(|s| s.id)).await? {
                let msg =
                    templates::assignment(sign, &t.no, &category, &village, &fmt_local(state, dl.respond_by), &link);
                fx.sms.push((msg, phone));
            }
        }
        Action::Accept => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            fx.note = optional(&body.note);
            fx.data = json!({"assignment_id": a.id, "in_time": now <= a.respond_by});
            let mut cols = vec![(assignments::Column::AcceptedAt, Some(now).into())];
            if a.assignee_id.is_none() {
                cols.push((assignments::Column::AssigneeId, Some(user.id).into()));
            }
            fx.assignment_update = Some((a.id, cols));
        }
        Action::Return => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            fx = Effects::new(false);
            fx.note = Some(required(&body.reason, "reason", "退单理由")?);
            fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id});
            fx.extra = vec![
                (tickets::Column::CurrentAssignmentId, Option::<i64>::None.into()),
                (tickets::Column::UnitId, Option::<i64>::None.into()),
            ];
            fx.assignment_update = Some(end_cols("returned", fx.note.as_deref(), now, a.id));
        }
        Action::Progress => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            fx.note = Some(required(&body.note, "note", "办理进展")?);
            fx.upload_ids = validate_uploads(state, &body.upload_ids).await?;
            fx.data = json!({"assignment_id": a.id});
            if a.first_progress_at.is_none() {
                fx.assignment_update = Some((a.id, vec![(assignments::Column::FirstProgressAt, Some(now).into())]));
            }
        }
        Action::Resolve => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            fx.note = Some(required(&body.result, "result", "办理结果")?);
            fx.upload_ids = validate_uploads(state, &body.upload_ids).await?;
            fx.data = json!({"assignment_id": a.id, "in_time": now <= a.resolve_by});
            let mut cols = end_cols("completed", None, now, a.id).1;
            cols.push((assignments::Column::ResolvedAt, Some(now).into()));
            if a.first_progress_at.is_none() {
                cols.push((assignments::Column::FirstProgressAt, Some(now).into()));
            }
            fx.assignment_update = Some((a.id, cols));
            resolution_effects(state, t, &mut fx, now).await?;
        }
        Action::Escalate => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            let reason = required(&body.reason, "reason", "提级理由")?;
            let target = escalation_target(db, a.unit_id).await?;
            let policy = repo::catalog::policy_for(db, &t.category_code, &t.priority).await?;
            let dl = state.clock().assignment(&policy, now);
            fx.note = Some(reason);
            fx.data = json!({"from_unit_id": a.unit_id, "unit_id": target.id, "unit_name": target.name,
                             "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by});
            fx.assignment_update = Some(end_cols("escalated", fx.note.as_deref(), now, a.id));
            fx.new_assignment = Some(NewAssignment {
                ticket_id: t.id,
                unit_id: target.id,
                assignee_id: None,
                dispatched_by: Some(user.id),
                escalated_from_id: Some(a.id),
                reopened: a.reopened,
                deadlines: dl,
            });
            let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
            for phone in unit_phones(db, target.id, None).await? {
                fx.sms.push((templates::escalation(sign, &t.no, &category, &fmt_local(state, dl.respond_by)), phone));
            }
        }
        Action::Urge => {
            let a = l.active().ok_or_else(|| ApiError::conflict("no_assignment", "工单没有在办的派单"))?;
            fx = Effects::new(false);
            fx.note = optional(&body.note);
            fx.data = json!({"assignment_id": a.id, "unit_id": a.unit_id});
            for phone in unit_phones(db, a.unit_id, a.assignee_id).await? {
                fx.sms.push((templates::urge(sign, &t.no, fx.note.as_deref().unwrap_or("")), phone));
            }
        }
        Action::Reopen => {
            fx.note = Some(required(&body.reason, "reason", "重办理由")?);
            fx.data = json!({"previous_unit_id": t.unit_id});
            fx.extra = reopen_cols();
        }
        Action::Close => {
            if t.signoff_required {
                let missing = missing_signoffs(db, t).await?;
                if !missing.is_empty() {
                    return Err(ApiError::conflict(
                        "signoff_missing",
                        format!("归档前还需会签：{}", missing.join("、")),
                    ));
                }
            }
            fx.note = optional(&body.note);
            fx.extra = vec![(tickets::Column::ClosedAt, Some(now).into())];
        }
        Action::Signoff => {
            let party = party.ok_or_else(|| ApiError::validation("party", "请选择会签方"))?;
            let signed = signed_parties(db, t).await?;
            if signed.contains(&party.as_str().to_string()) {
                return Err(ApiError::conflict("already_signed", "该方已会签"));
            }
            fx = Effects::new(false);
            fx.note = optional(&body.note);
            fx.data = json!({"party": party.as_str()});
        }
        Action::Refer => {
            fx.note = Some(required(&body.reason, "reason", "下交理由")?);
            fx.extra = vec![
                (tickets::Column::CurrentAssignmentId, Option::<i64>::None.into()),
                (tickets::Column::UnitId, Option::<i64>::None.into()),
            ];
            if let Some(a) = l.active() {
                fx.assignment_update = Some(end_cols("superseded", Some("下交村民议事会"), now, a.id));
            }
        }
        Action::CouncilDecision => {
            fx.note = Some(required(&body.decision, "decision", "合议决定")?);
            resolution_effects(state, t, &mut fx, now).await?;
        }
        Action::Merge => {
            let into_no = required(&body.into, "into", "合并到的工单编号")?;
            let into = load(db, &into_no)
                .await
                .map_err(|_| ApiError::unprocessable("unknown_ticket", "into", "要合并到的工单不存在"))?;
            if into.ticket.id == t.id {
                return Err(ApiError::unprocessable("merge_into_self", "into", "不能合并到自身"));
            }
            if !user.scope.can_read(&into.facts()) || matches!(into.status(), Status::Merged | Status::Invalid) {
                return Err(ApiError::unprocessable("merge_target_unusable", "into", "要合并到的工单不可用"));
            }
            fx.note = Some(format!("已合并至工单{}", into.ticket.no));
            fx.data = json!({"into": into.ticket.no});
            fx.extra = vec![(tickets::Column::MergedIntoId, Some(into.ticket.id).into())];
        }
        Action::Invalid => {
            fx.note = Some(required(&body.reason, "reason", "作废理由")?);
        }
        Action::ReturnVisit(_) => return Err(ApiError::not_found("回访请使用回访接口")),
        Action::Appeal | Action::AppealDecision => return Err(ApiError::not_found("申诉请使用申诉接口")),
    }
    Ok(fx)
}

fn end_cols(
    status: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
    id: i64,
) -> (i64, Vec<(assignments::Column, Value)>) {
    (
        id,
        vec![
            (assignments::Column::Status, status.into()),
            (assignments::Column::EndedAt, Some(now).into()),
            (assignments::Column::EndReason, reason.map(str::to_string).into()),
        ],
    )
}

/// Columns a reopening clears: the order waits for dispatch again, visits and closing start over.
pub fn reopen_cols() -> Vec<(tickets::Column, Value)> {
    vec![
        (tickets::Column::CurrentAssignmentId, Option::<i64>::None.into()),
        (tickets::Column::VisitBy, Option::<DateTime<Utc>>::None.into()),
        (tickets::Column::ClosedAt, Option::<DateTime<Utc>>::None.into()),
    ]
}

/// A resolution sets the visit deadline and asks the requester to rate.
async fn resolution_effects(state: &AppState, t: &Ticket, fx: &mut Effects, now: DateTime<Utc>) -> ApiResult<()> {
    let policy = repo::catalog::policy_for(&state.db.conn, &t.category_code, &t.priority).await?;
    let visit_by = state.clock().add(policy.clock, now, policy.visit_minutes);
    fx.extra.push((tickets::Column::ResolvedAt, Some(now).into()));
    fx.extra.push((tickets::Column::VisitBy, Some(visit_by).into()));
    // The resolution is the ticket's next ledger event: the rating link names its sequence number.
    let link = super::rating::link(state, t.id, t.event_seq + 1, now);
    let msg = templates::rating_request_with_link(&state.settings.county.sms_sign, &t.no, &link);
    fx.sms.push((msg, t.requester_phone.clone()));

    Ok(())
}

/// Escalation goes to the lead unit of the parent region of the unit now holding the order.
async fn escalation_target<C: ConnectionTrait>(db: &C, unit_id: i64) -> ApiResult<repo::regions::Unit> {
    let unit = repo::regions::unit(db, unit_id).await?.ok_or_else(|| ApiError::not_found("承办单位不存在"))?;
    let region = repo::regions::get(db, unit.region_id).await?.ok_or_else(|| ApiError::not_found("地区不存在"))?;
    let Some(parent) = region.parent_id else {
        return Err(ApiError::conflict("cannot_escalate", "已是县级承办单位，无法再提级"));
    };
    repo::regions::lead_unit(db, parent)
        .await?
        .ok_or_else(|| ApiError::conflict("cannot_escalate", "上级地区没有牵头承办单位，请由派单员指定"))
}

/// Parties that signed off since the ticket's last resolution.
async fn signed_parties<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Vec<String>> {
    let events = repo::tickets::events_of(db, t.id).await?;
    let since = events.iter().rposition(|e| e.to_status == "resolved" && e.from_status != "resolved").unwrap_or(0);
    Ok(events[since..]
        .iter()
        .filter(|e| e.action == "signoff")
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(&e.data).ok())
        .filter_map(|d| d.get("party").and_then(|p| p.as_str()).map(str::to_string))
        .collect())
}

pub async fn missing_signoffs<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Vec<&'static str>> {
    let signed = signed_parties(db, t).await?;
    Ok([("requester", "群众"), ("handler", "承办人"), ("leader", "分管领导"), ("principal", "主要领导")]
        .into_iter()
        .filter(|(p, _)| !signed.iter().any(|s| s == p))
        .map(|(_, label)| label)
        .collect())
}

/// A workflow step taken outside `act` (return visits, automatic closing).
pub struct Step {
    pub actor: Actor,
    pub note: Option<String>,
    pub data: serde_json::Value,
    pub extra: Vec<(tickets::Column, Value)>,
}

/// Runs a transition for a workflow step inside the caller's transaction.
pub async fn apply_in<C: ConnectionTrait>(
    db: &C,
    ticket: &Ticket,
    action: Action,
    step: Step,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let from = Status::parse(&ticket.status).unwrap_or(Status::Submitted);
    let to = transition(from, action).map_err(|e| ApiError::conflict("illegal_transition", e.message()))?;
    let ev = NewEvent { action: action.as_str(), actor: step.actor, note: step.note, data: step.data, public: true };
    match repo::tickets::apply(db, ticket, to, step.extra, &ev, now).await? {
        Applied::Done(t) => Ok(*t),
        Applied::Stale => Err(ApiError::conflict("conflict", "工单已被他人处理，请刷新后重试")),
    }
}

/// Roles that may see the staff list of tickets.
pub const LIST_ROLES: [Role; 7] =
    [Role::Admin, Role::Operator, Role::Dispatcher, Role::Cadre, Role::Caller, Role::Leader, Role::Inspector];

/// The ticket visibility of a staff member (the OR of their roles' scopes).
pub fn visibility(user: &StaffUser) -> repo::tickets::Visibility {
    let region_roles = user.scope.roles.iter().any(|r| !r.is_unit_scoped());
    repo::tickets::Visibility {
        region_paths: if region_roles { vec![user.scope.region_path.clone()] } else { vec![] },
        unit_id: if user.has(Role::Cadre) { user.scope.unit_id } else { None },
    }
}

/// Start of a local day, as a UTC instant.
pub fn local_day_start(state: &AppState, d: chrono::NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
    state
        .tz()
        .from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&naive))
}

/// The day after `d` at local midnight (exclusive end of an inclusive date range).
pub fn local_day_end(state: &AppState, d: chrono::NaiveDate) -> DateTime<Utc> {
    local_day_start(state, d.succ_opt().unwrap_or(d))
}
