//! Village contact cards.
use super::regions::{Region, regions_of};
use super::{Page, like_prefix};
use crate::domain::values::{CardStatus, RegionLevel};
use chrono::{DateTime, Utc};
use entity::{cards, regions};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

/// A village contact card, its state typed (read loudly).
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub id: i64,
    pub code: String,
    pub region_id: i64,
    pub version: i32,
    pub status: CardStatus,
    /// The contacts printed on it, as JSON.
    pub contacts: String,
    pub hotline: String,
    pub issued_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub rotated_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl TryFrom<cards::Model> for Card {
    type Error = DbErr;

    fn try_from(m: cards::Model) -> Result<Card, DbErr> {
        Ok(Card {
            status: super::stored("cards", "status", m.id, &m.status, CardStatus::parse)?,
            id: m.id,
            code: m.code,
            region_id: m.region_id,
            version: m.version,
            contacts: m.contacts,
            hotline: m.hotline,
            issued_by: m.issued_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
            rotated_at: m.rotated_at,
            revoked_at: m.revoked_at,
        })
    }
}

fn cards_of(rows: Vec<cards::Model>) -> Result<Vec<Card>, DbErr> {
    rows.into_iter().map(Card::try_from).collect()
}

pub async fn by_code<C: ConnectionTrait>(db: &C, code: &str) -> Result<Option<Card>, DbErr> {
    cards::Entity::find().filter(cards::Column::Code.eq(code)).one(db).await?.map(Card::try_from).transpose()
}

pub async fn active_for_region<C: ConnectionTrait>(db: &C, region_id: i64) -> Result<Option<Card>, DbErr> {
    cards::Entity::find()
        .filter(cards::Column::RegionId.eq(region_id))
        .filter(cards::Column::Status.eq(CardStatus::Active.as_str()))
        .one(db)
        .await?
        .map(Card::try_from)
        .transpose()
}

pub struct NewCard<'a> {
    pub code: &'a str,
    pub region_id: i64,
    pub version: i32,
    pub contacts_json: String,
    pub hotline: &'a str,
    pub issued_by: Option<i64>,
}

pub async fn insert<C: ConnectionTrait>(db: &C, c: NewCard<'_>, now: DateTime<Utc>) -> Result<Card, DbErr> {
    cards::ActiveModel {
        code: Set(c.code.into()),
        region_id: Set(c.region_id),
        version: Set(c.version),
        status: Set(CardStatus::Active.as_str().into()),
        contacts: Set(c.contacts_json),
        hotline: Set(c.hotline.into()),
        issued_by: Set(c.issued_by),
        created_at: Set(now),
        updated_at: Set(now),
        rotated_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await
    .and_then(Card::try_from)
}

/// Ends an active card (`rotated` or `revoked`); false when it was no longer active.
pub async fn end<C: ConnectionTrait>(db: &C, id: i64, status: CardStatus, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let col = if status == CardStatus::Revoked { cards::Column::RevokedAt } else { cards::Column::RotatedAt };
    let res = cards::Entity::update_many()
        .col_expr(cards::Column::Status, Expr::value(status.as_str()))
        .col_expr(col, Expr::value(Some(now)))
        .col_expr(cards::Column::UpdatedAt, Expr::value(now))
        .filter(cards::Column::Id.eq(id))
        .filter(cards::Column::Status.eq(CardStatus::Active.as_str()))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Cards of villages under `under_path`, newest first, with the village region.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    under_path: &str,
    status: Option<CardStatus>,
    page: Page,
) -> Result<(Vec<(Card, Option<Region>)>, u64), DbErr> {
    let region_ids: Vec<i64> = regions::Entity::find()
        .select_only()
        .column(regions::Column::Id)
        .filter(regions::Column::Path.like(like_prefix(under_path)))
        .into_tuple()
        .all(db)
        .await?;
    let mut q = cards::Entity::find().filter(cards::Column::RegionId.is_in(region_ids));
    if let Some(s) = status {
        q = q.filter(cards::Column::Status.eq(s.as_str()));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_asc(cards::Column::RegionId)
        .order_by_desc(cards::Column::Version)
        .offset(page.offset())
        .limit(page.per_page)
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in cards_of(rows)? {
        let r = regions::Entity::find_by_id(c.region_id).one(db).await?.map(Region::try_from).transpose()?;
        out.push((c, r));
    }
    Ok((out, total))
}

/// The highest version ever issued for a village (versions keep rising across rotations).
pub async fn max_version<C: ConnectionTrait>(db: &C, region_id: i64) -> Result<i32, DbErr> {
    let v: Option<Option<i32>> = cards::Entity::find()
        .select_only()
        .column_as(cards::Column::Version.max(), "v")
        .filter(cards::Column::RegionId.eq(region_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(v.flatten().unwrap_or(0))
}

/// Replaces an active card's contacts and hotline and raises its version, only if nobody changed it
/// since it was read (`expected_version`); false otherwise (ended or edited concurrently).
pub async fn update_content<C: ConnectionTrait>(
    db: &C,
    id: i64,
    expected_version: i32,
    new_version: i32,
    contacts_json: &str,
    hotline: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let res = cards::Entity::update_many()
        .col_expr(cards::Column::Contacts, Expr::value(contacts_json))
        .col_expr(cards::Column::Hotline, Expr::value(hotline))
        .col_expr(cards::Column::Version, Expr::value(new_version))
        .col_expr(cards::Column::UpdatedAt, Expr::value(now))
        .filter(cards::Column::Id.eq(id))
        .filter(cards::Column::Status.eq(CardStatus::Active.as_str()))
        .filter(cards::Column::Version.eq(expected_version))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Every card a village ever had, newest version first.
pub async fn of_region<C: ConnectionTrait>(db: &C, region_id: i64) -> Result<Vec<Card>, DbErr> {
    cards::Entity::find()
        .filter(cards::Column::RegionId.eq(region_id))
        .order_by_desc(cards::Column::Version)
        .all(db)
        .await
        .and_then(cards_of)
}

/// Villages under `under_path` (the region itself included when it is a village), in tree order.
pub async fn villages_under<C: ConnectionTrait>(db: &C, under_path: &str) -> Result<Vec<Region>, DbErr> {
    regions::Entity::find()
        .filter(regions::Column::Path.like(like_prefix(under_path)))
        .filter(regions::Column::Level.eq(RegionLevel::Village.as_str()))
        .order_by_asc(regions::Column::Path)
        .all(db)
        .await
        .and_then(regions_of)
}

/// Every card (any status) of the given villages.
pub async fn of_regions<C: ConnectionTrait>(db: &C, region_ids: &[i64]) -> Result<Vec<Card>, DbErr> {
    cards::Entity::find()
        .filter(cards::Column::RegionId.is_in(region_ids.iter().copied()))
        .all(db)
        .await
        .and_then(cards_of)
}

/// Regions by id (for the names on many cards at once).
pub async fn regions_by_ids<C: ConnectionTrait>(db: &C, ids: &[i64]) -> Result<Vec<Region>, DbErr> {
    regions::Entity::find().filter(regions::Column::Id.is_in(ids.iter().copied())).all(db).await.and_then(regions_of)
}
