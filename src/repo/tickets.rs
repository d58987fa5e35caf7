//! Tickets: numbering, creation with the first ledger event, the conditional update that applies a
//! transition together with its event, and the staff list query.
use super::{Page, like_prefix};
use crate::domain::ledger::{self, EventContent};
use crate::domain::ticket::Status;
use crate::domain::values::{Channel, Kind, Priority};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{assignments, events, tickets};
use sea_orm::sea_query::{Alias, BinOper, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, IdenStatic,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select, Set, Statement, Value,
};

/// A ticket row with its enumerations typed (read loudly: an unknown stored value is an error).
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub no: String,
    pub status: Status,
    pub kind: Kind,
    pub category_code: String,
    pub channel: Channel,
    pub priority: Priority,
    pub description: String,
    pub requester_name: Option<String>,
    pub requester_phone: String,
    pub requester_openid: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub region_id: i64,
    pub region_path: String,
    pub card_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub current_assignment_id: Option<i64>,
    pub repeat_of_id: Option<i64>,
    pub repeat_count: i32,
    pub merged_into_id: Option<i64>,
    pub signoff_required: bool,
    pub event_seq: i32,
    pub last_hash: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub register_by: Option<DateTime<Utc>>,
    pub registered_at: Option<DateTime<Utc>>,
    pub first_dispatched_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub visit_by: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub dispatch_by: Option<DateTime<Utc>>,
    pub anonymized_at: Option<DateTime<Utc>>,
}

impl TryFrom<tickets::Model> for Ticket {
    type Error = DbErr;

    fn try_from(m: tickets::Model) -> Result<Ticket, DbErr> {
        let stored = |column, raw: &str, parse| super::stored("tickets", column, m.id, raw, parse);
        Ok(Ticket {
            status: stored("status", &m.status, Status::parse)?,
            kind: super::stored("tickets", "kind", m.id, &m.kind, Kind::parse)?,
            channel: super::stored("tickets", "channel", m.id, &m.channel, Channel::parse)?,
            priority: super::stored("tickets", "priority", m.id, &m.priority, Priority::parse)?,
            id: m.id,
            no: m.no,
            category_code: m.category_code,
            description: m.description,
            requester_name: m.requester_name,
            requester_phone: m.requester_phone,
            requester_openid: m.requester_openid,
            address: m.address,
            lat: m.lat,
            lng: m.lng,
            region_id: m.region_id,
            region_path: m.region_path,
            card_id: m.card_id,
            unit_id: m.unit_id,
            current_assignment_id: m.current_assignment_id,
            repeat_of_id: m.repeat_of_id,
            repeat_count: m.repeat_count,
            merged_into_id: m.merged_into_id,
            signoff_required: m.signoff_required,
            event_seq: m.event_seq,
            last_hash: m.last_hash,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            register_by: m.register_by,
            registered_at: m.registered_at,
            first_dispatched_at: m.first_dispatched_at,
            resolved_at: m.resolved_at,
            visit_by: m.visit_by,
            closed_at: m.closed_at,
            dispatch_by: m.dispatch_by,
            anonymized_at: m.anonymized_at,
        })
    }
}

pub(crate) fn typed(rows: Vec<tickets::Model>) -> Result<Vec<Ticket>, DbErr> {
    rows.into_iter().map(Ticket::try_from).collect()
}

fn one(row: Option<tickets::Model>) -> Result<Option<Ticket>, DbErr> {
    row.map(Ticket::try_from).transpose()
}

/// A new request, as intake files it (status `submitted`, its first ledger event written with it).
#[derive(Clone, Debug)]
pub struct NewTicket {
    pub no: String,
    pub kind: Kind,
    pub category_code: String,
    pub channel: Channel,
    pub priority: Priority,
    pub description: String,
    pub requester_name: Option<String>,
    pub requester_phone: String,
    pub requester_openid: Option<String>,
    pub address: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub region_id: i64,
    pub region_path: String,
    pub card_id: Option<i64>,
    pub repeat_of_id: Option<i64>,
    pub signoff_required: bool,
    pub created_by: Option<i64>,
    pub register_by: Option<DateTime<Utc>>,
}

/// What a change sets on the ticket row besides its status and ledger position. `None` leaves a
/// column as it is; for nullable columns `Some(None)` clears it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TicketPatch {
    pub category_code: Option<String>,
    pub kind: Option<Kind>,
    pub priority: Option<Priority>,
    pub signoff_required: Option<bool>,
    pub registered_at: Option<DateTime<Utc>>,
    pub first_dispatched_at: Option<DateTime<Utc>>,
    pub dispatch_by: Option<Option<DateTime<Utc>>>,
    pub current_assignment_id: Option<Option<i64>>,
    pub unit_id: Option<Option<i64>>,
    pub merged_into_id: Option<i64>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub visit_by: Option<Option<DateTime<Utc>>>,
    pub closed_at: Option<Option<DateTime<Utc>>>,
}

impl TicketPatch {
    fn columns(self) -> Vec<(tickets::Column, Value)> {
        use tickets::Column as C;
        let mut out: Vec<(tickets::Column, Value)> = vec![];
        let mut put = |c: C, v: Option<Value>| {
            if let Some(v) = v {
                out.push((c, v));
            }
        };
        put(C::CategoryCode, self.category_code.map(Into::into));
        put(C::Kind, self.kind.map(|k| k.as_str().into()));
        put(C::Priority, self.priority.map(|p| p.as_str().into()));
        put(C::SignoffRequired, self.signoff_required.map(Into::into));
        put(C::RegisteredAt, self.registered_at.map(|t| Some(t).into()));
        put(C::FirstDispatchedAt, self.first_dispatched_at.map(|t| Some(t).into()));
        put(C::DispatchBy, self.dispatch_by.map(Into::into));
        put(C::CurrentAssignmentId, self.current_assignment_id.map(Into::into));
        put(C::UnitId, self.unit_id.map(Into::into));
        put(C::MergedIntoId, self.merged_into_id.map(|id| Some(id).into()));
        put(C::ResolvedAt, self.resolved_at.map(|t| Some(t).into()));
        put(C::VisitBy, self.visit_by.map(Into::into));
        put(C::ClosedAt, self.closed_at.map(Into::into));
        out
    }
}

