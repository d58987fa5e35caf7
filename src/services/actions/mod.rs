//! Ticket actions (API.md "Actions"): each checks role and scope, asks the state machine, computes
//! its effects (one module per family of actions), then commits in one transaction the conditional
//! update with exactly one ledger event, plus the assignment, upload and outbox rows it implies.
pub mod allowed;
pub mod closing;
pub mod desk;
pub mod escalation;
pub mod handling;

use super::tickets::{Loaded, load_readable};
use super::views::{TicketView, ticket_view};
use crate::auth::StaffUser;
use crate::domain::ledger::ledger_time;
use crate::domain::roles::SignoffParty;
use crate::domain::sla::{AssignmentDeadlines, Calendar, Clock, Policy};
use crate::domain::ticket::{Action, Status, transition};
use crate::domain::worklink::{self, WorkLink};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::NewAssignment;
use crate::repo::tickets::{Actor, Applied, NewEvent, Ticket};
use crate::sms::templates::{self, Message};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
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
    /// council_decision: whether the decision is shown to the public (default yes).
    pub publish: Option<bool>,
}

/// A message for the unit that receives a new assignment; built once the assignment has an id, so
/// that its signed `/w/{token}` link can be put in.
pub enum OrderNotice {
    Assignment { category: String, village: String, respond_by: String },
    Escalation { category: String, respond_by: String },
}

/// What an action writes besides the ticket row and the event.
pub struct Effects {
    pub extra: Vec<(tickets::Column, Value)>,
    pub note: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
    /// Messages to send: (message, phone).
    pub sms: Vec<(Message, String)>,
    pub new_assignment: Option<NewAssignment>,
    /// Messages about the new assignment: (phone, staff id the link acts for, notice).
    pub order_sms: Vec<(String, Option<i64>, OrderNotice)>,
    /// The active assignment's changes: (id, columns).
    pub assignment_update: Option<(i64, Vec<(assignments::Column, Value)>)>,
    pub upload_ids: Vec<String>,
}

impl Effects {
    pub fn new(public: bool) -> Self {
        Effects {
            extra: vec![],
            note: None,
            data: json!({}),
            public,
            sms: vec![],
            new_assignment: None,
            order_sms: vec![],
            assignment_update: None,
            upload_ids: vec![],
        }
    }
}

pub fn required(v: &Option<String>, field: &str, what: &str) -> ApiResult<String> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref() {
        Some(s) if crate::domain::text::visible_len(s) > 0 => {
            if s.chars().count() > 2000 {
                Err(ApiError::validation(field, format!("{what}不能超过2000个字")))
            } else {
                Ok(s.to_string())
            }
        }
        _ => Err(ApiError::validation(field, format!("请填写{what}"))),
    }
}

pub fn optional(v: &Option<String>, field: &str) -> ApiResult<Option<String>> {
    let v = v.as_deref().map(|s| super::clean_text(s, field)).transpose()?;
    match v.as_deref().filter(|s| crate::domain::text::visible_len(s) > 0) {
        Some(s) if s.chars().count() > 2000 => Err(ApiError::validation(field, "备注不能超过2000个字")),
        other => Ok(other.map(str::to_string)),
    }
}

pub fn fmt_local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.tz()).format("%m月%d日%H:%M").to_string()
}

/// Who hears about a unit's order: the named assignee, else the unit's cadres, else its duty phone
/// (no staff member behind it). Each as (phone, staff id).
pub async fn unit_recipients<C: ConnectionTrait>(
    db: &C,
    unit_id: i64,
    assignee: Option<i64>,
) -> ApiResult<Vec<(String, Option<i64>)>> {
    if let Some(id) = assignee
        && let Some(s) = repo::staff::get(db, id).await?
        && let Some(p) = s.phone
    {
        return Ok(vec![(p, Some(s.id))]);
    }
    let cadres: Vec<(String, Option<i64>)> = repo::staff::cadres_of_unit(db, unit_id)
        .await?
        .into_iter()
        .filter_map(|s| s.phone.map(|p| (p, Some(s.id))))
        .collect();
    if !cadres.is_empty() {
        return Ok(cadres);
    }
    Ok(repo::regions::unit(db, unit_id).await?.and_then(|u| u.phone).map(|p| (p, None)).into_iter().collect())
}

