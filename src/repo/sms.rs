//! SMS gateway records: provider calls (attempts), opt-outs, inbound replies and the operators'
//! queue, and the lookups reply handling needs (who has this phone, what did we last send them).
use super::outbox::OutboxMessage;
use super::{Page, like_prefix, stored};
use crate::sms::values::{
    AttemptOutcome, OutboxKind, OutboxStatus, ProviderName, ReplyHandling, ReplyOutcome, ReplyQueueStatus,
};
use chrono::{DateTime, Utc};
use entity::{outbox, sms_attempts, sms_opt_outs, sms_replies, staff, tickets};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};

/// One provider call for one outbox message, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Attempt {
    pub id: i64,
    pub outbox_id: i64,
    pub provider: ProviderName,
    pub outcome: AttemptOutcome,
    pub error: Option<String>,
    pub latency_ms: i64,
    pub at: DateTime<Utc>,
}

impl TryFrom<sms_attempts::Model> for Attempt {
    type Error = DbErr;

    fn try_from(m: sms_attempts::Model) -> Result<Attempt, DbErr> {
        Ok(Attempt {
            provider: stored("sms_attempts", "provider", m.id, &m.provider, ProviderName::parse)?,
            outcome: stored("sms_attempts", "outcome", m.id, &m.outcome, AttemptOutcome::parse)?,
            id: m.id,
            outbox_id: m.outbox_id,
            error: m.error,
            latency_ms: m.latency_ms,
            at: m.at,
        })
    }
}

/// A phone that replied TD, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct OptOut {
    pub id: i64,
    pub phone: String,
    /// How the opt-out came (`sms_reply`).
    pub source: String,
    pub provider: Option<ProviderName>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<sms_opt_outs::Model> for OptOut {
    type Error = DbErr;

    fn try_from(m: sms_opt_outs::Model) -> Result<OptOut, DbErr> {
        Ok(OptOut {
            provider: match &m.provider {
                Some(p) => Some(stored("sms_opt_outs", "provider", m.id, p, ProviderName::parse)?),
                None => None,
            },
            id: m.id,
            phone: m.phone,
            source: m.source,
            created_at: m.created_at,
        })
    }
}

/// An SMS a phone sent us and what became of it, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    pub id: i64,
    pub provider: ProviderName,
    pub dedup_key: String,
    pub phone: String,
    pub text: String,
    pub received_at: DateTime<Utc>,
    pub outcome: ReplyOutcome,
    pub detail: Option<String>,
    pub ticket_id: Option<i64>,
    pub outbox_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub queue_status: Option<ReplyQueueStatus>,
    pub handled_by: Option<i64>,
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_note: Option<String>,
    pub handled_as: Option<ReplyHandling>,
    pub handled_ticket_id: Option<i64>,
}

impl TryFrom<sms_replies::Model> for Reply {
    type Error = DbErr;

    fn try_from(m: sms_replies::Model) -> Result<Reply, DbErr> {
        Ok(Reply {
            provider: stored("sms_replies", "provider", m.id, &m.provider, ProviderName::parse)?,
            outcome: stored("sms_replies", "outcome", m.id, &m.outcome, ReplyOutcome::parse)?,
            queue_status: match &m.queue_status {
                Some(q) => Some(stored("sms_replies", "queue_status", m.id, q, ReplyQueueStatus::parse)?),
                None => None,
            },
            id: m.id,
            dedup_key: m.dedup_key,
            phone: m.phone,
            text: m.text,
            received_at: m.received_at,
            detail: m.detail,
            ticket_id: m.ticket_id,
            outbox_id: m.outbox_id,
            staff_id: m.staff_id,
            handled_by: m.handled_by,
            handled_at: m.handled_at,
            handled_note: m.handled_note,
            handled_as: match &m.handled_as {
                Some(h) => Some(stored("sms_replies", "handled_as", m.id, h, ReplyHandling::parse)?),
                None => None,
            },
            handled_ticket_id: m.handled_ticket_id,
        })
    }
}