/// Next number of the day, atomically: one upsert that both databases serialise on the day's row.
pub async fn next_number<C: ConnectionTrait>(db: &C, day: NaiveDate) -> Result<i64, DbErr> {
    let sql = "INSERT INTO ticket_counters (day, last) VALUES ($1, 1) \
               ON CONFLICT (day) DO UPDATE SET last = ticket_counters.last + 1 RETURNING last";
    let stmt =
        Statement::from_sql_and_values(db.get_database_backend(), sql, [day.format("%Y%m%d").to_string().into()]);
    let row = db.query_one_raw(stmt).await?.ok_or_else(|| DbErr::Custom("ticket counter returned no row".into()))?;
    row.try_get::<i64>("", "last")
}

/// Who did something, as the ledger records it.
#[derive(Clone, Debug)]
pub struct Actor {
    pub kind: &'static str,
    pub id: Option<i64>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor { kind: "system", id: None, name: "系统".into() }
    }

    pub fn villager(name: &str) -> Actor {
        Actor { kind: "villager", id: None, name: name.into() }
    }

    pub fn staff(id: i64, name: &str) -> Actor {
        Actor { kind: "staff", id: Some(id), name: name.into() }
    }

    /// A unit outside government acting through its duty phone's order link (no person).
    pub fn unit(name: &str) -> Actor {
        Actor { kind: "unit", id: None, name: name.into() }
    }
}

/// An event to append: the action, its note and structured data.
#[derive(Clone, Debug)]
pub struct NewEvent {
    pub action: &'static str,
    pub actor: Actor,
    pub note: Option<String>,
    pub data: serde_json::Value,
    pub public: bool,
}

async fn insert_event<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    content: &EventContent<'_>,
    prev_hash: &str,
    hash: &str,
) -> Result<events::Model, DbErr> {
    event_row(ticket_id, content, prev_hash, hash).insert(db).await
}

fn event_row(ticket_id: i64, content: &EventContent<'_>, prev_hash: &str, hash: &str) -> events::ActiveModel {
    events::ActiveModel {
        ticket_id: Set(ticket_id),
        seq: Set(content.seq),
        action: Set(content.action.to_string()),
        from_status: Set(content.from_status.to_string()),
        to_status: Set(content.to_status.to_string()),
        actor_kind: Set(content.actor_kind.to_string()),
        actor_id: Set(content.actor_id),
        actor_name: Set(content.actor_name.to_string()),
        note: Set(content.note.map(str::to_string)),
        data: Set(content.data.to_string()),
        public: Set(content.public),
        at: Set(content.at),
        prev_hash: Set(prev_hash.to_string()),
        hash: Set(hash.to_string()),
        ..Default::default()
    }
}

fn content<'a>(
    no: &'a str,
    seq: i32,
    from: &'a str,
    to: &'a str,
    ev: &'a NewEvent,
    data: &'a str,
    at: DateTime<Utc>,
) -> EventContent<'a> {
    EventContent {
        ticket_no: no,
        seq,
        action: ev.action,
        from_status: from,
        to_status: to,
        actor_kind: ev.actor.kind,
        actor_id: ev.actor.id,
        actor_name: &ev.actor.name,
        note: ev.note.as_deref(),
        data,
        public: ev.public,
        at: ledger::ledger_time(at),
    }
}

/// Inserts a new ticket (status `submitted`) with its first ledger event, in the caller's transaction.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    t: NewTicket,
    ev: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Ticket, DbErr> {
    let now = ledger::ledger_time(now);
    let status = Status::Submitted.as_str();
    let data = ev.data.to_string();
    let c = content(&t.no, 1, "", status, ev, &data, now);
    let hash = ledger::hash(&c, ledger::GENESIS);
    let model = tickets::ActiveModel {
        no: Set(t.no.clone()),
        status: Set(status.into()),
        kind: Set(t.kind.as_str().into()),
        category_code: Set(t.category_code),
        channel: Set(t.channel.as_str().into()),
        priority: Set(t.priority.as_str().into()),
        description: Set(t.description),
        requester_name: Set(t.requester_name),
        requester_phone: Set(t.requester_phone),
        requester_openid: Set(t.requester_openid),
        address: Set(t.address),
        lat: Set(t.lat),
        lng: Set(t.lng),
        region_id: Set(t.region_id),
        region_path: Set(t.region_path),
        card_id: Set(t.card_id),
        unit_id: Set(None),
        current_assignment_id: Set(None),
        repeat_of_id: Set(t.repeat_of_id),
        repeat_count: Set(0),
        merged_into_id: Set(None),
        signoff_required: Set(t.signoff_required),
        event_seq: Set(1),
        last_hash: Set(hash.clone()),
        created_by: Set(t.created_by),
        created_at: Set(now),
        updated_at: Set(now),
        register_by: Set(t.register_by),
        // Submitted: late once the registration deadline passes; no unit holds it yet.
        late_from: Set(t.register_by),
        ..Default::default()
    };
    let ticket = model.insert(db).await?;
    insert_event(db, ticket.id, &c, ledger::GENESIS, &hash).await?;
    super::search::index(db, ticket.id, &ticket.no, &ticket.description, ticket.address.as_deref()).await?;
    Ticket::try_from(ticket)
}

/// Result of a conditional transition.
pub enum Applied {
    Done(Box<Ticket>),
    /// Someone else changed the ticket since it was read: nothing was written.
    Stale,
}

/// Moves `ticket` from its current status to `to`, applying `patch`, and appends the event — only if
/// the ticket is still exactly as read (status and ledger sequence). Call inside a transaction; only
/// the one door for ticket changes (`services::change`) calls it, with `to` from the state machine.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    ticket: &Ticket,
    to: Status,
    patch: TicketPatch,
    ev: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Applied, DbErr> {
    let now = ledger::ledger_time(now);
    let seq = ticket.event_seq + 1;
    let data = ev.data.to_string();
    let c = content(&ticket.no, seq, ticket.status.as_str(), to.as_str(), ev, &data, now);
    let hash = ledger::hash(&c, &ticket.last_hash);
    let mut update = tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::value(to.as_str()))
        .col_expr(tickets::Column::EventSeq, Expr::value(seq))
        .col_expr(tickets::Column::LastHash, Expr::value(hash.clone()))
        .col_expr(tickets::Column::UpdatedAt, Expr::value(now));
    for (col, v) in patch.columns() {
        update = update.col_expr(col, Expr::value(v));
    }
    let update = update
        .filter(tickets::Column::Id.eq(ticket.id))
        .filter(tickets::Column::Status.eq(ticket.status.as_str()))
        .filter(tickets::Column::EventSeq.eq(ticket.event_seq));
    let fresh = if db.support_returning() {
        // The row as written, in the same statement (PostgreSQL): one round trip less per change.
        let mut rows = update.exec_with_returning(db).await?;
        if rows.len() != 1 {
            return Ok(Applied::Stale);
        }
        insert_event(db, ticket.id, &c, &ticket.last_hash, &hash).await?;
        rows.remove(0)
    } else {
        if update.exec(db).await?.rows_affected != 1 {
            return Ok(Applied::Stale);
        }
        insert_event(db, ticket.id, &c, &ticket.last_hash, &hash).await?;
        tickets::Entity::find_by_id(ticket.id).one(db).await?.ok_or_else(|| DbErr::RecordNotFound("ticket".into()))?
    };
    Ok(Applied::Done(Box::new(Ticket::try_from(fresh)?)))
}

