//! The outbox: messages written in the same transaction as their cause, claimed and sent by the
//! worker. Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so several workers never take the
//! same message; SQLite has a single writer.
use super::Page;
use crate::sms::templates::Message;
use chrono::{DateTime, Duration, Utc};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

pub use entity::outbox::Model as OutboxMessage;

pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    msg: &Message,
    recipient: &str,
    ticket_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<OutboxMessage, DbErr> {
    outbox::ActiveModel {
        kind: Set(msg.kind.into()),
        channel: Set("sms".into()),
        recipient: Set(recipient.into()),
        body: Set(msg.body.clone()),
        template: Set(msg.kind.into()),
        params: Set(msg.params.to_string()),
        ticket_id: Set(ticket_id),
        urgent: Set(msg.urgent),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Claims up to `limit` due SMS messages by leasing them until `now + lease`; a worker that dies lets
/// the lease run out and another worker picks the messages up again (at-least-once). Other channels
/// (e-mail) have their own sender and are left alone.
pub async fn claim_due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Result<Vec<OutboxMessage>, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "SELECT * FROM outbox WHERE status = 'pending' AND channel = 'sms' AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT {limit}{lock}"
    );
    let rows =
        OutboxMessage::find_by_statement(Statement::from_sql_and_values(backend, sql, [now.into()])).all(db).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(Some(now + lease)))
        .filter(outbox::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(rows)
}

/// Records the provider's acceptance. A receipt may already have moved the message on (delivered),
/// so only a message still pending becomes `sent`.
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: i64,
    provider: &str,
    provider_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::cust("CASE WHEN status = 'pending' THEN 'sent' ELSE status END"))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::Provider, Expr::value(provider))
        .col_expr(outbox::Column::ProviderMessageId, Expr::value(provider_id))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Records a failed attempt: `dead` after the last allowed one, else pending again at `retry_at`.
pub async fn mark_failed<C: ConnectionTrait>(
    db: &C,
    id: i64,
    error: &str,
    dead: bool,
    retry_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(if dead { "dead" } else { "pending" }))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::LastError, Expr::value(Some(error.to_string())))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct OutboxFilter {
    pub status: Option<String>,
    pub phone: Option<String>,
    pub ticket_id: Option<i64>,
    pub kind: Option<String>,
    pub provider: Option<String>,
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    f: &OutboxFilter,
    page: Page,
) -> Result<(Vec<OutboxMessage>, u64), DbErr> {
    let mut q = outbox::Entity::find();
    if let Some(s) = &f.status {
        q = q.filter(outbox::Column::Status.eq(s.clone()));
    }
    if let Some(p) = &f.phone {
        q = q.filter(outbox::Column::Recipient.eq(p.clone()));
    }
    if let Some(t) = f.ticket_id {
        q = q.filter(outbox::Column::TicketId.eq(t));
    }
    if let Some(k) = &f.kind {
        q = q.filter(outbox::Column::Kind.eq(k.clone()));
    }
    if let Some(p) = &f.provider {
        q = q.filter(outbox::Column::Provider.eq(p.clone()));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(outbox::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items, total))
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<OutboxMessage>, DbErr> {
    outbox::Entity::find_by_id(id).one(db).await
}

/// Puts a claimed message back without counting an attempt (quiet hours, rate limits).
pub async fn defer<C: ConnectionTrait>(db: &C, id: i64, until: DateTime<Utc>, reason: &str) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(until))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(Some(reason.to_string())))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(())
}

/// Withholds a claimed message for good (the recipient opted out): status `suppressed`.
pub async fn suppress<C: ConnectionTrait>(db: &C, id: i64, reason: &str) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("suppressed"))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(Some(reason.to_string())))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq("pending"))
        .exec(db)
        .await?;
    Ok(())
}

/// Queues a dead, failed or suppressed message again with a fresh attempt budget; false when the
/// message is in another state (someone else resent it, or it is on its way).
pub async fn resend<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("pending"))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.is_in(["dead", "failed", "suppressed"]))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The message a receipt is about: by our id when the provider echoes it (checked against the
/// provider's message id or the phone when those are given too), else by the provider's message id.
pub async fn for_receipt<C: ConnectionTrait>(
    db: &C,
    outbox_id: Option<i64>,
    provider: &str,
    provider_message_id: Option<&str>,
) -> Result<Option<OutboxMessage>, DbErr> {
    if let Some(id) = outbox_id {
        return get(db, id).await;
    }
    let Some(pid) = provider_message_id else { return Ok(None) };
    outbox::Entity::find()
        .filter(outbox::Column::ProviderMessageId.eq(pid))
        .filter(outbox::Column::Provider.eq(provider))
        .order_by_desc(outbox::Column::Id)
        .one(db)
        .await
}

/// Applies a delivery receipt. Delivered wins over everything (a receipt is the truth about the
/// handset); a failure never undoes a delivery (a duplicate send may fail after the first arrived).
pub async fn apply_receipt<C: ConnectionTrait>(
    db: &C,
    id: i64,
    delivered: bool,
    code: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let mut q = outbox::Entity::update_many()
        .col_expr(outbox::Column::ReceiptCode, Expr::value(Some(code.to_string())))
        .col_expr(outbox::Column::ReceiptAt, Expr::value(Some(at)))
        .filter(outbox::Column::Id.eq(id));
    if delivered {
        q = q
            .col_expr(outbox::Column::Status, Expr::value("delivered"))
            .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(at)))
            .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
    } else {
        q = q
            .col_expr(outbox::Column::Status, Expr::value("failed"))
            .col_expr(outbox::Column::LastError, Expr::value(Some(format!("receipt: {code}"))))
            .filter(outbox::Column::Status.is_in(["sent", "pending", "dead"]));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Messages per status, for the provider-health answer.
pub async fn counts_by_status<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>, DbErr> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status".to_string(),
    );
    let rows = db.query_all_raw(stmt).await?;
    rows.iter().map(|r| Ok((r.try_get::<String>("", "status")?, r.try_get::<i64>("", "n")?))).collect()
}
