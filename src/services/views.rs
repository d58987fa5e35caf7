//! JSON shapes of a ticket: the full staff view and the requester's public view (no internal notes,
//! no private phones, the phone masked).
//!
//! Free text follows the phone: wherever the requester's phone is shown masked (every view here),
//! phones and ID numbers typed into a description, a note or a comment are masked too
//! (`domain::privacy`). Only the two views that show the phone in full show text in full: the
//! handling cadre's order page (`routes::worklink`) and the caller's claimed return visit
//! (`visit_queue::claim`).
use crate::domain::privacy::mask_personal_numbers as mask_text;
use crate::domain::ticket::Status;
use crate::domain::values::{
    AssignmentRole, AssignmentStatus, Channel, Kind, PauseDecision, Priority, Satisfaction, Solved, VisitChannel,
};
use crate::repo;
use crate::repo::assignments::Assignment;
use crate::repo::tickets::{Event, Ticket};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize, utoipa::ToSchema)]
pub struct IdName {
    pub id: i64,
    pub name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssignmentView {
    pub id: i64,
    pub status: AssignmentStatus,
    pub unit: IdName,
    pub assignee: Option<IdName>,
    pub dispatched_at: DateTime<Utc>,
    pub respond_by: DateTime<Utc>,
    pub progress_by: DateTime<Utc>,
    pub resolve_by: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub first_progress_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub reopened: bool,
    /// 挂起: the unit's last request to pause and what became of it, the running pause, and the
    /// minutes of every finished pause of this assignment.
    pub pause: Option<PauseView>,
    pub paused_minutes: i32,
    /// 联合办理: `lead` (主办) or `assist` (协办, an assisting unit's own part).
    pub role: AssignmentRole,
    /// An assisting part's report (协办反馈), once made.
    pub report_note: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PauseView {
    pub requested_at: DateTime<Utc>,
    pub requested_by: Option<IdName>,
    pub reason: Option<String>,
    pub resume_on: Option<chrono::NaiveDate>,
    /// Not decided yet: a leader of the region is to approve or refuse.
    pub pending: bool,
    pub decision: Option<PauseDecision>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<IdName>,
    /// While paused: since when, and the instant the sweeper resumes it.
    pub paused_at: Option<DateTime<Utc>>,
    pub pause_until: Option<DateTime<Utc>>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    pub seq: i32,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub actor: String,
    pub actor_kind: String,
    pub note: Option<String>,
    #[schema(value_type = Object)]
    pub data: Value,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct VisitView {
    pub id: i64,
    pub channel: VisitChannel,
    pub reached: bool,
    pub solved: Option<Solved>,
    pub satisfaction: Option<Satisfaction>,
    #[schema(value_type = Option<Object>)]
    pub scores: Option<Value>,
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketView {
    pub no: String,
    pub status: Status,
    #[schema(value_type = String)]
    pub status_label: &'static str,
    pub kind: Kind,
    pub category: String,
    pub category_name: String,
    pub channel: Channel,
    pub priority: Priority,
    pub description: String,
    #[schema(value_type = Object)]
    pub requester: Value,
    pub region: IdName,
    pub region_names: Vec<String>,
    pub address: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub location: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub register_by: Option<DateTime<Utc>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub assignment: Option<AssignmentView>,
    pub assignments: Vec<AssignmentView>,
    /// 联合办理: the assisting units' parts of the order (open, reported or released; those ended
    /// by a return or refer are left out), and how many are still owed before the lead may resolve.
    pub assisting: Vec<AssignmentView>,
    pub assisting_open: usize,
    pub resolved_at: Option<DateTime<Utc>>,
    pub visit_by: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub signoff_required: bool,
    pub repeat_of: Option<String>,
    pub repeat_count: i32,
    pub merged_into: Option<String>,
    pub return_visits: Vec<VisitView>,
    /// 未诉先办: on a proactive ticket, the requests that raised it (empty on any other ticket).
    pub linked_tickets: Vec<LinkedTicket>,
    /// On a request taken into a proactive ticket: that ticket (the latest, if several).
    pub proactive_ticket: Option<LinkedTicket>,
    /// 下交 and 三老合议: a request waiting for a leader's approval, the village council's members
    /// and the signatures of the current referral (absent on tickets never asked to be referred).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub council: Option<Value>,
    pub events: Vec<EventView>,
}

/// A ticket as named from a linked one (未诉先办): number, category, status, village, masked phone.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LinkedTicket {
    pub no: String,
    pub category: String,
    pub category_name: String,
    pub status: Status,
    #[schema(value_type = String)]
    pub status_label: &'static str,
    pub village: String,
    pub phone: String,
    pub channel: Channel,
}

/// The requester's phone as staff lists and views show it: masked; nothing once the retention job
/// has anonymised the ticket (its placeholder is no phone).
pub fn shown_phone(t: &Ticket) -> String {
    if t.anonymized_at.is_some() || crate::domain::privacy::is_anonymous_phone(&t.requester_phone) {
        String::new()
    } else {
        crate::domain::phone::mask(&t.requester_phone)
    }
}

/// A ledger event's actor as shown: a villager's own name (typed at intake, kept in the hashed
/// ledger) is not shown once the ticket is anonymised.
fn shown_actor(t: &Ticket, e: &Event) -> String {
    if t.anonymized_at.is_some() && e.actor_kind == "villager" { "群众".to_string() } else { e.actor_name.clone() }
}

async fn linked_ticket<C: ConnectionTrait>(db: &C, t: &Ticket) -> Result<LinkedTicket, DbErr> {
    Ok(LinkedTicket {
        no: t.no.clone(),
        category: t.category_code.clone(),
        category_name: repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default(),
        status: t.status,
        status_label: t.status.label(),
        village: repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default(),
        phone: shown_phone(t),
        channel: t.channel,
    })
}

/// A compact row for lists.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TicketRow {
    pub no: String,
    pub status: Status,
    #[schema(value_type = String)]
    pub status_label: &'static str,
    pub kind: Kind,
    pub category: String,
    pub channel: Channel,
    pub priority: Priority,
    pub summary: String,
    pub region_id: i64,
    pub unit_id: Option<i64>,
    pub phone: String,
    pub created_at: DateTime<Utc>,
    pub repeat_count: i32,
    pub repeat_of: Option<String>,
    pub respond_by: Option<DateTime<Utc>>,
    pub resolve_by: Option<DateTime<Utc>>,
    pub overdue: bool,
}

async fn unit_name<C: ConnectionTrait>(db: &C, id: i64) -> Result<String, DbErr> {
    Ok(repo::regions::unit(db, id).await?.map(|u| u.name).unwrap_or_default())
}

async fn staff_name<C: ConnectionTrait>(db: &C, id: Option<i64>) -> Result<Option<IdName>, DbErr> {
    Ok(match id {
        Some(id) => repo::staff::get(db, id).await?.map(|s| IdName { id: s.id, name: s.name }),
        None => None,
    })
}

async fn pause_view<C: ConnectionTrait>(db: &C, a: &Assignment) -> Result<Option<PauseView>, DbErr> {
    let Some(requested_at) = a.pause_requested_at else { return Ok(None) };
    Ok(Some(PauseView {
        requested_at,
        requested_by: staff_name(db, a.pause_requested_by).await?,
        reason: a.pause_reason.clone(),
        resume_on: a.pause_resume_on,
        pending: a.pause_pending(),
        decision: a.pause_decision,
        decided_at: a.pause_decided_at,
        decided_by: staff_name(db, a.pause_decided_by).await?,
        paused_at: a.paused_at,
        pause_until: a.pause_until,
    }))
}

async fn assignment_view<C: ConnectionTrait>(db: &C, a: &Assignment) -> Result<AssignmentView, DbErr> {
    let assignee = staff_name(db, a.assignee_id).await?;
    Ok(AssignmentView {
        id: a.id,
        status: a.status,
        unit: IdName { id: a.unit_id, name: unit_name(db, a.unit_id).await? },
        assignee,
        dispatched_at: a.dispatched_at,
        respond_by: a.respond_by,
        progress_by: a.progress_by,
        resolve_by: a.resolve_by,
        accepted_at: a.accepted_at,
        first_progress_at: a.first_progress_at,
        resolved_at: a.resolved_at,
        reopened: a.reopened,
        pause: pause_view(db, a).await?,
        paused_minutes: a.paused_minutes,
        role: a.role,
        report_note: a.report_note.as_deref().map(mask_text),
    })
}

pub fn event_view(e: &Event) -> EventView {
    EventView {
        seq: e.seq,
        action: e.action.clone(),
        from_status: e.from_status.map_or("", Status::as_str).to_string(),
        to_status: e.to_status.as_str().to_string(),
        actor: e.actor_name.clone(),
        actor_kind: e.actor_kind.clone(),
        note: e.note.clone(),
        data: serde_json::from_str(&e.data).unwrap_or(Value::Null),
        at: e.at,
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
    }
}

async fn ticket_no_of<C: ConnectionTrait>(db: &C, id: Option<i64>) -> Result<Option<String>, DbErr> {
    Ok(match id {
        Some(id) => repo::tickets::by_id(db, id).await?.map(|t| t.no),
        None => None,
    })
}

/// Whether the current assignment has missed a deadline at `now`.
pub fn is_overdue(t: &Ticket, a: Option<&Assignment>, now: DateTime<Utc>) -> bool {
    let assigned = t.status.is_assigned();
    a.is_some_and(|a| {
        assigned
            && a.status == AssignmentStatus::Active
            && ((a.accepted_at.is_none() && a.respond_by < now) || (a.resolved_at.is_none() && a.resolve_by < now))
    })
}

pub async fn ticket_row<C: ConnectionTrait>(db: &C, t: &Ticket, now: DateTime<Utc>) -> Result<TicketRow, DbErr> {
    let current = match t.current_assignment_id {
        Some(id) => repo::assignments::get(db, id).await?,
        None => None,
    };
    Ok(TicketRow {
        no: t.no.clone(),
        status: t.status,
        status_label: t.status.label(),
        kind: t.kind,
        category: t.category_code.clone(),
        channel: t.channel,
        priority: t.priority,
        summary: mask_text(&t.description).chars().take(60).collect(),
        region_id: t.region_id,
        unit_id: t.unit_id,
        phone: shown_phone(t),
        created_at: t.created_at,
        repeat_count: t.repeat_count,
        repeat_of: ticket_no_of(db, t.repeat_of_id).await?,
        respond_by: current.as_ref().map(|a| a.respond_by),

        resolve_by: current.as_ref().map(|a| a.resolve_by),
        overdue: is_overdue(t, current.as_ref(), now),
    })
}

pub async fn ticket_view<C: ConnectionTrait>(db: &C, t: &Ticket) -> Result<TicketView, DbErr> {
    let assignments = repo::assignments::of_ticket(db, t.id).await?;
    let mut views = Vec::with_capacity(assignments.len());
    let mut assisting = vec![];
    for a in &assignments {
        let v = assignment_view(db, a).await?;
        if a.role == AssignmentRole::Assist && a.status != AssignmentStatus::Superseded {
            assisting.push(assignment_view(db, a).await?);
        }
        views.push(v);
    }
    let assisting_open = assignments.iter().filter(|a| a.is_open_part()).count();
    let current = match t.current_assignment_id {
        Some(id) => assignments.iter().find(|a| a.id == id),
        None => None,
    };
    let assignment = match current {
        Some(a) => Some(assignment_view(db, a).await?),
        None => None,
    };
    let region = repo::regions::get(db, t.region_id).await?;
    let region_names = match &region {
        Some(r) => repo::regions::lineage(db, r).await?.into_iter().map(|r| r.name).collect(),
        None => vec![],
    };
    let category_name = repo::catalog::category(db, &t.category_code).await?.map(|c| c.name).unwrap_or_default();
    let events = repo::tickets::events_of(db, t.id).await?;
    let visits = repo::return_visits::of_ticket(db, t.id).await?;
    let mut linked_tickets = vec![];
    if t.channel == Channel::Proactive {
        for l in repo::ticket_links::linked_of(db, t.id).await? {
            linked_tickets.push(linked_ticket(db, &l).await?);
        }
    }
    let proactive_ticket = match repo::ticket_links::proactive_of(db, &[t.id]).await?.first() {
        Some((_, p)) => Some(linked_ticket(db, p).await?),
        None => None,
    };
    Ok(TicketView {
        no: t.no.clone(),
        status: t.status,
        status_label: t.status.label(),
        kind: t.kind,
        category: t.category_code.clone(),
        category_name,
        channel: t.channel,
        priority: t.priority,
        description: mask_text(&t.description),
        requester: serde_json::json!({"name": t.requester_name, "phone": shown_phone(t)}),
        region: IdName { id: t.region_id, name: region.map(|r| r.name).unwrap_or_default() },
        region_names,
        address: t.address.clone(),
        location: t.lat.zip(t.lng).map(|(lat, lng)| serde_json::json!({"lat": lat, "lng": lng})),
        created_at: t.created_at,
        register_by: t.register_by,
        registered_at: t.registered_at,
        assignment,
        assignments: views,
        assisting,
        assisting_open,
        resolved_at: t.resolved_at,
        visit_by: t.visit_by,
        closed_at: t.closed_at,
        signoff_required: t.signoff_required,
        repeat_of: ticket_no_of(db, t.repeat_of_id).await?,
        repeat_count: t.repeat_count,
        merged_into: ticket_no_of(db, t.merged_into_id).await?,
        return_visits: visits
            .iter()
            .map(|v| {
                VisitView {
                id: v.id,
                channel: v.channel,
                reached: v.reached,
                solved: v.solved,
                satisfaction: v.satisfaction,
                scores: v.scores.map(|[a, b, c, d]| {
                    serde_json::json!({"attitude": a, "capability": b, "convenience": c, "efficiency": d})
                }),
                comment: v.comment.as_deref().map(mask_text),
                at: v.at,
            }
            })
            .collect(),
        linked_tickets,
        proactive_ticket,
        council: crate::services::council::ticket_council(db, t, &events).await?,
        events: events
            .iter()
            .map(|e| {
                let mut v = event_view(e);
                v.note = v.note.as_deref().map(mask_text);
                v.actor = shown_actor(t, e);
                v
            })
            .collect(),
    })
}

/// Actions whose note the requester may read (progress reports, results, decisions, reasons for
/// closing their request); every other note is internal.
fn note_is_public(action: &str) -> bool {
    matches!(
        action,
        "progress"
            | "resolve"
            | "council_decision"
            | "invalid"
            | "merge"
            | "proactive_link"
            | "pause_approve"
            | "resume"
    )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicEvent {
    pub at: DateTime<Utc>,
    pub action: String,
    pub label: String,
    pub status: String,
    #[schema(value_type = String)]
    pub status_label: &'static str,
    pub note: Option<String>,
    pub unit: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PublicTicket {
    pub no: String,
    pub status: Status,
    #[schema(value_type = String)]
    pub status_label: &'static str,
    pub category: IdNameCode,
    pub kind: Kind,
    pub created_at: DateTime<Utc>,
    pub phone: String,
    pub village: String,
    pub handling_unit: Option<String>,
    pub respond_by: Option<DateTime<Utc>>,
    pub resolve_by: Option<DateTime<Utc>>,
    /// 挂起: while the order is paused, the day it is expected to go on.
    pub paused_until: Option<chrono::NaiveDate>,
    pub timeline: Vec<PublicEvent>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct IdNameCode {
    pub code: String,
    pub name: String,
}

fn public_label(e: &Event) -> String {
    match e.action.as_str() {
        "submit" => "诉求已提交".into(),
        "register" => "已登记受理".into(),
        "dispatch" => "已派单至承办单位".into(),
        "redirect" => "已改派至承办单位".into(),
        "accept" => "承办单位已签收".into(),
        "progress" => "办理进展".into(),
        "resolve" => "已办结".into(),
        "escalate" => "已提级办理".into(),
        "return_visit" => "已回访".into(),
        "reopen" => "重新办理".into(),
        "close" => "已归档".into(),
        "refer" | "refer_approve" => "已下交村民议事会".into(),
        "council_decision" => "议事会已作出决定".into(),
        "merge" => "已与相同诉求合并".into(),
        "invalid" => "不予受理".into(),
        "proactive_link" => "已纳入未诉先办，由工作人员统一办理".into(),
        "verify" => "已现场核查".into(),
        "pause_approve" => "办理暂停（挂起），期间不计办理时限".into(),
        "resume" => "恢复办理".into(),
        other => other.to_string(),
    }
}

pub async fn public_view<C: ConnectionTrait>(db: &C, t: &Ticket) -> Result<PublicTicket, DbErr> {
    let events = repo::tickets::events_of(db, t.id).await?;
    let current = match t.current_assignment_id {
        Some(id) => repo::assignments::get(db, id).await?,
        None => None,
    };
    let handling_unit = match &current {
        Some(a) => Some(unit_name(db, a.unit_id).await?),
        None => None,
    };
    let category = repo::catalog::category(db, &t.category_code).await?;
    let village = repo::regions::get(db, t.region_id).await?.map(|r| r.name).unwrap_or_default();
    let open = current.as_ref().filter(|a| a.status == AssignmentStatus::Active);
    Ok(PublicTicket {
        no: t.no.clone(),
        status: t.status,
        status_label: t.status.label(),
        category: IdNameCode { code: t.category_code.clone(), name: category.map(|c| c.name).unwrap_or_default() },
        kind: t.kind,
        created_at: t.created_at,
        phone: shown_phone(t),
        village,
        handling_unit,
        respond_by: open.filter(|a| a.accepted_at.is_none()).map(|a| a.respond_by),
        resolve_by: open.map(|a| a.resolve_by),
        paused_until: open.filter(|a| a.paused_at.is_some()).and_then(|a| a.pause_resume_on),
        timeline: events
            .iter()
            .filter(|e| e.public)
            .map(|e| {
                let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
                PublicEvent {
                    at: e.at,
                    action: e.action.clone(),
                    label: public_label(e),
                    status: e.to_status.as_str().to_string(),
                    status_label: e.to_status.label(),
                    note: if note_is_public(&e.action) { e.note.as_deref().map(mask_text) } else { None },
                    unit: data.get("unit_name").and_then(Value::as_str).map(str::to_string),
                }
            })
            .collect(),
    })
}
