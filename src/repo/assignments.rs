//! Assignments (派单): a ticket given to a unit with its deadlines stored at creation.
use crate::domain::sla::AssignmentDeadlines;
use crate::domain::sweep::{Step, StepState};
use crate::domain::values::{AssignmentRole, AssignmentStatus, EscalationDecision, PauseDecision};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use entity::assignments;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IdenStatic, QueryFilter, QueryOrder, Set, Value,
};

/// An assignment row with its enumerations typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Assignment {
    pub id: i64,
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignee_id: Option<i64>,
    pub status: AssignmentStatus,
    pub reopened: bool,
    pub escalated_from_id: Option<i64>,
    pub dispatched_by: Option<i64>,
    pub dispatched_at: DateTime<Utc>,
    pub respond_by: DateTime<Utc>,
    pub progress_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub first_progress_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub respond_reminded_at: Option<DateTime<Utc>>,
    pub respond_urged_at: Option<DateTime<Utc>>,
    pub progress_reminded_at: Option<DateTime<Utc>>,
    pub progress_urged_at: Option<DateTime<Utc>>,
    pub resolve_reminded_at: Option<DateTime<Utc>>,
    pub resolve_urged_at: Option<DateTime<Utc>>,
    pub respond_remind_at: Option<DateTime<Utc>>,
    pub progress_remind_at: Option<DateTime<Utc>>,
    pub resolve_remind_at: Option<DateTime<Utc>>,
    pub next_check_at: Option<DateTime<Utc>>,
    pub escalation_requested_at: Option<DateTime<Utc>>,
    pub escalation_decided_at: Option<DateTime<Utc>>,
    pub escalation_requested_by: Option<i64>,
    pub escalation_reason: Option<String>,
    pub escalation_decision: Option<EscalationDecision>,
    pub pause_requested_at: Option<DateTime<Utc>>,
    pub pause_requested_by: Option<i64>,
    pub pause_reason: Option<String>,
    pub pause_resume_on: Option<NaiveDate>,
    pub pause_decided_at: Option<DateTime<Utc>>,
    pub pause_decision: Option<PauseDecision>,
    pub pause_decided_by: Option<i64>,
    /// Set while the order is paused (挂起), with the instant the sweeper resumes it.
    pub paused_at: Option<DateTime<Utc>>,
    pub pause_until: Option<DateTime<Utc>>,
    /// Every finished pause of this assignment, added up.
    pub paused_minutes: i32,
    /// 主办 (the order's holder, `tickets.current_assignment_id`) or 协办 (an assisting part).
    pub role: AssignmentRole,
    /// An assisting unit's report of its part (协办反馈).
    pub report_note: Option<String>,
}

impl Assignment {
    /// The stored state of each step for the sweeper; assignments made before reminder instants
    /// were stored fall back to 80 % of natural time.
    pub fn steps(&self) -> [StepState; 3] {
        let eighty = |due: DateTime<Utc>| self.dispatched_at + (due - self.dispatched_at) * 4 / 5;
        [
            StepState {
                step: Step::Respond,
                done: self.accepted_at.is_some(),
                remind_at: self.respond_remind_at.unwrap_or_else(|| eighty(self.respond_by)),
                due: self.respond_by,
                reminded: self.respond_reminded_at.is_some(),
                urged: self.respond_urged_at.is_some(),
            },
            StepState {
                step: Step::Progress,
                done: self.first_progress_at.is_some() || self.resolved_at.is_some(),
                remind_at: self.progress_remind_at.unwrap_or_else(|| eighty(self.progress_by)),
                due: self.progress_by,
                reminded: self.progress_reminded_at.is_some(),
                urged: self.progress_urged_at.is_some(),
            },
            StepState {
                step: Step::Resolve,
                done: self.resolved_at.is_some(),
                remind_at: self.resolve_remind_at.unwrap_or_else(|| eighty(self.resolve_by)),
                due: self.resolve_by,
                reminded: self.resolve_reminded_at.is_some(),
                urged: self.resolve_urged_at.is_some(),
            },
        ]
    }

    /// An assisting part still owed: neither reported nor released.
    pub fn is_open_part(&self) -> bool {
        self.role == AssignmentRole::Assist && self.status == AssignmentStatus::Active
    }

    /// A pause asked for and not decided yet.
    pub fn pause_pending(&self) -> bool {
        self.pause_requested_at.is_some() && self.pause_decided_at.is_none()
    }

