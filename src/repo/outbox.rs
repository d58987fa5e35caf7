//! The outbox: messages written in the same transaction as their cause, claimed and sent by the
//! worker. Claiming uses `FOR UPDATE SKIP LOCKED` on PostgreSQL so several workers never take the
//! same message; SQLite has a single writer.
use super::{Page, stored};
use crate::sms::templates::Message;
use crate::sms::values::{OutboxChannel, OutboxKind, OutboxStatus, ProviderName};
use chrono::{DateTime, Duration, Utc};
use entity::outbox;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};

/// An outbox row with its enumerations typed (read loudly: an unknown stored value is an error).
#[derive(Clone, Debug, PartialEq)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: OutboxKind,
    pub channel: OutboxChannel,
    pub recipient: String,
    pub body: String,
    /// The provider template the message uses (written as its kind).
    pub template: String,
    /// The template variables, as JSON text.
    pub params: String,
    pub ticket_id: Option<i64>,
    pub urgent: bool,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// The provider that accepted it (kept through a resend).
    pub provider: Option<ProviderName>,
    pub provider_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The provider's delivery-receipt code (`DELIVERED`, `DELIVRD`, or the failure code).
    pub receipt_code: Option<String>,
    pub receipt_at: Option<DateTime<Utc>>,
    /// What makes a message one of a kind (the weekly report of a week to one leader), if anything.
    pub dedup_key: Option<String>,
    /// Since when the last send may have reached a provider without our knowing (a timeout after
    /// the request went out, or a claim that ran out); the worker asks before sending again.
    pub doubt_since: Option<DateTime<Utc>>,
    /// The provider that may have it; none: any configured provider.
    pub doubt_provider: Option<ProviderName>,
}

impl TryFrom<outbox::Model> for OutboxMessage {
    type Error = DbErr;

    fn try_from(m: outbox::Model) -> Result<OutboxMessage, DbErr> {
        Ok(OutboxMessage {
            kind: stored("outbox", "kind", m.id, &m.kind, OutboxKind::parse)?,
            channel: stored("outbox", "channel", m.id, &m.channel, OutboxChannel::parse)?,
            status: stored("outbox", "status", m.id, &m.status, OutboxStatus::parse)?,
            provider: match &m.provider {
                Some(p) => Some(stored("outbox", "provider", m.id, p, ProviderName::parse)?),
                None => None,
            },
            id: m.id,
            recipient: m.recipient,
            body: m.body,
            template: m.template,
            params: m.params,
            ticket_id: m.ticket_id,
            urgent: m.urgent,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            locked_until: m.locked_until,
            last_error: m.last_error,
            provider_message_id: m.provider_message_id,
            created_at: m.created_at,
            sent_at: m.sent_at,
            delivered_at: m.delivered_at,
            receipt_code: m.receipt_code,
            receipt_at: m.receipt_at,
            dedup_key: m.dedup_key,
            doubt_since: m.doubt_since,
            doubt_provider: match &m.doubt_provider {
                Some(p) => Some(stored("outbox", "doubt_provider", m.id, p, ProviderName::parse)?),
                None => None,
            },
        })
    }
}

pub(crate) fn one(row: Option<outbox::Model>) -> Result<Option<OutboxMessage>, DbErr> {
    row.map(OutboxMessage::try_from).transpose()
}

fn typed(rows: Vec<outbox::Model>) -> Result<Vec<OutboxMessage>, DbErr> {
    rows.into_iter().map(OutboxMessage::try_from).collect()
}

pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    msg: &Message,
    recipient: &str,
    ticket_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<OutboxMessage, DbErr> {
    pending(msg, recipient, ticket_id, now).insert(db).await.and_then(OutboxMessage::try_from)
}

