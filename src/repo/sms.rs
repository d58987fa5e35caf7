//! SMS gateway records: provider calls (attempts), opt-outs, inbound replies and the operators'
//! queue, and the lookups reply handling needs (who has this phone, what did we last send them).
use super::{Page, like_prefix};
use chrono::{DateTime, Utc};
use entity::{outbox, sms_attempts, sms_opt_outs, sms_replies, staff, tickets};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};

pub use entity::sms_attempts::Model as Attempt;
pub use entity::sms_opt_outs::Model as OptOut;
pub use entity::sms_replies::Model as Reply;

pub async fn insert_attempt<C: ConnectionTrait>(
    db: &C,
    outbox_id: i64,
    provider: &str,
    outcome: &str,
    error: Option<String>,
    latency_ms: i64,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sms_attempts::ActiveModel {
        outbox_id: Set(outbox_id),
        provider: Set(provider.into()),
        outcome: Set(outcome.into()),
        error: Set(error),
        latency_ms: Set(latency_ms),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn attempts_of<C: ConnectionTrait>(db: &C, outbox_id: i64) -> Result<Vec<Attempt>, DbErr> {
    sms_attempts::Entity::find()
        .filter(sms_attempts::Column::OutboxId.eq(outbox_id))
        .order_by_asc(sms_attempts::Column::Id)
        .all(db)
        .await
}

/// A provider's record since `since`: (calls, accepted), the last failure and the last success.
pub struct Health {
    pub calls: u64,
    pub sent: u64,
    pub last_error: Option<Attempt>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

pub async fn health<C: ConnectionTrait>(db: &C, provider: &str, since: DateTime<Utc>) -> Result<Health, DbErr> {
    let recent = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::At.gte(since));
    let calls = recent.clone().count(db).await?;
    let sent = recent.filter(sms_attempts::Column::Outcome.eq("sent")).count(db).await?;
    let last_error = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::Outcome.ne("sent"))
        .order_by_desc(sms_attempts::Column::Id)
        .one(db)
        .await?;
    let last_sent_at = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::Outcome.eq("sent"))
        .order_by_desc(sms_attempts::Column::Id)
        .one(db)
        .await?
        .map(|a| a.at);
    Ok(Health { calls, sent, last_error, last_sent_at })
}

/// Records an opt-out; a second TD from the same phone changes nothing.
pub async fn opt_out<C: ConnectionTrait>(
    db: &C,
    phone: &str,
    source: &str,
    provider: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = sms_opt_outs::ActiveModel {
        phone: Set(phone.into()),
        source: Set(source.into()),
        provider: Set(provider.map(str::to_string)),
        created_at: Set(now),
        ..Default::default()
    };
    sms_opt_outs::Entity::insert(row).on_conflict_do_nothing_on([sms_opt_outs::Column::Phone]).exec(db).await?;
    Ok(())
}

pub async fn remove_opt_out<C: ConnectionTrait>(db: &C, phone: &str) -> Result<bool, DbErr> {
    let res = sms_opt_outs::Entity::delete_many().filter(sms_opt_outs::Column::Phone.eq(phone)).exec(db).await?;
    Ok(res.rows_affected > 0)
}

/// Which of `phones` opted out.
pub async fn opted_out<C: ConnectionTrait>(db: &C, phones: &[String]) -> Result<Vec<String>, DbErr> {
    if phones.is_empty() {
        return Ok(vec![]);
    }
    let rows =
        sms_opt_outs::Entity::find().filter(sms_opt_outs::Column::Phone.is_in(phones.iter().cloned())).all(db).await?;
    Ok(rows.into_iter().map(|r| r.phone).collect())
}

pub async fn list_opt_outs<C: ConnectionTrait>(db: &C, page: Page) -> Result<(Vec<OptOut>, u64), DbErr> {
    let q = sms_opt_outs::Entity::find();
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(sms_opt_outs::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items, total))
}

pub struct NewReply<'a> {
    pub provider: &'a str,
    pub dedup_key: &'a str,
    pub phone: &'a str,
    pub text: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Stores a reply as `received`, or returns the row already stored under the same key (a provider
/// pushing the same reply again).
pub async fn insert_reply<C: ConnectionTrait>(db: &C, r: NewReply<'_>) -> Result<(Reply, bool), DbErr> {
    let row = sms_replies::ActiveModel {
        provider: Set(r.provider.into()),
        dedup_key: Set(r.dedup_key.into()),
        phone: Set(r.phone.into()),
        text: Set(r.text.into()),
        received_at: Set(r.received_at),
        outcome: Set("received".into()),
        ..Default::default()
    };
    let inserted =
        sms_replies::Entity::insert(row).on_conflict_do_nothing_on([sms_replies::Column::DedupKey]).exec(db).await?;
    let fresh = matches!(inserted, sea_orm::TryInsertResult::Inserted(_));
    let stored = sms_replies::Entity::find()
        .filter(sms_replies::Column::DedupKey.eq(r.dedup_key))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("sms reply".into()))?;
    Ok((stored, fresh))
}

