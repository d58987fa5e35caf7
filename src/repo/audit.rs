//! The audit log of administration: append-only (nothing here updates or deletes a row).
use super::{Page, like_prefix};
use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use entity::audit_log::Model as AuditEntry;

/// One change to record: the snapshots are JSON text built by the caller from explicit fields.
pub struct NewEntry<'a> {
    pub at: DateTime<Utc>,
    pub actor_id: i64,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: String,
    pub region_path: &'a str,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn record<C: ConnectionTrait>(db: &C, e: NewEntry<'_>) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        at: Set(e.at),
        actor_id: Set(e.actor_id),
        actor_name: Set(e.actor_name.to_string()),
        action: Set(e.action.to_string()),
        entity: Set(e.entity.to_string()),
        entity_id: Set(e.entity_id),
        region_path: Set(e.region_path.to_string()),
        before: Set(e.before),
        after: Set(e.after),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The filters of the audit list (also its query string).
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Entries about rows under `under_path`, newest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    f: &Filter,
    page: Page,
) -> Result<(Vec<AuditEntry>, u64), DbErr> {
    let mut q = audit_log::Entity::find().filter(audit_log::Column::RegionPath.like(like_prefix(under_path)));
    if let Some(e) = &f.entity {
        q = q.filter(audit_log::Column::Entity.eq(e.clone()));
    }
    if let Some(id) = &f.entity_id {
        q = q.filter(audit_log::Column::EntityId.eq(id.clone()));
    }
    if let Some(a) = f.actor_id {
        q = q.filter(audit_log::Column::ActorId.eq(a));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_log::Column::Action.eq(a.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_log::Column::At.gte(t));
    }
    if let Some(t) = f.to {
        q = q.filter(audit_log::Column::At.lt(t));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}
