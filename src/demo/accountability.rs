//! The demo's accountability records (追责红线): the rules are checked over the history just made
//! (late sign-ins and overdue results become records), and the inspector closes the oldest as 问责
//! so the console shows an open record and a closed one from the start.
use super::orders::{err, staff};
use crate::domain::accountability::RecordStatus;
use crate::repo::Page;
use crate::services::accountability::{self, DecideRequest, ListQuery};
use crate::state::AppState;

/// Answers (records written, records closed).
pub async fn seed(state: &AppState) -> anyhow::Result<(usize, usize)> {
    let written = crate::workers::accountability::run_once(state, state.now()).await?;
    let inspector = staff(state, "inspector").await?;
    let q =
        ListQuery { status: Some(RecordStatus::Open.as_str().into()), rule: None, unit_id: None, from: None, to: None };
    let (open, _) = accountability::list(state, &inspector, &q, Page { page: 1, per_page: 100 }).await.map_err(err)?;
    // Leave at least one open: close the oldest breach only when another stays.
    let Some(oldest) = open.iter().min_by_key(|r| (r.breached_at, r.id)).filter(|_| open.len() >= 2) else {
        return Ok((written, 0));
    };
    let close = DecideRequest {
        status: Some(RecordStatus::Closed.as_str().into()),
        decision: Some("upheld".into()),
        note: Some("经核实无正当理由，约谈承办单位负责人并通报".into()),
    };
    accountability::decide(state, &inspector, oldest.id, &close).await.map_err(err)?;
    Ok((written, 1))
}
