//! Ledger verification: recompute the hash chain of a ticket's events.
use super::tickets::load_readable;
use crate::auth::StaffUser;
use crate::domain::ledger::{StoredEvent, Verification, verify};
use crate::error::ApiResult;
use crate::repo;
use crate::state::AppState;

pub async fn verify_ticket(state: &AppState, user: &StaffUser, no: &str) -> ApiResult<Verification> {
    let l = load_readable(state, user, no).await?;
    let rows = repo::tickets::ledger_rows_of(&state.db.conn, l.ticket.id).await?;
    let stored: Vec<StoredEvent<'_>> = rows
        .iter()
        .map(|r| StoredEvent { content: r.content(&l.ticket.no), prev_hash: r.prev_hash(), hash: r.hash() })
        .collect();
    let v = verify(&stored, Some(&l.ticket.last_hash));
    if !v.ok {
        tracing::warn!(ticket_no = %l.ticket.no, broken_at = ?v.broken_at, "ledger verification failed");
    }
    Ok(v)
}