/// How a reply was handled.
pub struct Handled<'a> {
    pub outcome: &'a str,
    pub detail: Option<String>,
    pub ticket_id: Option<i64>,
    pub outbox_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// Goes to the operators' queue.
    pub queued: bool,
}

pub async fn set_handled<C: ConnectionTrait>(db: &C, id: i64, h: Handled<'_>) -> Result<(), DbErr> {
    sms_replies::Entity::update_many()
        .col_expr(sms_replies::Column::Outcome, Expr::value(h.outcome))
        .col_expr(sms_replies::Column::Detail, Expr::value(h.detail))
        .col_expr(sms_replies::Column::TicketId, Expr::value(h.ticket_id))
        .col_expr(sms_replies::Column::OutboxId, Expr::value(h.outbox_id))
        .col_expr(sms_replies::Column::StaffId, Expr::value(h.staff_id))
        .col_expr(sms_replies::Column::QueueStatus, Expr::value(h.queued.then_some("open")))
        .filter(sms_replies::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get_reply<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Reply>, DbErr> {
    sms_replies::Entity::find_by_id(id).one(db).await
}

/// Closes a queued reply; false when it is not open (already handled by someone).
pub async fn close_reply<C: ConnectionTrait>(
    db: &C,
    id: i64,
    by: i64,
    note: Option<String>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = sms_replies::Entity::update_many()
        .col_expr(sms_replies::Column::QueueStatus, Expr::value("done"))
        .col_expr(sms_replies::Column::HandledBy, Expr::value(Some(by)))
        .col_expr(sms_replies::Column::HandledAt, Expr::value(Some(now)))
        .col_expr(sms_replies::Column::HandledNote, Expr::value(note))
        .filter(sms_replies::Column::Id.eq(id))
        .filter(sms_replies::Column::QueueStatus.eq("open"))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Replies for operators: the queue (`open`, `done`) or every reply (`None`), limited to replies
/// about tickets under `region_path` plus replies about no ticket.
pub async fn list_replies<C: ConnectionTrait>(
    db: &C,
    queue_status: Option<&str>,
    region_path: &str,
    page: Page,
) -> Result<(Vec<Reply>, u64), DbErr> {
    let in_scope = tickets::Entity::find()
        .select_only()
        .column(tickets::Column::Id)
        .filter(tickets::Column::RegionPath.like(like_prefix(region_path)))
        .into_query();
    let mut q = sms_replies::Entity::find().filter(
        Condition::any()
            .add(sms_replies::Column::TicketId.is_null())
            .add(sms_replies::Column::TicketId.in_subquery(in_scope)),
    );
    if let Some(s) = queue_status {
        q = q.filter(sms_replies::Column::QueueStatus.eq(s));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(sms_replies::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items, total))
}

/// Active staff with this phone.
pub async fn staff_by_phone<C: ConnectionTrait>(db: &C, phone: &str) -> Result<Vec<super::staff::Staff>, DbErr> {
    let rows = staff::Entity::find()
        .filter(staff::Column::Phone.eq(phone))
        .filter(staff::Column::Active.eq(true))
        .all(db)
        .await?;
    super::staff::staff_of(rows)
}

/// The latest message of one of `kinds` (any kind when empty) sent to `phone` since `since`,
/// optionally about one ticket: what a reply from that phone answers.
pub async fn last_sent_to<C: ConnectionTrait>(
    db: &C,
    phone: &str,
    kinds: &[&str],
    ticket_id: Option<i64>,
    since: DateTime<Utc>,
) -> Result<Option<outbox::Model>, DbErr> {
    let mut q = outbox::Entity::find()
        .filter(outbox::Column::Recipient.eq(phone))
        .filter(outbox::Column::Status.is_in(["sent", "delivered"]))
        .filter(outbox::Column::SentAt.gte(since));
    if !kinds.is_empty() {
        q = q.filter(outbox::Column::Kind.is_in(kinds.iter().copied()));
    }
    if let Some(t) = ticket_id {
        q = q.filter(outbox::Column::TicketId.eq(t));
    }
    q.order_by_desc(outbox::Column::SentAt).order_by_desc(outbox::Column::Id).one(db).await
}
