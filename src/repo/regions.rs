//! Regions (the administrative tree) and units (who handles orders).
use super::{Page, like_prefix};
use crate::domain::values::{HandlingLevel, RegionLevel, UnitKind};
use chrono::{DateTime, Utc};
use entity::{regions, units};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// A region of the administrative tree, its level typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Region {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub level: RegionLevel,
    pub name: String,
    pub code: Option<String>,
    /// Materialised path of ids, e.g. "/1/2/5/".
    pub path: String,
    pub hotline: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<regions::Model> for Region {
    type Error = DbErr;

    fn try_from(m: regions::Model) -> Result<Region, DbErr> {
        Ok(Region {
            level: super::stored("regions", "level", m.id, &m.level, RegionLevel::parse)?,
            id: m.id,
            parent_id: m.parent_id,
            name: m.name,
            code: m.code,
            path: m.path,
            hotline: m.hotline,
            active: m.active,
            created_at: m.created_at,
        })
    }
}

pub(crate) fn regions_of(rows: Vec<regions::Model>) -> Result<Vec<Region>, DbErr> {
    rows.into_iter().map(Region::try_from).collect()
}

/// A unit that handles orders, its level and kind typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub id: i64,
    pub name: String,
    pub level: HandlingLevel,
    pub kind: UnitKind,
    pub region_id: i64,
    pub is_lead: bool,
    pub phone: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<units::Model> for Unit {
    type Error = DbErr;

    fn try_from(m: units::Model) -> Result<Unit, DbErr> {
        Ok(Unit {
            level: super::stored("units", "level", m.id, &m.level, HandlingLevel::parse)?,
            kind: super::stored("units", "kind", m.id, &m.kind, UnitKind::parse)?,
            id: m.id,
            name: m.name,
            region_id: m.region_id,
            is_lead: m.is_lead,
            phone: m.phone,
            active: m.active,
            created_at: m.created_at,
        })
    }
}

fn unit_of(m: Option<units::Model>) -> Result<Option<Unit>, DbErr> {
    m.map(Unit::try_from).transpose()
}

pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Region>, DbErr> {
    regions::Entity::find_by_id(id).one(db).await?.map(Region::try_from).transpose()
}

/// Creates a region under `parent` and sets its materialised path ("/county/township/…/id/").
pub async fn create<C: ConnectionTrait>(
    db: &C,
    parent: Option<&Region>,
    level: RegionLevel,
    name: &str,
    hotline: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Region, DbErr> {
    let r = regions::ActiveModel {
        parent_id: Set(parent.map(|p| p.id)),
        level: Set(level.as_str().into()),
        name: Set(name.into()),
        code: Set(None),
        path: Set(String::new()),
        hotline: Set(hotline.map(str::to_string)),
        active: Set(true),
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
    Ok(Region { path, ..Region::try_from(r)? })
}

/// The region and its ancestors, root first (from the ids in the materialised path).
pub async fn lineage<C: ConnectionTrait>(db: &C, region: &Region) -> Result<Vec<Region>, DbErr> {
    let ids: Vec<i64> = region.path.split('/').filter_map(|s| s.parse().ok()).collect();
    let mut rows = regions_of(regions::Entity::find().filter(regions::Column::Id.is_in(ids.clone())).all(db).await?)?;
    rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
    Ok(rows)
}

pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    level: Option<RegionLevel>,
    parent_id: Option<i64>,
    name: Option<&str>,
    page: Page,
) -> Result<(Vec<Region>, u64), DbErr> {
    let mut q = regions::Entity::find().filter(regions::Column::Path.like(like_prefix(under_path)));
    if let Some(n) = name {
        q = q.filter(regions::Column::Name.like(super::contains(n)));
    }
    if let Some(l) = level {
        q = q.filter(regions::Column::Level.eq(l.as_str()));
    }
    if let Some(p) = parent_id {
        q = q.filter(regions::Column::ParentId.eq(p));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(regions::Column::Path).offset(page.offset()).limit(page.per_page).all(db).await?;
    Ok((regions_of(items)?, total))
}

pub async fn count<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    regions::Entity::find().count(db).await
}

pub async fn unit<C: ConnectionTrait>(db: &C, id: i64) -> Result<Option<Unit>, DbErr> {
    unit_of(units::Entity::find_by_id(id).one(db).await?)
}

pub struct NewUnit<'a> {
    pub name: &'a str,
    pub level: HandlingLevel,
    pub kind: UnitKind,
    pub region_id: i64,
    pub is_lead: bool,
    pub phone: Option<&'a str>,
}

