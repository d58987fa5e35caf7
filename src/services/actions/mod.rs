//! Ticket actions (API.md "Actions"): each checks role and scope, asks the state machine, computes
//! its effects (one module per family of actions), then commits in one transaction the conditional
//! update with exactly one ledger event, plus the assignment, upload and outbox rows it implies.
pub mod allowed;
pub mod closing;
pub mod council;
pub mod desk;
pub mod escalation;
pub mod handling;
pub mod joint;
pub mod pause;

use super::change::{self, Effects, OrderNotice};
use super::fields::{optional, required, validate_uploads};
use super::orders::{after, desk_deadline, unit_recipients};
use super::tickets::{Loaded, load_readable};
use super::views::{TicketView, ticket_view};
use crate::auth::StaffUser;
use crate::domain::ledger::ledger_time;
use crate::domain::roles::SignoffParty;
use crate::domain::ticket::{Action, transition};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::Actor;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Body of `POST /api/v1/tickets/{no}/{action}`: the union of every action's fields.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"note": "已联系村民，明天上门查看"}))]
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
    /// council_sign: the council member who signed (三老合议).
    pub member_id: Option<i64>,
    /// council_decision: the members who took part (each must have signed; default: every signer).
    pub member_ids: Option<Vec<i64>>,
    /// council_decision: also text the decision to the cadres of the village's units.
    pub notify_cadres: Option<bool>,
    /// pause_request: the day the unit expects to go on (YYYY-MM-DD, county time); the pause ends
    /// at 08:00 that day.
    pub resume_on: Option<String>,
    /// urge: phone (default), written, onsite or interview.
    #[serde(rename = "type")]
    pub urge_type: Option<String>,
    /// urge: 1 一般催办 (default), 2 重点催办, 3 挂牌督办.
    pub level: Option<i32>,
    /// dispatch: the assisting units (联合办理), each given its own part of the order.
    pub assisting_unit_ids: Option<Vec<i64>>,
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
    // Illegal in this state: 409 before the body is even looked at.
    transition(l.status(), action).map_err(change::illegal)?;
    let now = ledger_time(state.now());
    let fx = effects(state, user, &l, action, party, body, now).await?;
    let actor = if user.is_person() { Actor::staff(user.id, &user.name) } else { Actor::unit(&user.name) };
    if action == Action::Verify {
        closing::verify_and_close(state, &l.ticket, actor, fx, now).await?;
    } else if council::writes_rows(action) {
        council::commit(state, user, &l, action, actor, fx, now).await?;
    } else {
        change::commit(state, &l.ticket, action, actor, fx, now).await?;
    }
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
        Action::Refer => council::refer(state, l, body).await?,
        Action::ReferApprove => council::approve(state, l, body, now).await?,
        Action::ReferRefuse => council::refuse(state, l, body).await?,
        Action::CouncilSign => council::sign(state, l, body).await?,
        Action::CouncilDecision => council::decision(state, l, body, now).await?,
        Action::Merge => desk::merge(state, user, l, body).await?,
        Action::Invalid => desk::invalid(body)?,
        Action::Dispatch => handling::dispatch(state, user, l, body, now).await?,
        Action::Redirect => handling::redirect(state, user, l, body, now).await?,
        Action::Withdraw => handling::withdraw(state, l, body, now).await?,
        Action::Accept => handling::accept(state, user, l, body, now)?,
        Action::Return => handling::return_(state, l, body, now).await?,
        Action::Progress => handling::progress(l, body, now)?,
        Action::Resolve => handling::resolve(state, l, body, now).await?,
        Action::Urge => handling::urge(state, user, l, body).await?,
        Action::Escalate => escalation::escalate(state, user, l, body, now).await?,
        Action::EscalateRequest => escalation::request(state, user, l, body, now).await?,
        Action::EscalateRefuse => escalation::refuse(l, body, now)?,
        Action::Reopen => closing::reopen(state, l, body, now).await?,
        Action::Close => closing::close(state, l, body, now).await?,
        Action::Signoff => closing::signoff(state, user, l, party, body).await?,
        Action::Verify => closing::verify(l, body)?,
        Action::PauseRequest => pause::request(state, user, l, body, now)?,
        Action::PauseApprove => pause::approve(state, user, l, body, now).await?,
        Action::PauseRefuse => pause::refuse(state, user, l, body, now).await?,
        Action::Resume => pause::resume(state, &state.db.conn, l, body, Some(user), now).await?,
        Action::AssistAccept => joint::accept(state, user, l, body, now).await?,
        Action::AssistReport => joint::report(state, user, l, body, now).await?,
        Action::AssistRelease => joint::release(state, l, body, now).await?,
        Action::ReturnVisit(_) => return Err(ApiError::not_found("回访请使用回访接口")),
        Action::Appeal | Action::AppealDecision => return Err(ApiError::not_found("申诉请使用申诉接口")),
        Action::SmsReply => return Err(ApiError::not_found("短信回复请使用短信接口")),
        Action::ProactiveLink => return Err(ApiError::not_found("关联未诉先办请在登记未诉先办工单时填写")),
    };
    // Every action may carry evidence (photos of the site, the council's minutes, a signed form).
    fx.upload_ids = validate_uploads(state, &body.upload_ids).await?;
    Ok(fx)
}
