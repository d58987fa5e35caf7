//! The return-visit queue: resolved tickets due for a call, claimed by one caller at a time with a
//! short lease. Claiming reveals the requester's full phone number — to callers only — and every such
//! reveal is written to the access log.
use super::tickets::{load_readable, visibility};
use super::views::{TicketRow, ticket_row};
use crate::auth::StaffUser;
use crate::domain::roles::Role;
use crate::domain::ticket::Action;
use crate::domain::ticket::Status;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

#[derive(Serialize)]
pub struct QueueItem {
    #[serde(flatten)]
    pub ticket: TicketRow,
    pub visit_by: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub claimed_by_me: bool,
    pub lease_until: Option<DateTime<Utc>>,
}

pub async fn queue(state: &AppState, user: &StaffUser, page: Page) -> ApiResult<(Vec<QueueItem>, u64)> {
    user.require_any(&[Role::Caller])?;
    let now = state.now();
    let cond = repo::tickets::visibility_condition(&visibility(user));
    let (rows, total) = repo::visits::queue(&state.db.conn, cond, user.id, now, page).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (t, task) in rows {
        let mine =
            task.as_ref().is_some_and(|k| k.claimed_by == Some(user.id) && k.lease_until.is_some_and(|u| u > now));
        items.push(QueueItem {
            visit_by: t.visit_by,
            attempts: task.as_ref().map_or(0, |k| k.attempts),
            lease_until: if mine { task.as_ref().and_then(|k| k.lease_until) } else { None },
            claimed_by_me: mine,
            ticket: ticket_row(&state.db.conn, &t, now).await?,
        });
    }
    Ok((items, total))
}

/// What a caller needs to make the call.
#[derive(Serialize)]
pub struct Claimed {
    pub no: String,
    pub lease_until: DateTime<Utc>,
    pub phone: String,
    pub name: Option<String>,
    pub attempts: i32,
    pub category: String,
    pub description: String,
    pub result: Option<String>,
    pub unit: Option<String>,
}

pub async fn claim(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<Claimed> {
    user.require_any(&[Role::Caller])?;
    let l = load_readable(state, user, no).await?;
    if l.ticket.status != Status::Resolved || super::proactive::has_no_requester(&l.ticket) {
        return Err(ApiError::conflict(codes::NOT_DUE, "该工单不在待回访状态"));
    }
    let now = state.now();
    let until = now + Duration::seconds(state.settings.visits.lease_seconds);
    let tx = state.db.begin().await?;
    let task = repo::visits::task(&*tx, l.ticket.id).await?;
    if task.as_ref().is_some_and(|t| t.status == crate::domain::values::VisitTaskStatus::Unreachable) {
        return Err(ApiError::conflict(codes::UNREACHABLE, "多次联系未果，该回访已标记为无法联系"));
    }
    let Some(lease) = repo::visits::claim(&*tx, l.ticket.id, user.id, now, until).await? else {
        return Err(ApiError::conflict(codes::CLAIMED_BY_OTHER, "该回访正由其他回访员处理"));
    };
    repo::visits::log_phone_access(&*tx, user.id, l.ticket.id, "return_visit", now).await?;
    tx.commit().await?;
    tracing::info!(ticket_no = %l.ticket.no, staff_id = user.id, "visit claimed; full phone shown to caller");
    let events = repo::tickets::events_of(&state.db.conn, l.ticket.id).await?;
    let result = events
        .iter()
        .rev()
        .find(|e| e.is(Action::Resolve) || e.is(Action::CouncilDecision))
        .and_then(|e| e.note.clone());
    let category =
        repo::catalog::category(&state.db.conn, &l.ticket.category_code).await?.map(|c| c.name).unwrap_or_default();
    let unit = match l.assignments.iter().rev().find(|a| a.resolved_at.is_some()) {
        Some(a) => repo::regions::unit(&state.db.conn, a.unit_id).await?.map(|u| u.name),
        None => None,
    };
    Ok(Claimed {
        no: l.ticket.no.clone(),
        lease_until: lease,
        phone: l.ticket.requester_phone.clone(),
        name: l.ticket.requester_name.clone(),
        attempts: task.map_or(0, |t| t.attempts),
        category,
        description: l.ticket.description.clone(),
        result,
        unit,
    })
}

pub async fn release(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<()> {
    user.require_any(&[Role::Caller])?;
    let l = load_readable(state, user, no).await?;
    if !repo::visits::release(&state.db.conn, l.ticket.id, user.id, state.now()).await? {
        return Err(ApiError::conflict(codes::NOT_CLAIMED, "您没有认领该回访"));
    }
    Ok(())
}

/// Tickets whose requester could not be reached: a report for leaders and callers.
pub async fn unreachable(state: &AppState, user: &StaffUser, page: Page) -> ApiResult<(Vec<TicketRow>, u64)> {
    user.require_any(&[Role::Caller, Role::Leader, Role::Inspector, Role::Dispatcher])?;
    let cond = repo::tickets::visibility_condition(&visibility(user));
    let (rows, total) = repo::visits::unreachable(&state.db.conn, cond, page).await?;
    let now = state.now();
    let mut items = Vec::with_capacity(rows.len());
    for t in &rows {
        items.push(ticket_row(&state.db.conn, t, now).await?);
    }
    Ok((items, total))
}
