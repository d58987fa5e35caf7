//! Village contact cards (联系卡): issue or rotate, revoke, the public card, and the staff list.
use crate::auth::StaffUser;
use crate::domain::ids::CardCode;
use crate::domain::roles::Role;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::cards::Card;
use crate::repo::regions::Region;
use crate::state::AppState;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub post: String,
    pub name: String,
    pub phone: String,
}

#[derive(Serialize)]
pub struct IssuedCard {
    pub code: String,
    pub version: i32,
    pub url: String,
    pub status: String,
    pub contacts: Vec<Contact>,
    pub hotline: String,
}

/// Roles that manage cards (besides admins), within their own region.
const CARD_ROLES: [Role; 2] = [Role::Operator, Role::Dispatcher];

fn card_url(state: &AppState, code: &str) -> String {
    format!("{}/c/{}", state.public_url(), code)
}

/// The contacts printed on a village's card, from staff records: the village committee's cadres,
/// then the township office's cadres who look after the village.
pub async fn contacts_for<C: ConnectionTrait>(db: &C, village: &Region) -> ApiResult<Vec<Contact>> {
    let mut out = vec![];
    let mut regions = vec![village.id];
    regions.extend(village.parent_id);
    for (i, region_id) in regions.into_iter().enumerate() {
        let Some(unit) = repo::regions::lead_unit(db, region_id).await? else {
            continue;
        };
        for s in repo::staff::cadres_of_unit(db, unit.id).await? {
            let Some(phone) = s.phone else { continue };
            let default_post = if i == 0 { "村委会干部" } else { "乡镇包村干部" };
            out.push(Contact { post: s.post.unwrap_or_else(|| default_post.into()), name: s.name, phone });
        }
    }
    Ok(out)
}

/// The hotline printed on a card: the village's own, else the nearest ancestor's, else the county's.
pub async fn hotline_for<C: ConnectionTrait>(state: &AppState, db: &C, village: &Region) -> ApiResult<String> {
    let lineage = repo::regions::lineage(db, village).await?;
    Ok(lineage.iter().rev().find_map(|r| r.hotline.clone()).unwrap_or_else(|| state.settings.county.hotline.clone()))
}

