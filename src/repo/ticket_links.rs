//! Links between a proactive ticket (未诉先办) and the requests that raised it: written once with the
//! proactive ticket, read from either side.
use super::tickets::{Ticket, typed};
use chrono::{DateTime, Utc};
use entity::{ticket_links, tickets};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// Links `proactive_id` to each of `linked_ids` (in the given order).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    proactive_id: i64,
    linked_ids: &[i64],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    if linked_ids.is_empty() {
        return Ok(());
    }
    let rows = linked_ids.iter().map(|&id| ticket_links::ActiveModel {
        proactive_ticket_id: Set(proactive_id),
        linked_ticket_id: Set(id),
        created_at: Set(now),
        ..Default::default()
    });
    ticket_links::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// The requests a proactive ticket was raised from, in the order they were linked.
pub async fn linked_of<C: ConnectionTrait>(db: &C, proactive_id: i64) -> Result<Vec<Ticket>, DbErr> {
    let links = ticket_links::Entity::find()
        .filter(ticket_links::Column::ProactiveTicketId.eq(proactive_id))
        .order_by_asc(ticket_links::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.linked_ticket_id).collect();
    let mut found = typed(tickets::Entity::find().filter(tickets::Column::Id.is_in(ids.clone())).all(db).await?)?;
    found.sort_by_key(|t| ids.iter().position(|id| *id == t.id));
    Ok(found)
}

/// The proactive tickets a request was linked to, newest first.
pub async fn proactive_of<C: ConnectionTrait>(db: &C, linked_ids: &[i64]) -> Result<Vec<(i64, Ticket)>, DbErr> {
    if linked_ids.is_empty() {
        return Ok(vec![]);
    }
    let links = ticket_links::Entity::find()
        .filter(ticket_links::Column::LinkedTicketId.is_in(linked_ids.iter().copied()))
        .order_by_desc(ticket_links::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.proactive_ticket_id).collect();
    let found = typed(tickets::Entity::find().filter(tickets::Column::Id.is_in(ids)).all(db).await?)?;
    Ok(links
        .iter()
        .filter_map(|l| found.iter().find(|t| t.id == l.proactive_ticket_id).map(|t| (l.linked_ticket_id, t.clone())))
        .collect())
}
