//! The Open311 facade's storage: API keys (stored by the SHA-256 of the key, like screen tokens)
//! and the public request list with the standard's filters.
use super::tickets::Ticket;
use crate::domain::ticket::Status;
use chrono::{DateTime, Utc};
use entity::{open311_keys, tickets};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use entity::open311_keys::Model as ApiKeyRow;

pub struct NewKey<'a> {
    pub name: &'a str,
    pub key_hash: &'a str,
    pub per_minute: i32,
    pub per_day: i32,
    pub created_by: i64,
}

pub async fn create_key<C: ConnectionTrait>(db: &C, k: NewKey<'_>, now: DateTime<Utc>) -> Result<ApiKeyRow, DbErr> {
    open311_keys::ActiveModel {
        name: Set(k.name.to_string()),
        key_hash: Set(k.key_hash.to_string()),
        per_minute: Set(k.per_minute),
        per_day: Set(k.per_day),
        created_by: Set(k.created_by),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn key<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<ApiKeyRow>, DbErr> {
    open311_keys::Entity::find_by_id(id).one(db).await
}

/// Every key, newest first (revoked ones too).
pub async fn keys<C: ConnectionTrait>(db: &C) -> Result<Vec<ApiKeyRow>, DbErr> {
    open311_keys::Entity::find().order_by_desc(open311_keys::Column::Id).all(db).await
}

/// The key a presented key's hash stands for, unless it was revoked.
pub async fn active_key_by_hash<C: ConnectionTrait>(db: &C, key_hash: &str) -> Result<Option<ApiKeyRow>, DbErr> {
    open311_keys::Entity::find()
        .filter(open311_keys::Column::KeyHash.eq(key_hash))
        .filter(open311_keys::Column::RevokedAt.is_null())
        .one(db)
        .await
}

/// Revokes a key; false when it was revoked already (or does not exist).
pub async fn revoke_key<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = open311_keys::Entity::update_many()
        .col_expr(open311_keys::Column::RevokedAt, Expr::value(Some(now)))
        .filter(open311_keys::Column::Id.eq(id))
        .filter(open311_keys::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Notes when a key was last used to file a request (shown to the admin in the key list).
pub async fn touch_key<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<(), DbErr> {
    open311_keys::Entity::update_many()
        .col_expr(open311_keys::Column::LastUsedAt, Expr::value(Some(now)))
        .filter(open311_keys::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The standard's filters over requests, all optional; the service fills in the defaults.
#[derive(Clone, Debug, Default)]
pub struct RequestFilter {
    pub nos: Option<Vec<String>>,
    pub categories: Option<Vec<String>>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub statuses: Option<Vec<Status>>,
    pub updated_after: Option<DateTime<Utc>>,
}

/// One page of requests, newest first, and how many match in all.
pub async fn requests<C: ConnectionTrait>(
    db: &C,
    f: &RequestFilter,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Ticket>, u64), DbErr> {
    let mut q = tickets::Entity::find();
    if let Some(nos) = &f.nos {
        q = q.filter(tickets::Column::No.is_in(nos.clone()));
    }
    if let Some(codes) = &f.categories {
        q = q.filter(tickets::Column::CategoryCode.is_in(codes.clone()));
    }
    if let Some(from) = f.created_from {
        q = q.filter(tickets::Column::CreatedAt.gte(from));
    }
    if let Some(to) = f.created_to {
        q = q.filter(tickets::Column::CreatedAt.lte(to));
    }
    if let Some(statuses) = &f.statuses {
        q = q.filter(tickets::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if let Some(after) = f.updated_after {
        q = q.filter(tickets::Column::UpdatedAt.gt(after));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(tickets::Column::CreatedAt)
        .order_by_desc(tickets::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    let items = rows.into_iter().map(Ticket::try_from).collect::<Result<Vec<_>, _>>()?;
    Ok((items, total))
}
