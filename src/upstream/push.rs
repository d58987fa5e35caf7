//! What the platform is told when a ticket that came from it changes status: one outbox row
//! (channel `upstream`, kind `upstream_status`) written by `services::change::commit_in` in the
//! change's own transaction, so a change is pushed if and only if it committed. The row's recipient
//! is the platform's order id and its body the exact JSON that is POSTed:
//!
//! ```json
//! {"order_id":"U-1","ticket_no":"20261206-0001","status":"resolved","status_label":"已办结",
//!  "action":"resolve","note":"已修复","result":"已修复","at":"2026-12-06T08:00:00Z"}
//! ```
//!
//! `result` is the resolution text, only when the status is `resolved`; `at` is when the change
//! happened. Pushes of one order go out in the order they were written (`workers::upstream`).
use crate::domain::ticket::{Action, Status};
use crate::repo;
use crate::repo::tickets::Ticket;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde_json::json;

/// The JSON pushed for a change.
pub fn body(
    order_id: &str,
    ticket_no: &str,
    action: Action,
    to: Status,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> String {
    json!({
        "order_id": order_id,
        "ticket_no": ticket_no,
        "status": to.as_str(),
        "status_label": to.label(),
        "action": action.as_str(),
        "note": note,
        "result": if to == Status::Resolved { note } else { None },
        "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
    .to_string()
}

/// Queues the push of a status change when `ticket` came from the platform; true when it did.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    ticket: &Ticket,
    action: Action,
    to: Status,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(order) = repo::upstream::order_of_ticket(db, ticket.id).await? else { return Ok(false) };
    let text = body(&order.upstream_id, &ticket.no, action, to, note, now);
    repo::upstream::enqueue_push(db, &order.upstream_id, ticket.id, &text, now).await?;
    Ok(true)
}