/// Several messages about one ticket in one statement (a change's messages, in the order given).
pub async fn enqueue_all<C: ConnectionTrait>(
    db: &C,
    msgs: &[(&Message, &str)],
    ticket_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if msgs.is_empty() {
        return Ok(());
    }
    let rows = msgs.iter().map(|(msg, recipient)| pending(msg, recipient, ticket_id, now));
    outbox::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Messages about several tickets in one statement: (message, phone, ticket), in the order given.
pub async fn enqueue_rows<C: ConnectionTrait>(
    db: &C,
    msgs: &[(&Message, &str, Option<i64>)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    for chunk in msgs.chunks(500) {
        let rows = chunk.iter().map(|(msg, recipient, ticket)| pending(msg, recipient, *ticket, now));
        outbox::Entity::insert_many(rows).exec_without_returning(db).await?;
    }
    Ok(())
}

/// A pending SMS row as `enqueue` writes it.
fn pending(msg: &Message, recipient: &str, ticket_id: Option<i64>, now: DateTime<Utc>) -> outbox::ActiveModel {
    outbox::ActiveModel {
        kind: Set(msg.kind.as_str().into()),
        channel: Set(OutboxChannel::Sms.as_str().into()),
        recipient: Set(recipient.into()),
        body: Set(msg.body.clone()),
        template: Set(msg.kind.as_str().into()),
        params: Set(msg.params.to_string()),
        ticket_id: Set(ticket_id),
        urgent: Set(msg.urgent),
        status: Set(OutboxStatus::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    }
}

/// What one claim took: the messages to send, and the rows that do not read back (a corrupt or a
/// newer value). Those are leased like the rest — so they neither hold up the queue nor come back
/// at every pass — and handed back as errors for the worker to report.
#[derive(Debug, Default)]
pub struct Claimed {
    pub messages: Vec<OutboxMessage>,
    pub unreadable: Vec<DbErr>,
}

/// Claims up to `limit` due SMS messages by leasing them until `now + lease`; a worker that dies lets
/// the lease run out and another worker picks the messages up again (at-least-once). Other channels
/// (e-mail) have their own sender and are left alone.
pub async fn claim_due<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Result<Claimed, DbErr> {
    claim_due_on(db, OutboxChannel::Sms, now, lease, limit).await
}

/// Claims up to `limit` due messages of one channel (see `claim_due`).
pub async fn claim_due_on<C: ConnectionTrait>(
    db: &C,
    channel: OutboxChannel,
    now: DateTime<Utc>,
    lease: Duration,
    limit: u64,
) -> Result<Claimed, DbErr> {
    let backend = db.get_database_backend();
    let lock = if backend == DbBackend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "SELECT * FROM outbox WHERE status = $2 AND channel = $3 AND next_attempt_at <= $1 \
         AND (locked_until IS NULL OR locked_until < $1) ORDER BY next_attempt_at, id LIMIT {limit}{lock}"
    );
    let values = [now.into(), OutboxStatus::Pending.as_str().into(), channel.as_str().into()];
    let rows = outbox::Model::find_by_statement(Statement::from_sql_and_values(backend, sql, values)).all(db).await?;
    let mut claimed = Claimed::default();
    if rows.is_empty() {
        return Ok(claimed);
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    outbox::Entity::update_many()
        .col_expr(outbox::Column::LockedUntil, Expr::value(Some(now + lease)))
        .filter(outbox::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    for row in rows {
        match OutboxMessage::try_from(row) {
            Ok(m) => claimed.messages.push(m),
            Err(e) => claimed.unreadable.push(e),
        }
    }
    Ok(claimed)
}

/// Records the provider's acceptance. A receipt may already have moved the message on (delivered),
/// so only a message still pending becomes `sent`.
pub async fn mark_sent<C: ConnectionTrait>(
    db: &C,
    id: i64,
    provider: ProviderName,
    provider_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    accepted_by(db, id, provider, provider_id, now, 1).await
}

/// Records that a provider's status query found the message taken by an earlier send (already
/// counted as an attempt): sent, as `mark_sent`, without counting another attempt.
pub async fn mark_found<C: ConnectionTrait>(
    db: &C,
    id: i64,
    provider: ProviderName,
    provider_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    accepted_by(db, id, provider, provider_id, now, 0).await
}

async fn accepted_by<C: ConnectionTrait>(
    db: &C,
    id: i64,
    provider: ProviderName,
    provider_id: Option<String>,
    now: DateTime<Utc>,
    counted: i32,
) -> Result<(), DbErr> {
    let status =
        Expr::case(Expr::col(outbox::Column::Status).eq(OutboxStatus::Pending.as_str()), OutboxStatus::Sent.as_str())
            .finally(Expr::col(outbox::Column::Status));
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, status.into())
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(counted))
        .col_expr(outbox::Column::Provider, Expr::value(provider.as_str()))
        .col_expr(outbox::Column::ProviderMessageId, Expr::value(provider_id))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::DoubtSince, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::DoubtProvider, Expr::value(Option::<String>::None))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets (or, with `since` none, clears) what the worker must ask before sending a message again:
/// since when its last send may have reached `provider` (none: any provider).
pub async fn set_doubt<C: ConnectionTrait>(
    db: &C,
    id: i64,
    since: Option<DateTime<Utc>>,
    provider: Option<ProviderName>,
) -> Result<(), DbErr> {
    let provider = since.and(provider).map(|p| p.as_str().to_string());
    outbox::Entity::update_many()
        .col_expr(outbox::Column::DoubtSince, Expr::value(since))
        .col_expr(outbox::Column::DoubtProvider, Expr::value(provider))
        .filter(outbox::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A message written once under its `dedup_key` (e-mail).
pub struct NewKeyed<'a> {
    pub kind: OutboxKind,
    pub channel: OutboxChannel,
    pub recipient: &'a str,
    pub body: &'a str,
    pub template: &'a str,
    pub params: &'a str,
    pub dedup_key: &'a str,
}

/// Writes a message unless one with the same `dedup_key` exists (written by another instance, or
/// earlier): true when this call wrote it. `ON CONFLICT DO NOTHING`, so a race costs no error and
/// leaves the caller's transaction usable on PostgreSQL.
pub async fn enqueue_once<C: ConnectionTrait>(db: &C, m: NewKeyed<'_>, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let row = outbox::ActiveModel {
        kind: Set(m.kind.as_str().into()),
        channel: Set(m.channel.as_str().into()),
        recipient: Set(m.recipient.into()),
        body: Set(m.body.into()),
        template: Set(m.template.into()),
        params: Set(m.params.into()),
        ticket_id: Set(None),
        urgent: Set(false),
        status: Set(OutboxStatus::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        dedup_key: Set(Some(m.dedup_key.into())),
        ..Default::default()
    };
    let written = outbox::Entity::insert(row)
        .on_conflict_do_nothing_on([outbox::Column::DedupKey])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(written, sea_orm::TryInsertResult::Inserted(1)))
}

/// A message on any channel with everything set by the caller: the WeChat subscribe messages and
/// their SMS fallbacks (written once under `dedup_key`).
pub struct NewMessage<'a> {
    pub kind: OutboxKind,
    pub channel: OutboxChannel,
    pub recipient: &'a str,
    pub body: &'a str,
    pub params: &'a str,
    pub ticket_id: Option<i64>,
    pub dedup_key: &'a str,
}

/// Writes a message unless one with the same `dedup_key` exists: its id when this call wrote it.
pub async fn enqueue_message<C: ConnectionTrait>(
    db: &C,
    m: NewMessage<'_>,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let row = outbox::ActiveModel {
        kind: Set(m.kind.as_str().into()),
        channel: Set(m.channel.as_str().into()),
        recipient: Set(m.recipient.into()),
        body: Set(m.body.into()),
        template: Set(m.kind.as_str().into()),
        params: Set(m.params.into()),
        ticket_id: Set(m.ticket_id),
        urgent: Set(false),
        status: Set(OutboxStatus::Pending.as_str().into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        dedup_key: Set(Some(m.dedup_key.into())),
        ..Default::default()
    };
    let written = outbox::Entity::insert(row).on_conflict_do_nothing_on([outbox::Column::DedupKey]).exec(db).await?;
    Ok(match written {
        sea_orm::TryInsertResult::Inserted(r) => Some(r.last_insert_id),
        _ => None,
    })
}

/// Records that a channel without delivery receipts (e-mail, WeChat, the city platform) accepted a
/// message: sent, one more attempt, the receiver's id for it.
pub async fn mark_accepted<C: ConnectionTrait>(
    db: &C,
    id: i64,
    provider_message_id: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, status(OutboxStatus::Sent))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::ProviderMessageId, Expr::value(provider_message_id))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(outbox::Column::LastError, Expr::value(Option::<String>::None))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The messages written under any of `keys`.