/// One ticket's changes in a batch: the ticket as read, then each step (target status, patch,
/// event) in the order they happen.
pub struct Steps<'a> {
    pub ticket: &'a Ticket,
    pub steps: Vec<(Status, TicketPatch, NewEvent)>,
}

/// `apply` for many tickets at once, each with one or more steps: the events are chained in order
/// (each step's hash over the one before), every ticket is updated once to its last step's state by
/// one statement per shape of patch, guarded like `apply` (status and ledger sequence as read), and
/// the events are one multi-row insert. `false` (stale) when any ticket changed since it was read:
/// then the caller must roll back, since the others may be written.
pub async fn apply_many<C: ConnectionTrait>(db: &C, items: Vec<Steps<'_>>, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let now = ledger::ledger_time(now);
    let mut events = vec![];
    // Rows of the update grouped by the columns their merged patch sets.
    let always = vec!["status", "event_seq", "last_hash", "updated_at"];
    let mut shapes = super::bulk::Shapes::new("tickets", "id", vec!["status", "event_seq"], always);
    for Steps { ticket, steps } in items {
        if steps.is_empty() {
            continue;
        }
        let (mut seq, mut prev, mut from) = (ticket.event_seq, ticket.last_hash.clone(), ticket.status);
        let mut merged: Vec<(&'static str, Value)> = vec![];
        for (to, patch, ev) in steps {
            seq += 1;
            let data = ev.data.to_string();
            let c = content(&ticket.no, seq, from.as_str(), to.as_str(), &ev, &data, now);
            let hash = ledger::hash(&c, &prev);
            events.push(event_row(ticket.id, &c, &prev, &hash));
            for (col, v) in patch.columns() {
                match merged.iter_mut().find(|(c, _)| *c == col.as_str()) {
                    Some(slot) => slot.1 = v,
                    None => merged.push((col.as_str(), v)),
                }
            }
            (prev, from) = (hash, to);
        }
        let mut head: Vec<Value> = vec![ticket.id.into(), ticket.status.as_str().into(), ticket.event_seq.into()];
        head.extend([from.as_str().into(), seq.into(), prev.into(), now.into()]);
        shapes.push(head, merged);
    }
    let n = shapes.len();
    if shapes.update(db).await? != n {
        return Ok(false);
    }
    if !events.is_empty() {
        events::Entity::insert_many(events).exec_without_returning(db).await?;
    }
    Ok(true)
}

/// Recomputes the derived deadline columns (`overdue_from`, `late_from`) of a ticket from its row
/// and its assignments: the one door for changes (`services::change::commit_in`) calls it last,
/// after the ticket, its assignments and its parts are written.
pub async fn refresh_deadlines<C: ConnectionTrait>(db: &C, ticket_ids: &[i64]) -> Result<(), DbErr> {
    if ticket_ids.is_empty() {
        return Ok(());
    }
    // One statement for a whole batch, its text the same for every batch (a cached prepared form).
    let ids = super::rollups::Ids::new(db.get_database_backend(), ticket_ids);
    let sql = migration::derived::refresh_deadlines_sql(&ids.test("tickets.id", 1));
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, vec![ids.value()])).await?;
    // And their copies on the tickets' assignments (with the status), which a unit's counts read.
    let sql = migration::derived::copy_ticket_sql(&ids.test("assignments.ticket_id", 1));
    db.execute_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, vec![ids.value()])).await?;
    Ok(())
}

pub async fn by_no<C: ConnectionTrait>(db: &C, no: &str) -> Result<Option<Ticket>, DbErr> {
    one(tickets::Entity::find().filter(tickets::Column::No.eq(no)).one(db).await?)
}

pub async fn by_id<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Ticket>, DbErr> {
    one(tickets::Entity::find_by_id(id).one(db).await?)
}

/// A ledger event as stored, its statuses typed (the first event comes from no status).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub id: i64,
    pub ticket_id: i64,
    pub seq: i32,
    pub action: String,
    pub from_status: Option<Status>,
    pub to_status: Status,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub note: Option<String>,
    pub data: String,
    pub public: bool,
    pub at: DateTime<Utc>,
    pub prev_hash: String,
    pub hash: String,
}

impl Event {
    /// Whether this event records `action` (the ledger keeps action names as written; the first
    /// event is `submit`, which is no action of the state machine).
    pub fn is(&self, action: crate::domain::ticket::Action) -> bool {
        self.action == action.as_str()
    }

    /// The event that resolved the ticket (a resolution, not a step taken while resolved).
    pub fn is_resolution(&self) -> bool {
        self.to_status == Status::Resolved && self.from_status != Some(Status::Resolved)
    }
}

/// A ledger event exactly as stored, every field as written: what the hash chain is verified over
/// (a tampered row must show up as a broken chain, not fail to be read).
pub struct LedgerRow(events::Model);

impl LedgerRow {
    pub fn content<'a>(&'a self, ticket_no: &'a str) -> EventContent<'a> {
        let e = &self.0;
        EventContent {
            ticket_no,
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
        }
    }

    pub fn prev_hash(&self) -> &str {
        &self.0.prev_hash
    }

    pub fn hash(&self) -> &str {
        &self.0.hash
    }
}

pub async fn ledger_rows_of<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<LedgerRow>, DbErr> {
    let rows = events::Entity::find()
        .filter(events::Column::TicketId.eq(ticket_id))
        .order_by_asc(events::Column::Seq)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(LedgerRow).collect())
}

