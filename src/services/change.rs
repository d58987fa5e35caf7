//! The one door for every change of a ticket. Whoever changes a ticket — a staff action, intake's
//! first registration, the SLA sweeper, a return visit, an appeal, a noted SMS reply — describes the
//! change as an `Action` and its `Effects`; `commit_in` asks the state machine for the target state,
//! creates the new assignment if any, applies the typed patch with a conditional update, appends
//! exactly one ledger event, and writes the assignment change, upload links and outbox rows, all in
//! the caller's transaction. Nothing else calls `repo::tickets::apply`.
use crate::domain::ticket::{Action, Status, joint_guard, transition};
use crate::domain::values::AssignmentStatus;
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
    Assignment {
        category: String,
        village: String,
        respond_by: String,
    },
    Escalation {
        category: String,
        respond_by: String,
    },
    /// 联合办理: an assisting unit's part, naming the lead unit.
    Assist {
        category: String,
        village: String,
        lead: String,
        respond_by: String,
    },
}

/// 联合办理: an assisting part a dispatch creates, with its unit's name (for the event) and the
/// messages to whoever will hold it: (phone, staff id the link acts for, notice).
pub struct NewPart {
    pub assignment: NewAssignment,
    pub unit_name: String,
    pub sms: Vec<(String, Option<i64>, OrderNotice)>,
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
    /// 联合办理: the assisting parts a dispatch gives out.
    pub new_parts: Vec<NewPart>,
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
            new_parts: vec![],
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
    fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let fresh = commit_in_deferred(state, db, ticket, action, actor, fx, now).await?;
    refresh_derived(state, db, &[ticket.id], now).await?;
    Ok(fresh)
}

/// What a change leaves to be recomputed from the rows it wrote: the ticket's derived deadlines
/// (overdue / late) and, last, the statistics roll-ups — which see every write of the change (a
/// visit or an appeal's un-counting is written before the change that records it). `commit_in`
/// calls it for its one ticket; a batch of changes in one transaction (the SLA sweeper) calls it
/// once for all its tickets before it commits.
pub async fn refresh_derived<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket_ids: &[i64],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    repo::tickets::refresh_deadlines(db, ticket_ids).await?;
    repo::rollups::refresh(db, ticket_ids, state.rollup_offset(), now).await?;
    Ok(())
}

