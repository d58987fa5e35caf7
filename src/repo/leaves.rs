//! Staff leaves: recording, cancelling (the row stays, `cancelled_at` set) and the questions routing
//! asks: who is away at a given moment, and who stands in for them.
use chrono::{DateTime, Utc};
use entity::staff_leaves;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::staff_leaves::Model as Leave;

pub struct NewLeave<'a> {
    pub staff_id: i64,
    pub deputy_id: i64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub reason: &'a str,
    pub created_by: i64,
}

pub async fn create<C: ConnectionTrait>(db: &C, n: NewLeave<'_>, now: DateTime<Utc>) -> Result<Leave, DbErr> {
    staff_leaves::ActiveModel {
        staff_id: Set(n.staff_id),
        deputy_id: Set(n.deputy_id),
        from: Set(n.from),
        to: Set(n.to),
        reason: Set(n.reason.to_string()),
        created_by: Set(n.created_by),
        created_at: Set(now),
        cancelled_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Leave>, DbErr> {
    staff_leaves::Entity::find_by_id(id).one(db).await
}

/// A staff member's leaves, the latest first (cancelled ones too, marked).
pub async fn of_staff<C: ConnectionTrait>(db: &C, staff_id: i64) -> Result<Vec<Leave>, DbErr> {
    staff_leaves::Entity::find()
        .filter(staff_leaves::Column::StaffId.eq(staff_id))
        .order_by_desc(staff_leaves::Column::From)
        .all(db)
        .await
}

/// Leaves not cancelled that overlap `[from, to)` and concern `staff_id` as the one away.
pub async fn overlapping<C: ConnectionTrait>(
    db: &C,
    staff_id: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Leave>, DbErr> {
    staff_leaves::Entity::find()
        .filter(staff_leaves::Column::StaffId.eq(staff_id))
        .filter(staff_leaves::Column::CancelledAt.is_null())
        .filter(staff_leaves::Column::From.lt(to))
        .filter(staff_leaves::Column::To.gt(from))
        .all(db)
        .await
}

/// The leave `staff_id` is on at `at`, if any.
pub async fn active<C: ConnectionTrait>(db: &C, staff_id: i64, at: DateTime<Utc>) -> Result<Option<Leave>, DbErr> {
    staff_leaves::Entity::find()
        .filter(staff_leaves::Column::StaffId.eq(staff_id))
        .filter(staff_leaves::Column::CancelledAt.is_null())
        .filter(staff_leaves::Column::From.lte(at))
        .filter(staff_leaves::Column::To.gt(at))
        .order_by_desc(staff_leaves::Column::Id)
        .one(db)
        .await
}

/// Cancels a leave not cancelled yet; false when it already was (a concurrent cancel).
pub async fn cancel<C: ConnectionTrait>(db: &C, id: i64, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let res = staff_leaves::Entity::update_many()
        .col_expr(staff_leaves::Column::CancelledAt, sea_orm::sea_query::Expr::value(Some(now)))
        .filter(staff_leaves::Column::Id.eq(id))
        .filter(staff_leaves::Column::CancelledAt.is_null())
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Every leave running at `at` (few at a time: a county's cadres away today).
pub async fn all_active<C: ConnectionTrait>(db: &C, at: DateTime<Utc>) -> Result<Vec<Leave>, DbErr> {
    staff_leaves::Entity::find()
        .filter(staff_leaves::Column::CancelledAt.is_null())
        .filter(staff_leaves::Column::From.lte(at))
        .filter(staff_leaves::Column::To.gt(at))
        .all(db)
        .await
}