/// Issues the village's card, or rotates it: the old code stops working, the version rises.
pub async fn issue(state: &AppState, user: &StaffUser, village_id: i64) -> ApiResult<IssuedCard> {
    user.require_any(&CARD_ROLES)?;
    let db = &state.db.conn;
    let village = repo::regions::get(db, village_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    if village.level != "village" {
        return Err(ApiError::unprocessable("not_a_village", "id", "联系卡只能发给村"));
    }
    if !user.covers_region(&village.path) {
        return Err(ApiError::forbidden("该村不在您的管辖范围内"));
    }
    let contacts = contacts_for(db, &village).await?;
    let hotline = hotline_for(state, db, &village).await?;
    let now = state.now();
    let tx = state.db.begin().await?;
    if let Some(old) = repo::cards::active_for_region(&*tx, village.id).await? {
        repo::cards::end(&*tx, old.id, "rotated", now).await?;
    }
    let version = repo::cards::max_version(&*tx, village.id).await? + 1;
    let code = CardCode::generate();
    let card = repo::cards::insert(
        &*tx,
        repo::cards::NewCard {
            code: code.as_str(),
            region_id: village.id,
            version,
            contacts_json: serde_json::to_string(&contacts).map_err(ApiError::internal)?,
            hotline: &hotline,
            issued_by: Some(user.id),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(village = village.id, version, "card issued");
    Ok(IssuedCard {
        url: card_url(state, &card.code),
        code: card.code,
        version,
        status: card.status,
        contacts,
        hotline,
    })
}

pub async fn revoke(state: &AppState, user: &StaffUser, code: &str) -> ApiResult<Value> {
    user.require_any(&CARD_ROLES)?;
    let db = &state.db.conn;
    let card = find(db, code).await?.ok_or_else(|| ApiError::not_found("联系卡不存在"))?;
    let village = repo::regions::get(db, card.region_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    if !user.covers_region(&village.path) {
        return Err(ApiError::forbidden("该村不在您的管辖范围内"));
    }
    if !repo::cards::end(db, card.id, "revoked", state.now()).await? {
        return Err(ApiError::conflict("card_not_active", "该联系卡已停用"));
    }
    Ok(json!({"code": card.code, "status": "revoked", "version": card.version}))
}

async fn find<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Option<Card>> {
    match CardCode::parse(code) {
        Some(c) => Ok(repo::cards::by_code(db, c.as_str()).await?),
        None => Ok(None),
    }
}

#[derive(Serialize)]
pub struct CategoryNode {
    pub code: String,
    pub name: String,
    pub children: Vec<CategoryNode>,
}

pub async fn category_tree<C: ConnectionTrait>(db: &C) -> ApiResult<Vec<CategoryNode>> {
    let all = repo::catalog::all_categories(db).await?;
    fn children(all: &[repo::catalog::Category], parent: Option<&str>) -> Vec<CategoryNode> {
        all.iter()
            .filter(|c| c.parent_code.as_deref() == parent)
            .map(|c| CategoryNode {
                code: c.code.clone(),
                name: c.name.clone(),
                children: children(all, Some(&c.code)),
            })
            .collect()
    }
    Ok(children(&all, None))
}

/// What a villager sees for a card: the village, its township and county, contacts, hotline and
/// the categories to choose from.
#[derive(Serialize)]
pub struct PublicCard {
    pub code: String,
    pub version: i32,
    pub village: Value,
    pub township: Value,
    pub county: Value,
    pub contacts: Vec<Contact>,
    pub hotline: String,
    pub categories: Vec<CategoryNode>,
}

/// Why a card cannot be used (the page explains, the API answers 404/410).
pub enum CardLookup {
    Active(Box<PublicCard>),
    Ended { status: String, village: String, hotline: String },
    Unknown,
}

pub async fn lookup(state: &AppState, code: &str) -> ApiResult<CardLookup> {
    let db = &state.db.conn;
    let Some(card) = find(db, code).await? else {
        return Ok(CardLookup::Unknown);
    };
    let village = repo::regions::get(db, card.region_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    if card.status != "active" {
        return Ok(CardLookup::Ended { status: card.status, village: village.name, hotline: card.hotline });
    }
    let lineage = repo::regions::lineage(db, &village).await?;
    let at = |level: &str| {
        lineage.iter().find(|r| r.level == level).map(|r| json!({"id": r.id, "name": r.name})).unwrap_or(Value::Null)
    };
    Ok(CardLookup::Active(Box::new(PublicCard {
        code: card.code.clone(),
        version: card.version,
        village: json!({"id": village.id, "name": village.name}),
        township: at("township"),
        county: at("county"),
        contacts: serde_json::from_str(&card.contacts).unwrap_or_default(),
        hotline: card.hotline,
        categories: category_tree(db).await?,
    })))
}

#[derive(Serialize)]
pub struct CardRow {
    pub code: String,
    pub version: i32,
    pub status: String,
    pub village: Value,
    pub url: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn list(
    state: &AppState,
    user: &StaffUser,
    status: Option<&str>,
    page: Page,
) -> ApiResult<(Vec<CardRow>, u64)> {
    user.require_any(&[Role::Operator, Role::Dispatcher, Role::Leader, Role::Inspector])?;
    let (rows, total) = repo::cards::list(&state.db.conn, &user.scope.region_path, status, page).await?;
    let items = rows
        .into_iter()
        .map(|(c, r)| CardRow {
            url: card_url(state, &c.code),
            code: c.code,
            version: c.version,
            status: c.status,
            village: r.map(|r| json!({"id": r.id, "name": r.name})).unwrap_or(Value::Null),
            created_at: c.created_at,
        })
        .collect();
    Ok((items, total))
}
