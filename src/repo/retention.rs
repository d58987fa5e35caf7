//! The retention job's reads and writes: tickets past retention, and the removal of a requester's
//! personal data from a ticket and the rows that carry it. Nothing here touches the ledger
//! (`events`): its rows are hash-chained and stay as written.
use super::tickets::Ticket;
use crate::domain::ticket::Status;
use crate::domain::values::UploaderKind;
use chrono::{DateTime, Utc};
use entity::{outbox, return_visits, sms_replies, tickets, uploads, wechat_subscriptions};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

/// Tickets whose requester's data is kept no longer: closed before `cutoff`, or merged or declared
/// invalid (final states with no `closed_at`; their last change is their end) before it, and not
/// anonymised yet.
fn due_condition(cutoff: DateTime<Utc>) -> Condition {
    Condition::all().add(tickets::Column::AnonymizedAt.is_null()).add(
        Condition::any()
            .add(
                Condition::all()
                    .add(tickets::Column::Status.eq(Status::Closed.as_str()))
                    .add(tickets::Column::ClosedAt.lt(cutoff)),
            )
            .add(
                Condition::all()
                    .add(tickets::Column::Status.is_in([Status::Merged.as_str(), Status::Invalid.as_str()]))
                    .add(tickets::Column::UpdatedAt.lt(cutoff)),
            ),
    )
}

/// At most `limit` tickets past retention, oldest first.
pub async fn due<C: ConnectionTrait>(db: &C, cutoff: DateTime<Utc>, limit: u64) -> Result<Vec<Ticket>, DbErr> {
    let rows = tickets::Entity::find()
        .filter(due_condition(cutoff))
        .order_by_asc(tickets::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    super::tickets::typed(rows)
}

/// How many tickets are past retention.
pub async fn count_due<C: ConnectionTrait>(db: &C, cutoff: DateTime<Utc>) -> Result<u64, DbErr> {
    tickets::Entity::find().filter(due_condition(cutoff)).count(db).await
}

/// What replaces a ticket's personal data.
pub struct Anonymized<'a> {
    pub phone_placeholder: &'a str,
    pub description: &'a str,
}

/// Clears the requester's data on the ticket row — only if it is still as read (status, ledger
/// position) and not anonymised by another instance meanwhile. `updated_at` stays: the ticket did
/// not change state, and no rate or ranking may move. False: someone else got there first or the
/// ticket changed; nothing was written.
pub async fn anonymize_ticket<C: ConnectionTrait>(
    db: &C,
    t: &Ticket,
    a: Anonymized<'_>,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = tickets::Entity::update_many()
        .col_expr(tickets::Column::RequesterPhone, Expr::value(a.phone_placeholder))
        .col_expr(tickets::Column::RequesterName, Expr::value(Option::<String>::None))
        .col_expr(tickets::Column::RequesterOpenid, Expr::value(Option::<String>::None))
        .col_expr(tickets::Column::Address, Expr::value(Option::<String>::None))
        .col_expr(tickets::Column::Description, Expr::value(a.description))
        .col_expr(tickets::Column::AnonymizedAt, Expr::value(Some(now)))
        .filter(tickets::Column::Id.eq(t.id))
        .filter(tickets::Column::AnonymizedAt.is_null())
        .filter(tickets::Column::Status.eq(t.status.as_str()))
        .filter(tickets::Column::EventSeq.eq(t.event_seq))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Ok(false);
    }
    // The text index forgets the old description and address with them.
    super::search::reindex(db, t.id, &t.no, a.description, None).await?;
    Ok(true)
}

/// Removes the requester's uploads of a ticket (photos and voice notes sent by the villager; a
/// cadre's evidence photos of the work stay); returns their stored paths so the files can be
/// deleted once the transaction has committed.
pub async fn remove_uploads<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<String>, DbErr> {
    let villager = UploaderKind::Villager.as_str();
    let rows = uploads::Entity::find()
        .filter(uploads::Column::TicketId.eq(ticket_id))
        .filter(uploads::Column::UploaderKind.eq(villager))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(vec![]);
    }
    uploads::Entity::delete_many()
        .filter(uploads::Column::TicketId.eq(ticket_id))
        .filter(uploads::Column::UploaderKind.eq(villager))
        .exec(db)
        .await?;
    Ok(rows.into_iter().map(|u| u.storage_path).collect())
}

/// The rest of the requester's traces around a ticket: WeChat subscriptions (openids) go; SMS sent
/// to or received from the requester's phone keep their row (delivery figures) with the
/// placeholder for the number and phones or ID numbers in their text masked; return-visit comments
/// are masked the same way.
pub async fn anonymize_traces<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    phone: &str,
    placeholder: &str,
    mask: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    wechat_subscriptions::Entity::delete_many()
        .filter(wechat_subscriptions::Column::TicketId.eq(ticket_id))
        .exec(db)
        .await?;
    if !phone.is_empty() {
        let sent = outbox::Entity::find()
            .filter(outbox::Column::TicketId.eq(ticket_id))
            .filter(outbox::Column::Recipient.eq(phone))
            .all(db)
            .await?;
        for m in sent {
            outbox::Entity::update_many()
                .col_expr(outbox::Column::Recipient, Expr::value(placeholder))
                .col_expr(outbox::Column::Body, Expr::value(mask(&m.body)))
                .filter(outbox::Column::Id.eq(m.id))
                .exec(db)
                .await?;
        }
        let replies = sms_replies::Entity::find()
            .filter(sms_replies::Column::TicketId.eq(ticket_id))
            .filter(sms_replies::Column::Phone.eq(phone))
            .all(db)
            .await?;
        for r in replies {
            sms_replies::Entity::update_many()
                .col_expr(sms_replies::Column::Phone, Expr::value(placeholder))
                .col_expr(sms_replies::Column::Text, Expr::value(mask(&r.text)))
                .filter(sms_replies::Column::Id.eq(r.id))
                .exec(db)
                .await?;
        }
    }
    let visits = return_visits::Entity::find()
        .filter(return_visits::Column::TicketId.eq(ticket_id))
        .filter(return_visits::Column::Comment.is_not_null())
        .all(db)
        .await?;
    for v in visits {
        let Some(comment) = v.comment.as_deref() else { continue };
        let masked = mask(comment);
        if masked != comment {
            return_visits::Entity::update_many()
                .col_expr(return_visits::Column::Comment, Expr::value(Some(masked)))
                .filter(return_visits::Column::Id.eq(v.id))
                .exec(db)
                .await?;
        }
    }
    Ok(())
}
