//! Refresh-token families: one per staff login. A refresh swaps the family's current token id for a
//! new one with a conditional update, so of two uses of the same token only one can win; a token
//! that is not the current one revokes its family.
use chrono::{DateTime, Utc};
use entity::refresh_families;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

pub use entity::refresh_families::Model as Family;

pub async fn create<C: ConnectionTrait>(
    db: &C,
    id: &str,
    staff_id: i64,
    jti: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    refresh_families::ActiveModel {
        id: Set(id.into()),
        staff_id: Set(staff_id),
        current_jti: Set(jti.into()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn get<C: ConnectionTrait>(db: &C, id: &str) -> Result<Option<Family>, DbErr> {
    refresh_families::Entity::find_by_id(id.to_string()).one(db).await
}

/// Moves the family from token `from` to token `to`; false when `from` is no longer current (used
/// already, or the family was revoked meanwhile).
pub async fn rotate<C: ConnectionTrait>(
    db: &C,
    id: &str,
    from: &str,
    to: &str,
    expires_at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = refresh_families::Entity::update_many()
        .col_expr(refresh_families::Column::CurrentJti, Expr::value(to))
        .col_expr(refresh_families::Column::ExpiresAt, Expr::value(expires_at))
        .filter(refresh_families::Column::Id.eq(id))
        .filter(refresh_families::Column::CurrentJti.eq(from))
        .filter(refresh_families::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

pub async fn revoke<C: ConnectionTrait>(db: &C, id: &str, reason: &str, now: DateTime<Utc>) -> Result<(), DbErr> {
    refresh_families::Entity::update_many()
        .col_expr(refresh_families::Column::RevokedAt, Expr::value(Some(now)))
        .col_expr(refresh_families::Column::RevokedReason, Expr::value(Some(reason.to_string())))
        .filter(refresh_families::Column::Id.eq(id))
        .filter(refresh_families::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Families past their expiry are of no use to anyone: dropped by the sweeper.
pub async fn delete_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let res =
        refresh_families::Entity::delete_many().filter(refresh_families::Column::ExpiresAt.lt(now)).exec(db).await?;
    Ok(res.rows_affected)
}
