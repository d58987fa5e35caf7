//! Tickets: numbering, creation with the first ledger event, the conditional update that applies a
//! transition together with its event, and the staff list query.
use super::{Page, like_prefix};
use crate::domain::ledger::{self, EventContent};
use crate::domain::ticket::Status;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{assignments, events, tickets};
use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Query, SimpleExpr, UnionType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement, Value,
};

pub use entity::tickets::Model as Ticket;

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
    .insert(db)
    .await
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
    mut t: tickets::ActiveModel,
    ev: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Ticket, DbErr> {
    let now = ledger::ledger_time(now);
    let no = match &t.no {
        sea_orm::ActiveValue::Set(no) => no.clone(),
        _ => return Err(DbErr::Custom("ticket number not set".into())),
    };
    let status = Status::Submitted.as_str();
    let data = ev.data.to_string();
    let c = content(&no, 1, "", status, ev, &data, now);
    let hash = ledger::hash(&c, ledger::GENESIS);
    t.status = Set(status.into());
    t.event_seq = Set(1);
    t.last_hash = Set(hash.clone());
    t.created_at = Set(now);
    t.updated_at = Set(now);
    let ticket = t.insert(db).await?;
    insert_event(db, ticket.id, &c, ledger::GENESIS, &hash).await?;
    Ok(ticket)
}

/// Result of a conditional transition.
pub enum Applied {
    Done(Box<Ticket>),
    /// Someone else changed the ticket since it was read: nothing was written.
    Stale,
}

/// Moves `ticket` from its current status to `to`, setting `extra` columns, and appends the event —
/// only if the ticket is still exactly as read (status and ledger sequence). Call inside a transaction.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    ticket: &Ticket,
    to: Status,
    extra: Vec<(tickets::Column, Value)>,
    ev: &NewEvent,
    now: DateTime<Utc>,
) -> Result<Applied, DbErr> {
    let now = ledger::ledger_time(now);
    let seq = ticket.event_seq + 1;
    let data = ev.data.to_string();
    let c = content(&ticket.no, seq, &ticket.status, to.as_str(), ev, &data, now);
    let hash = ledger::hash(&c, &ticket.last_hash);
    let mut update = tickets::Entity::update_many()
        .col_expr(tickets::Column::Status, Expr::value(to.as_str()))
        .col_expr(tickets::Column::EventSeq, Expr::value(seq))
        .col_expr(tickets::Column::LastHash, Expr::value(hash.clone()))
        .col_expr(tickets::Column::UpdatedAt, Expr::value(now));
    for (col, v) in extra {
        update = update.col_expr(col, Expr::value(v));
    }
    let res = update
        .filter(tickets::Column::Id.eq(ticket.id))
        .filter(tickets::Column::Status.eq(ticket.status.clone()))
        .filter(tickets::Column::EventSeq.eq(ticket.event_seq))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(Applied::Stale);
    }
    insert_event(db, ticket.id, &c, &ticket.last_hash, &hash).await?;
    let fresh =
        tickets::Entity::find_by_id(ticket.id).one(db).await?.ok_or_else(|| DbErr::RecordNotFound("ticket".into()))?;
    Ok(Applied::Done(Box::new(fresh)))
}

pub async fn by_no<C: ConnectionTrait>(db: &C, no: &str) -> Result<Option<Ticket>, DbErr> {
    tickets::Entity::find().filter(tickets::Column::No.eq(no)).one(db).await
}

pub async fn by_id<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Ticket>, DbErr> {
    tickets::Entity::find_by_id(id).one(db).await
}

pub async fn events_of<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<events::Model>, DbErr> {
    events::Entity::find()
        .filter(events::Column::TicketId.eq(ticket_id))
        .order_by_asc(events::Column::Seq)
        .all(db)
        .await
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
        .filter(tickets::Column::Status.is_not_in(["merged", "invalid"]))
        .order_by_desc(tickets::Column::CreatedAt)
        .one(db)
        .await
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
    pub status: Option<String>,
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
    /// Tickets registered after their first-registration deadline (首问登记超时).
    pub registration_late: bool,
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
    let mut any = Condition::any();
    for p in &v.region_paths {
        if p == "/" {
            return Condition::all(); // the whole tree: no condition
        }
        any = any.add(under_path(p, backend));
    }
    if let Some(unit) = v.unit_id {
        let given_to_unit = Query::select()
            .column(assignments::Column::TicketId)
            .from(assignments::Entity)
            .and_where(assignments::Column::UnitId.eq(unit))
            .to_owned();
        any = any.add(tickets::Column::Id.in_subquery(given_to_unit));
    }
    // No scope at all sees nothing (an empty OR would match everything).
    if v.region_paths.is_empty() && v.unit_id.is_none() {
        any = any.add(Expr::val(1).eq(0));
    }
    any
}

