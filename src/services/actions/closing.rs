//! The end of an order: resolution effects (visit deadline, rating request), reopening, four-party
//! sign-off (四方会签) where the policy requires it, and closing.
use super::{ActionBody, Effects, after, optional, required};
use crate::auth::StaffUser;
use crate::domain::roles::SignoffParty;
use crate::domain::ticket::Action;
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::tickets::{Actor, Ticket};
use crate::services::change;
use crate::services::change::reopen_patch;
use crate::services::proactive;
use crate::services::tickets::Loaded;
use crate::services::wechat_notices::{Event, VillagerNotice};
use crate::sms::templates;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// A resolution sets the visit deadline and asks the requester to rate. A ticket without a requester
/// (未诉先办) has no visit deadline and nobody to ask: the linked requesters are told instead, and a
/// dispatcher or inspector verifies the result (`verify`).
pub async fn resolution_effects(state: &AppState, t: &Ticket, fx: &mut Effects, now: DateTime<Utc>) -> ApiResult<()> {
    let db = &state.db.conn;
    if proactive::has_no_requester(t) {
        fx.patch.resolved_at = Some(now);
        fx.patch.visit_by = Some(None);
        return proactive::resolution_notices(state, db, t, fx).await;
    }
    let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
    let visit_by = after(state, db, &policy, now, policy.visit_minutes).await?;
    fx.patch.resolved_at = Some(now);
    fx.patch.visit_by = Some(Some(visit_by));
    // The resolution is the ticket's next ledger event: the rating link names its sequence number.
    let link = crate::services::rating::link(state, t.id, t.event_seq + 1, now);
    let msg = templates::rating_request_with_link(&state.settings.county.sms_sign, &t.no, &link);
    // By WeChat (the rating page of the mini-program) when the requester subscribed, else this SMS.
    fx.villager_notice = Some(VillagerNotice { event: Event::Resolved, sms: msg, sms_without_wechat: true });

    if let Some(obj) = fx.data.as_object_mut() {
        obj.insert("visit_by".into(), json!(visit_by));
    }
    Ok(())
}

pub async fn reopen(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let t = &l.ticket;
    let policy = state.reference.policy_for(state, &t.category_code, t.kind, t.priority).await?;
    let dispatch_by = super::desk_deadline(now, policy.dispatch_minutes);
    let mut fx = Effects::new(true);
    fx.note = Some(required(&body.reason, "reason", "重办理由")?);
    fx.data = json!({"previous_unit_id": t.unit_id, "dispatch_by": dispatch_by});
    fx.patch = reopen_patch();
    fx.patch.dispatch_by = Some(Some(dispatch_by));
    Ok(fx)
}

pub async fn close(state: &AppState, l: &Loaded, body: &ActionBody, now: DateTime<Utc>) -> ApiResult<Effects> {
    let t = &l.ticket;
    if t.signoff_required {
        let missing = missing_signoffs(&state.db.conn, t).await?;
        if !missing.is_empty() {
            return Err(ApiError::conflict(codes::SIGNOFF_MISSING, format!("归档前还需会签：{}", missing.join("、"))));
        }
    }
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    fx.patch.closed_at = Some(Some(now));
    Ok(fx)
}

/// 核查: the on-the-spot check of a requester-less ticket's result, in place of the return visit.
/// A ticket with a requester is visited, never verified.
pub fn verify(l: &Loaded, body: &ActionBody) -> ApiResult<Effects> {
    if !proactive::has_no_requester(&l.ticket) {
        return Err(ApiError::conflict(codes::VISIT_REQUIRED, "该工单有诉求人，须经回访确认后归档，不能以核查代替"));
    }
    let mut fx = Effects::new(true);
    fx.note = optional(&body.note, "note")?;
    Ok(fx)
}

/// Applies a verification and, where the policy needs no sign-off, closes the ticket in the same
/// transaction (two events), as a satisfied return visit does.
pub async fn verify_and_close(
    state: &AppState,
    t: &Ticket,
    actor: Actor,
    fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let tx = state.db.begin().await?;
    let mut fresh = change::commit_in(state, &*tx, t, Action::Verify, actor.clone(), fx, now).await?;
    let closing = !fresh.signoff_required;
    if closing {
        let mut fx = Effects::entry(true, Some("核查办结，自动归档".to_string()), json!({"auto": true}));
        fx.patch.closed_at = Some(Some(now));
        fresh = change::commit_in(state, &*tx, &fresh, Action::Close, actor, fx, now).await?;
    }
    tx.commit().await?;
    if closing {
        crate::services::live::announce(state, &fresh, crate::live::EventKind::Close, now).await;
    }
    Ok(fresh)
}

/// One party's sign-off. Four distinct people: one staff member cannot sign for two parties.
pub async fn signoff(
    state: &AppState,
    user: &StaffUser,
    l: &Loaded,
    party: Option<SignoffParty>,
    body: &ActionBody,
) -> ApiResult<Effects> {
    let t = &l.ticket;
    let party = party.ok_or_else(|| ApiError::validation("party", "请选择会签方"))?;
    if !t.signoff_required {
        return Err(ApiError::conflict(codes::SIGNOFF_NOT_REQUIRED, "该工单的时限策略不要求会签"));
    }
    let signed = signed_parties(&state.db.conn, t).await?;
    if signed.iter().any(|(p, _)| p == party.as_str()) {
        return Err(ApiError::conflict(codes::ALREADY_SIGNED, "该方已会签"));
    }
    if signed.iter().any(|(_, by)| *by == Some(user.id)) {
        return Err(ApiError::conflict(codes::SIGNER_ALREADY_SIGNED, "同一人不能代表两方会签"));
    }
    let mut fx = Effects::new(false);
    fx.note = optional(&body.note, "note")?;
    fx.data = json!({"party": party.as_str()});
    Ok(fx)
}

/// Parties that signed off since the ticket's last resolution, with who signed.
pub async fn signed_parties<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Vec<(String, Option<i64>)>> {
    let events = repo::tickets::events_of(db, t.id).await?;
    let since = events.iter().rposition(|e| e.is_resolution()).unwrap_or(0);
    Ok(events[since..]
        .iter()
        .filter(|e| e.is(crate::domain::ticket::Action::Signoff))
        .filter_map(|e| {
            let d = serde_json::from_str::<serde_json::Value>(&e.data).ok()?;
            Some((d.get("party")?.as_str()?.to_string(), e.actor_id))
        })
        .collect())
}

pub const PARTIES: [(&str, &str); 4] =
    [("requester", "群众"), ("handler", "承办人"), ("leader", "分管领导"), ("principal", "主要领导")];

pub async fn missing_signoffs<C: ConnectionTrait>(db: &C, t: &Ticket) -> ApiResult<Vec<&'static str>> {
    let signed = signed_parties(db, t).await?;
    Ok(PARTIES.into_iter().filter(|(p, _)| !signed.iter().any(|(s, _)| s == p)).map(|(_, label)| label).collect())
}