pub async fn insert_attempt<C: ConnectionTrait>(
    db: &C,
    outbox_id: i64,
    provider: ProviderName,
    outcome: AttemptOutcome,
    error: Option<String>,
    latency_ms: i64,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    sms_attempts::ActiveModel {
        outbox_id: Set(outbox_id),
        provider: Set(provider.as_str().into()),
        outcome: Set(outcome.as_str().into()),
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
        .await?
        .into_iter()
        .map(Attempt::try_from)
        .collect()
}

/// A provider's record since `since`: (calls, accepted), the last failure and the last success.
pub struct Health {
    pub calls: u64,
    pub sent: u64,
    pub last_error: Option<Attempt>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

pub async fn health<C: ConnectionTrait>(db: &C, provider: ProviderName, since: DateTime<Utc>) -> Result<Health, DbErr> {
    let (provider, sent) = (provider.as_str(), AttemptOutcome::Sent.as_str());
    let recent = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::At.gte(since));
    let calls = recent.clone().count(db).await?;
    let sent_calls = recent.filter(sms_attempts::Column::Outcome.eq(sent)).count(db).await?;
    // Status queries that answered are no failures.
    let fine = [sent, AttemptOutcome::Found.as_str(), AttemptOutcome::NotFound.as_str()];
    let last_error = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::Outcome.is_not_in(fine))
        .order_by_desc(sms_attempts::Column::Id)
        .one(db)
        .await?
        .map(Attempt::try_from)
        .transpose()?;
    let last_sent_at = sms_attempts::Entity::find()
        .filter(sms_attempts::Column::Provider.eq(provider))
        .filter(sms_attempts::Column::Outcome.eq(sent))
        .order_by_desc(sms_attempts::Column::Id)
        .one(db)
        .await?
        .map(|a| a.at);
    Ok(Health { calls, sent: sent_calls, last_error, last_sent_at })
}

