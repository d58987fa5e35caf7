//! Screen tokens: stored by the SHA-256 of the token (the token itself is shown once, at creation).
use chrono::{DateTime, Utc};
use entity::screens;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::screens::Model as Screen;

pub struct NewScreen<'a> {
    pub name: &'a str,
    pub region_id: i64,
    pub token_hash: &'a str,
    pub created_by: i64,
}

pub async fn create<C: ConnectionTrait>(db: &C, s: NewScreen<'_>, now: DateTime<Utc>) -> Result<Screen, DbErr> {
    screens::ActiveModel {
        name: Set(s.name.to_string()),
        region_id: Set(s.region_id),
        token_hash: Set(s.token_hash.to_string()),
        created_by: Set(s.created_by),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Screen>, DbErr> {
    screens::Entity::find_by_id(id).one(db).await
}

/// The screen a token opens, unless it was revoked.
pub async fn active_by_hash<C: ConnectionTrait>(db: &C, token_hash: &str) -> Result<Option<Screen>, DbErr> {
    screens::Entity::find()
        .filter(screens::Column::TokenHash.eq(token_hash))
        .filter(screens::Column::RevokedAt.is_null())
        .one(db)
        .await
}

/// Screens of the regions with these ids, newest first (revoked ones too).
pub async fn list_in<C: ConnectionTrait>(db: &C, region_ids: Vec<i64>) -> Result<Vec<Screen>, DbErr> {
    screens::Entity::find()
        .filter(screens::Column::RegionId.is_in(region_ids))
        .order_by_desc(screens::Column::Id)
        .all(db)
        .await
}

/// Revokes a screen; false when it was revoked already (or does not exist).
pub async fn revoke<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = screens::Entity::update_many()
        .col_expr(screens::Column::RevokedAt, Expr::value(Some(now)))
        .filter(screens::Column::Id.eq(id))
        .filter(screens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}
