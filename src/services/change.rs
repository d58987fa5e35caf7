//! The one door for every change of a ticket. Whoever changes a ticket — a staff action, intake's
//! first registration, the SLA sweeper, a return visit, an appeal, a noted SMS reply — describes the
//! change as an `Action` and its `Effects`; `commit_in` asks the state machine for the target state,
//! creates the new assignment if any, applies the typed patch with a conditional update, appends
//! exactly one ledger event, and writes the assignment change, upload links and outbox rows, all in
//! the caller's transaction. Nothing else calls `repo::tickets::apply`.
use crate::domain::ticket::{Action, Status, transition};
use crate::domain::values::Channel;
use crate::domain::worklink::{self, WorkLink};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::assignments::{AssignmentPatch, NewAssignment};
use crate::repo::tickets::{Actor, Applied, NewEvent, Ticket, TicketPatch};
use crate::sms::templates::{self, Message};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// A message for the unit that receives a new assignment; built once the assignment has an id, so
/// that its signed `/w/{token}` link can be put in.
pub enum OrderNotice {
    Assignment { category: String, village: String, respond_by: String },
    Escalation { category: String, respond_by: String },
}

/// What a change writes besides the ticket's status and its ledger event.
pub struct Effects {
    pub patch: TicketPatch,
    pub note: Option<String>,
    pub data: serde_json::Value,
    /// Whether the event shows on the requester's tracking page.
    pub public: bool,
    /// Messages to send: (message, phone).
    pub sms: Vec<(Message, String)>,
    /// Progress for the requester: by WeChat subscribe message when they subscribed, else SMS.
    pub villager_notice: Option<super::wechat_notices::VillagerNotice>,
    pub new_assignment: Option<NewAssignment>,
    /// Messages about the new assignment: (phone, staff id the link acts for, notice).
    pub order_sms: Vec<(String, Option<i64>, OrderNotice)>,
    /// A change to an existing assignment: (id, patch).
    pub assignment_update: Option<(i64, AssignmentPatch)>,
    pub upload_ids: Vec<String>,
}

impl Effects {
    pub fn new(public: bool) -> Self {
        Effects {
            patch: TicketPatch::default(),
            note: None,
            data: json!({}),
            public,
            sms: vec![],
            villager_notice: None,
            new_assignment: None,
            order_sms: vec![],
            assignment_update: None,
            upload_ids: vec![],
        }
    }

    /// A ledger entry with a note and data, changing nothing else.
    pub fn entry(public: bool, note: Option<String>, data: serde_json::Value) -> Self {
        Effects { note, data, ..Effects::new(public) }
    }
}

/// What a reopening clears: the order waits for a unit again, visits and closing start over.
pub fn reopen_patch() -> TicketPatch {
    TicketPatch { current_assignment_id: Some(None), visit_by: Some(None), closed_at: Some(None), ..Default::default() }
}

/// The illegal move as the API answers it.
pub fn illegal(e: crate::domain::ticket::Illegal) -> ApiError {
    ApiError::conflict(codes::ILLEGAL_TRANSITION, e.message())
}

/// Applies `action` to `ticket` with its effects in a transaction of its own; a stale ticket rolls
/// everything back (409). Once committed, the change is announced to the dashboards (`commit_in`
/// cannot: its caller's transaction may still roll back, so its callers announce after their commit).
pub async fn commit(
    state: &AppState,
    ticket: &Ticket,
    action: Action,
    actor: Actor,
    fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let tx = state.db.begin().await?;
    let fresh = commit_in(state, &*tx, ticket, action, actor, fx, now).await?;
    tx.commit().await?;
    super::live::announce_action(state, &fresh, action, now).await;
    Ok(fresh)
}

