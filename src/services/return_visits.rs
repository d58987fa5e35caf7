//! Return visits (回访): the caller records whether the requester was reached, whether the problem
//! is solved and how satisfied they are. Satisfied → visited (and closed when no sign-off is
//! needed, two events in one transaction); dissatisfied or not solved → reopened.
use super::change::{self, Effects, reopen_patch};
use super::tickets::{Loaded, load_readable};
use super::views::{TicketView, ticket_view};
use crate::auth::StaffUser;
use crate::domain::ledger::ledger_time;
use crate::domain::roles::Role;
use crate::domain::ticket::{Action, Status, VisitOutcome};
use crate::domain::values::{Satisfaction, Solved, VisitChannel, VisitTaskStatus};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::{Actor, TicketPatch};
use crate::sms::templates::Message;
use crate::state::AppState;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The longest comment a return visit (or the villager's rating page) records, in characters.
pub const COMMENT_MAX: usize = 1000;

#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct Scores {
    pub attitude: Option<i32>,
    pub capability: Option<i32>,
    pub convenience: Option<i32>,
    pub efficiency: Option<i32>,
}

#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "comment": "修好了"}))]
pub struct VisitRequest {
    pub reached: Option<bool>,
    pub solved: Option<String>,
    pub satisfaction: Option<String>,
    pub scores: Option<Scores>,
    pub comment: Option<String>,
    pub channel: Option<String>,
}

struct Visit {
    reached: bool,
    solved: Option<Solved>,
    satisfaction: Option<Satisfaction>,
    scores: Option<[i32; 4]>,
    comment: Option<String>,
    channel: VisitChannel,
}

impl Visit {
    fn outcome(&self) -> VisitOutcome {
        match (self.reached, self.solved, self.satisfaction) {
            (false, _, _) => VisitOutcome::Unreached,
            (
                true,
                Some(Solved::Yes | Solved::Partly),
                Some(Satisfaction::Satisfied | Satisfaction::BasicallySatisfied),
            ) => VisitOutcome::Satisfied,
            _ => VisitOutcome::Unsatisfied,
        }
    }
}

fn parse(r: &VisitRequest) -> ApiResult<Visit> {
    let reached = r.reached.ok_or_else(|| ApiError::validation("reached", "请说明是否联系到群众"))?;
    let channel = r.channel.as_deref().ok_or_else(|| ApiError::validation("channel", "请选择回访方式"))?;
    let channel = VisitChannel::parse(channel)
        .ok_or_else(|| ApiError::validation("channel", format!("回访方式不正确，可选：{}", VisitChannel::names())))?;
    let (solved, satisfaction) = if reached {
        let s = r.solved.as_deref().ok_or_else(|| ApiError::validation("solved", "请选择问题是否解决"))?;
        let s = Solved::parse(s).ok_or_else(|| ApiError::validation("solved", "是否解决只能是 yes、partly 或 no"))?;
        let m = r.satisfaction.as_deref().ok_or_else(|| ApiError::validation("satisfaction", "请选择满意程度"))?;
        let m = Satisfaction::parse(m).ok_or_else(|| {
            ApiError::validation("satisfaction", "满意程度只能是 satisfied、basically_satisfied 或 dissatisfied")
        })?;
        (Some(s), Some(m))
    } else {
        (None, None)
    };
    let scores = match &r.scores {
        None => None,
        Some(s) => {
            let mut out = [0; 4];
            for (i, (name, v)) in [
                ("attitude", s.attitude),
                ("capability", s.capability),
                ("convenience", s.convenience),
                ("efficiency", s.efficiency),
            ]
            .into_iter()
            .enumerate()
            {
                out[i] = v
                    .filter(|v| (1..=5).contains(v))
                    .ok_or_else(|| ApiError::validation(format!("scores.{name}"), "评分须为1到5分"))?;
            }
            Some(out)
        }
    };
    let comment = r.comment.as_deref().map(|c| super::clean_text(c, "comment")).transpose()?;
    let comment = comment.filter(|c| crate::domain::text::visible_len(c) > 0);
    if comment.as_ref().is_some_and(|c| c.chars().count() > COMMENT_MAX) {
        return Err(ApiError::validation("comment", format!("回访意见不能超过{COMMENT_MAX}个字")));
    }
    Ok(Visit { reached, solved, satisfaction, scores, comment, channel })
}