impl TryFrom<events::Model> for Event {
    type Error = DbErr;

    fn try_from(m: events::Model) -> Result<Event, DbErr> {
        let from_status = match m.from_status.as_str() {
            "" => None,
            s => Some(super::stored("events", "from_status", m.id, s, Status::parse)?),
        };
        Ok(Event {
            to_status: super::stored("events", "to_status", m.id, &m.to_status, Status::parse)?,
            from_status,
            id: m.id,
            ticket_id: m.ticket_id,
            seq: m.seq,
            action: m.action,
            actor_kind: m.actor_kind,
            actor_id: m.actor_id,
            actor_name: m.actor_name,
            note: m.note,
            data: m.data,
            public: m.public,
            at: m.at,
            prev_hash: m.prev_hash,
            hash: m.hash,
        })
    }
}

pub async fn events_of<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Event>, DbErr> {
    events::Entity::find()
        .filter(events::Column::TicketId.eq(ticket_id))
        .order_by_asc(events::Column::Seq)
        .all(db)
        .await?
        .into_iter()
        .map(Event::try_from)
        .collect()
}

/// Earlier ticket from the same phone, village and category since `since` (repeat requests).
pub async fn find_repeat<C: ConnectionTrait>(
    db: &C,
    phone: &str,
    region_id: i64,
    category: &str,
    since: DateTime<Utc>,
) -> Result<Option<Ticket>, DbErr> {
    tickets::Entity::find()
        .filter(tickets::Column::RequesterPhone.eq(phone))
        .filter(tickets::Column::RegionId.eq(region_id))
        .filter(tickets::Column::CategoryCode.eq(category))
        .filter(tickets::Column::CreatedAt.gte(since))
        .filter(tickets::Column::RepeatOfId.is_null())
        .filter(tickets::Column::Status.is_not_in([Status::Merged.as_str(), Status::Invalid.as_str()]))
        .order_by_desc(tickets::Column::CreatedAt)
        .one(db)
        .await
        .and_then(one)
}

pub async fn bump_repeat_count<C: ConnectionTrait>(db: &C, id: i64) -> Result<(), DbErr> {
    tickets::Entity::update_many()
        .col_expr(tickets::Column::RepeatCount, Expr::col(tickets::Column::RepeatCount).add(1))
        .filter(tickets::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Which tickets a staff member may list: the OR of their roles' scopes.
#[derive(Clone, Debug, Default)]
pub struct Visibility {
    /// Region subtrees (materialised paths) the caller sees.
    pub region_paths: Vec<String>,
    /// A cadre's unit: tickets given to it, now or before.
    pub unit_id: Option<i64>,
}

#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    /// Any of these statuses (none: every status).
    pub statuses: Vec<Status>,
    pub region_path: Option<String>,
    pub unit_id: Option<i64>,
    pub category: Option<String>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub q: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Only requests that repeat an earlier one, or were repeated.
    pub repeated: bool,
    /// Tickets whose current step's deadline (register, dispatch, respond, progress, result, visit)
    /// has passed at this instant.
    pub late_at: Option<DateTime<Utc>>,
    /// Tickets whose unit asked to escalate and wait for the dispatcher.
    pub escalation_pending: bool,
    /// Tickets whose unit asked to pause (挂起) and wait for a leader.
    pub pause_pending: bool,
    /// Tickets the desk asked to refer to the village council (下交), waiting for a leader.
    pub refer_pending: bool,
    /// Tickets registered after their first-registration deadline (首问登记超时).
    pub registration_late: bool,
    /// The requester's phone, exactly (the desk looks up a caller's earlier requests).
    pub phone: Option<String>,
    pub sort: Sort,
}

/// What the staff list is ordered by; ties fall back to the newest first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    CreatedAt,
    No,
    /// The ticket's place in its life (submitted first, closed last).
    Status,
    Category,
    /// The region tree, township by township.
    Region,
    Unit,
    /// The current step's deadline (see `order_view::current_deadline`); orders with none last.
    Deadline,
}

impl SortKey {
    pub const ALL: [(SortKey, &'static str); 7] = [
        (SortKey::CreatedAt, "created_at"),
        (SortKey::No, "no"),
        (SortKey::Status, "status"),
        (SortKey::Category, "category"),
        (SortKey::Region, "region"),
        (SortKey::Unit, "unit"),
        (SortKey::Deadline, "deadline"),
    ];
}

/// `sort=key` (ascending) or `sort=-key` (descending); the default is the newest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort { key: SortKey::CreatedAt, descending: true }
    }
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        let (descending, name) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        SortKey::ALL.iter().find(|(_, n)| *n == name).map(|(key, _)| Sort { key: *key, descending })
    }

    pub fn names() -> String {
        SortKey::ALL.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
    }
}

/// The current step's deadline of a ticket row as SQL (both databases): registration, dispatch,
/// the active assignment's earliest unmet step, or the return visit.
const DEADLINE_SQL: &str = "CASE \"tickets\".\"status\" \
    WHEN 'submitted' THEN \"tickets\".\"register_by\" \
    WHEN 'registered' THEN \"tickets\".\"dispatch_by\" \
    WHEN 'reopened' THEN \"tickets\".\"dispatch_by\" \
    WHEN 'resolved' THEN \"tickets\".\"visit_by\" \
    WHEN 'dispatched' THEN (SELECT CASE WHEN a.accepted_at IS NULL THEN a.respond_by \
        WHEN a.first_progress_at IS NULL AND a.progress_by < a.resolve_by THEN a.progress_by ELSE a.resolve_by END \
        FROM assignments a WHERE a.id = \"tickets\".\"current_assignment_id\" AND a.status = 'active') \
    WHEN 'accepted' THEN (SELECT CASE WHEN a.first_progress_at IS NULL AND a.progress_by < a.resolve_by \
        THEN a.progress_by ELSE a.resolve_by END \
        FROM assignments a WHERE a.id = \"tickets\".\"current_assignment_id\" AND a.status = 'active') \
    WHEN 'in_progress' THEN (SELECT CASE WHEN a.first_progress_at IS NULL AND a.progress_by < a.resolve_by \
        THEN a.progress_by ELSE a.resolve_by END \
        FROM assignments a WHERE a.id = \"tickets\".\"current_assignment_id\" AND a.status = 'active') \
    END";

