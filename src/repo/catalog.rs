//! Categories (the subject tree) and SLA policies.
use crate::domain::sla::{ClockKind, Policy};
use entity::{categories, sla_policies};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::categories::Model as Category;
pub use entity::sla_policies::Model as SlaPolicy;

pub async fn all_categories<C: ConnectionTrait>(db: &C) -> Result<Vec<Category>, DbErr> {
    categories::Entity::find()
        .filter(categories::Column::Active.eq(true))
        .order_by_asc(categories::Column::Sort)
        .order_by_asc(categories::Column::Code)
        .all(db)
        .await
}

pub async fn category<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<Category>, DbErr> {
    categories::Entity::find_by_id(code.to_string()).one(db).await
}

pub async fn insert_category<C: ConnectionTrait>(
    db: &C,
    code: &str,
    name: &str,
    parent: Option<&str>,
    level: &str,
    sort: i32,
) -> Result<Category, DbErr> {
    categories::ActiveModel {
        code: Set(code.into()),
        name: Set(name.into()),
        parent_code: Set(parent.map(str::to_string)),
        level: Set(level.into()),
        sort: Set(sort),
        active: Set(true),
    }
    .insert(db)
    .await
}

pub async fn insert_policy<C: ConnectionTrait>(
    db: &C,
    name: &str,
    category: Option<&str>,
    priority: &str,
    p: &Policy,
) -> Result<SlaPolicy, DbErr> {
    let clock = match p.clock {
        ClockKind::Natural => "natural",
        ClockKind::Workdays => "workdays",
    };
    sla_policies::ActiveModel {
        name: Set(name.into()),
        category_code: Set(category.map(str::to_string)),
        priority: Set(priority.into()),
        clock: Set(clock.into()),
        register_minutes: Set(p.register_minutes as i32),
        dispatch_minutes: Set(p.dispatch_minutes as i32),
        respond_minutes: Set(p.respond_minutes as i32),
        progress_minutes: Set(p.progress_minutes as i32),
        resolve_minutes: Set(p.resolve_minutes as i32),
        visit_minutes: Set(p.visit_minutes as i32),
        signoff_required: Set(p.signoff_required),
        ..Default::default()
    }
    .insert(db)
    .await
}

pub fn to_policy(m: &SlaPolicy) -> Policy {
    Policy {
        clock: ClockKind::parse(&m.clock).unwrap_or(ClockKind::Natural),
        register_minutes: m.register_minutes.into(),
        dispatch_minutes: m.dispatch_minutes.into(),
        respond_minutes: m.respond_minutes.into(),
        progress_minutes: m.progress_minutes.into(),
        resolve_minutes: m.resolve_minutes.into(),
        visit_minutes: m.visit_minutes.into(),
        signoff_required: m.signoff_required,
    }
}

/// The policy for a category and priority: the category's own, else its nearest ancestor's, else the
/// county default (no category), else DESIGN.md's defaults.
pub async fn policy_for<C: ConnectionTrait>(db: &C, category_code: &str, priority: &str) -> Result<Policy, DbErr> {
    let rows = sla_policies::Entity::find().filter(sla_policies::Column::Priority.eq(priority)).all(db).await?;
    let mut code = Some(category_code.to_string());
    while let Some(c) = code {
        if let Some(p) = rows.iter().find(|r| r.category_code.as_deref() == Some(c.as_str())) {
            return Ok(to_policy(p));
        }
        code = category(db, &c).await?.and_then(|cat| cat.parent_code);
    }
    if let Some(p) = rows.iter().find(|r| r.category_code.is_none()) {
        return Ok(to_policy(p));
    }
    Ok(if priority == "urgent" { Policy::default_urgent() } else { Policy::default_normal() })
}
