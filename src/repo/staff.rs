//! Staff members: lookup for login, the failed-login counter and lock, and creation.
use super::{Page, like_prefix};
use crate::domain::roles::{Role, join_roles, parse_roles};
use crate::domain::values::RegionLevel;
use chrono::{DateTime, Utc};
use entity::{regions, staff};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

/// A staff member, roles typed (read loudly: an unknown role on a row is an error).
#[derive(Clone, PartialEq)]
pub struct Staff {
    pub id: i64,
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub roles: Vec<Role>,
    pub region_id: i64,
    pub unit_id: Option<i64>,
    pub phone: Option<String>,
    pub post: Option<String>,
    pub active: bool,
    pub failed_logins: i32,
    pub locked_until: Option<DateTime<Utc>>,
    pub token_version: i32,
    /// A temporary password (from an administrator's reset) that must be changed before anything else.
    pub must_change_password: bool,
    pub created_at: DateTime<Utc>,
}

/// Never prints the password hash or the phone.
impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("roles", &self.roles)
            .finish()
    }
}

impl TryFrom<staff::Model> for Staff {
    type Error = DbErr;

    fn try_from(m: staff::Model) -> Result<Staff, DbErr> {
        Ok(Staff {
            roles: super::stored("staff", "roles", m.id, &m.roles, parse_roles)?,
            id: m.id,
            username: m.username,
            name: m.name,
            password_hash: m.password_hash,
            region_id: m.region_id,
            unit_id: m.unit_id,
            phone: m.phone,
            post: m.post,
            active: m.active,
            failed_logins: m.failed_logins,
            locked_until: m.locked_until,
            token_version: m.token_version,
            must_change_password: m.must_change_password,
            created_at: m.created_at,
        })
    }
}

pub(crate) fn staff_of(rows: Vec<staff::Model>) -> Result<Vec<Staff>, DbErr> {
    rows.into_iter().map(Staff::try_from).collect()
}

fn one(row: Option<staff::Model>) -> Result<Option<Staff>, DbErr> {
    row.map(Staff::try_from).transpose()
}

pub async fn by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<Staff>, DbErr> {
    one(staff::Entity::find().filter(staff::Column::Username.eq(username)).one(db).await?)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Staff>, DbErr> {
    one(staff::Entity::find_by_id(id).one(db).await?)
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
    /// Created with a temporary password that must be changed at the first login.
    pub must_change_password: bool,
}

pub async fn create<C: ConnectionTrait>(db: &C, s: NewStaff<'_>, now: DateTime<Utc>) -> Result<Staff, DbErr> {
    let roles = parse_roles(s.roles).ok_or_else(|| DbErr::Custom(format!("unknown role in {:?}", s.roles)))?;
    staff::ActiveModel {
        username: Set(s.username.into()),
        name: Set(s.name.into()),
        password_hash: Set(s.password_hash.into()),
        roles: Set(join_roles(&roles)),
        region_id: Set(s.region_id),
        unit_id: Set(s.unit_id),
        phone: Set(s.phone.map(str::to_string)),
        post: Set(s.post.map(str::to_string)),
        active: Set(true),
        failed_logins: Set(0),
        locked_until: Set(None),
        token_version: Set(0),
        must_change_password: Set(s.must_change_password),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .and_then(Staff::try_from)
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
        .filter(staff::Column::Roles.contains(Role::Cadre.as_str()))
        .order_by_asc(staff::Column::Id)
        .all(db)
        .await
        .and_then(staff_of)
        .map(|all| all.into_iter().filter(|s| s.roles.contains(&Role::Cadre)).collect())
}

/// Staff whose region lies under `under_path` or whose unit's region does.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    unit_id: Option<i64>,
    text: Option<&str>,
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
    if let Some(t) = text {
        q = q.filter(
            Condition::any()
                .add(staff::Column::Username.like(super::contains(t)))
                .add(staff::Column::Name.like(super::contains(t))),
        );
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(staff::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((staff_of(items)?, total))
}

/// Active staff with a phone whose own region is one of the grids (微网格) under a village: the
/// grid workers (网格员) printed on its card, grid by grid.
pub async fn grid_workers<C: ConnectionTrait>(db: &C, village_id: i64) -> Result<Vec<Staff>, DbErr> {
    let grids: Vec<i64> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .filter(regions::Column::ParentId.eq(village_id))
        .filter(regions::Column::Level.eq(RegionLevel::Grid.as_str()))
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
        .and_then(staff_of)
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    staff::Entity::find().count(db).await
}

/// Active staff members of a unit, whatever their roles.
pub async fn count_in_unit<C: ConnectionTrait>(db: &C, unit_id: i64) -> Result<u64, DbErr> {
    staff::Entity::find()
        .filter(staff::Column::UnitId.eq(unit_id))
        .filter(staff::Column::Active.eq(true))
        .count(db)
        .await
}

/// Writes a staff member's editable fields as given. With `revoke`, the token version rises in the
/// same statement: every token they hold stops working at their next request, on every instance.
pub async fn save<C: ConnectionTrait>(db: &C, s: &Staff, revoke: bool) -> Result<(), DbErr> {
    let mut q = staff::Entity::update_many()
        .col_expr(staff::Column::Name, Expr::value(s.name.clone()))
        .col_expr(staff::Column::Phone, Expr::value(s.phone.clone()))
        .col_expr(staff::Column::Post, Expr::value(s.post.clone()))
        .col_expr(staff::Column::Roles, Expr::value(join_roles(&s.roles)))
        .col_expr(staff::Column::RegionId, Expr::value(s.region_id))
        .col_expr(staff::Column::UnitId, Expr::value(s.unit_id))
        .col_expr(staff::Column::Active, Expr::value(s.active))
        .filter(staff::Column::Id.eq(s.id));
    if revoke {
        q = q.col_expr(staff::Column::TokenVersion, Expr::col(staff::Column::TokenVersion).add(1));
    }
    q.exec(db).await?;
    Ok(())
}

/// Sets a new password hash (and whether it must be changed at the next login), clears the lock,
/// and raises the token version: every earlier token stops working.
pub async fn set_password<C: ConnectionTrait>(db: &C, id: i64, hash: &str, must_change: bool) -> Result<bool, DbErr> {
    Ok(staff::Entity::update_many()
        .col_expr(staff::Column::PasswordHash, Expr::value(hash))
        .col_expr(staff::Column::MustChangePassword, Expr::value(must_change))
        .col_expr(staff::Column::FailedLogins, Expr::value(0))
        .col_expr(staff::Column::LockedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(staff::Column::TokenVersion, Expr::col(staff::Column::TokenVersion).add(1))
        .filter(staff::Column::Id.eq(id))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Every username taken (an import checks its rows against them).
pub async fn usernames<C: ConnectionTrait>(db: &C) -> Result<std::collections::HashSet<String>, DbErr> {
    let names: Vec<String> =
        staff::Entity::find().select_only().column(staff::Column::Username).into_tuple().all(db).await?;
    Ok(names.into_iter().collect())
}