    /// The patch that moves every open deadline (and its reminder instant) by `by`: a step already
    /// done keeps its deadline, so what was on time stays on time and what was late stays late.
    pub fn shift_open_deadlines(&self, by: Duration) -> AssignmentPatch {
        let mut p = AssignmentPatch::default();
        let [respond, progress, resolve] = self.steps();
        if !respond.done {
            p.respond_by = Some(self.respond_by + by);
            p.respond_remind_at = Some(respond.remind_at + by);
        }
        if !progress.done {
            p.progress_by = Some(self.progress_by + by);
            p.progress_remind_at = Some(progress.remind_at + by);
        }
        if !resolve.done {
            p.resolve_by = Some(self.resolve_by + by);
            p.resolve_remind_at = Some(resolve.remind_at + by);
        }
        p
    }
}

impl TryFrom<assignments::Model> for Assignment {
    type Error = DbErr;

    fn try_from(m: assignments::Model) -> Result<Assignment, DbErr> {
        let decision = match &m.escalation_decision {
            Some(d) => Some(super::stored("assignments", "escalation_decision", m.id, d, EscalationDecision::parse)?),
            None => None,
        };
        let pause_decision = match &m.pause_decision {
            Some(d) => Some(super::stored("assignments", "pause_decision", m.id, d, PauseDecision::parse)?),
            None => None,
        };
        Ok(Assignment {
            status: super::stored("assignments", "status", m.id, &m.status, AssignmentStatus::parse)?,
            role: super::stored("assignments", "role", m.id, &m.role, AssignmentRole::parse)?,
            report_note: m.report_note,
            pause_decision,
            pause_requested_at: m.pause_requested_at,
            pause_requested_by: m.pause_requested_by,
            pause_reason: m.pause_reason,
            pause_resume_on: m.pause_resume_on,
            pause_decided_at: m.pause_decided_at,
            pause_decided_by: m.pause_decided_by,
            paused_at: m.paused_at,
            pause_until: m.pause_until,
            paused_minutes: m.paused_minutes,
            escalation_decision: decision,
            id: m.id,
            ticket_id: m.ticket_id,
            unit_id: m.unit_id,
            assignee_id: m.assignee_id,
            reopened: m.reopened,
            escalated_from_id: m.escalated_from_id,
            dispatched_by: m.dispatched_by,
            dispatched_at: m.dispatched_at,
            respond_by: m.respond_by,
            progress_by: m.progress_by,
            resolve_by: m.resolve_by,
            accepted_at: m.accepted_at,
            first_progress_at: m.first_progress_at,
            resolved_at: m.resolved_at,
            ended_at: m.ended_at,
            end_reason: m.end_reason,
            respond_reminded_at: m.respond_reminded_at,
            respond_urged_at: m.respond_urged_at,
            progress_reminded_at: m.progress_reminded_at,
            progress_urged_at: m.progress_urged_at,
            resolve_reminded_at: m.resolve_reminded_at,
            resolve_urged_at: m.resolve_urged_at,
            respond_remind_at: m.respond_remind_at,
            progress_remind_at: m.progress_remind_at,
            resolve_remind_at: m.resolve_remind_at,
            next_check_at: m.next_check_at,
            escalation_requested_at: m.escalation_requested_at,
            escalation_decided_at: m.escalation_decided_at,
            escalation_requested_by: m.escalation_requested_by,
            escalation_reason: m.escalation_reason,
        })
    }
}

pub(crate) fn typed(rows: Vec<assignments::Model>) -> Result<Vec<Assignment>, DbErr> {
    rows.into_iter().map(Assignment::try_from).collect()
}

pub struct NewAssignment {
    pub ticket_id: i64,
    pub unit_id: i64,
    pub assignee_id: Option<i64>,
    pub dispatched_by: Option<i64>,
    pub escalated_from_id: Option<i64>,
    pub reopened: bool,
    pub deadlines: AssignmentDeadlines,
    pub role: AssignmentRole,
}

