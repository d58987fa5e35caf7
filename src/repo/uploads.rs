//! Uploaded files (photos, voice notes) and their attachment to tickets.
use crate::domain::values::{UploadKind, UploaderKind};
use chrono::{DateTime, Utc};
use entity::uploads;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// An uploaded file's record, typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub id: String,
    pub kind: UploadKind,
    pub mime: String,
    pub size: i64,
    pub sha256: String,
    pub storage_path: String,
    pub ticket_id: Option<i64>,
    pub uploader_kind: UploaderKind,
    pub uploader_ref: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<uploads::Model> for Upload {
    type Error = DbErr;

    fn try_from(m: uploads::Model) -> Result<Upload, DbErr> {
        Ok(Upload {
            kind: super::stored("uploads", "kind", &m.id, &m.kind, UploadKind::parse)?,
            uploader_kind: super::stored("uploads", "uploader_kind", &m.id, &m.uploader_kind, UploaderKind::parse)?,
            id: m.id,
            mime: m.mime,
            size: m.size,
            sha256: m.sha256,
            storage_path: m.storage_path,
            ticket_id: m.ticket_id,
            uploader_ref: m.uploader_ref,
            created_at: m.created_at,
        })
    }
}

/// A file stored under `application.upload_dir`, not yet attached to a ticket.
pub struct NewUpload {
    pub id: String,
    pub kind: UploadKind,
    pub mime: &'static str,
    pub size: i64,
    pub sha256: String,
    pub storage_path: String,
    pub uploader_kind: UploaderKind,
    pub uploader_ref: Option<String>,
    pub created_at: DateTime<Utc>,
}

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

pub async fn insert<C: ConnectionTrait>(db: &C, u: NewUpload) -> Result<Upload, DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    uploads::ActiveModel {
        id: Set(u.id),
        kind: Set(u.kind.as_str().into()),
        mime: Set(u.mime.into()),
        size: Set(u.size),
        sha256: Set(u.sha256),
        storage_path: Set(u.storage_path),
        ticket_id: Set(None),
        uploader_kind: Set(u.uploader_kind.as_str().into()),
        uploader_ref: Set(u.uploader_ref),
        created_at: Set(u.created_at),
    }
    .insert(db)
    .await
    .and_then(Upload::try_from)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Upload>, DbErr> {
    uploads::Entity::find_by_id(id.to_string()).one(db).await?.map(Upload::try_from).transpose()
}

pub async fn of_ticket<C: ConnectionTrait>(db: &C, ticket_id: i64) -> Result<Vec<Upload>, DbErr> {
    use sea_orm::QueryOrder;
    uploads::Entity::find()
        .filter(uploads::Column::TicketId.eq(ticket_id))
        .order_by_asc(uploads::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Upload::try_from)
        .collect()
}