pub async fn validate_uploads(state: &AppState, ids: &Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let ids = ids.clone().unwrap_or_default();
    if ids.len() > 9 {
        return Err(ApiError::validation("upload_ids", "附件最多9个"));
    }
    let mut seen = std::collections::HashSet::new();
    for id in &ids {
        if !seen.insert(id) || !repo::uploads::is_free(&state.db.conn, id).await? {
            return Err(ApiError::unprocessable("unknown_upload", "upload_ids", "附件不存在或已被使用"));
        }
    }
    Ok(ids)
}

/// The holiday calendar as stored now (an admin may have added a year a minute ago).
pub async fn calendar<C: ConnectionTrait>(db: &C) -> ApiResult<Calendar> {
    Ok(repo::calendar::load(db).await?)
}

/// `minutes` of the policy's clock after `start`.
pub async fn after<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    policy: &Policy,
    start: DateTime<Utc>,
    minutes: i64,
) -> ApiResult<DateTime<Utc>> {
    let cal = calendar(db).await?;
    let tz = state.tz();
    let end = Clock { calendar: &cal, tz }.add(policy.clock, start, minutes);
    if policy.clock == crate::domain::sla::ClockKind::Workdays {
        // A year whose holiday arrangement is not entered yet counts Monday to Friday: say so, loudly
        // enough for operations to enter it (GET/PUT /api/v1/calendar/{year}).
        use chrono::Datelike;
        let (first, last) = (start.with_timezone(&tz).year(), end.with_timezone(&tz).year());
        for year in (first..=last).filter(|y| !cal.knows_year(*y)) {
            tracing::warn!(
                year,
                "working-day deadline runs through a year without a holiday calendar; counting Monday to Friday"
            );
            metrics::counter!("minsheng_calendar_year_missing_total").increment(1);
        }
    }
    Ok(end)
}

/// Desk deadlines (registration, dispatch) run on natural time: the hotline desk and the
/// dispatchers work around the clock, while a policy's working-day clock is for the units.
pub fn desk_deadline(start: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    start + Duration::minutes(minutes)
}

/// The policy of a ticket and the deadlines of an assignment created at `now`.
pub async fn assignment_deadlines<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &Ticket,
    now: DateTime<Utc>,
) -> ApiResult<AssignmentDeadlines> {
    let policy = repo::catalog::policy_for(db, &t.category_code, &t.priority).await?;
    let cal = calendar(db).await?;
    Ok(Clock { calendar: &cal, tz: state.tz() }.assignment(&policy, now))
}

pub fn end_cols(
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
            (assignments::Column::NextCheckAt, Option::<DateTime<Utc>>::None.into()),
        ],
    )
}

/// The key that signs cadres' order links (its own key, derived for this purpose only).
pub fn worklink_key(state: &AppState) -> &[u8] {
    state.keys.work_link.bytes()
}

