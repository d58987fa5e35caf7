//! Return-visit tasks (tries, schedule, the caller's lease), the phone access log and appeals.
use super::Page;
use crate::domain::ticket::Status;
use crate::domain::values::{AppealStatus, Channel, VisitTaskStatus};
use crate::repo::tickets::Ticket;
use chrono::{DateTime, Utc};
use entity::{appeals, phone_access_log, tickets, visit_tasks};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, SqlErr,
};

/// A unit's appeal against a visit, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Appeal {
    pub id: i64,
    pub ticket_id: i64,
    pub visit_id: i64,
    pub unit_id: i64,
    pub reason: String,
    pub upload_ids: Vec<String>,
    pub status: AppealStatus,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub decided_by: Option<i64>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_note: Option<String>,
}

impl TryFrom<appeals::Model> for Appeal {
    type Error = DbErr;

    fn try_from(m: appeals::Model) -> Result<Appeal, DbErr> {
        let upload_ids = serde_json::from_str(&m.upload_ids)
            .map_err(|e| DbErr::Type(format!("appeals.upload_ids of row {} is not a list: {e}", m.id)))?;
        Ok(Appeal {
            status: super::stored("appeals", "status", m.id, &m.status, AppealStatus::parse)?,
            upload_ids,
            id: m.id,
            ticket_id: m.ticket_id,
            visit_id: m.visit_id,
            unit_id: m.unit_id,
            reason: m.reason,
            created_by: m.created_by,
            created_at: m.created_at,
            decided_by: m.decided_by,
            decided_at: m.decided_at,
            decision_note: m.decision_note,
        })
    }
}

fn appeals(rows: Vec<appeals::Model>) -> Result<Vec<Appeal>, DbErr> {
    rows.into_iter().map(Appeal::try_from).collect()
}

/// An appeal to record (pending).
pub struct NewAppeal {
    pub ticket_id: i64,
    pub visit_id: i64,
    pub unit_id: i64,
    pub reason: String,
    pub upload_ids: Vec<String>,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}
/// The calling task of a resolved ticket, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct VisitTask {
    pub ticket_id: i64,
    pub attempts: i32,
    pub next_try_at: Option<DateTime<Utc>>,
    pub status: VisitTaskStatus,
    pub claimed_by: Option<i64>,
    pub lease_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<visit_tasks::Model> for VisitTask {
    type Error = DbErr;

    fn try_from(m: visit_tasks::Model) -> Result<VisitTask, DbErr> {
        Ok(VisitTask {
            status: super::stored("visit_tasks", "status", m.ticket_id, &m.status, VisitTaskStatus::parse)?,
            ticket_id: m.ticket_id,
            attempts: m.attempts,
            next_try_at: m.next_try_at,
            claimed_by: m.claimed_by,
            lease_until: m.lease_until,
            updated_at: m.updated_at,
        })
    }
}

async fn task_row<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Option<visit_tasks::Model>, DbErr> {
    visit_tasks::Entity::find_by_id(ticket_id).one(db).await
}

pub async fn task<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Option<VisitTask>, DbErr> {
    task_row(db, ticket_id).await?.map(VisitTask::try_from).transpose()
}

