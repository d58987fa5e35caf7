//! SLA policies as admins manage them (list, read, create, change, delete). `services::reference`'s
//! `policy_for` picks the policy that applies to a ticket.
use super::catalog::{SlaPolicy, typed};
use crate::domain::sla::Policy;
use crate::domain::values::{Kind, Priority};
use entity::sla_policies;
use sea_orm::sea_query::NullOrdering;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, Order, QueryFilter, QueryOrder, Set, Unchanged,
};

pub async fn list<C: ConnectionTrait>(db: &C) -> Result<Vec<SlaPolicy>, DbErr> {
    let rows = sla_policies::Entity::find()
        .order_by_with_nulls(sla_policies::Column::CategoryCode, Order::Asc, NullOrdering::First)
        // The every-kind row first on both databases (SQLite sorts NULL first, PostgreSQL last).
        .order_by_with_nulls(sla_policies::Column::Kind, Order::Asc, NullOrdering::First)
        .order_by_asc(sla_policies::Column::Priority)
        .order_by_asc(sla_policies::Column::Id)
        .all(db)
        .await?;
    typed(rows)
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<SlaPolicy>, DbErr> {
    sla_policies::Entity::find_by_id(id).one(db).await?.map(SlaPolicy::try_from).transpose()
}

/// The policy for exactly this category (None = county default), kind (None = any kind) and
/// priority, if any.
pub async fn find_exact<C: ConnectionTrait>(
    db: &C,
    category: Option<&str>,
    kind: Option<Kind>,
    priority: Priority,
) -> Result<Option<SlaPolicy>, DbErr> {
    let mut q = sla_policies::Entity::find().filter(sla_policies::Column::Priority.eq(priority.as_str()));
    q = match category {
        Some(c) => q.filter(sla_policies::Column::CategoryCode.eq(c)),
        None => q.filter(sla_policies::Column::CategoryCode.is_null()),
    };
    q = match kind {
        Some(k) => q.filter(sla_policies::Column::Kind.eq(k.as_str())),
        None => q.filter(sla_policies::Column::Kind.is_null()),
    };
    q.one(db).await?.map(SlaPolicy::try_from).transpose()
}

/// Writes a policy: a new row when `id` is None, else the row with that id.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    id: Option<i64>,
    name: &str,
    category: Option<&str>,
    kind: Option<Kind>,
    priority: Priority,
    p: &Policy,
) -> Result<SlaPolicy, DbErr> {
    let mut m = sla_policies::ActiveModel {
        name: Set(name.into()),
        category_code: Set(category.map(str::to_string)),
        kind: Set(kind.map(|k| k.as_str().to_string())),
        priority: Set(priority.as_str().into()),
        clock: Set(p.clock.as_str().into()),
        register_minutes: Set(p.register_minutes as i32),
        dispatch_minutes: Set(p.dispatch_minutes as i32),
        respond_minutes: Set(p.respond_minutes as i32),
        progress_minutes: Set(p.progress_minutes as i32),
        resolve_minutes: Set(p.resolve_minutes as i32),
        visit_minutes: Set(p.visit_minutes as i32),
        signoff_required: Set(p.signoff_required),
        ..Default::default()
    };
    let row = match id {
        Some(id) => {
            m.id = Unchanged(id);
            m.update(db).await?
        }
        None => m.insert(db).await?,
    };
    SlaPolicy::try_from(row)
}

pub async fn delete<C: ConnectionTrait>(db: &C, id: i64) -> Result<bool, DbErr> {
    Ok(sla_policies::Entity::delete_by_id(id).exec(db).await?.rows_affected > 0)
}
