//! Return visits (回访) and the queue of resolved tickets awaiting one.
use super::Page;
use entity::{return_visits, tickets};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

pub use entity::return_visits::ActiveModel as NewVisit;
pub use entity::return_visits::Model as ReturnVisit;

pub async fn insert<C: ConnectionTrait>(db: &C, v: NewVisit) -> Result<ReturnVisit, DbErr> {
    v.insert(db).await
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<ReturnVisit>, DbErr> {
    return_visits::Entity::find()
        .filter(return_visits::Column::TicketId.eq(ticket_id))
        .order_by_asc(return_visits::Column::Id)
        .all(db)
        .await
}

/// Resolved tickets visible under `visibility`, oldest visit deadline first.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    visibility: Condition,
    page: Page,
) -> Result<(Vec<tickets::Model>, u64), DbErr> {
    let q = tickets::Entity::find().filter(tickets::Column::Status.eq("resolved")).filter(visibility);
    let total = q.clone().count(db).await?;
    let items = q
        .order_by_asc(tickets::Column::VisitBy)
        .order_by_asc(tickets::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok((items, total))
}
