//! Secrets the application makes for itself, shared by every instance through the database. A
//! secret is created once under its unique name: of several instances starting together, the first
//! insert wins and every instance reads the same value back.
use chrono::{DateTime, Utc};
use entity::app_secrets;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use secrecy::SecretString;

/// The secret stored under `name`, storing `candidate` first if there is none yet. The second value
/// says whether this call created it.
pub async fn get_or_create<C: ConnectionTrait>(
    db: &C,
    name: &str,
    candidate: &str,
    now: DateTime<Utc>,
) -> Result<(SecretString, bool), DbErr> {
    let row = app_secrets::ActiveModel { name: Set(name.into()), value: Set(candidate.into()), created_at: Set(now) };
    let inserted = app_secrets::Entity::insert(row)
        .on_conflict(OnConflict::column(app_secrets::Column::Name).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let stored = app_secrets::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("app secret {name}")))?;
    let created = inserted == 1 && stored.value == candidate;
    Ok((SecretString::from(stored.value), created))
}