/// Applies `action` inside the caller's transaction: the target state comes from the state machine
/// (409 if the action is illegal in the ticket's state); the assignment first (the ticket points at
/// it), then the conditional ticket update with its one event, then uploads and messages.
pub async fn commit_in<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket: &Ticket,
    action: Action,
    actor: Actor,
    mut fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let to = transition(ticket.status, action).map_err(illegal)?;
    let mut created = None;
    if let Some(new) = fx.new_assignment.take() {
        let a = repo::assignments::create(db, new, now).await?;
        fx.patch.current_assignment_id = Some(Some(a.id));
        fx.patch.unit_id = Some(Some(a.unit_id));
        if let Some(obj) = fx.data.as_object_mut() {
            obj.insert("assignment_id".into(), json!(a.id));
        }
        created = Some(a);
    }
    if !fx.upload_ids.is_empty()
        && let Some(obj) = fx.data.as_object_mut()
    {
        obj.insert("upload_ids".into(), json!(fx.upload_ids));
    }
    let pushed_note = fx.note.clone();
    let ev = NewEvent { action: action.as_str(), actor, note: fx.note, data: fx.data, public: fx.public };
    let fresh = match repo::tickets::apply(db, ticket, to, fx.patch, &ev, now).await? {
        Applied::Done(t) => *t,
        Applied::Stale => return Err(ApiError::conflict(codes::CONFLICT, "工单已被他人处理，请刷新后重试")),
    };
    if let Some((id, patch)) = fx.assignment_update {
        repo::assignments::update(db, id, patch).await?;
    }
    if to == Status::Resolved {
        // Each resolution gets its own return visit: back in the callers' queue with fresh tries.
        repo::visits::reset(db, ticket.id).await?;
    }
    repo::uploads::attach(db, &fx.upload_ids, ticket.id).await?;
    let sign = &state.settings.county.sms_sign;
    if let Some(a) = &created {
        for (phone, staff, notice) in &fx.order_sms {
            let link = worklink_url(state, a.id, *staff, a.resolve_by);
            let msg = match notice {
                OrderNotice::Assignment { category, village, respond_by } => {
                    templates::assignment(sign, &ticket.no, category, village, respond_by, &link)
                }
                OrderNotice::Escalation { category, respond_by } => {
                    templates::escalation_with_link(sign, &ticket.no, category, respond_by, &link)
                }
            };
            repo::outbox::enqueue(db, &msg, phone, Some(ticket.id), now).await?;
        }
    }
    for (msg, phone) in &fx.sms {
        repo::outbox::enqueue(db, msg, phone, Some(ticket.id), now).await?;
    }
    // An order of the city 12345 platform (always a hotline ticket): the platform hears of every
    // status change, through the outbox, if and only if the change commits.
    if to != ticket.status && ticket.channel == Channel::Hotline {
        crate::upstream::push::enqueue(db, &fresh, action, to, pushed_note.as_deref(), now).await?;
    }
    if let Some(notice) = &fx.villager_notice {
        super::wechat_notices::notify_in(state, db, &fresh, notice, now).await?;
    }
    // Last: the statistics roll-ups see every write of this change (a visit or an appeal's
    // un-counting is written before the change that records it).
    repo::rollups::refresh(db, &[ticket.id], state.rollup_offset(), now).await?;
    tracing::info!(ticket_no = %ticket.no, action = action.as_str(), from = %ticket.status, to = %to, "ticket change");
    metrics::counter!("minsheng_ticket_actions_total", "action" => action.as_str()).increment(1);
    Ok(fresh)
}

/// The key that signs cadres' order links (its own key, derived for this purpose only).
pub fn worklink_key(state: &AppState) -> &[u8] {
    state.keys.work_link.bytes()
}

/// The cadre's order page for an assignment: valid until a week after its result deadline.
pub fn worklink_url(state: &AppState, assignment_id: i64, staff_id: Option<i64>, resolve_by: DateTime<Utc>) -> String {
    let link = WorkLink { assignment_id, staff_id, expires: resolve_by + Duration::days(7) };
    format!("{}/w/{}", state.public_url(), worklink::sign(worklink_key(state), &link))
}