/// The cadre's order page for an assignment: valid until a week after its result deadline.
pub fn worklink_url(state: &AppState, assignment_id: i64, staff_id: Option<i64>, resolve_by: DateTime<Utc>) -> String {
    let link = WorkLink { assignment_id, staff_id, expires: resolve_by + Duration::days(7) };
    format!("{}/w/{}", state.public_url(), worklink::sign(worklink_key(state), &link))
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
    // A cadre's escalation is a request for the dispatcher to decide; a dispatcher's takes effect.
    let action = if action == Action::Escalate
        && !user.scope.can_act(Action::Escalate, &l.facts(), None)
        && user.scope.can_act(Action::EscalateRequest, &l.facts(), None)
    {
        Action::EscalateRequest
    } else {
        action
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

async fn effects(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    action: Action,
    party: Option<SignoffParty>,
    body: &ActionBody,
    now: DateTime<Utc>,
) -> ApiResult<Effects> {
    let mut fx = match action {
        Action::Register => desk::register(state, l, body, now).await?,
        Action::Refer => desk::refer(state, l, body, now).await?,
        Action::CouncilDecision => desk::council_decision(state, l, body, now).await?,
        Action::Merge => desk::merge(state, user, l, body).await?,
        Action::Invalid => desk::invalid(body)?,
        Action::Dispatch => handling::dispatch(state, user, l, body, now).await?,
        Action::Accept => handling::accept(user, l, body, now)?,
        Action::Return => handling::return_(state, l, body, now).await?,
        Action::Progress => handling::progress(l, body, now)?,
        Action::Resolve => handling::resolve(state, l, body, now).await?,
        Action::Urge => handling::urge(state, l, body).await?,
        Action::Escalate => escalation::escalate(state, user, l, body, now).await?,
        Action::EscalateRequest => escalation::request(state, user, l, body, now).await?,
        Action::EscalateRefuse => escalation::refuse(l, body, now)?,
        Action::Reopen => closing::reopen(state, l, body, now).await?,
        Action::Close => closing::close(state, l, body, now).await?,
        Action::Signoff => closing::signoff(state, user, l, party, body).await?,
        Action::ReturnVisit(_) => return Err(ApiError::not_found("回访请使用回访接口")),
        Action::Appeal | Action::AppealDecision => return Err(ApiError::not_found("申诉请使用申诉接口")),
    };
    // Every action may carry evidence (photos of the site, the council's minutes, a signed form).
    fx.upload_ids = validate_uploads(state, &body.upload_ids).await?;
    Ok(fx)
}

/// Writes an action's effects in its own transaction; a stale ticket rolls everything back (409).
pub async fn commit(
    state: &AppState,
    ticket: &Ticket,
    to: Status,
    action: Action,
    actor: Actor,
    fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let tx = state.db.begin().await?;
    let fresh = commit_in(state, &*tx, ticket, to, action, actor, fx, now).await?;
    tx.commit().await?;
    Ok(fresh)
}

/// Writes the effects inside the caller's transaction: assignment first (the ticket points at it),
/// then the conditional ticket update with its event, then uploads and messages.
#[allow(clippy::too_many_arguments)]
pub async fn commit_in<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket: &Ticket,
    to: Status,
    action: Action,
    actor: Actor,
    mut fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let mut created = None;
    if let Some(new) = fx.new_assignment.take() {
        let a = repo::assignments::create(db, new, now).await?;
        fx.extra.push((tickets::Column::CurrentAssignmentId, Some(a.id).into()));
        fx.extra.push((tickets::Column::UnitId, Some(a.unit_id).into()));
        if let Some(obj) = fx.data.as_object_mut() {
            obj.insert("assignment_id".into(), json!(a.id));
        }
        created = Some(a);
    }
    if !fx.upload_ids.is_empty()
        && let Some(obj) = fx.data.as_object_mut()
    {
        obj.insert("upload_ids".into(), json!(fx.upload_ids));
    }
    let ev = NewEvent { action: action.as_str(), actor, note: fx.note, data: fx.data, public: fx.public };
    let fresh = match repo::tickets::apply(db, ticket, to, fx.extra, &ev, now).await? {
        Applied::Done(t) => *t,
        Applied::Stale => return Err(ApiError::conflict("conflict", "工单已被他人处理，请刷新后重试")),
    };
    if let Some((id, cols)) = fx.assignment_update {
        repo::assignments::set(db, id, cols).await?;
    }
    if to == Status::Resolved {
        // Each resolution gets its own return visit: back in the callers' queue with fresh tries.
        repo::visits::reset(db, ticket.id).await?;
    }
    repo::uploads::attach(db, &fx.upload_ids, ticket.id).await?;
    let sign = &state.settings.county.sms_sign;
    if let Some(a) = &created {
        for (phone, staff, notice) in &fx.order_sms {
            let link = worklink_url(state, a.id, *staff, a.resolve_by);
            let msg = match notice {
                OrderNotice::Assignment { category, village, respond_by } => {
                    templates::assignment(sign, &ticket.no, category, village, respond_by, &link)
                }
                OrderNotice::Escalation { category, respond_by } => {
                    templates::escalation_with_link(sign, &ticket.no, category, respond_by, &link)
                }
            };
            repo::outbox::enqueue(db, &msg, phone, Some(ticket.id), now).await?;
        }
    }
    for (msg, phone) in &fx.sms {
        repo::outbox::enqueue(db, msg, phone, Some(ticket.id), now).await?;
    }
    tracing::info!(ticket_no = %ticket.no, action = action.as_str(), from = %ticket.status, to = %to, "ticket action");
    metrics::counter!("minsheng_ticket_actions_total", "action" => action.as_str()).increment(1);
    Ok(fresh)
}
