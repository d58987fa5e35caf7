//! Uploaded files (photos, voice notes) and their attachment to tickets.
use entity::uploads;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

pub use entity::uploads::Model as Upload;

/// An upload exists and is not attached to any ticket yet.
pub async fn is_free<C: ConnectionTrait>(db: &C, id: &str) -> Result<bool, DbErr> {
    Ok(uploads::Entity::find_by_id(id.to_string()).one(db).await?.is_some_and(|u| u.ticket_id.is_none()))
}

pub async fn attach<C: ConnectionTrait>(db: &C, ids: &[String], ticket_id: i64) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    uploads::Entity::update_many()
        .col_expr(uploads::Column::TicketId, Expr::value(Some(ticket_id)))
        .filter(uploads::Column::Id.is_in(ids.to_vec()))
        .filter(uploads::Column::TicketId.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert<C: ConnectionTrait>(db: &C, u: uploads::ActiveModel) -> Result<Upload, DbErr> {
    use sea_orm::ActiveModelTrait;
    u.insert(db).await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Upload>, DbErr> {
    uploads::Entity::find_by_id(id.to_string()).one(db).await
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Upload>, DbErr> {
    use sea_orm::QueryOrder;
    uploads::Entity::find()
        .filter(uploads::Column::TicketId.eq(ticket_id))
        .order_by_asc(uploads::Column::CreatedAt)
        .all(db)
        .await
}
