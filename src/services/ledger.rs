//! Ledger verification: recompute the hash chain of a ticket's events.
use super::tickets::load_readable;
use crate::auth::StaffUser;
use crate::domain::ledger::{EventContent, StoredEvent, Verification, verify};
use crate::error::ApiResult;
use crate::repo;
use crate::state::AppState;

pub async fn verify_ticket(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<Verification> {
    let l = load_readable(state, user, no).await?;
    let events = repo::tickets::events_of(&state.db.conn, l.ticket.id).await?;
    let stored: Vec<StoredEvent<'_>> = events
        .iter()
        .map(|e| StoredEvent {
            content: EventContent {
                ticket_no: &l.ticket.no,
                seq: e.seq,
                action: &e.action,
                from_status: &e.from_status,
                to_status: &e.to_status,
                actor_kind: &e.actor_kind,
                actor_id: e.actor_id,
                actor_name: &e.actor_name,
                note: e.note.as_deref(),
                data: &e.data,
                public: e.public,
                at: e.at,
            },
            prev_hash: &e.prev_hash,
            hash: &e.hash,
        })
        .collect();
    let v = verify(&stored, Some(&l.ticket.last_hash));
    if !v.ok {
        tracing::warn!(ticket_no = %l.ticket.no, broken_at = ?v.broken_at, "ledger verification failed");
    }
    Ok(v)
}
