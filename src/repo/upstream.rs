//! The city 12345 platform's side of tickets: which upstream order became which ticket (the unique
//! `upstream_id` decides between two pulls of the same order), the pull cursor, and the outbox rows
//! that push status changes back (channel `upstream`).
use super::regions::Region;
use crate::sms::values::{OutboxChannel, OutboxKind, OutboxStatus};
use chrono::{DateTime, Utc};
use entity::{outbox, regions};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, Set,
    Statement,
};

/// An order of the platform and the ticket it became.
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct UpstreamOrder {
    pub upstream_id: String,
    pub ticket_id: i64,
    pub region_code: Option<String>,
    /// The platform's deadline for the result (办结时限).
    pub deadline: Option<DateTime<Utc>>,
    pub pulled_at: DateTime<Utc>,
}

const COLUMNS: &str = "upstream_id, ticket_id, region_code, deadline, pulled_at";

fn stmt<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

pub async fn order_of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Option<UpstreamOrder>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM upstream_orders WHERE ticket_id = $1");
    UpstreamOrder::find_by_statement(stmt(db, &sql, vec![ticket_id.into()])).one(db).await
}

pub async fn by_upstream_id<C: ConnectionTrait>(db: &C, upstream_id: &str) -> Result<Option<UpstreamOrder>, DbErr> {
    let sql = format!("SELECT {COLUMNS} FROM upstream_orders WHERE upstream_id = $1");
    UpstreamOrder::find_by_statement(stmt(db, &sql, vec![upstream_id.into()])).one(db).await
}

/// Records that `upstream_id` became `ticket_id`. A second record of the same order fails on the
/// unique index (the caller's transaction, with its ticket, rolls back).
pub async fn record<C: ConnectionTrait>(db: &C, o: &UpstreamOrder) -> Result<(), DbErr> {
    let sql = format!("INSERT INTO upstream_orders ({COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
    let values = vec![
        o.upstream_id.clone().into(),
        o.ticket_id.into(),
        o.region_code.clone().into(),
        o.deadline.into(),
        o.pulled_at.into(),
    ];
    db.execute_raw(stmt(db, &sql, values)).await?;
    Ok(())
}

/// The active region with this code.
pub async fn region_by_code<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<Region>, DbErr> {
    let row = regions::Entity::find()
        .filter(regions::Column::Code.eq(code))
        .filter(regions::Column::Active.eq(true))
        .order_by_asc(regions::Column::Id)
        .one(db)
        .await?;
    row.map(Region::try_from).transpose()
}

/// The top region of the tree (the county), where an order of an unknown place is filed.
pub async fn top_region<C: ConnectionTrait>(db: &C) -> Result<Option<Region>, DbErr> {
    let row = regions::Entity::find()
        .filter(regions::Column::ParentId.is_null())
        .filter(regions::Column::Active.eq(true))
        .order_by_asc(regions::Column::Id)
        .one(db)
        .await?;
    row.map(Region::try_from).transpose()
}

#[derive(FromQueryResult)]
struct CursorRow {
    cursor: Option<String>,
}

/// Where the pull named `name` continues; none before the first page.
pub async fn cursor<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<String>, DbErr> {
    let row = CursorRow::find_by_statement(stmt(
        db,
        "SELECT cursor FROM upstream_cursors WHERE name = $1",
        vec![name.into()],
    ))
    .one(db)
    .await?;
    Ok(row.and_then(|r| r.cursor))
}

pub async fn save_cursor<C: ConnectionTrait>(
    db: &C,
    name: &str,
    cursor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sql = "INSERT INTO upstream_cursors (name, cursor, updated_at) VALUES ($1, $2, $3) \
               ON CONFLICT (name) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";
    db.execute_raw(stmt(db, sql, vec![name.into(), cursor.into(), now.into()])).await?;
    Ok(())
}

/// Queues the push of one status change: `body` is the JSON to POST for order `upstream_id`.
pub async fn enqueue_push<C: ConnectionTrait>(
    db: &C,
    upstream_id: &str,
    ticket_id: i64,
    body: &str,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let row = outbox::ActiveModel {
        kind: Set(OutboxKind::UpstreamStatus.as_str().into()),
        channel: Set(OutboxChannel::Upstream.as_str().into()),
        recipient: Set(upstream_id.into()),
        body: Set(body.into()),
        template: Set(OutboxKind::UpstreamStatus.as_str().into()),
        params: Set("{}".into()),
        ticket_id: Set(Some(ticket_id)),
        urgent: Set(false),
        status: Set(OutboxStatus::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

#[derive(FromQueryResult)]
struct Count {
    n: i64,
}

/// Whether an earlier push of the same order has not gone out yet (waiting for a retry, or dead):
/// a later change must not overtake it.
pub async fn earlier_push_unsent<C: ConnectionTrait>(db: &C, upstream_id: &str, id: i64) -> Result<bool, DbErr> {
    let sql = "SELECT COUNT(*) AS n FROM outbox WHERE channel = $1 AND recipient = $2 AND id < $3 \
               AND status IN ($4, $5)";
    let values = vec![
        OutboxChannel::Upstream.as_str().into(),
        upstream_id.into(),
        id.into(),
        OutboxStatus::Pending.as_str().into(),
        OutboxStatus::Dead.as_str().into(),
    ];
    let n = Count::find_by_statement(stmt(db, sql, values)).one(db).await?.map_or(0, |c| c.n);
    Ok(n > 0)
}
