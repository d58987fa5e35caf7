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