/// `commit_in` without `refresh_derived`: the caller must call it for this ticket in the same
/// transaction before committing (several changes then share one recomputation).
pub async fn commit_in_deferred<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket: &Ticket,
    action: Action,
    actor: Actor,
    mut fx: Effects,
    now: DateTime<Utc>,
) -> ApiResult<Ticket> {
    let to = transition(ticket.status, action).map_err(illegal)?;
    if action == Action::Resolve {
        // 联合办理: read inside the transaction, so a part released or reported a moment ago counts.
        let open = repo::assignments::open_parts(db, ticket.id).await?.len();
        joint_guard(action, open).map_err(|e| ApiError::conflict(codes::PARTS_OPEN, e.message()))?;
    }
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
    let mut parts = vec![];
    for p in std::mem::take(&mut fx.new_parts) {
        let a = repo::assignments::create(db, p.assignment, now).await?;
        parts.push((json!({"assignment_id": a.id, "unit_id": a.unit_id, "unit_name": p.unit_name}), a, p.sms));
    }
    if !parts.is_empty()
        && let Some(obj) = fx.data.as_object_mut()
    {
        obj.insert("assisting".into(), parts.iter().map(|(v, _, _)| v.clone()).collect());
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
    if !to.holds_order() && to != Status::Resolved {
        // The order left the units (returned, withdrawn, referred): the assisting parts end with it,
        // and their units are told, as a unit whose order is taken back is.
        end_parts(state, db, ticket, action, now).await?;
    }
    if to == Status::Resolved {
        // Each resolution gets its own return visit: back in the callers' queue with fresh tries.
        repo::visits::reset(db, ticket.id).await?;
    }
    repo::uploads::attach(db, &fx.upload_ids, ticket.id).await?;
    let sign = &state.settings.county.sms_sign;
    // Every message of the change, in this order, written in one statement.
    let mut linked: Vec<(Message, &str)> = vec![];
    if let Some(a) = &created {
        for (phone, staff, notice) in &fx.order_sms {
            let link = worklink_url(state, a.id, *staff, a.resolve_by);
            linked.push((order_message(sign, &ticket.no, notice, &link), phone));
        }
    }
    for (_, a, sms) in &parts {
        for (phone, staff, notice) in sms {
            let link = worklink_url(state, a.id, *staff, a.resolve_by);
            linked.push((order_message(sign, &ticket.no, notice, &link), phone));
        }
    }
    let mut messages: Vec<(&Message, &str)> = linked.iter().map(|(m, p)| (m, *p)).collect();
    messages.extend(fx.sms.iter().map(|(m, p)| (m, p.as_str())));
    repo::outbox::enqueue_all(db, &messages, Some(ticket.id), now).await?;
    // An order of the city 12345 platform (always a hotline ticket): the platform hears of every
    // status change, through the outbox, if and only if the change commits.
    if to != ticket.status && ticket.channel == Channel::Hotline {
        crate::upstream::push::enqueue(db, &fresh, action, to, pushed_note.as_deref(), now).await?;
    }
    if let Some(notice) = &fx.villager_notice {
        super::wechat_notices::notify_in(state, db, &fresh, notice, now).await?;
    }
    tracing::info!(ticket_no = %ticket.no, action = action.as_str(), from = %ticket.status, to = %to, "ticket change");
    metrics::counter!("minsheng_ticket_actions_total", "action" => action.as_str()).increment(1);
    Ok(fresh)
}

/// Changes of several tickets written together, set-wise: the same door as `commit_in_deferred` for
/// the changes that need nothing read back — the SLA sweeper's urges and escalations. Each ticket
/// may take several changes in a row (an urge, then its escalation); their events are chained in
/// order. One statement writes the new assignments, one per shape of patch the tickets, one the
/// events, one per shape the assignment changes, one the messages. The caller refreshes the derived
/// state (`refresh_derived`) before it commits, as after `commit_in_deferred`.
#[derive(Default)]
pub struct Batch {
    tickets: Vec<Ticket>,
    changes: Vec<Vec<(Action, Actor, Effects)>>,
}

impl Batch {
    /// Whether `action` on a ticket now in `status` can go in a batch: a legal move that leaves the
    /// order with a unit (so no assisting part ends and no return visit starts), on a ticket the
    /// city platform does not follow (no upstream push), with no part, upload or villager notice.
    pub fn takes(ticket: &Ticket, status: Status, action: Action, fx: &Effects) -> bool {
        transition(status, action).is_ok_and(|to| to.holds_order())
            && action != Action::Resolve
            && ticket.channel != Channel::Hotline
            && fx.new_parts.is_empty()
            && fx.upload_ids.is_empty()
            && fx.villager_notice.is_none()
    }

    /// Stages a ticket's changes, in order; at most one of them may create an assignment.
    pub fn stage(&mut self, ticket: Ticket, changes: Vec<(Action, Actor, Effects)>) -> ApiResult<()> {
        let mut status = ticket.status;
        for (action, _, fx) in &changes {
            if !Batch::takes(&ticket, status, *action, fx) {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "{} on {} cannot be batched",
                    action.as_str(),
                    ticket.no
                )));
            }
            status = transition(status, *action).map_err(illegal)?;
        }
        if changes.iter().filter(|(_, _, fx)| fx.new_assignment.is_some()).count() > 1
            || self.tickets.iter().any(|t| t.id == ticket.id)
        {
            return Err(ApiError::internal(anyhow::anyhow!("{}: one new assignment per ticket in a batch", ticket.no)));
        }
        self.tickets.push(ticket);
        self.changes.push(changes);
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
    }

    /// Writes everything staged in the caller's transaction; a ticket changed since it was read
    /// fails the whole batch (409), and the caller rolls it back.
    pub async fn commit<C: ConnectionTrait>(self, state: &AppState, db: &C, now: DateTime<Utc>) -> ApiResult<Vec<i64>> {
        let Batch { tickets, mut changes } = self;
        // Which change of each ticket creates its new assignment, if one does.
        let mut owners: Vec<Option<usize>> = vec![];
        let mut news: Vec<NewAssignment> = vec![];
        for ch in changes.iter_mut() {
            let owner = ch.iter().position(|(_, _, fx)| fx.new_assignment.is_some());
            news.extend(owner.and_then(|i| ch[i].2.new_assignment.take()));
            owners.push(owner);
        }
        let mut created: std::collections::HashMap<i64, repo::assignments::Assignment> =
            repo::assignments::create_many(db, news, now).await?.into_iter().map(|a| (a.ticket_id, a)).collect();
        let sign = &state.settings.county.sms_sign;
        let mut steps = vec![];
        let mut updates = vec![];
        let mut messages: Vec<(Message, String, Option<i64>)> = vec![];
        for ((ticket, changes), owner) in tickets.iter().zip(changes).zip(owners) {
            let mut from = ticket.status;
            let mut staged = vec![];
            for (i, (action, actor, mut fx)) in changes.into_iter().enumerate() {
                let to = transition(from, action).map_err(illegal)?;
                if owner == Some(i) {
                    let a = created.remove(&ticket.id).ok_or_else(|| {
                        ApiError::internal(anyhow::anyhow!("the new assignment of {} was not read back", ticket.no))
                    })?;
                    fx.patch.current_assignment_id = Some(Some(a.id));
                    fx.patch.unit_id = Some(Some(a.unit_id));
                    if let Some(obj) = fx.data.as_object_mut() {
                        obj.insert("assignment_id".into(), json!(a.id));
                    }
                    for (phone, staff, notice) in &fx.order_sms {
                        let link = worklink_url(state, a.id, *staff, a.resolve_by);
                        messages.push((order_message(sign, &ticket.no, notice, &link), phone.clone(), Some(ticket.id)));
                    }
                }
                messages.extend(fx.sms.into_iter().map(|(m, p)| (m, p, Some(ticket.id))));
                updates.extend(fx.assignment_update);
                tracing::info!(ticket_no = %ticket.no, action = action.as_str(), from = %from, to = %to, "ticket change");
                metrics::counter!("minsheng_ticket_actions_total", "action" => action.as_str()).increment(1);
                staged.push((
                    to,
                    fx.patch,
                    NewEvent { action: action.as_str(), actor, note: fx.note, data: fx.data, public: fx.public },
                ));
                from = to;
            }
            steps.push(repo::tickets::Steps { ticket, steps: staged });
        }
        if !repo::tickets::apply_many(db, steps, now).await? {
            return Err(ApiError::conflict(codes::CONFLICT, "工单已被他人处理，请刷新后重试"));
        }
        repo::assignments::update_all(db, updates).await?;
        let rows: Vec<(&Message, &str, Option<i64>)> = messages.iter().map(|(m, p, t)| (m, p.as_str(), *t)).collect();
        repo::outbox::enqueue_rows(db, &rows, now).await?;
        Ok(tickets.iter().map(|t| t.id).collect())
    }
}