/// Records an opt-out; a second TD from the same phone changes nothing.
pub async fn opt_out<C: ConnectionTrait>(
    db: &C,
    phone: &str,
    source: &str,
    provider: Option<ProviderName>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = sms_opt_outs::ActiveModel {
        phone: Set(phone.into()),
        source: Set(source.into()),
        provider: Set(provider.map(|p| p.as_str().to_string())),
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
    Ok((items.into_iter().map(OptOut::try_from).collect::<Result<_, _>>()?, total))
}

pub struct NewReply<'a> {
    pub provider: ProviderName,
    pub dedup_key: &'a str,
    pub phone: &'a str,
    pub text: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Stores a reply as `received`, or returns the row already stored under the same key (a provider
/// pushing the same reply again).
pub async fn insert_reply<C: ConnectionTrait>(db: &C, r: NewReply<'_>) -> Result<(Reply, bool), DbErr> {
    let row = sms_replies::ActiveModel {
        provider: Set(r.provider.as_str().into()),
        dedup_key: Set(r.dedup_key.into()),
        phone: Set(r.phone.into()),
        text: Set(r.text.into()),
        received_at: Set(r.received_at),
        outcome: Set(ReplyOutcome::Received.as_str().into()),
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
    Ok((Reply::try_from(stored)?, fresh))
}

/// How a reply was handled.
pub struct Handled {
    pub outcome: ReplyOutcome,
    pub detail: Option<String>,
    pub ticket_id: Option<i64>,
    pub outbox_id: Option<i64>,
    pub staff_id: Option<i64>,
    /// Goes to the operators' queue.
    pub queued: bool,
}

pub async fn set_handled<C: ConnectionTrait>(db: &C, id: i64, h: Handled) -> Result<(), DbErr> {
    sms_replies::Entity::update_many()
        .col_expr(sms_replies::Column::Outcome, Expr::value(h.outcome.as_str()))
        .col_expr(sms_replies::Column::Detail, Expr::value(h.detail))
        .col_expr(sms_replies::Column::TicketId, Expr::value(h.ticket_id))
        .col_expr(sms_replies::Column::OutboxId, Expr::value(h.outbox_id))
        .col_expr(sms_replies::Column::StaffId, Expr::value(h.staff_id))
        .col_expr(sms_replies::Column::QueueStatus, Expr::value(h.queued.then_some(ReplyQueueStatus::Open.as_str())))
        .filter(sms_replies::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn get_reply<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Reply>, DbErr> {
    sms_replies::Entity::find_by_id(id).one(db).await?.map(Reply::try_from).transpose()
}

/// How a queued reply is closed: by whom, with what note, and the ticket it went to (linked or
/// filed), if any.
pub struct Closing {
    pub by: i64,
    pub note: Option<String>,
    pub how: ReplyHandling,
    pub ticket_id: Option<i64>,
}

/// Closes a queued reply; false when it is not open (already handled by someone).
pub async fn close_reply<C: ConnectionTrait>(db: &C, id: i64, c: Closing, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = sms_replies::Entity::update_many()
        .col_expr(sms_replies::Column::QueueStatus, Expr::value(ReplyQueueStatus::Done.as_str()))
        .col_expr(sms_replies::Column::HandledBy, Expr::value(Some(c.by)))
        .col_expr(sms_replies::Column::HandledAt, Expr::value(Some(now)))
        .col_expr(sms_replies::Column::HandledNote, Expr::value(c.note))
        .col_expr(sms_replies::Column::HandledAs, Expr::value(Some(c.how.as_str())))
        .col_expr(sms_replies::Column::HandledTicketId, Expr::value(c.ticket_id))
        .filter(sms_replies::Column::Id.eq(id))
        .filter(sms_replies::Column::QueueStatus.eq(ReplyQueueStatus::Open.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Replies for operators: the queue (`open`, `done`) or every reply (`None`), limited to replies
/// about tickets under `region_path` plus replies about no ticket.
pub async fn list_replies<C: ConnectionTrait>(
    db: &C,
    queue_status: Option<ReplyQueueStatus>,
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
        q = q.filter(sms_replies::Column::QueueStatus.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_desc(sms_replies::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items.into_iter().map(Reply::try_from).collect::<Result<_, _>>()?, total))
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
    kinds: &[OutboxKind],
    ticket_id: Option<i64>,
    since: DateTime<Utc>,
) -> Result<Option<OutboxMessage>, DbErr> {
    let mut q = outbox::Entity::find()
        .filter(outbox::Column::Recipient.eq(phone))
        .filter(outbox::Column::Status.is_in([OutboxStatus::Sent.as_str(), OutboxStatus::Delivered.as_str()]))
        .filter(outbox::Column::SentAt.gte(since));
    if !kinds.is_empty() {
        q = q.filter(outbox::Column::Kind.is_in(kinds.iter().map(|k| k.as_str())));
    }
    if let Some(t) = ticket_id {
        q = q.filter(outbox::Column::TicketId.eq(t));
    }
    super::outbox::one(q.order_by_desc(outbox::Column::SentAt).order_by_desc(outbox::Column::Id).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn attempt() -> sms_attempts::Model {
        sms_attempts::Model {
            id: 5,
            outbox_id: 41,
            provider: "aliyun".into(),
            outcome: "provider_fault".into(),
            error: Some("balance".into()),
            latency_ms: 12,
            at: at(),
        }
    }

    fn reply() -> sms_replies::Model {
        sms_replies::Model {
            id: 9,
            provider: "http".into(),
            dedup_key: "http:1".into(),
            phone: "13812345678".into(),
            text: "1".into(),
            received_at: at(),
            outcome: "queued".into(),
            detail: None,
            ticket_id: None,
            outbox_id: None,
            staff_id: None,
            queue_status: Some("open".into()),
            handled_by: None,
            handled_at: None,
            handled_note: None,
            handled_as: None,
            handled_ticket_id: None,
        }
    }

    fn opt_out() -> sms_opt_outs::Model {
        sms_opt_outs::Model {
            id: 3,
            phone: "13812345678".into(),
            source: "sms_reply".into(),
            provider: Some("console".into()),
            created_at: at(),
        }
    }

    #[test]
    fn rows_read_back_typed() {
        let a = Attempt::try_from(attempt()).unwrap();
        assert_eq!((a.provider, a.outcome), (ProviderName::Aliyun, AttemptOutcome::ProviderFault));
        let r = Reply::try_from(reply()).unwrap();
        assert_eq!(
            (r.provider, r.outcome, r.queue_status),
            (ProviderName::Http, ReplyOutcome::Queued, Some(ReplyQueueStatus::Open))
        );
        assert_eq!(Reply::try_from(sms_replies::Model { queue_status: None, ..reply() }).unwrap().queue_status, None);
        assert_eq!(OptOut::try_from(opt_out()).unwrap().provider, Some(ProviderName::Console));
    }

    #[test]
    fn rows_with_an_unknown_value_are_refused_naming_table_and_column() {
        let errors = [
            (
                "sms_attempts.provider of row 5",
                Attempt::try_from(sms_attempts::Model { provider: "sms-cat".into(), ..attempt() }).err(),
            ),
            (
                "sms_attempts.outcome of row 5",
                Attempt::try_from(sms_attempts::Model { outcome: "maybe".into(), ..attempt() }).err(),
            ),
            (
                "sms_replies.provider of row 9",
                Reply::try_from(sms_replies::Model { provider: "fax".into(), ..reply() }).err(),
            ),
            (
                "sms_replies.outcome of row 9",
                Reply::try_from(sms_replies::Model { outcome: "ignored".into(), ..reply() }).err(),
            ),
            (
                "sms_replies.queue_status of row 9",
                Reply::try_from(sms_replies::Model { queue_status: Some("closed".into()), ..reply() }).err(),
            ),
            (
                "sms_opt_outs.provider of row 3",
                OptOut::try_from(sms_opt_outs::Model { provider: Some("".into()), ..opt_out() }).err(),
            ),
        ];
        for (named, e) in errors {
            let e = e.map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(named), "{named}: {e:?}");
        }
    }
}