/// Statuses in the order of a ticket's life, for sorting by status.
fn status_rank_sql() -> String {
    let arms: String = crate::domain::ticket::ALL_STATUSES
        .iter()
        .enumerate()
        .map(|(i, st)| format!(" WHEN '{}' THEN {i}", st.as_str()))
        .collect();
    format!("CASE \"tickets\".\"status\"{arms} END")
}

/// `region_path` lies under `path`, in the form each database answers from an index: LIKE 'p%'
/// on PostgreSQL (with the `text_pattern_ops` index), GLOB 'p*' on SQLite (its LIKE ignores case and
/// so cannot use a plain index). Paths hold only digits and '/', no wildcard characters.
fn under_path(path: &str, backend: DbBackend) -> SimpleExpr {
    match backend {
        DbBackend::Sqlite => Expr::col((tickets::Entity, tickets::Column::RegionPath))
            .binary(BinOper::Custom("GLOB"), Expr::val(format!("{path}*"))),
        _ => tickets::Column::RegionPath.like(like_prefix(path)),
    }
}

pub fn visibility_condition(v: &Visibility) -> Condition {
    visibility_condition_on(v, DbBackend::Postgres)
}

pub fn visibility_condition_on(v: &Visibility, backend: DbBackend) -> Condition {
    visibility_written(v, backend, Deadlines::Indexed)
}

/// The visibility condition; a cadre's unit (tickets ever given to it) as `IN (its assignments)`
/// when `how` is `Indexed` — the planner may collect every such ticket and sort them — or as an
/// `EXISTS` probe per ticket when `Checked`, for walking the list's order.
fn visibility_written(v: &Visibility, backend: DbBackend, how: Deadlines) -> Condition {
    let mut any = Condition::any();
    for p in &v.region_paths {
        if p == "/" {
            return Condition::all(); // the whole tree: no condition
        }
        any = any.add(under_path(p, backend));
    }
    if let Some(unit) = v.unit_id {
        any = any.add(match how {
            Deadlines::Indexed => {
                let given_to_unit = Query::select()
                    .column(assignments::Column::TicketId)
                    .from(assignments::Entity)
                    .and_where(assignments::Column::UnitId.eq(unit))
                    .to_owned();
                tickets::Column::Id.in_subquery(given_to_unit)
            }
            Deadlines::Checked => {
                let given = Alias::new("given");
                let probe = Query::select()
                    .expr(Expr::val(1))
                    .from_as(assignments::Entity, given.clone())
                    .and_where(
                        Expr::col((given.clone(), assignments::Column::TicketId))
                            .equals((tickets::Entity, tickets::Column::Id)),
                    )
                    .and_where(Expr::col((given, assignments::Column::UnitId)).eq(unit))
                    .to_owned();
                Expr::exists(probe)
            }
        });
    }
    // No scope at all sees nothing (an empty OR would match everything).
    if v.region_paths.is_empty() && v.unit_id.is_none() {
        any = any.add(Expr::val(1).eq(0));
    }
    any
}

/// Open tickets whose current (lead) assignment has missed its response or result deadline at
/// `now`: one range on the derived `overdue_from` (see `migration::derived`). An assisting part
/// (联合办理) that missed its deadline is its own unit's overdue order, not the ticket's.
pub fn overdue_condition(now: DateTime<Utc>) -> Condition {
    Condition::all().add(tickets::Column::OverdueFrom.lt(now))
}

/// The current step's deadline has passed at `now` (see `order_view::current_deadline`): one range
/// on the derived `late_from`.
pub fn late_condition(now: DateTime<Utc>) -> Condition {
    Condition::all().add(tickets::Column::LateFrom.lt(now))
}

/// How the list writes its deadline conditions (overdue, late) and a cadre's unit scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Deadlines {
    /// A range on the deadline's index: the planner may collect the matches from it (and sort them).
    Indexed,
    /// The same comparison in a form no index answers (`+col` on SQLite, `col + interval '0'` on
    /// PostgreSQL; the same values compared): checked on each row of the order's own index, which
    /// finds a page in a few hundred rows when many tickets match.
    Checked,
}

/// `column < now` on a derived deadline column, written as `how` says.
fn deadline_passed(column: &str, now: DateTime<Utc>, how: Deadlines, backend: DbBackend) -> Condition {
    let expr = match (how, backend) {
        (Deadlines::Indexed, _) => Expr::col((tickets::Entity, Alias::new(column))).lt(now),
        (Deadlines::Checked, DbBackend::Sqlite) => Expr::cust(format!("+\"tickets\".\"{column}\"")).lt(now),
        (Deadlines::Checked, _) => Expr::cust(format!("(\"tickets\".\"{column}\" + interval '0 seconds')")).lt(now),
    };
    Condition::all().add(expr)
}

/// Tickets whose current assignment holds an undecided request (`requested` and `decided` name
/// its two columns), read from the partial index of migration 000033 that holds exactly those
/// assignments (`index`). The condition is written as literals, the same text as the index's: a
/// bound `status = $1` does not prove a partial index's condition to a planner. SQLite's planner
/// still preferred a scan of every active assignment (2.9 s at a million), so there the index is
/// named (`INDEXED BY`, an error rather than a scan if it ever stops matching).
fn request_pending_condition(index: &str, requested: &str, decided: &str, backend: DbBackend) -> Condition {
    let hint = match backend {
        DbBackend::Sqlite => format!(" INDEXED BY {index}"),
        _ => String::new(),
    };
    Condition::all().add(Expr::cust(format!(
        "\"tickets\".\"current_assignment_id\" IN (SELECT \"assignments\".\"id\" FROM \"assignments\"{hint} \
         WHERE \"assignments\".\"status\" = 'active' AND \"assignments\".\"{requested}\" IS NOT NULL \
         AND \"assignments\".\"{decided}\" IS NULL)"
    )))
}

fn pause_pending_condition(backend: DbBackend) -> Condition {
    request_pending_condition("ix_assignments_pause_pending", "pause_requested_at", "pause_decided_at", backend)
}

fn escalation_pending_condition(backend: DbBackend) -> Condition {
    request_pending_condition(
        "ix_assignments_escalation_pending",
        "escalation_requested_at",
        "escalation_decided_at",
        backend,
    )
}

