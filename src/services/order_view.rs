//! The staff's view of orders: the ticket JSON of `views` plus what the console needs to work an
//! order — the deadline running now and whether it is missed, the registration clock, escalation
//! requests, sign-offs, evidence, and the actions the caller may take. List rows are built in a
//! few queries for the whole page (not one per row).
use super::actions::allowed::allowed;
use super::actions::closing::{PARTIES, signed_parties};
use super::actions::escalation::pending;
use super::tickets::Loaded;
use super::views::{is_overdue, ticket_view};
use crate::auth::StaffUser;
use crate::domain::ticket::Status;
use crate::domain::values::AssignmentStatus;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::tickets::Ticket;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The deadline the order is running against now.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Deadline {
    pub step: &'static str,
    pub label: &'static str,
    pub at: DateTime<Utc>,
    /// Missed at the time of the answer.
    pub late: bool,
}

/// The current deadline: registration, dispatch, the assignment's earliest unmet step, or the
/// return visit.
pub fn current_deadline(t: &Ticket, a: Option<&Assignment>, now: DateTime<Utc>) -> Option<Deadline> {
    let (step, label, at) = match t.status {
        Status::Submitted => ("register", "登记", t.register_by?),
        Status::Registered | Status::Reopened => ("dispatch", "派单", t.dispatch_by?),
        Status::Dispatched | Status::Accepted | Status::InProgress => {
            let a = a.filter(|a| a.status == AssignmentStatus::Active)?;
            if a.accepted_at.is_none() {
                ("respond", "签收", a.respond_by)
            } else if a.first_progress_at.is_none() && a.progress_by < a.resolve_by {
                ("progress", "首次反馈", a.progress_by)
            } else {
                ("resolve", "办结", a.resolve_by)
            }
        }
        Status::Resolved => ("visit", "回访", t.visit_by?),
        _ => return None,
    };
    Some(Deadline { step, label, at, late: at < now })
}

fn escalation_json(a: &Assignment) -> Value {
    match a.escalation_requested_at {
        None => Value::Null,
        Some(at) => json!({"requested_at": at, "requested_by": a.escalation_requested_by,
                           "reason": a.escalation_reason, "pending": pending(a),
                           "decision": a.escalation_decision, "decided_at": a.escalation_decided_at}),
    }
}

/// Received time of a request: given by the operator for a call, else the submission.
fn received_at(events: &[Value], t: &Ticket) -> DateTime<Utc> {
    events
        .first()
        .and_then(|e| e["data"]["received_at"].as_str())
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or(t.created_at)
}

/// The full staff view of a loaded ticket for `user`.
pub async fn staff_view(state: &AppState, user: &StaffUser, l: &Loaded) -> ApiResult<Value> {
    let db = &state.db.conn;
    let now = state.now();
    let t = &l.ticket;
    let mut v = serde_json::to_value(ticket_view(db, t).await?).map_err(ApiError::internal)?;
    let current = t.current_assignment_id.and_then(|id| l.assignments.iter().find(|a| a.id == id));
    let events = v["events"].as_array().cloned().unwrap_or_default();
    let received = received_at(&events, t);
    v["dispatch_by"] = json!(t.dispatch_by);
    v["registration"] = json!({
        "received_at": received, "register_by": t.register_by, "registered_at": t.registered_at,
        "late": match (t.registered_at, t.register_by) {
            (Some(at), Some(by)) => Some(at > by),
            (None, Some(by)) => Some(now > by),
            _ => None,
        },
        "minutes": t.registered_at.map(|at| (at - received).num_minutes()),
    });
    v["deadline"] = json!(current_deadline(t, current, now));
    v["overdue"] = json!(is_overdue(t, current, now));
    if let Some(a) = current
        && v["assignment"].is_object()
    {
        v["assignment"]["escalation_request"] = escalation_json(a);
        v["assignment"]["supervisor"] = json!(
            super::actions::escalation::supervising_unit(db, a.unit_id)
                .await?
                .map(|u| json!({"id": u.id, "name": u.name}))
        );
    }
    if let Some(list) = v["assignments"].as_array_mut() {
        for (item, a) in list.iter_mut().zip(&l.assignments) {
            item["escalation_request"] = escalation_json(a);
        }
    }
    let uploads = repo::evidence::of_ticket(db, t.id).await?;
    v["uploads"] = json!(
        uploads
            .iter()
            .map(|u| json!({"id": u.id, "kind": u.kind, "mime": u.mime, "size": u.size, "created_at": u.created_at,
                        "url": format!("/api/v1/tickets/{}/uploads/{}", t.no, u.id)}))
            .collect::<Vec<_>>()
    );
    v["merged_from"] = json!(repo::lookup::merged_from(db, t.id).await?);
    if t.signoff_required {
        let signed = signed_parties(db, t).await?;
        v["signoffs"] = json!(
            PARTIES
                .iter()
                .map(|(p, label)| json!({"party": p, "label": label, "signed": signed.iter().any(|(s, _)| s == p)}))
                .collect::<Vec<_>>()
        );
    }
    v["suggested_unit"] = json!(super::orders::suggested_unit(db, t).await?);
    v["actions"] = json!(allowed(db, user, l).await?);
    Ok(v)
}

