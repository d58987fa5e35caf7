//! Announcing committed ticket changes to the dashboards (`live`). Called only after the
//! transaction that made the change has committed, so a screen never shows what was rolled back;
//! an announcement that fails is logged and costs the request nothing.
use crate::domain::ticket::Action;
use crate::live::{EventKind, LiveEvent};
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use chrono::{DateTime, Utc};

/// The screens' kind of a committed action; `None` for what the screens do not follow (urging,
/// progress notes, sign-offs…).
pub fn kind_of(action: Action) -> Option<EventKind> {
    match action {
        Action::Dispatch => Some(EventKind::Dispatch),
        Action::Accept => Some(EventKind::Accept),
        Action::Resolve => Some(EventKind::Resolve),
        Action::ReturnVisit(_) => Some(EventKind::ReturnVisit),
        Action::Close => Some(EventKind::Close),
        _ => None,
    }
}

/// Announces a committed action on `ticket` (its state after the action), if the screens follow it.
pub async fn announce_action(state: &AppState, ticket: &Ticket, action: Action, now: DateTime<Utc>) {
    if let Some(kind) = kind_of(action) {
        announce(state, ticket, kind, now).await;
    }
}

/// Announces `kind` on `ticket` (its committed state).
pub async fn announce(state: &AppState, ticket: &Ticket, kind: EventKind, now: DateTime<Utc>) {
    match event(state, ticket, kind, now).await {
        Ok(ev) => state.live.publish(ev).await,
        Err(e) => tracing::warn!(error = ?e, ticket_no = %ticket.no, "live event not built"),
    }
}

/// The event for a ticket: its category and places by name, never the requester.
async fn event(state: &AppState, ticket: &Ticket, kind: EventKind, now: DateTime<Utc>) -> anyhow::Result<LiveEvent> {
    use crate::domain::values::RegionLevel;
    let category = state.reference.category(state, &ticket.category_code).await?.map(|c| c.name);
    let lineage = match state.reference.region(state, ticket.region_id).await? {
        Some(region) => state.reference.lineage(state, &region).await?,
        None => vec![],
    };
    let named = |level: RegionLevel| lineage.iter().find(|r| r.level == level).map(|r| r.name.clone());
    Ok(LiveEvent {
        id: String::new(),
        kind,
        ticket_no: ticket.no.clone(),
        category: category.unwrap_or_else(|| ticket.category_code.clone()),
        category_code: ticket.category_code.clone(),
        region_id: ticket.region_id,
        region_path: ticket.region_path.clone(),
        township: named(RegionLevel::Township),
        village: named(RegionLevel::Village),
        status: ticket.status.as_str().to_string(),
        at: now,
    })
}