fn order_message(sign: &str, no: &str, notice: &OrderNotice, link: &str) -> Message {
    match notice {
        OrderNotice::Assignment { category, village, respond_by } => {
            templates::assignment(sign, no, category, village, respond_by, link)
        }
        OrderNotice::Escalation { category, respond_by } => {
            templates::escalation_with_link(sign, no, category, respond_by, link)
        }
        OrderNotice::Assist { category, village, lead, respond_by } => {
            templates::assist(sign, no, category, village, lead, respond_by, link)
        }
    }
}

/// Ends the ticket's open assisting parts (superseded, with the action's name as the reason) and
/// tells their units that the order was taken back.
async fn end_parts<C: ConnectionTrait>(
    state: &AppState,
    db: &C,
    ticket: &Ticket,
    action: Action,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let sign = &state.settings.county.sms_sign;
    for part in repo::assignments::open_parts(db, ticket.id).await? {
        let patch = AssignmentPatch::end(AssignmentStatus::Superseded, Some(action.label()), now);
        repo::assignments::update(db, part.id, patch).await?;
        for (phone, _) in super::orders::unit_recipients(db, part.unit_id, part.assignee_id).await? {
            let msg = templates::recall(sign, &ticket.no, action.label());
            repo::outbox::enqueue(db, &msg, &phone, Some(ticket.id), now).await?;
        }
    }
    Ok(())
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