/// Drops a region condition that every ticket meets (the caller's region is the one root of the
/// tree, as for county-level staff): the query can then use the index that suits its filters.
async fn without_whole_tree<C: ConnectionTrait>(db: &C, v: &Visibility) -> Result<Visibility, DbErr> {
    if v.region_paths.is_empty() {
        return Ok(v.clone());
    }
    let roots: Vec<String> = entity::regions::Entity::find()
        .select_only()
        .column(entity::regions::Column::Path)
        .filter(entity::regions::Column::ParentId.is_null())
        .limit(2)
        .into_tuple()
        .all(db)
        .await?;
    match roots.as_slice() {
        [only] if v.region_paths.iter().any(|p| p == only) => {
            Ok(Visibility { region_paths: vec!["/".into()], unit_id: None })
        }
        _ => Ok(v.clone()),
    }
}

/// A category code with every code below it in the tree (the tree is small: read it whole).
async fn category_and_descendants<C: ConnectionTrait>(db: &C, code: &str) -> Result<Vec<String>, DbErr> {
    let all: Vec<(String, Option<String>)> = entity::categories::Entity::find()
        .select_only()
        .column(entity::categories::Column::Code)
        .column(entity::categories::Column::ParentCode)
        .into_tuple()
        .all(db)
        .await?;
    let mut out = vec![code.to_string()];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        out.extend(all.iter().filter(|(_, p)| p.as_deref() == Some(parent.as_str())).map(|(c, _)| c.clone()));
        i += 1;
    }
    Ok(out)
}

/// The tickets a staff member may see that match the list's filters, unordered: what the list
/// pages through and what the work list's counts count.
async fn filtered<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
) -> Result<Select<tickets::Entity>, DbErr> {
    let how = Deadlines::Indexed;
    Ok(with_deadlines(filtered_but_deadlines(db, vis, f, how).await?, f, how, db.get_database_backend()))
}

/// `q` with the filter's deadline conditions (overdue, late), written as `how` says.
fn with_deadlines(
    mut q: Select<tickets::Entity>,
    f: &ListFilter,
    how: Deadlines,
    backend: DbBackend,
) -> Select<tickets::Entity> {
    if let Some(now) = f.overdue_at {
        q = q.filter(deadline_passed("overdue_from", now, how, backend));
    }
    if let Some(now) = f.late_at {
        q = q.filter(deadline_passed("late_from", now, how, backend));
    }
    q
}

/// Every condition of the filter except the deadline conditions (see `with_deadlines`); a cadre's
/// unit scope written as `how` says.
async fn filtered_but_deadlines<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    how: Deadlines,
) -> Result<Select<tickets::Entity>, DbErr> {
    let backend = db.get_database_backend();
    let vis = &without_whole_tree(db, vis).await?;
    let mut q = tickets::Entity::find().filter(visibility_written(vis, backend, how));
    match f.statuses.as_slice() {
        [] => {}
        [one] => q = q.filter(tickets::Column::Status.eq(one.as_str())),
        many => q = q.filter(tickets::Column::Status.is_in(many.iter().map(|s| s.as_str()))),
    }
    if let Some(p) = &f.region_path {
        q = q.filter(under_path(p, backend));
    }
    if let Some(u) = f.unit_id {
        q = q.filter(tickets::Column::UnitId.eq(u));
    }
    if let Some(c) = &f.category {
        // The category and its descendants as a list of codes: an IN that the index answers.
        q = q.filter(tickets::Column::CategoryCode.is_in(category_and_descendants(db, c).await?));
    }
    if f.pause_pending {
        q = q.filter(pause_pending_condition(backend));
    }
    if f.refer_pending {
        q = q.filter(tickets::Column::Id.in_subquery(super::council::pending_refer_tickets()));
    }
    if f.escalation_pending {
        q = q.filter(escalation_pending_condition(backend));
    }
    if f.registration_late {
        q = q.filter(Expr::col(tickets::Column::RegisteredAt).gt(Expr::col(tickets::Column::RegisterBy)));
    }
    if let Some(phone) = &f.phone {
        q = q.filter(tickets::Column::RequesterPhone.eq(phone.as_str()));
    }
    if let Some(text) = &f.q {
        // Candidates from the text index (character pairs), then the substring test itself.
        if let Some(indexed) = super::search::matching(backend, text) {
            q = q.filter(indexed);
        }
        q = q.filter(
            Condition::any()
                .add(tickets::Column::No.like(super::contains(text)))
                .add(tickets::Column::Description.like(super::contains(text)))
                .add(tickets::Column::Address.like(super::contains(text))),
        );
    }
    if let Some(from) = f.from {
        q = q.filter(tickets::Column::CreatedAt.gte(from));
    }
    if let Some(to) = f.to {
        q = q.filter(tickets::Column::CreatedAt.lt(to));
    }
    if f.repeated {
        q = q.filter(
            Condition::any().add(tickets::Column::RepeatCount.gt(0)).add(tickets::Column::RepeatOfId.is_not_null()),
        );
    }
    Ok(q)
}

/// `q` in the list's order. `gathered`: the newest-first keys are written so that no index answers
/// the order (`+col` on SQLite, `col + 0` on PostgreSQL; the same values): the planner then takes
/// the matches from the index of the filters and sorts them, instead of walking the creation order
/// in the hope of meeting matches soon — which at a million tickets, for a rare combination, is a
/// scan. For a result known to hold at most `TOTAL_CAP` tickets only.
fn ordered(q: Select<tickets::Entity>, sort: Sort, gathered: bool, backend: DbBackend) -> Select<tickets::Entity> {
    use sea_orm::Order;
    let dir = if sort.descending { Order::Desc } else { Order::Asc };
    let q = match sort.key {
        SortKey::CreatedAt => q,
        SortKey::No => q.order_by(tickets::Column::No, dir.clone()),
        SortKey::Status => q.order_by(Expr::cust(status_rank_sql()), dir.clone()),
        SortKey::Category => q.order_by(tickets::Column::CategoryCode, dir.clone()),
        SortKey::Region => q.order_by(tickets::Column::RegionPath, dir.clone()),
        // Orders no unit holds come last either way (NULLs sort differently on the two databases).
        SortKey::Unit => q
            .order_by(Expr::col(tickets::Column::UnitId).is_null(), Order::Asc)
            .order_by(tickets::Column::UnitId, dir.clone()),
        SortKey::Deadline => q
            .order_by(Expr::cust(format!("({DEADLINE_SQL}) IS NULL")), Order::Asc)
            .order_by(Expr::cust(DEADLINE_SQL), dir.clone()),
    };
    let newest = if sort.key == SortKey::CreatedAt { dir } else { Order::Desc };
    if gathered && sort.key == SortKey::CreatedAt {
        let (created, id) = match backend {
            DbBackend::Sqlite => ("+\"tickets\".\"created_at\"", "+\"tickets\".\"id\""),
            _ => ("(\"tickets\".\"created_at\" + interval '0 seconds')", "(\"tickets\".\"id\" + 0)"),
        };
        return q.order_by(Expr::cust(created), newest.clone()).order_by(Expr::cust(id), newest);
    }
    q.order_by(tickets::Column::CreatedAt, newest.clone()).order_by(tickets::Column::Id, newest)
}

