//! Return visits (回访): the record of each contact with a requester after a resolution.
use entity::return_visits;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

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