#[derive(Serialize)]
pub struct VisitAnswer {
    pub visit_id: i64,
    pub outcome: &'static str,
    /// True once every try failed to reach the requester: reported, never counted as satisfied.
    pub unreachable: bool,
    pub ticket: TicketView,
}

/// Who recorded a visit: a caller, or the requester themselves (SMS reply, rating link).
pub struct Recorder {
    pub actor: Actor,
    pub caller_id: Option<i64>,
}

/// A caller records a visit on a ticket in their scope.
pub async fn record(state: &AppState, user: &StaffUser, no: &str, req: &VisitRequest) -> ApiResult<VisitAnswer> {
    user.require_any(&[Role::Caller])?;
    let l = load_readable(state, user, no).await?;
    let recorder = Recorder { actor: Actor::staff(user.id, &user.name), caller_id: Some(user.id) };
    record_by(state, recorder, &l, req).await
}

/// Records a visit once the recorder's right to do so is established.
pub async fn record_by(state: &AppState, recorder: Recorder, l: &Loaded, req: &VisitRequest) -> ApiResult<VisitAnswer> {
    let v = parse(req)?;
    let outcome = v.outcome();
    if crate::services::proactive::has_no_requester(&l.ticket) {
        return Err(ApiError::conflict(
            codes::NO_REQUESTER,
            "未诉先办工单没有诉求人，无需回访；办结后由派单员或纪委核查归档",
        ));
    }
    if l.status() != Status::Resolved {
        return Err(ApiError::conflict(
            codes::ILLEGAL_TRANSITION,
            format!("工单当前状态为「{}」，不能回访", l.status().label()),
        ));
    }
    let now = ledger_time(state.now());
    let last = l.assignments.iter().rev().find(|a| a.resolved_at.is_some()).or(l.assignments.last());
    let tx = state.db.begin().await?;
    // Two callers never work the same visit: another caller's live claim refuses this one.
    let task = repo::visits::task(&*tx, l.ticket.id).await?;
    if let (Some(me), Some(t)) = (recorder.caller_id, &task)
        && t.claimed_by.is_some_and(|by| by != me)
        && t.lease_until.is_some_and(|until| until > now)
    {
        return Err(ApiError::conflict(codes::CLAIMED_BY_OTHER, "该回访正由其他回访员处理"));
    }
    let visit = repo::return_visits::insert(
        &*tx,
        repo::return_visits::NewVisit {
            ticket_id: l.ticket.id,
            assignment_id: last.map(|a| a.id),
            unit_id: last.map(|a| a.unit_id),
            caller_id: recorder.caller_id,
            channel: v.channel,
            reached: v.reached,
            solved: v.solved,
            satisfaction: v.satisfaction,
            scores: v.scores,
            comment: v.comment.clone(),
            at: now,
        },
    )
    .await?;
    let actor = recorder.actor;
    let mut data = json!({"visit_id": visit.id, "reached": v.reached, "solved": v.solved.map(|s| s.as_str()),
                      "satisfaction": v.satisfaction.map(|s| s.as_str()), "channel": v.channel.as_str()});
    let patch = match (outcome, last.filter(|a| a.resolved_at.is_some())) {
        (VisitOutcome::Unsatisfied, Some(prev)) => {
            let (patch, redo, sms) = redo_with_same_unit(state, &*tx, &l.ticket, prev.unit_id, now).await?;
            data["redo"] = redo;
            (patch, sms)
        }
        (VisitOutcome::Unsatisfied, None) => (reopen_patch(), vec![]),
        _ => Default::default(),
    };
    let (patch, sms) = patch;
    let fx = Effects { patch, sms, ..Effects::entry(true, v.comment.clone(), data) };
    let ticket =
        change::commit_in(state, &*tx, &l.ticket, Action::ReturnVisit(outcome), actor.clone(), fx, now).await?;
    let mut closed = None;
    if outcome == VisitOutcome::Satisfied && !ticket.signoff_required {
        let mut fx = Effects::entry(true, Some("回访满意，自动归档".to_string()), json!({"auto": true}));
        fx.patch.closed_at = Some(Some(now));
        closed = Some(change::commit_in(state, &*tx, &ticket, Action::Close, actor, fx, now).await?);
    }
    let unreachable = schedule_next_try(state, &*tx, l.ticket.id, task.as_ref(), v.reached, now).await?;
    tx.commit().await?;
    super::live::announce(state, &ticket, crate::live::EventKind::ReturnVisit, now).await;
    if let Some(closed) = &closed {
        super::live::announce(state, closed, crate::live::EventKind::Close, now).await;
    }

    metrics::counter!("minsheng_return_visits_total", "outcome" => outcome_name(outcome)).increment(1);
    let fresh =
        repo::tickets::by_id(&state.db.conn, l.ticket.id).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    Ok(VisitAnswer {
        visit_id: visit.id,
        outcome: outcome_name(outcome),
        unreachable,
        ticket: ticket_view(&state.db.conn, &fresh).await?,
    })
}

