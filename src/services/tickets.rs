//! Tickets as staff see them: loading with the facts permissions depend on, and scope. Changes go
//! through `services::change`; the staff actions live in `services::actions`.
use crate::auth::StaffUser;
use crate::domain::roles::{Role, TicketFacts};
use crate::domain::ticket::Status;
use crate::domain::values::AssignmentStatus;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

/// A ticket with the facts its permissions depend on.
pub struct Loaded {
    pub ticket: Ticket,
    pub assignments: Vec<Assignment>,
    pub unit_ids: Vec<i64>,
    /// Units holding an open assisting part (联合办理).
    pub assisting_unit_ids: Vec<i64>,
}

impl Loaded {
    pub fn facts(&self) -> TicketFacts<'_> {
        TicketFacts {
            region_path: &self.ticket.region_path,
            current_unit_id: self.current_unit(),
            unit_ids: &self.unit_ids,
            assisting_unit_ids: &self.assisting_unit_ids,
        }
    }

    /// A ticket with the given assignments (the sweeper's and auto-dispatch's view of it).
    pub fn with(ticket: Ticket, assignments: Vec<Assignment>) -> Loaded {
        let mut unit_ids: Vec<i64> = assignments.iter().map(|a| a.unit_id).collect();
        unit_ids.sort_unstable();
        unit_ids.dedup();
        let assisting_unit_ids = assignments.iter().filter(|a| a.is_open_part()).map(|a| a.unit_id).collect();
        Loaded { ticket, assignments, unit_ids, assisting_unit_ids }
    }

    /// The open assisting parts (联合办理): neither reported nor released.
    pub fn open_parts(&self) -> impl Iterator<Item = &Assignment> {
        self.assignments.iter().filter(|a| a.is_open_part())
    }

    /// The open assisting part of `unit`, if it holds one.
    pub fn part_of(&self, unit: Option<i64>) -> Option<&Assignment> {
        self.open_parts().find(|a| Some(a.unit_id) == unit)
    }

    /// The active assignment, if a unit holds the order now.
    pub fn active(&self) -> Option<&Assignment> {
        self.assignments
            .iter()
            .find(|a| Some(a.id) == self.ticket.current_assignment_id && a.status == AssignmentStatus::Active)
    }

    /// Unit of the current assignment (still set after resolution, for the handler's sign-off).
    fn current_unit(&self) -> Option<i64> {
        let id = self.ticket.current_assignment_id?;
        self.assignments.iter().find(|a| a.id == id).map(|a| a.unit_id)
    }

    pub fn status(&self) -> Status {
        self.ticket.status
    }
}

pub async fn load<C: ConnectionTrait>(db: &C, no: &str) -> ApiResult<Loaded> {
    let ticket = repo::tickets::by_no(db, no).await?.ok_or_else(|| ApiError::not_found("工单不存在"))?;
    let assignments = repo::assignments::of_ticket(db, ticket.id).await?;
    Ok(Loaded::with(ticket, assignments))
}

/// Loads a ticket the caller may read (403 outside their scope).
pub async fn load_readable(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<Loaded> {
    let l = load(&state.db.conn, no).await?;
    if !user.scope.can_read(&l.facts()) {
        return Err(ApiError::out_of_scope());
    }
    Ok(l)
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