/// Takes (or renews) the lease on a ticket's visit; `None` when another caller holds it.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    staff_id: i64,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let res = visit_tasks::Entity::update_many()
        .col_expr(visit_tasks::Column::ClaimedBy, Expr::value(Some(staff_id)))
        .col_expr(visit_tasks::Column::LeaseUntil, Expr::value(Some(until)))
        .col_expr(visit_tasks::Column::UpdatedAt, Expr::value(now))
        .filter(visit_tasks::Column::TicketId.eq(ticket_id))
        .filter(
            Condition::any()
                .add(visit_tasks::Column::LeaseUntil.is_null())
                .add(visit_tasks::Column::LeaseUntil.lt(now))
                .add(visit_tasks::Column::ClaimedBy.eq(staff_id)),
        )
        .exec(db)
        .await?;
    if res.rows_affected == 1 {
        return Ok(Some(until));
    }
    if task(db, ticket_id).await?.is_some() {
        return Ok(None);
    }
    let insert = visit_tasks::ActiveModel {
        ticket_id: Set(ticket_id),
        attempts: Set(0),
        next_try_at: Set(None),
        status: Set(VisitTaskStatus::Due.as_str().into()),
        claimed_by: Set(Some(staff_id)),
        lease_until: Set(Some(until)),
        updated_at: Set(now),
    }
    .insert(db)
    .await;
    match insert {
        Ok(_) => Ok(Some(until)),
        // Two callers inserting at once: the other one won.
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Gives the lease back (only its holder can).
pub async fn release<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    staff_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = visit_tasks::Entity::update_many()
        .col_expr(visit_tasks::Column::ClaimedBy, Expr::value(Option::<i64>::None))
        .col_expr(visit_tasks::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(visit_tasks::Column::UpdatedAt, Expr::value(now))
        .filter(visit_tasks::Column::TicketId.eq(ticket_id))
        .filter(visit_tasks::Column::ClaimedBy.eq(staff_id))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// A new resolution starts a new calling task: tries, schedule, lease and outcome of the last one are
/// dropped (the visits themselves stay in `return_visits`).
pub async fn reset<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<(), DbErr> {
    visit_tasks::Entity::delete_by_id(ticket_id).exec(db).await?;
    Ok(())
}

/// After a try: the next try time (or `unreachable`), lease released. Reached visits end the task.
pub async fn after_try<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    attempts: i32,
    next_try_at: Option<DateTime<Utc>>,
    status: VisitTaskStatus,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let fields = |mut am: visit_tasks::ActiveModel| {
        am.attempts = Set(attempts);
        am.next_try_at = Set(next_try_at);
        am.status = Set(status.as_str().into());
        am.claimed_by = Set(None);
        am.lease_until = Set(None);
        am.updated_at = Set(now);
        am
    };
    match task_row(db, ticket_id).await? {
        Some(t) => fields(t.into()).update(db).await?,
        None => fields(visit_tasks::ActiveModel { ticket_id: Set(ticket_id), ..Default::default() }).insert(db).await?,
    };
    Ok(())
}

/// Resolved tickets due for a visit at `now` that no other caller holds, oldest visit deadline first.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    visibility: Condition,
    staff_id: i64,
    now: DateTime<Utc>,
    page: Page,
) -> Result<(Vec<(Ticket, Option<VisitTask>)>, u64), DbErr> {
    let blocked = Query::select()
        .column(visit_tasks::Column::TicketId)
        .from(visit_tasks::Entity)
        .cond_where(
            Condition::any()
                .add(visit_tasks::Column::Status.ne(VisitTaskStatus::Due.as_str()))
                .add(visit_tasks::Column::NextTryAt.gt(now))
                .add(
                    Condition::all()
                        .add(visit_tasks::Column::LeaseUntil.gte(now))
                        .add(visit_tasks::Column::ClaimedBy.ne(staff_id)),
                ),
        )
        .to_owned();
    // A proactive ticket (未诉先办) has no requester to call: it is verified on the spot instead.
    let q = tickets::Entity::find()
        .filter(tickets::Column::Status.eq(Status::Resolved.as_str()))
        .filter(tickets::Column::Channel.ne(Channel::Proactive.as_str()))
        .filter(visibility)
        .filter(tickets::Column::Id.not_in_subquery(blocked));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(tickets::Column::VisitBy)
        .order_by_asc(tickets::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for t in super::tickets::typed(rows)? {
        let task = task(db, t.id).await?;
        out.push((t, task));
    }
    Ok((out, total))
}

/// Tickets whose requester could not be reached after every try (reported, never counted as satisfied).
pub async fn unreachable<C: ConnectionTrait>(
    db: &C,
    visibility: Condition,
    page: Page,
) -> Result<(Vec<Ticket>, u64), DbErr> {
    let ids = Query::select()
        .column(visit_tasks::Column::TicketId)
        .from(visit_tasks::Entity)
        .and_where(visit_tasks::Column::Status.eq(VisitTaskStatus::Unreachable.as_str()))
        .to_owned();
    let q = tickets::Entity::find().filter(tickets::Column::Id.in_subquery(ids)).filter(visibility);
    let total = q.clone().count(db).await?;
    let rows = q.order_by_asc(tickets::Column::VisitBy).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((super::tickets::typed(rows)?, total))
}

pub async fn log_phone_access<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    ticket_id: i64,
    purpose: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    phone_access_log::ActiveModel {
        staff_id: Set(staff_id),
        ticket_id: Set(ticket_id),
        purpose: Set(purpose.into()),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn phone_accesses<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<phone_access_log::Model>, DbErr> {
    phone_access_log::Entity::find()
        .filter(phone_access_log::Column::TicketId.eq(ticket_id))
        .order_by_asc(phone_access_log::Column::Id)
        .all(db)
        .await
}

pub async fn insert_appeal<C: ConnectionTrait>(db: &C, a: NewAppeal) -> Result<Appeal, DbErr> {
    appeals::ActiveModel {
        ticket_id: Set(a.ticket_id),
        visit_id: Set(a.visit_id),
        unit_id: Set(a.unit_id),
        reason: Set(a.reason),
        upload_ids: Set(serde_json::Value::from(a.upload_ids).to_string()),
        status: Set(AppealStatus::Pending.as_str().into()),
        created_by: Set(a.created_by),
        created_at: Set(a.created_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .and_then(Appeal::try_from)
}

pub async fn appeal<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Appeal>, DbErr> {
    appeals::Entity::find_by_id(id).one(db).await?.map(Appeal::try_from).transpose()
}

pub async fn appeals_of_visit<C: ConnectionTrait>(db: &C, visit_id: i64) -> Result<Vec<Appeal>, DbErr> {
    appeals(appeals::Entity::find().filter(appeals::Column::VisitId.eq(visit_id)).all(db).await?)
}

/// Decides a pending appeal; false when it was decided meanwhile.
pub async fn decide_appeal<C: ConnectionTrait>(
    db: &C,
    id: i64,
    status: AppealStatus,
    by: i64,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = appeals::Entity::update_many()
        .col_expr(appeals::Column::Status, Expr::value(status.as_str()))
        .col_expr(appeals::Column::DecidedBy, Expr::value(Some(by)))
        .col_expr(appeals::Column::DecidedAt, Expr::value(Some(now)))
        .col_expr(appeals::Column::DecisionNote, Expr::value(note))
        .filter(appeals::Column::Id.eq(id))
        .filter(appeals::Column::Status.eq(AppealStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn list_appeals<C: ConnectionTrait>(
    db: &C,
    ticket_ids_visible: Condition,
    status: Option<AppealStatus>,
    page: Page,
) -> Result<(Vec<Appeal>, u64), DbErr> {
    let visible =
        Query::select().column(tickets::Column::Id).from(tickets::Entity).cond_where(ticket_ids_visible).to_owned();
    let mut q = appeals::Entity::find().filter(appeals::Column::TicketId.in_subquery(visible));
    if let Some(s) = status {
        q = q.filter(appeals::Column::Status.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q.order_by_asc(appeals::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((appeals(rows)?, total))
}

/// Excludes (or restores) a visit from the rates.
pub async fn set_visit_counted<C: ConnectionTrait>(db: &C, visit_id: i64, counted: bool) -> Result<(), DbErr> {
    entity::return_visits::Entity::update_many()
        .col_expr(entity::return_visits::Column::Counted, Expr::value(counted))
        .filter(entity::return_visits::Column::Id.eq(visit_id))
        .exec(db)
        .await?;
    Ok(())
}