fn outcome_name(o: VisitOutcome) -> &'static str {
    match o {
        VisitOutcome::Satisfied => "visited",
        VisitOutcome::Unsatisfied => "reopened",
        VisitOutcome::Unreached => "unreached",
    }
}

/// Advances the calling task after a try: a reached requester ends it; an unreached one is tried
/// again on the configured schedule, then marked unreachable. Returns whether it is now unreachable.
async fn schedule_next_try<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket_id: i64,
    task: Option<&repo::visits::VisitTask>,
    reached: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<bool> {
    let attempts = task.map_or(0, |t| t.attempts) + 1;
    if reached {
        repo::visits::after_try(db, ticket_id, attempts, None, VisitTaskStatus::Done, now).await?;
        return Ok(false);
    }
    let retries = &state.settings.visits.retry_after_minutes;
    match retries.get((attempts - 1) as usize) {
        Some(minutes) => {
            let next = now + chrono::Duration::minutes(*minutes);
            repo::visits::after_try(db, ticket_id, attempts, Some(next), VisitTaskStatus::Due, now).await?;
            Ok(false)
        }
        None => {
            repo::visits::after_try(db, ticket_id, attempts, None, VisitTaskStatus::Unreachable, now).await?;
            metrics::counter!("minsheng_visits_unreachable_total").increment(1);
            Ok(true)
        }
    }
}

/// 重办: a dissatisfied or unsolved visit gives the order straight back to the unit that resolved it,
/// with fresh deadlines, and tells the unit by SMS. The ticket stays `reopened` until the cadre signs
/// for it again (a dispatcher may still send it elsewhere). Returns what to set on the ticket, what
/// the ledger event records about the new assignment, and the messages to the unit.
async fn redo_with_same_unit<C: sea_orm::ConnectionTrait>(
    state: &AppState,
    db: &C,
    t: &repo::tickets::Ticket,
    unit_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<(TicketPatch, serde_json::Value, Vec<(Message, String)>)> {
    // The holiday calendar as stored (admins may add years), like every other assignment.
    let dl = super::orders::assignment_deadlines(state, db, t, now).await?;

    let a = repo::assignments::create(
        db,
        repo::assignments::NewAssignment {
            ticket_id: t.id,
            unit_id,
            assignee_id: None,
            dispatched_by: None,
            escalated_from_id: None,
            reopened: true,
            deadlines: dl,
            role: crate::domain::values::AssignmentRole::Lead,
        },
        now,
    )
    .await?;
    let unit = repo::regions::unit(db, unit_id).await?.map(|u| u.name).unwrap_or_default();
    let category = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
    let village = repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default();
    let by = super::orders::fmt_local(state, dl.respond_by);
    let link = change::worklink_url(state, a.id, None, dl.resolve_by);
    let mut sms = vec![];
    for (phone, _) in super::orders::unit_recipients(db, unit_id, None).await? {
        let msg = crate::sms::templates::assignment(
            &state.settings.county.sms_sign,
            &t.no,
            &format!("{category}·重办"),
            &village,
            &by,
            &link,
        );
        sms.push((msg, phone));
    }
    let patch = TicketPatch { current_assignment_id: Some(Some(a.id)), unit_id: Some(Some(unit_id)), ..reopen_patch() };
    let redo = json!({"assignment_id": a.id, "unit_id": unit_id, "unit_name": unit,
                      "respond_by": dl.respond_by, "progress_by": dl.progress_by, "resolve_by": dl.resolve_by});
    Ok((patch, redo, sms))
}