/// The list's `total` is exact up to this many tickets; beyond, counting every match would cost
/// more than the page itself (hundreds of milliseconds at a million tickets), so it stops there.
pub const TOTAL_CAP: u64 = 10_000;

/// Pages of a deadline list (overdue, late) up to this many rows deep are found by walking the
/// list's order when more than `TOTAL_CAP` tickets match (at worst `WALK_DEPTH` / share rows read).
const WALK_DEPTH: u64 = 500;

/// A page of the staff list with its total.
#[derive(Clone, Debug)]
pub struct Listed {
    pub items: Vec<Ticket>,
    /// Exact when `capped` is false; otherwise a lower bound: `TOTAL_CAP`, or the tickets up to
    /// the end of this page when it lies deeper.
    pub total: u64,
    /// More tickets match than were counted.
    pub capped: bool,
}

/// How many rows `q` selects, counted up to `cap + 1` (the database stops there).
async fn count_upto<C: ConnectionTrait>(db: &C, q: Select<tickets::Entity>, cap: u64) -> Result<u64, DbErr> {
    let inner =
        q.select_only().column_as(Expr::col((tickets::Entity, tickets::Column::Id)), "id").limit(cap + 1).into_query();
    let stmt = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(inner, Alias::new("c"))
        .to_owned();
    let backend = db.get_database_backend();
    let row =
        db.query_one_raw(backend.build(&stmt)).await?.ok_or_else(|| DbErr::Custom("count returned no row".into()))?;
    Ok(u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0))
}

/// A page of the staff list, its total counted up to `TOTAL_CAP`.
pub async fn list<C: ConnectionTrait>(db: &C, vis: &Visibility, f: &ListFilter, page: Page) -> Result<Listed, DbErr> {
    list_capped(db, vis, f, page, TOTAL_CAP).await
}

/// A page of the staff list, its total counted up to `cap`.
pub async fn list_capped<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    page: Page,
    cap: u64,
) -> Result<Listed, DbErr> {
    let backend = db.get_database_backend();
    let q = filtered(db, vis, f).await?;
    let counted = count_upto(db, q.clone(), cap).await?;
    // More than `cap` tickets past a deadline, or given to a cadre's unit: the deadline's index (or
    // the unit's assignments) would hand every one of them over to be sorted (50,000 and 166,667
    // at a million tickets); walking the list's own order and checking each row meets a page's
    // worth within a few hundred rows. Few matches (or a deep page): the index, and a sort of at
    // most `cap` rows. Only the newest-first order has an index of its own to walk.
    let checked = f.overdue_at.is_some() || f.late_at.is_some() || vis.unit_id.is_some();
    let walk = checked && f.sort.key == SortKey::CreatedAt && counted > cap;
    let q = if walk && page.offset() + page.per_page <= WALK_DEPTH {
        let how = Deadlines::Checked;
        with_deadlines(filtered_but_deadlines(db, vis, f, how).await?, f, how, backend)
    } else {
        q
    };
    // At most `cap` match: gathered from the filters' indexes and sorted (bounded by the cap)
    // rather than looked for along the creation order (unbounded when they are rare).
    let gathered = counted <= cap;
    let items = typed(ordered(q, f.sort, gathered, backend).offset(page.offset()).limit(page.per_page).all(db).await?)?;
    if counted <= cap {
        return Ok(Listed { items, total: counted, capped: false });
    }
    let reached = page.offset() + items.len() as u64;
    Ok(Listed { total: Ord::max(cap, reached), capped: true, items })
}

/// How many tickets the list holds (same scope, same filters): the size of an export.
pub async fn count_listed<C: ConnectionTrait>(db: &C, vis: &Visibility, f: &ListFilter) -> Result<u64, DbErr> {
    filtered(db, vis, f).await?.count(db).await
}

/// One batch of the list for an export, newest first by id, those below `before` (keyset paging:
/// each batch costs the same however deep the export is).
pub async fn export_batch<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<Ticket>, DbErr> {
    let mut q = filtered(db, vis, f).await?;
    if let Some(id) = before {
        q = q.filter(tickets::Column::Id.lt(id));
    }
    typed(q.order_by_desc(tickets::Column::Id).limit(limit).all(db).await?)
}

/// How many tickets of the list (same scope, same filters) stand in each status, and how many are
/// overdue (a unit missed its response or result deadline) and late (the current step's deadline,
/// desk steps and the return visit included, has passed) at `now`. Each number is counted up to a
/// cap, like the list's `total`: one that reaches it is a lower bound and is named in `capped`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListCounts {
    /// The sum of the statuses' counts (a lower bound when one of them is).
    pub total: u64,
    pub by_status: Vec<(Status, u64)>,
    pub overdue: u64,
    pub late: u64,
    /// Requests to pause (挂起) waiting for a leader.
    pub pause_pending: u64,
    /// Requests to refer (下交) waiting for a leader.
    pub refer_pending: u64,
    /// The counts that stopped at the cap (more tickets match): `total`, status names, `overdue`,
    /// `late`, `pause_pending`, `refer_pending`.
    pub capped: Vec<String>,
}

/// The work list's tab counts stop here: a tab's badge tells "a thousand or more" as well as the
/// exact figure would, and each of the up to 17 counts then reads at most 1,001 rows — a tenth of
/// the list's `TOTAL_CAP`, which at a million tickets made a township's or a cadre's counts take
/// 0.4–1.8 s (bench/orders.md).
pub const COUNTS_CAP: u64 = 1_000;

/// Every count, each up to `COUNTS_CAP`.
pub async fn counts<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    now: DateTime<Utc>,
) -> Result<ListCounts, DbErr> {
    counts_capped(db, vis, f, now, COUNTS_CAP).await
}