/// What a change sets on an assignment. `None` leaves a column as it is; for nullable columns
/// `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AssignmentPatch {
    pub status: Option<AssignmentStatus>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<Option<String>>,
    pub next_check_at: Option<Option<DateTime<Utc>>>,
    pub assignee_id: Option<i64>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub first_progress_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub escalation_requested_at: Option<DateTime<Utc>>,
    pub escalation_requested_by: Option<i64>,
    pub escalation_reason: Option<String>,
    pub escalation_decided_at: Option<Option<DateTime<Utc>>>,
    pub escalation_decision: Option<Option<EscalationDecision>>,
    pub respond_by: Option<DateTime<Utc>>,
    pub progress_by: Option<DateTime<Utc>>,
    pub resolve_by: Option<DateTime<Utc>>,
    pub respond_remind_at: Option<DateTime<Utc>>,
    pub progress_remind_at: Option<DateTime<Utc>>,
    pub resolve_remind_at: Option<DateTime<Utc>>,
    pub pause_requested_at: Option<DateTime<Utc>>,
    pub pause_requested_by: Option<i64>,
    pub pause_reason: Option<String>,
    pub pause_resume_on: Option<NaiveDate>,
    pub pause_decided_at: Option<Option<DateTime<Utc>>>,
    pub pause_decision: Option<Option<PauseDecision>>,
    pub pause_decided_by: Option<Option<i64>>,
    pub paused_at: Option<Option<DateTime<Utc>>>,
    pub pause_until: Option<Option<DateTime<Utc>>>,
    pub paused_minutes: Option<i32>,
    pub report_note: Option<String>,
}

impl AssignmentPatch {
    /// Ends the assignment (`returned`, `escalated`, `completed`, `superseded`) at `now`: no more
    /// notices are due on it.
    pub fn end(status: AssignmentStatus, reason: Option<&str>, now: DateTime<Utc>) -> AssignmentPatch {
        AssignmentPatch {
            status: Some(status),
            ended_at: Some(now),
            end_reason: Some(reason.map(str::to_string)),
            next_check_at: Some(None),
            ..Default::default()
        }
    }

    fn columns(self) -> Vec<(assignments::Column, Value)> {
        use assignments::Column as C;
        let mut out: Vec<(assignments::Column, Value)> = vec![];
        let mut put = |c: C, v: Option<Value>| {
            if let Some(v) = v {
                out.push((c, v));
            }
        };
        put(C::Status, self.status.map(|s| s.as_str().into()));
        put(C::EndedAt, self.ended_at.map(|t| Some(t).into()));
        put(C::EndReason, self.end_reason.map(Into::into));
        put(C::NextCheckAt, self.next_check_at.map(Into::into));
        put(C::AssigneeId, self.assignee_id.map(|id| Some(id).into()));
        put(C::AcceptedAt, self.accepted_at.map(|t| Some(t).into()));
        put(C::FirstProgressAt, self.first_progress_at.map(|t| Some(t).into()));
        put(C::ResolvedAt, self.resolved_at.map(|t| Some(t).into()));
        put(C::EscalationRequestedAt, self.escalation_requested_at.map(|t| Some(t).into()));
        put(C::EscalationRequestedBy, self.escalation_requested_by.map(|id| Some(id).into()));
        put(C::EscalationReason, self.escalation_reason.map(|r| Some(r).into()));
        put(C::EscalationDecidedAt, self.escalation_decided_at.map(Into::into));
        put(C::EscalationDecision, self.escalation_decision.map(|d| d.map(|d| d.as_str().to_string()).into()));
        put(C::RespondBy, self.respond_by.map(Into::into));
        put(C::ProgressBy, self.progress_by.map(Into::into));
        put(C::ResolveBy, self.resolve_by.map(Into::into));
        put(C::RespondRemindAt, self.respond_remind_at.map(|t| Some(t).into()));
        put(C::ProgressRemindAt, self.progress_remind_at.map(|t| Some(t).into()));
        put(C::ResolveRemindAt, self.resolve_remind_at.map(|t| Some(t).into()));
        put(C::PauseRequestedAt, self.pause_requested_at.map(|t| Some(t).into()));
        put(C::PauseRequestedBy, self.pause_requested_by.map(|id| Some(id).into()));
        put(C::PauseReason, self.pause_reason.map(|r| Some(r).into()));
        put(C::PauseResumeOn, self.pause_resume_on.map(|d| Some(d).into()));
        put(C::PauseDecidedAt, self.pause_decided_at.map(Into::into));
        put(C::PauseDecision, self.pause_decision.map(|d| d.map(|d| d.as_str().to_string()).into()));
        put(C::PauseDecidedBy, self.pause_decided_by.map(Into::into));
        put(C::PausedAt, self.paused_at.map(Into::into));
        put(C::PauseUntil, self.pause_until.map(Into::into));
        put(C::PausedMinutes, self.paused_minutes.map(Into::into));
        put(C::ReportNote, self.report_note.map(|n| Some(n).into()));
        out
    }
}

