//! Retention (issue 20 point 8): `retention.days` (three years by default) after a ticket ended —
//! closed, merged into another or declared invalid — its requester's personal data goes:
//!
//! - the phone is replaced by a placeholder (`domain::privacy::anonymous_phone`): the same phone
//!   gives the same placeholder, so counts of different phones stay what they were, and it is no
//!   phone, so no repeat link, "my requests", SMS, opt-out or subscription ever reaches the ticket
//!   again and the tracking page no longer opens it;
//! - name, address and WeChat openid are cleared; phones and ID numbers in the description, in
//!   return-visit comments and in SMS to or from the requester are masked;
//! - the requester's photos and voice notes are deleted (rows and files);
//! - `anonymized_at` is set and an audit row written (actor `0`, "数据保留期限").
//!
//! Nothing a rate or ranking reads changes: status, times, units, visits and their scores stay,
//! and so does `updated_at`. The ledger stays as written: its events are hash-chained, so a note or
//! a villager's name in an event is not rewritten; views mask notes on read and show a villager
//! actor as 群众 once the ticket is anonymised.
//!
//! Several instances may run the job: each ticket is anonymised by a conditional update (still
//! not anonymised, still at the ledger position read), so one instance does it and the others skip
//! it; files are deleted by the instance whose transaction committed.
use crate::domain::privacy::{anonymous_phone, mask_personal_numbers};
use crate::repo;
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::DbErr;
use secrecy::ExposeSecret;
use serde::Serialize;

/// The key of the phone placeholders, made once and kept in `app_secrets` (independent of the
/// signing secret, so rotating that changes no placeholder).
const KEY_NAME: &str = "retention_phone_key";

/// Batches one run goes through at most (then the next run goes on).
const MAX_BATCHES: usize = 50;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Tickets past retention when the run started.
    pub due: u64,
    /// Tickets this run anonymised (0 in a dry run).
    pub anonymized: u64,
    /// Uploads removed with them.
    pub uploads_removed: u64,
}

/// When a ticket that ended before `cutoff(now)` is past retention.
pub fn cutoff(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(state.settings.retention.days.max(1))
}

async fn key(state: &AppState, now: DateTime<Utc>) -> Result<Vec<u8>, DbErr> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let candidate = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let (secret, _) = repo::secrets::get_or_create(&state.db.conn, KEY_NAME, &candidate, now).await?;
    Ok(secret.expose_secret().as_bytes().to_vec())
}

/// One pass: counts what is due and, unless `dry_run`, anonymises it in batches of
/// `retention.batch`.
pub async fn run(state: &AppState, now: DateTime<Utc>, dry_run: bool) -> Result<Report, DbErr> {
    let cutoff = cutoff(state, now);
    let mut report = Report { due: repo::retention::count_due(&state.db.conn, cutoff).await?, ..Report::default() };
    if dry_run || report.due == 0 {
        return Ok(report);
    }
    let key = key(state, now).await?;
    let batch = state.settings.retention.batch.max(1);
    for _ in 0..MAX_BATCHES {
        let due = repo::retention::due(&state.db.conn, cutoff, batch).await?;
        if due.is_empty() {
            break;
        }
        let mut progressed = false;
        for t in &due {
            if let Some(files) = anonymize_one(state, &key, t, now).await? {
                progressed = true;
                report.anonymized += 1;
                report.uploads_removed += files.len() as u64;
                remove_files(state, &t.no, &files).await;
            }
        }
        // Every ticket of the batch changed under us (another instance, a late change): look again
        // at the next run rather than spin.
        if !progressed || (due.len() as u64) < batch {
            break;
        }
    }
    if report.anonymized > 0 {
        tracing::info!(
            anonymized = report.anonymized,
            uploads = report.uploads_removed,
            "retention: personal data removed"
        );
    }
    Ok(report)
}

/// Anonymises one ticket in its own transaction; the stored paths of its removed uploads, or
/// `None` when the ticket was not as read (anonymised elsewhere, or changed).
async fn anonymize_one(
    state: &AppState,
    key: &[u8],
    t: &Ticket,
    now: DateTime<Utc>,
) -> Result<Option<Vec<String>>, DbErr> {
    let placeholder = anonymous_phone(key, &t.requester_phone);
    let description = mask_personal_numbers(&t.description);
    let tx = state.db.begin().await?;
    let a = repo::retention::Anonymized { phone_placeholder: &placeholder, description: &description };
    if !repo::retention::anonymize_ticket(&*tx, t, a, now).await? {
        return Ok(None);
    }
    let files = repo::retention::remove_uploads(&*tx, t.id).await?;
    repo::retention::anonymize_traces(&*tx, t.id, &t.requester_phone, &placeholder, mask_personal_numbers).await?;
    let ended = if t.closed_at.is_some() { t.closed_at } else { Some(t.updated_at) };
    repo::audit::record(
        &*tx,
        repo::audit::NewEntry {
            at: now,
            actor_id: 0,
            actor_name: "数据保留期限",
            action: "anonymize",
            entity: "ticket",
            entity_id: t.no.clone(),
            region_path: &t.region_path,
            before: Some(serde_json::json!({"status": t.status.as_str(), "ended_at": ended}).to_string()),
            after: Some(
                serde_json::json!({"anonymized_at": now, "uploads_removed": files.len(),
                                   "retention_days": state.settings.retention.days})
                .to_string(),
            ),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Some(files))
}

async fn remove_files(state: &AppState, no: &str, files: &[String]) {
    for f in files {
        let path = super::uploads::file_path(state, f);
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(ticket_no = %no, error = %e, "retention: an upload's file could not be deleted"),
        }
    }
}
