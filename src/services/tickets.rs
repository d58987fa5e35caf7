//! Tickets as staff see them: loading with the facts permissions depend on, scope, and workflow
//! steps taken outside an action (return visits, automatic closing). The actions themselves live in
//! `services::actions`; their entry points are re-exported here.
pub use super::actions::closing::{missing_signoffs, reopen_cols};
pub use super::actions::{ActionBody, act};
use crate::auth::StaffUser;
use crate::domain::roles::{Role, TicketFacts};
use crate::domain::ticket::{Action, Status, transition};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::tickets::{Actor, Applied, NewEvent, Ticket};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use entity::tickets;
use sea_orm::{ConnectionTrait, Value};

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