pub async fn by_dedup_keys<C: ConnectionTrait>(db: &C, keys: Vec<String>) -> Result<Vec<OutboxMessage>, DbErr> {
    if keys.is_empty() {
        return Ok(vec![]);
    }
    typed(
        outbox::Entity::find()
            .filter(outbox::Column::DedupKey.is_in(keys))
            .order_by_asc(outbox::Column::Id)
            .all(db)
            .await?,
    )
}

/// Records that the mail server accepted an e-mail (`message_id`: the Message-ID it carried).
pub async fn mark_email_sent<C: ConnectionTrait>(
    db: &C,
    id: i64,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    mark_accepted(db, id, Some(message_id.to_string()), now).await
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
        .col_expr(outbox::Column::Status, status(if dead { OutboxStatus::Dead } else { OutboxStatus::Pending }))
        .col_expr(outbox::Column::Attempts, Expr::col(outbox::Column::Attempts).add(1))
        .col_expr(outbox::Column::LastError, Expr::value(Some(error.to_string())))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(retry_at))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct OutboxFilter {
    pub status: Option<OutboxStatus>,
    pub phone: Option<String>,
    pub ticket_id: Option<i64>,
    pub kind: Option<OutboxKind>,
    pub provider: Option<ProviderName>,
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    f: &OutboxFilter,
    page: Page,
) -> Result<(Vec<OutboxMessage>, u64), DbErr> {
    let mut q = outbox::Entity::find();
    if let Some(s) = f.status {
        q = q.filter(outbox::Column::Status.eq(s.as_str()));
    }
    if let Some(p) = &f.phone {
        q = q.filter(outbox::Column::Recipient.eq(p.clone()));
    }
    if let Some(t) = f.ticket_id {
        q = q.filter(outbox::Column::TicketId.eq(t));
    }
    if let Some(k) = f.kind {
        q = q.filter(outbox::Column::Kind.eq(k.as_str()));
    }
    if let Some(p) = f.provider {
        q = q.filter(outbox::Column::Provider.eq(p.as_str()));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(outbox::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((typed(items)?, total))
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<OutboxMessage>, DbErr> {
    one(outbox::Entity::find_by_id(id).one(db).await?)
}

fn status(s: OutboxStatus) -> Expr {
    Expr::value(s.as_str())
}

fn one_of(statuses: &[OutboxStatus]) -> Vec<&'static str> {
    statuses.iter().map(|s| s.as_str()).collect()
}

/// Puts a claimed message back without counting an attempt (quiet hours, rate limits).
pub async fn defer<C: ConnectionTrait>(db: &C, id: i64, until: DateTime<Utc>, reason: &str) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(until))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(Some(reason.to_string())))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Withholds a claimed message for good (the recipient opted out): status `suppressed`.
pub async fn suppress<C: ConnectionTrait>(db: &C, id: i64, reason: &str) -> Result<(), DbErr> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, status(OutboxStatus::Suppressed))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::LastError, Expr::value(Some(reason.to_string())))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.eq(OutboxStatus::Pending.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// The states an admin may put back in the queue.
const RESENDABLE: [OutboxStatus; 3] = [OutboxStatus::Dead, OutboxStatus::Failed, OutboxStatus::Suppressed];

/// Queues a dead, failed or suppressed message again with a fresh attempt budget; false when the
/// message is in another state (someone else resent it, or it is on its way).
pub async fn resend<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, status(OutboxStatus::Pending))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now))
        .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::Status.is_in(one_of(&RESENDABLE)))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The message a receipt is about: by our id when the provider echoes it (checked against the
/// provider's message id or the phone when those are given too), else by the provider's message id.
pub async fn for_receipt<C: ConnectionTrait>(
    db: &C,
    outbox_id: Option<i64>,
    provider: ProviderName,
    provider_message_id: Option<&str>,
) -> Result<Option<OutboxMessage>, DbErr> {
    if let Some(id) = outbox_id {
        return get(db, id).await;
    }
    let Some(pid) = provider_message_id else { return Ok(None) };
    let row = outbox::Entity::find()
        .filter(outbox::Column::ProviderMessageId.eq(pid))
        .filter(outbox::Column::Provider.eq(provider.as_str()))
        .order_by_desc(outbox::Column::Id)
        .one(db)
        .await?;
    one(row)
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
        // A receipt settles whether the message went.
        .col_expr(outbox::Column::DoubtSince, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(outbox::Column::DoubtProvider, Expr::value(Option::<String>::None))
        .filter(outbox::Column::Id.eq(id));
    if delivered {
        q = q
            .col_expr(outbox::Column::Status, status(OutboxStatus::Delivered))
            .col_expr(outbox::Column::DeliveredAt, Expr::value(Some(at)))
            .col_expr(outbox::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None));
    } else {
        q = q
            .col_expr(outbox::Column::Status, status(OutboxStatus::Failed))
            .col_expr(outbox::Column::LastError, Expr::value(Some(format!("receipt: {code}"))))
            .filter(outbox::Column::Status.is_in(one_of(&[
                OutboxStatus::Sent,
                OutboxStatus::Pending,
                OutboxStatus::Dead,
            ])));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// Messages per status, for the provider-health answer.
pub async fn counts_by_status<C: ConnectionTrait>(db: &C) -> Result<Vec<(OutboxStatus, i64)>, DbErr> {
    let stmt = Statement::from_string(
        db.get_database_backend(),
        "SELECT status, COUNT(*) AS n FROM outbox GROUP BY status ORDER BY status".to_string(),
    );
    let rows = db.query_all_raw(stmt).await?;
    rows.iter()
        .map(|r| {
            let raw = r.try_get::<String>("", "status")?;
            let n = r.try_get::<i64>("", "n")?;
            // Grouped: no single row to name.
            Ok((stored("outbox", "status", "*", &raw, OutboxStatus::parse)?, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> outbox::Model {
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        outbox::Model {
            id: 41,
            kind: "otp".into(),
            channel: "sms".into(),
            recipient: "13812345678".into(),
            body: "【民声直达】您的验证码是123456".into(),
            template: "otp".into(),
            params: r#"{"code":"123456"}"#.into(),
            ticket_id: None,
            urgent: true,
            status: "sent".into(),
            attempts: 1,
            next_attempt_at: at,
            locked_until: None,
            last_error: None,
            provider: Some("tencent".into()),
            provider_message_id: Some("2026:1".into()),
            created_at: at,
            sent_at: Some(at),
            delivered_at: None,
            receipt_code: None,
            receipt_at: None,
            dedup_key: None,
            doubt_since: None,
            doubt_provider: None,
        }
    }

    #[test]
    fn a_row_reads_back_typed() {
        let m = OutboxMessage::try_from(row()).unwrap();
        assert_eq!((m.kind, m.channel, m.status), (OutboxKind::Otp, OutboxChannel::Sms, OutboxStatus::Sent));
        assert_eq!(m.provider, Some(ProviderName::Tencent));
        let none = OutboxMessage::try_from(outbox::Model { provider: None, ..row() }).unwrap();
        assert_eq!(none.provider, None);
    }

    #[test]
    fn a_row_with_an_unknown_value_is_refused_naming_the_column() {
        let corrupt = [
            ("kind", outbox::Model { kind: "spam".into(), ..row() }),
            ("channel", outbox::Model { channel: "fax".into(), ..row() }),
            ("status", outbox::Model { status: "lost".into(), ..row() }),
            ("provider", outbox::Model { provider: Some("carrier-pigeon".into()), ..row() }),
        ];
        for (column, m) in corrupt {
            let e = OutboxMessage::try_from(m).unwrap_err().to_string();
            assert!(e.contains(&format!("outbox.{column} of row 41")), "{column}: {e}");
        }
    }
}