/// One statement: a `UNION ALL` of one capped count per status (those the filter asks for, or
/// all), overdue, late and the two kinds of requests waiting for a leader. Each count reads at
/// most `cap + 1` rows, from the index its condition has (a count grouped by status would read
/// every matching ticket: a second and more at a million).
pub async fn counts_capped<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    now: DateTime<Utc>,
    cap: u64,
) -> Result<ListCounts, DbErr> {
    use sea_orm::sea_query::UnionType;
    // Each count has a condition of its own (a status, a deadline, a request), and that condition's
    // index drives it; a cadre's unit scope is then a probe per row (`Checked`). Written as
    // `IN (the unit's tickets)`, SQLite — which knows no status's share — walked all of a unit's
    // tickets for each status that has none (508 ms for a cadre at a million tickets).
    let backend = db.get_database_backend();
    let q =
        with_deadlines(filtered_but_deadlines(db, vis, f, Deadlines::Checked).await?, f, Deadlines::Indexed, backend);
    let mut statuses: Vec<Status> = if f.statuses.is_empty() {
        crate::domain::ticket::ALL_STATUSES.to_vec()
    } else {
        crate::domain::ticket::ALL_STATUSES.into_iter().filter(|s| f.statuses.contains(s)).collect()
    };
    statuses.dedup();
    // A cadre who sees no region besides the unit's orders: each count is the unit's range of a copy
    // of the ticket's columns on its assignments (status, migration 000035; deadlines, 000034), not
    // every ticket of that status or deadline in the county probed for the unit (a walk of the whole
    // status when the unit has few of it: 220 ms on SQLite at a million).
    let unit_only = vis.unit_id.filter(|_| vis.region_paths.is_empty());
    let of_unit = |unit: i64, copy: SimpleExpr| {
        let mine = Query::select()
            .column(assignments::Column::TicketId)
            .from(assignments::Entity)
            .and_where(assignments::Column::UnitId.eq(unit))
            .and_where(copy)
            .to_owned();
        tickets::Column::Id.in_subquery(mine)
    };
    let mut parts: Vec<(String, Select<tickets::Entity>)> = statuses
        .iter()
        .map(|s| {
            let only = match unit_only {
                Some(unit) => of_unit(unit, assignments::Column::TicketStatus.eq(s.as_str())),
                None => tickets::Column::Status.eq(s.as_str()),
            };
            (s.as_str().to_string(), q.clone().filter(only))
        })
        .collect();
    match unit_only {
        Some(unit) => {
            for (key, column) in
                [("overdue", assignments::Column::TicketOverdueFrom), ("late", assignments::Column::TicketLateFrom)]
            {
                parts.push((key.into(), q.clone().filter(of_unit(unit, column.lt(now)))));
            }
        }
        None => {
            parts.push(("overdue".into(), q.clone().filter(overdue_condition(now))));
            parts.push(("late".into(), q.clone().filter(late_condition(now))));
        }
    }
    parts.push(("pause_pending".into(), q.clone().filter(pause_pending_condition(backend))));
    parts.push((
        "refer_pending".into(),
        q.filter(tickets::Column::Id.in_subquery(super::council::pending_refer_tickets())),
    ));
    let mut stmt: Option<sea_orm::sea_query::SelectStatement> = None;
    for (key, sel) in parts {
        let inner = sel
            .select_only()
            .column_as(Expr::col((tickets::Entity, tickets::Column::Id)), "id")
            .limit(cap + 1)
            .into_query();
        let one = Query::select()
            .expr_as(Expr::val(key), Alias::new("k"))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from_subquery(inner, Alias::new("c"))
            .to_owned();
        match stmt.as_mut() {
            None => stmt = Some(one),
            Some(s) => {
                s.union(UnionType::All, one);
            }
        }
    }
    let stmt = stmt.ok_or_else(|| DbErr::Custom("no count to make".into()))?;
    let mut out = ListCounts::default();
    let mut total_capped = false;
    for row in db.query_all_raw(backend.build(&stmt)).await? {
        let key: String = row.try_get("", "k")?;
        let counted = u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0);
        let n = Ord::min(counted, cap);
        if counted > cap {
            out.capped.push(key.clone());
        }
        match key.as_str() {
            "overdue" => out.overdue = n,
            "late" => out.late = n,
            "pause_pending" => out.pause_pending = n,
            "refer_pending" => out.refer_pending = n,
            raw => {
                let status = super::stored("tickets", "status", "(counted)", raw, Status::parse)?;
                total_capped |= counted > cap;
                out.total += n;
                if n > 0 {
                    out.by_status.push((status, n));
                }
            }
        }
    }
    if total_capped {
        out.capped.insert(0, "total".into());
    }
    Ok(out)
}

/// A villager's own tickets: filed with their phone or from their WeChat account.
pub async fn of_requester<C: ConnectionTrait>(
    db: &C,
    phone: Option<&str>,
    openid: Option<&str>,
    page: Page,
) -> Result<(Vec<Ticket>, u64), DbErr> {
    let mut any = Condition::any();
    if let Some(p) = phone {
        any = any.add(tickets::Column::RequesterPhone.eq(p));
    }
    if let Some(o) = openid {
        any = any.add(tickets::Column::RequesterOpenid.eq(o));
    }
    if phone.is_none() && openid.is_none() {
        return Ok((vec![], 0));
    }
    let q = tickets::Entity::find().filter(any);
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(tickets::Column::CreatedAt).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((typed(items)?, total))
}

/// Ticket numbers by id, for lists that name related tickets (repeat_of) in one query.
pub async fn numbers<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<std::collections::HashMap<i64, String>, DbErr> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(i64, String)> = tickets::Entity::find()
        .select_only()
        .column(tickets::Column::Id)
        .column(tickets::Column::No)
        .filter(tickets::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Tickets filed under a region that moved in the tree: their region path follows it (scope only;
/// the ledger is not touched).
pub async fn move_region_paths<C: ConnectionTrait>(db: &C, old: &str, new: &str) -> Result<u64, DbErr> {
    Ok(tickets::Entity::update_many()
        .col_expr(tickets::Column::RegionPath, super::repath("region_path", new, old)?)
        .filter(tickets::Column::RegionPath.like(like_prefix(old)))
        .exec(db)
        .await?
        .rows_affected)
}
