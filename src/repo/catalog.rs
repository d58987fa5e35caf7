//! Categories (the subject tree) and SLA policies.
use super::stored;
use crate::domain::sla::{ClockKind, Policy};
use crate::domain::values::{Kind, Priority};
use entity::{categories, sla_policies};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::categories::Model as Category;

/// An SLA policy row, typed (read loudly: an unknown priority or clock is an error, not the
/// default clock).
#[derive(Clone, Debug, PartialEq)]
pub struct SlaPolicy {
    pub id: i64,
    pub name: String,
    /// None: the county default for its priority.
    pub category_code: Option<String>,
    /// None: any kind of ticket.
    pub kind: Option<Kind>,
    pub priority: Priority,
    pub policy: Policy,
}

impl TryFrom<sla_policies::Model> for SlaPolicy {
    type Error = DbErr;

    fn try_from(m: sla_policies::Model) -> Result<SlaPolicy, DbErr> {
        let kind = match m.kind.as_deref() {
            Some(k) => Some(stored("sla_policies", "kind", m.id, k, Kind::parse)?),
            None => None,
        };
        Ok(SlaPolicy {
            kind,
            priority: stored("sla_policies", "priority", m.id, &m.priority, Priority::parse)?,
            policy: Policy {
                clock: stored("sla_policies", "clock", m.id, &m.clock, ClockKind::parse)?,
                register_minutes: m.register_minutes.into(),
                dispatch_minutes: m.dispatch_minutes.into(),
                respond_minutes: m.respond_minutes.into(),
                progress_minutes: m.progress_minutes.into(),
                resolve_minutes: m.resolve_minutes.into(),
                visit_minutes: m.visit_minutes.into(),
                signoff_required: m.signoff_required,
            },
            id: m.id,
            name: m.name,
            category_code: m.category_code,
        })
    }
}

pub(crate) fn typed(rows: Vec<sla_policies::Model>) -> Result<Vec<SlaPolicy>, DbErr> {
    rows.into_iter().map(SlaPolicy::try_from).collect()
}

pub async fn all_categories<C: ConnectionTrait>(db: &C) -> Result<Vec<Category>, DbErr> {
    categories::Entity::find()
        .filter(categories::Column::Active.eq(true))
        .order_by_asc(categories::Column::Sort)
        .order_by_asc(categories::Column::Code)
        .all(db)
        .await
}

/// Every category, deactivated ones too (administration), in the intake order.
pub async fn every_category<C: ConnectionTrait>(db: &C) -> Result<Vec<Category>, DbErr> {
    categories::Entity::find()
        .order_by_asc(categories::Column::Sort)
        .order_by_asc(categories::Column::Code)
        .all(db)
        .await
}

/// Writes a category's editable fields as given (the code is its key and never changes).
pub async fn save_category<C: ConnectionTrait>(db: &C, c: &Category) -> Result<(), DbErr> {
    categories::ActiveModel {
        code: Set(c.code.clone()),
        name: Set(c.name.clone()),
        parent_code: Set(c.parent_code.clone()),
        level: Set(c.level.clone()),
        sort: Set(c.sort),
        active: Set(c.active),
        unit_id: Set(c.unit_id),
        auto_dispatch: Set(c.auto_dispatch),
        default_kind: Set(c.default_kind.clone()),
    }
    .update(db)
    .await?;
    Ok(())
}

pub async fn category<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<Category>, DbErr> {
    categories::Entity::find_by_id(code.to_string()).one(db).await
}

/// Inserts a new category as given (`active` as the caller sets it).
pub async fn insert_category<C: ConnectionTrait>(db: &C, c: Category) -> Result<Category, DbErr> {
    categories::ActiveModel {
        code: Set(c.code),
        name: Set(c.name),
        parent_code: Set(c.parent_code),
        level: Set(c.level),
        sort: Set(c.sort),
        active: Set(c.active),
        unit_id: Set(c.unit_id),
        auto_dispatch: Set(c.auto_dispatch),
        default_kind: Set(c.default_kind),
    }
    .insert(db)
    .await
}

pub async fn insert_policy<C: ConnectionTrait>(
    db: &C,
    name: &str,
    category: Option<&str>,
    kind: Option<Kind>,
    priority: Priority,
    p: &Policy,
) -> Result<SlaPolicy, DbErr> {
    super::sla_policies::save(db, None, name, category, kind, priority, p).await
}

/// The SLA policies of one priority (what `services::reference`'s `policy_for` chooses from).
pub async fn policies_of<C: ConnectionTrait>(db: &C, priority: Priority) -> Result<Vec<SlaPolicy>, DbErr> {
    typed(sla_policies::Entity::find().filter(sla_policies::Column::Priority.eq(priority.as_str())).all(db).await?)
}

/// The policy of `rows` for a category (None: the county default) and kind: the one naming the
/// kind, else the one for any kind.
pub fn pick_policy(rows: &[SlaPolicy], category: Option<&str>, kind: Kind) -> Option<Policy> {
    rows.iter()
        .find(|r| r.category_code.as_deref() == category && r.kind == Some(kind))
        .or_else(|| rows.iter().find(|r| r.category_code.as_deref() == category && r.kind.is_none()))
        .map(|r| r.policy.clone())
}

/// No category up the tree has a policy: the county default, else the built-in one.
pub fn fallback_policy(rows: &[SlaPolicy], kind: Kind, priority: Priority) -> Policy {
    pick_policy(rows, None, kind).unwrap_or_else(|| match priority {
        Priority::Urgent => Policy::default_urgent(),
        Priority::Normal => Policy::default_normal(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> sla_policies::Model {
        sla_policies::Model {
            id: 2,
            name: "默认（紧急）".into(),
            category_code: None,
            kind: None,
            priority: "urgent".into(),
            clock: "workdays".into(),
            register_minutes: 15,
            dispatch_minutes: 10,
            respond_minutes: 30,
            progress_minutes: 360,
            resolve_minutes: 1440,
            visit_minutes: 1440,
            signoff_required: false,
        }
    }

    #[test]
    fn a_policy_reads_back_typed_and_an_unknown_priority_or_clock_is_refused() {
        let p = SlaPolicy::try_from(row()).unwrap();
        assert_eq!(
            (p.priority, p.policy.clock, p.policy.dispatch_minutes),
            (Priority::Urgent, ClockKind::Workdays, 10)
        );
        let priority = SlaPolicy::try_from(sla_policies::Model { priority: "high".into(), ..row() }).unwrap_err();
        assert!(priority.to_string().contains("sla_policies.priority of row 2"), "{priority}");
        // An unknown clock was read as natural time before: now it is an error, not a default.
        let clock = SlaPolicy::try_from(sla_policies::Model { clock: "lunar".into(), ..row() }).unwrap_err();
        assert!(clock.to_string().contains("sla_policies.clock of row 2"), "{clock}");
    }
}