/// List rows for a page of tickets: four small queries for the whole page, not four per row.
pub async fn rows<C: ConnectionTrait>(db: &C, tickets: &[Ticket], now: DateTime<Utc>) -> ApiResult<Vec<Value>> {
    let ids: Vec<i64> = tickets.iter().filter_map(|t| t.current_assignment_id).collect();
    let assignments: HashMap<i64, Assignment> =
        repo::assignments::by_ids(db, &ids).await?.into_iter().map(|a| (a.id, a)).collect();
    let mut unit_ids: Vec<i64> = assignments.values().map(|a| a.unit_id).collect();
    unit_ids.sort_unstable();
    unit_ids.dedup();
    let units = repo::lookup::unit_names(db, &unit_ids).await?;
    let mut region_ids: Vec<i64> = tickets.iter().map(|t| t.region_id).collect();
    region_ids.sort_unstable();
    region_ids.dedup();
    let regions = repo::lookup::region_names(db, &region_ids).await?;
    let mut codes: Vec<String> = tickets.iter().map(|t| t.category_code.clone()).collect();
    codes.sort_unstable();
    codes.dedup();
    let categories = repo::lookup::category_names(db, &codes).await?;
    let repeat_ids: Vec<i64> = tickets.iter().filter_map(|t| t.repeat_of_id).collect();
    let repeats = repo::tickets::numbers(db, &repeat_ids).await?;
    Ok(tickets
        .iter()
        .map(|t| {
            let a = t.current_assignment_id.and_then(|id| assignments.get(&id));
            json!({
                "no": t.no, "status": t.status,
                "status_label": t.status.label(),
                "kind": t.kind, "category": t.category_code, "category_name": categories.get(&t.category_code),
                "channel": t.channel, "priority": t.priority,
                "summary": crate::domain::privacy::mask_personal_numbers(&t.description).chars().take(60).collect::<String>(),
                "region_id": t.region_id, "region_name": regions.get(&t.region_id),
                "unit_id": t.unit_id, "unit_name": a.and_then(|a| units.get(&a.unit_id)),
                "phone": super::views::shown_phone(t), "created_at": t.created_at, "repeat_count": t.repeat_count,
                "repeat_of": t.repeat_of_id.and_then(|id| repeats.get(&id)),

                "register_by": t.register_by, "dispatch_by": t.dispatch_by,
                "respond_by": a.map(|a| a.respond_by), "progress_by": a.map(|a| a.progress_by),
                "resolve_by": a.map(|a| a.resolve_by), "visit_by": t.visit_by,
                "accepted_at": a.and_then(|a| a.accepted_at),
                "deadline": current_deadline(t, a, now),
                "overdue": is_overdue(t, a, now),
                "escalation_pending": a.is_some_and(pending),
            })
        })
        .collect())
}
