//! Published red/black lists: written once per week, read by week, newest first.
use chrono::{DateTime, Utc};
use entity::redblack_lists;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

pub use entity::redblack_lists::Model as Published;

pub struct NewList<'a> {
    pub week: &'a str,
    pub published_at: DateTime<Utc>,
    pub payload: &'a str,
    pub formula: &'a str,
    pub prev_hash: &'a str,
    pub hash: &'a str,
}

/// Inserts a list; a second list for the same week is a unique violation (another instance won).
pub async fn insert<C: ConnectionTrait>(db: &C, n: NewList<'_>) -> Result<Published, DbErr> {
    redblack_lists::ActiveModel {
        week: Set(n.week.to_string()),
        published_at: Set(n.published_at),
        payload: Set(n.payload.to_string()),
        formula: Set(n.formula.to_string()),
        prev_hash: Set(n.prev_hash.to_string()),
        hash: Set(n.hash.to_string()),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn by_week<C: ConnectionTrait>(db: &C, week: &str) -> Result<Option<Published>, DbErr> {
    redblack_lists::Entity::find().filter(redblack_lists::Column::Week.eq(week)).one(db).await
}

/// The most recently published list (the chain's head).
pub async fn latest<C: ConnectionTrait>(db: &C) -> Result<Option<Published>, DbErr> {
    redblack_lists::Entity::find().order_by_desc(redblack_lists::Column::Id).one(db).await
}

/// Every published list in publishing order (the chain from its start).
pub async fn chain<C: ConnectionTrait>(db: &C) -> Result<Vec<Published>, DbErr> {
    redblack_lists::Entity::find().order_by_asc(redblack_lists::Column::Id).all(db).await
}

/// The published weeks, newest first (at most `limit`).
pub async fn weeks<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<String>, DbErr> {
    redblack_lists::Entity::find()
        .select_only()
        .column(redblack_lists::Column::Week)
        .order_by_desc(redblack_lists::Column::Id)
        .limit(limit)
        .into_tuple::<String>()
        .all(db)
        .await
}
