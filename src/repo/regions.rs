//! Regions (the administrative tree) and units (who handles orders).
use super::{Page, like_prefix};
use chrono::{DateTime, Utc};
use entity::{regions, units};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub use entity::regions::Model as Region;
pub use entity::units::Model as Unit;

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Region>, DbErr> {
    regions::Entity::find_by_id(id).one(db).await
}

/// Creates a region under `parent` and sets its materialised path ("/county/township/…/id/").
pub async fn create<C: ConnectionTrait>(
    db: &C,
    parent: Option<&Region>,
    level: &str,
    name: &str,
    hotline: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Region, DbErr> {
    let r = regions::ActiveModel {
        parent_id: Set(parent.map(|p| p.id)),
        level: Set(level.into()),
        name: Set(name.into()),
        code: Set(None),
        path: Set(String::new()),
        hotline: Set(hotline.map(str::to_string)),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let path = format!("{}{}/", parent.map(|p| p.path.as_str()).unwrap_or("/"), r.id);
    regions::Entity::update_many()
        .col_expr(regions::Column::Path, Expr::value(path.clone()))
        .filter(regions::Column::Id.eq(r.id))
        .exec(db)
        .await?;
    Ok(Region { path, ..r })
}

/// The region and its ancestors, root first (from the ids in the materialised path).
pub async fn lineage<C: ConnectionTrait>(db: &C, region: &Region) -> Result<Vec<Region>, DbErr> {
    let ids: Vec<i64> = region.path.split('/').filter_map(|s| s.parse().ok()).collect();
    let mut rows = regions::Entity::find().filter(regions::Column::Id.is_in(ids.clone())).all(db).await?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    level: Option<&str>,
    parent_id: Option<i64>,
    page: Page,
) -> Result<(Vec<Region>, u64), DbErr> {
    let mut q = regions::Entity::find().filter(regions::Column::Path.like(like_prefix(under_path)));
    if let Some(l) = level {
        q = q.filter(regions::Column::Level.eq(l));
    }
    if let Some(p) = parent_id {
        q = q.filter(regions::Column::ParentId.eq(p));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(regions::Column::Path).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((items, total))
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    regions::Entity::find().count(db).await
}

pub async fn unit<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Unit>, DbErr> {
    units::Entity::find_by_id(id).one(db).await
}

pub struct NewUnit<'a> {
    pub name: &'a str,
    pub level: &'a str,
    pub kind: &'a str,
    pub region_id: i64,
    pub is_lead: bool,
    pub phone: Option<&'a str>,
}

pub async fn create_unit<C: ConnectionTrait>(db: &C, u: NewUnit<'_>, now: DateTime<Utc>) -> Result<Unit, DbErr> {
    units::ActiveModel {
        name: Set(u.name.into()),
        level: Set(u.level.into()),
        kind: Set(u.kind.into()),
        region_id: Set(u.region_id),
        is_lead: Set(u.is_lead),
        phone: Set(u.phone.map(str::to_string)),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The unit that answers for a region (its village committee, township office, county centre).
pub async fn lead_unit<C: ConnectionTrait>(db: &C, region_id: i64) -> Result<Option<Unit>, DbErr> {
    units::Entity::find()
        .filter(units::Column::RegionId.eq(region_id))
        .filter(units::Column::IsLead.eq(true))
        .filter(units::Column::Active.eq(true))
        .order_by_asc(units::Column::Id)
        .one(db)
        .await
}

/// Units whose region lies under `under_path`.
pub async fn list_units<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    region_id: Option<i64>,
    page: Page,
) -> Result<(Vec<(Unit, String)>, u64), DbErr> {
    let regions_under: Vec<(i64, String)> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .column(regions::Column::Path)
        .filter(regions::Column::Path.like(like_prefix(under_path)))
        .into_tuple()
        .all(db)
        .await?;
    let ids: Vec<i64> = regions_under.iter().map(|(id, _)| *id).collect();
    let mut q = units::Entity::find().filter(units::Column::RegionId.is_in(ids));
    if let Some(r) = region_id {
        q = q.filter(units::Column::RegionId.eq(r));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(units::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    let with_path = items
        .into_iter()
        .map(|u| {
            let path =
                regions_under.iter().find(|(id, _)| *id == u.region_id).map(|(_, p)| p.clone()).unwrap_or_default();
            (u, path)
        })
        .collect();
    Ok((with_path, total))
}