pub async fn create_unit<C: ConnectionTrait>(db: &C, u: NewUnit<'_>, now: DateTime<Utc>) -> Result<Unit, DbErr> {
    units::ActiveModel {
        name: Set(u.name.into()),
        level: Set(u.level.as_str().into()),
        kind: Set(u.kind.as_str().into()),
        region_id: Set(u.region_id),
        is_lead: Set(u.is_lead),
        phone: Set(u.phone.map(str::to_string)),
        active: Set(true),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .and_then(Unit::try_from)
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
        .and_then(unit_of)
}

/// The active lead units of several regions at once (a ticket's lineage), in no particular order.
pub async fn lead_units<C: ConnectionTrait>(db: &C, region_ids: &[i64]) -> Result<Vec<Unit>, DbErr> {
    if region_ids.is_empty() {
        return Ok(vec![]);
    }
    units::Entity::find()
        .filter(units::Column::RegionId.is_in(region_ids.to_vec()))
        .filter(units::Column::IsLead.eq(true))
        .filter(units::Column::Active.eq(true))
        .order_by_asc(units::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(Unit::try_from)
        .collect()
}

/// Units whose region lies under `under_path`.
pub async fn list_units<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    region_id: Option<i64>,
    name: Option<&str>,
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
    if let Some(n) = name {
        q = q.filter(units::Column::Name.like(super::contains(n)));
    }
    let total = q.clone().count(db).await?;
    let items = q.order_by_asc(units::Column::Id).offset(page.offset()).limit(page.per_page).all(db).await?;
    let with_path = items
        .into_iter()
        .map(|u| {
            let path =
                regions_under.iter().find(|(id, _)| *id == u.region_id).map(|(_, p)| p.clone()).unwrap_or_default();
            Ok((Unit::try_from(u)?, path))
        })
        .collect::<Result<_, DbErr>>()?;
    Ok((with_path, total))
}

/// Writes a region's editable fields (name, hotline, active) as given.
pub async fn save<C: ConnectionTrait>(db: &C, r: &Region) -> Result<(), DbErr> {
    regions::Entity::update_many()
        .col_expr(regions::Column::Name, Expr::value(r.name.clone()))
        .col_expr(regions::Column::Hotline, Expr::value(r.hotline.clone()))
        .col_expr(regions::Column::Active, Expr::value(r.active))
        .filter(regions::Column::Id.eq(r.id))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a region (and everything under it) below `parent`: its parent, the materialised paths of
/// its subtree and the region path of every ticket filed there, so scope follows the new tree.
/// Returns the moved region.
pub async fn move_under<C: ConnectionTrait>(db: &C, r: &Region, parent: &Region) -> Result<Region, DbErr> {
    let old = r.path.clone();
    let new = format!("{}{}/", parent.path, r.id);
    regions::Entity::update_many()
        .col_expr(regions::Column::ParentId, Expr::value(parent.id))
        .filter(regions::Column::Id.eq(r.id))
        .exec(db)
        .await?;
    regions::Entity::update_many()
        .col_expr(regions::Column::Path, super::repath("path", &new, &old)?)
        .filter(regions::Column::Path.like(like_prefix(&old)))
        .exec(db)
        .await?;
    super::tickets::move_region_paths(db, &old, &new).await?;
    Ok(Region { parent_id: Some(parent.id), path: new, ..r.clone() })
}

/// An active or inactive unit of that name in a region, other than `except`.
pub async fn unit_named<C: ConnectionTrait>(
    db: &C,
    region_id: i64,
    name: &str,
    except: Option<i64>,
) -> Result<Option<Unit>, DbErr> {
    let mut q =
        units::Entity::find().filter(units::Column::RegionId.eq(region_id)).filter(units::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(units::Column::Id.ne(id));
    }
    unit_of(q.one(db).await?)
}

/// Writes a unit's editable fields as given.
pub async fn save_unit<C: ConnectionTrait>(db: &C, u: &Unit) -> Result<(), DbErr> {
    units::Entity::update_many()
        .col_expr(units::Column::Name, Expr::value(u.name.clone()))
        .col_expr(units::Column::Level, Expr::value(u.level.as_str()))
        .col_expr(units::Column::Kind, Expr::value(u.kind.as_str()))
        .col_expr(units::Column::RegionId, Expr::value(u.region_id))
        .col_expr(units::Column::IsLead, Expr::value(u.is_lead))
        .col_expr(units::Column::Phone, Expr::value(u.phone.clone()))
        .col_expr(units::Column::Active, Expr::value(u.active))
        .filter(units::Column::Id.eq(u.id))
        .exec(db)
        .await?;
    Ok(())
}

/// The first active unit with exactly that name (a catalogue's department), anywhere in the county.
pub async fn active_unit_named<C: ConnectionTrait>(db: &C, name: &str) -> Result<Option<Unit>, DbErr> {
    let q = units::Entity::find().filter(units::Column::Name.eq(name)).filter(units::Column::Active.eq(true));
    unit_of(q.order_by_asc(units::Column::Id).one(db).await?)
}

/// Every region under a path (an import resolves names against them), in path order.
pub async fn all_under<C: ConnectionTrait>(db: &C, under_path: &str) -> Result<Vec<Region>, DbErr> {
    let q = regions::Entity::find().filter(regions::Column::Path.like(like_prefix(under_path)));
    regions_of(q.order_by_asc(regions::Column::Path).all(db).await?)
}

/// Every unit in those regions.
pub async fn units_in<C: ConnectionTrait>(db: &C, region_ids: Vec<i64>) -> Result<Vec<Unit>, DbErr> {
    let q = units::Entity::find().filter(units::Column::RegionId.is_in(region_ids));
    q.order_by_asc(units::Column::Id).all(db).await?.into_iter().map(Unit::try_from).collect()
}
