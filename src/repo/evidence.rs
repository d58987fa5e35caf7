//! Evidence photos a cadre takes on the order page, stored as `uploads` rows, and the uploads of a
//! ticket for its staff view.
use chrono::{DateTime, Utc};
use entity::uploads;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::uploads::Model as Upload;

pub struct NewUpload<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub mime: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub storage_path: &'a str,
    pub uploader_kind: &'a str,
    pub uploader_ref: Option<String>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, u: NewUpload<'_>, now: DateTime<Utc>) -> Result<Upload, DbErr> {
    uploads::ActiveModel {
        id: Set(u.id.into()),
        kind: Set(u.kind.into()),
        mime: Set(u.mime.into()),
        size: Set(u.size),
        sha256: Set(u.sha256.into()),
        storage_path: Set(u.storage_path.into()),
        ticket_id: Set(None),
        uploader_kind: Set(u.uploader_kind.into()),
        uploader_ref: Set(u.uploader_ref),
        created_at: Set(now),
    }
    .insert(db)
    .await
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Upload>, DbErr> {
    uploads::Entity::find()
        .filter(uploads::Column::TicketId.eq(ticket_id))
        .order_by_asc(uploads::Column::CreatedAt)
        .all(db)
        .await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Upload>, DbErr> {
    uploads::Entity::find_by_id(id.to_string()).one(db).await
}