pub async fn create<C: ConnectionTrait>(db: &C, a: NewAssignment, now: DateTime<Utc>) -> Result<Assignment, DbErr> {
    new_row(a, now).insert(db).await.and_then(Assignment::try_from)
}

/// Several new assignments in one statement, read back as written (in no promised order: match
/// them by their ticket).
pub async fn create_many<C: ConnectionTrait>(
    db: &C,
    news: Vec<NewAssignment>,
    now: DateTime<Utc>,
) -> Result<Vec<Assignment>, DbErr> {
    if news.is_empty() {
        return Ok(vec![]);
    }
    let rows = news.into_iter().map(|a| new_row(a, now));
    typed(assignments::Entity::insert_many(rows).exec_with_returning(db).await?)
}

fn new_row(a: NewAssignment, now: DateTime<Utc>) -> assignments::ActiveModel {
    assignments::ActiveModel {
        ticket_id: Set(a.ticket_id),
        unit_id: Set(a.unit_id),
        assignee_id: Set(a.assignee_id),
        status: Set(AssignmentStatus::Active.as_str().into()),
        reopened: Set(a.reopened),
        role: Set(a.role.as_str().into()),
        escalated_from_id: Set(a.escalated_from_id),
        dispatched_by: Set(a.dispatched_by),
        dispatched_at: Set(now),
        respond_by: Set(a.deadlines.respond_by),
        progress_by: Set(a.deadlines.progress_by),
        resolve_by: Set(a.deadlines.resolve_by),
        respond_remind_at: Set(Some(a.deadlines.respond_remind_at)),
        progress_remind_at: Set(Some(a.deadlines.progress_remind_at)),
        resolve_remind_at: Set(Some(a.deadlines.resolve_remind_at)),
        // The first notice owed is the earliest reminder (respond ≤ progress ≤ resolve).
        next_check_at: Set(Some(a.deadlines.respond_remind_at)),
        ..Default::default()
    }
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Assignment>, DbErr> {
    assignments::Entity::find_by_id(id).one(db).await?.map(Assignment::try_from).transpose()
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Assignment>, DbErr> {
    typed(
        assignments::Entity::find()
            .filter(assignments::Column::TicketId.eq(ticket_id))
            .order_by_asc(assignments::Column::Id)
            .all(db)
            .await?,
    )
}

/// 联合办理: the ticket's assisting parts still owed (neither reported nor released).
pub async fn open_parts<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Assignment>, DbErr> {
    typed(
        assignments::Entity::find()
            .filter(assignments::Column::TicketId.eq(ticket_id))
            .filter(assignments::Column::Role.eq(AssignmentRole::Assist.as_str()))
            .filter(assignments::Column::Status.eq(AssignmentStatus::Active.as_str()))
            .order_by_asc(assignments::Column::Id)
            .all(db)
            .await?,
    )
}

/// Applies a patch to an assignment.
pub async fn update<C: ConnectionTrait>(db: &C, id: i64, patch: AssignmentPatch) -> Result<(), DbErr> {
    let cols = patch.columns();
    if cols.is_empty() {
        return Ok(());
    }
    let mut update = assignments::Entity::update_many().filter(assignments::Column::Id.eq(id));
    for (c, v) in cols {
        update = update.col_expr(c, Expr::value(v));
    }
    update.exec(db).await?;
    Ok(())
}

/// `update` for many assignments: one statement per shape of patch (the columns it sets).
pub async fn update_all<C: ConnectionTrait>(db: &C, patches: Vec<(i64, AssignmentPatch)>) -> Result<(), DbErr> {
    let mut shapes = super::bulk::Shapes::new("assignments", "id", vec![], vec![]);
    for (id, patch) in patches {
        shapes.push(vec![id.into()], patch.columns().into_iter().map(|(c, v)| (c.as_str(), v)).collect());
    }
    shapes.update(db).await?;
    Ok(())
}

/// Assignments of many tickets at once (list pages), keyed by id.
pub async fn by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Assignment>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    typed(assignments::Entity::find().filter(assignments::Column::Id.is_in(ids.to_vec())).all(db).await?)
}