/// Active assignments that missed `deadline` while their step `open` is not done, from the partial
/// index on that deadline (one SELECT per step, joined with UNION: an OR across steps would scan).
/// It selects ticket ids: a ticket has at most one active assignment, its current one, so the outer
/// query looks tickets up by primary key.
fn missed(deadline: assignments::Column, open: Condition, now: DateTime<Utc>) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(assignments::Column::TicketId)
        .from(assignments::Entity)
        .and_where(assignments::Column::Status.eq("active"))
        .cond_where(open)
        .and_where(Expr::col(deadline).lt(now))
        .to_owned()
}

fn respond_open() -> Condition {
    Condition::all().add(assignments::Column::AcceptedAt.is_null())
}

fn resolve_open() -> Condition {
    Condition::all().add(assignments::Column::ResolvedAt.is_null())
}

fn progress_open() -> Condition {
    Condition::all().add(assignments::Column::FirstProgressAt.is_null()).add(assignments::Column::ResolvedAt.is_null())
}

/// Open tickets whose current assignment has missed its response or result deadline at `now`.
pub fn overdue_condition(now: DateTime<Utc>) -> Condition {
    let late = missed(assignments::Column::RespondBy, respond_open(), now)
        .union(UnionType::Distinct, missed(assignments::Column::ResolveBy, resolve_open(), now))
        .to_owned();
    Condition::all().add(tickets::Column::Id.in_subquery(late))
}

/// The current step's deadline has passed at `now` (see `order_view::current_deadline`).
pub fn late_condition(now: DateTime<Utc>) -> Condition {
    let assignment_late = missed(assignments::Column::RespondBy, respond_open(), now)
        .union(UnionType::Distinct, missed(assignments::Column::ProgressBy, progress_open(), now))
        .union(UnionType::Distinct, missed(assignments::Column::ResolveBy, resolve_open(), now))
        .to_owned();
    Condition::any()
        .add(tickets::Column::Status.eq("submitted").and(tickets::Column::RegisterBy.lt(now)))
        .add(tickets::Column::Status.is_in(["registered", "reopened"]).and(tickets::Column::DispatchBy.lt(now)))
        .add(
            tickets::Column::Status
                .is_in(["dispatched", "accepted", "in_progress"])
                .and(tickets::Column::Id.in_subquery(assignment_late)),
        )
        .add(tickets::Column::Status.eq("resolved").and(tickets::Column::VisitBy.lt(now)))
}

fn escalation_pending_condition() -> Condition {
    let waiting = Query::select()
        .column(assignments::Column::Id)
        .from(assignments::Entity)
        .and_where(assignments::Column::Status.eq("active"))
        .and_where(assignments::Column::EscalationRequestedAt.is_not_null())
        .and_where(assignments::Column::EscalationDecidedAt.is_null())
        .to_owned();
    Condition::all().add(tickets::Column::CurrentAssignmentId.in_subquery(waiting))
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

pub async fn list<C: ConnectionTrait>(
    db: &C,
    vis: &Visibility,
    f: &ListFilter,
    page: Page,
) -> Result<(Vec<Ticket>, u64), DbErr> {
    let backend = db.get_database_backend();
    let vis = &without_whole_tree(db, vis).await?;
    let mut q = tickets::Entity::find().filter(visibility_condition_on(vis, backend));
    if let Some(s) = &f.status {
        q = q.filter(tickets::Column::Status.eq(s.clone()));
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
    if let Some(now) = f.overdue_at {
        q = q.filter(overdue_condition(now));
    }
    if let Some(now) = f.late_at {
        q = q.filter(late_condition(now));
    }
    if f.escalation_pending {
        q = q.filter(escalation_pending_condition());
    }
    if f.registration_late {
        q = q.filter(Expr::col(tickets::Column::RegisteredAt).gt(Expr::col(tickets::Column::RegisterBy)));
    }
    if let Some(text) = &f.q {
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

    let total = q.clone().count(db).await?;
    let items = q
        .order_by_desc(tickets::Column::CreatedAt)
        .order_by_desc(tickets::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok((items, total))
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
    Ok((items, total))
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
