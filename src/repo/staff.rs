//! Staff members: lookup for login, the failed-login counter and lock, and creation.
use super::{Page, like_prefix};
use chrono::{DateTime, Utc};
use entity::{regions, staff};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

pub use entity::staff::Model as Staff;

pub async fn by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<Staff>, DbErr> {
    staff::Entity::find().filter(staff::Column::Username.eq(username)).one(db).await
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Staff>, DbErr> {
    staff::Entity::find_by_id(id).one(db).await
}

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a str,
    pub region_id: i64,
    pub unit_id: Option<i64>,
    pub phone: Option<&'a str>,
    pub post: Option<&'a str>,
}

pub async fn create<C: ConnectionTrait>(db: &C, s: NewStaff<'_>, now: DateTime<Utc>) -> Result<Staff, DbErr> {
    staff::ActiveModel {
        username: Set(s.username.into()),
        name: Set(s.name.into()),
        password_hash: Set(s.password_hash.into()),
        roles: Set(s.roles.into()),
        region_id: Set(s.region_id),
        unit_id: Set(s.unit_id),
        phone: Set(s.phone.map(str::to_string)),
        post: Set(s.post.map(str::to_string)),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        token_version: Set(0),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Counts a failed login of account `id` (from any address) atomically; the failure that brings the
/// count to `max` locks the account until `lock_until` (and the count starts afresh). Returns the
/// count as read after the increment, and whether the account is locked now. Parallel guesses cannot
/// slip past the lock by each reading the same stale count. For an unknown name the caller passes
/// id 0: the same statements run and touch nothing.
pub async fn record_failed_login<C: ConnectionTrait>(
    db: &C,
    id: i64,
    max: i32,
    lock_until: DateTime<Utc>,
) -> Result<(i32, bool), DbErr> {
    staff::Entity::update_many()
        .col_expr(staff::Column::FailedLogins, Expr::col(staff::Column::FailedLogins).add(1))
        .filter(staff::Column::Id.eq(id))
        .exec(db)
        .await?;
    let failed = staff::Entity::find_by_id(id).one(db).await?.map_or(0, |x| x.failed_logins);
    let locked = staff::Entity::update_many()
        .col_expr(staff::Column::LockedUntil, Expr::value(Some(lock_until)))
        .col_expr(staff::Column::FailedLogins, Expr::value(0))
        .filter(staff::Column::Id.eq(id))
        .filter(staff::Column::FailedLogins.gte(max))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    Ok((failed, locked))
}

/// Changes a staff member's roles and/or active flag, and raises their token version in the same
/// statement: every token they hold stops working at their next request, on every instance.
pub async fn update_access<C: ConnectionTrait>(
    db: &C,
    id: i64,
    roles: Option<&str>,
    active: Option<bool>,
) -> Result<bool, DbErr> {
    let mut q = staff::Entity::update_many()
        .col_expr(staff::Column::TokenVersion, Expr::col(staff::Column::TokenVersion).add(1))
        .filter(staff::Column::Id.eq(id));
    if let Some(r) = roles {
        q = q.col_expr(staff::Column::Roles, Expr::value(r));
    }
    if let Some(a) = active {
        q = q.col_expr(staff::Column::Active, Expr::value(a));
    }
    Ok(q.exec(db).await?.rows_affected == 1)
}

pub async fn reset_failed_logins<C: ConnectionTrait>(db: &C, id: i64) -> Result<(), DbErr> {
    staff::Entity::update_many()
        .col_expr(staff::Column::FailedLogins, Expr::value(0))
        .col_expr(staff::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(staff::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Active cadres of a unit, first created first.
pub async fn cadres_of_unit<C: ConnectionTrait>(db: &C, unit_id: i64) -> Result<Vec<Staff>, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::UnitId.eq(unit_id))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Roles.contains("cadre"))
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
}

/// Staff whose region lies under `under_path` or whose unit's region does.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    unit_id: Option<i64>,
    page: Page,
) -> Result<(Vec<Staff>, u64), DbErr> {
    let region_ids: Vec<i64> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .filter(regions::Column::Path.like(like_prefix(under_path)))
        .into_tuple()
        .all(db)
        .await?;
    let mut q = staff::Entity::find().filter(Condition::all().add(staff::Column::RegionId.is_in(region_ids)));
    if let Some(u) = unit_id {
        q = q.filter(staff::Column::UnitId.eq(u));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(staff::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items, total))
}

/// Active staff with a phone whose own region is one of the grids (微网格) under a village: the
/// grid workers (网格员) printed on its card, grid by grid.
pub async fn grid_workers<C: ConnectionTrait>(db: &C, village_id: i64) -> Result<Vec<Staff>, DbErr> {
    let grids: Vec<i64> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .filter(regions::Column::ParentId.eq(village_id))
        .filter(regions::Column::Level.eq("grid"))
        .into_tuple()
        .all(db)
        .await?;
    staff::Entity::find()
        .filter(staff::Column::RegionId.is_in(grids))
        .filter(staff::Column::Active.eq(true))
        .filter(staff::Column::Phone.is_not_null())
        .order_by_asc(staff::Column::RegionId)
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    staff::Entity::find().count(db).await
}
