//! Idempotency keys: the first request with a key stores its answer in the same transaction as its
//! effect; later requests with the key get that answer back.
use chrono::{DateTime, Utc};
use entity::idempotency_keys;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

pub use entity::idempotency_keys::Model as StoredAnswer;

pub async fn get<C: ConnectionTrait>(db: &C, scope: &str, key: &str) -> Result<Option<StoredAnswer>, DbErr> {
    idempotency_keys::Entity::find_by_id((scope.to_string(), key.to_string())).one(db).await
}

pub async fn store<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    request_hash: &str,
    status: u16,
    response: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    idempotency_keys::ActiveModel {
        scope: Set(scope.into()),
        key: Set(key.into()),
        request_hash: Set(request_hash.into()),
        status_code: Set(status.into()),
        response: Set(response.into()),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Stores the answer on a key reserved earlier in the same transaction.
pub async fn complete<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    key: &str,
    status: u16,
    response: &str,
) -> Result<(), DbErr> {
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};
    idempotency_keys::Entity::update_many()
        .col_expr(idempotency_keys::Column::StatusCode, Expr::value(i32::from(status)))
        .col_expr(idempotency_keys::Column::Response, Expr::value(response))
        .filter(idempotency_keys::Column::Scope.eq(scope))
        .filter(idempotency_keys::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}
