//! Village contact cards (联系卡): who may manage them, issue or rotate, revoke, and the public card.
//! The staff list, details, editing and scan figures are in `card_admin`, rendering in `card_render`.
use crate::auth::StaffUser;
pub use crate::domain::card::Contact;
use crate::domain::card::{self, CardAccess};
use crate::domain::ids::CardCode;
use crate::domain::values::{CardStatus, RegionLevel};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::cards::Card;
use crate::repo::regions::Region;
use crate::services::leaves;
use crate::state::AppState;
use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Serialize)]
pub struct IssuedCard {
    pub code: String,
    pub version: i32,
    pub url: String,
    pub status: CardStatus,
    pub contacts: Vec<Contact>,
    pub hotline: String,
}

pub fn card_url(state: &AppState, code: &str) -> String {
    format!("{}/c/{}", state.public_url(), code)
}

/// The level of the caller's own region (a township's staff manage its villages' cards).
async fn own_level<C: ConnectionTrait>(db: &C, user: &StaffUser) -> ApiResult<Option<RegionLevel>> {
    Ok(repo::regions::get(db, user.region_id).await?.map(|r| r.level))
}

/// 403 unless the caller may `access` the cards of the region at `target_path` (domain::card::may).
pub async fn authorize<C: ConnectionTrait>(
    db: &C,
    user: &StaffUser,
    target_path: &str,
    access: CardAccess,
) -> ApiResult<()> {
    if card::may(&user.scope, own_level(db, user).await?, target_path, access) {
        return Ok(());
    }
    Err(ApiError::forbidden(match access {
        CardAccess::Manage => "联系卡只能由管理员或该村所属乡镇的工作人员管理",
        CardAccess::Read => "该区域的联系卡不在您的查看范围内",
    }))
}

/// 403 unless the caller may see cards at all (lists are then limited to their region).
pub async fn authorize_list<C: ConnectionTrait>(db: &C, user: &StaffUser) -> ApiResult<()> {
    if card::may_list(&user.scope, own_level(db, user).await?) {
        return Ok(());
    }
    Err(ApiError::forbidden("联系卡只对管理员、乡镇工作人员和领导开放"))
}

/// The contacts printed on a village's card, from staff records, in this order: the village
/// committee's cadres (村党支部书记、村委会主任…), the grid workers of its micro-grids (网格员), then the
/// township office's cadres who look after this village (包村干部: their own region is the village);
/// when none is assigned to it, the township office's cadres at township level.
pub async fn contacts_for<C: ConnectionTrait>(db: &C, village: &Region) -> ApiResult<Vec<Contact>> {
    let mut out = vec![];
    let contact = |s: repo::staff::Staff, default_post: &str| {
        s.phone.map(|phone| Contact { post: s.post.unwrap_or_else(|| default_post.into()), name: s.name, phone })
    };
    if let Some(unit) = repo::regions::lead_unit(db, village.id).await? {
        out.extend(
            repo::staff::cadres_of_unit(db, unit.id).await?.into_iter().filter_map(|s| contact(s, "村委会干部")),
        );
    }
    out.extend(repo::staff::grid_workers(db, village.id).await?.into_iter().filter_map(|s| contact(s, "网格员")));
    if let Some(township) = village.parent_id
        && let Some(unit) = repo::regions::lead_unit(db, township).await?
    {
        let cadres = repo::staff::cadres_of_unit(db, unit.id).await?;
        let assigned: Vec<_> = cadres.iter().filter(|s| s.region_id == village.id).cloned().collect();
        let chosen = if assigned.is_empty() {
            cadres.into_iter().filter(|s| s.region_id == township).collect()
        } else {
            assigned
        };
        out.extend(chosen.into_iter().filter_map(|s| contact(s, "乡镇包村干部")));
    }
    // What a card can print; more belongs on a separate notice.
    out.truncate(card::MAX_CONTACTS);
    Ok(out)
}

/// The hotline printed on a card: the village's own, else the nearest ancestor's, else the county's.
pub async fn hotline_for<C: ConnectionTrait>(state: &AppState, db: &C, village: &Region) -> ApiResult<String> {
    let lineage = repo::regions::lineage(db, village).await?;
    Ok(lineage.iter().rev().find_map(|r| r.hotline.clone()).unwrap_or_else(|| state.settings.county.hotline.clone()))
}

/// Issues the village's card, or rotates it: the old code stops working, the version rises. A
/// rotation keeps the contacts and hotline of the card it replaces (they may have been edited); a
/// first card, or one after a revocation, takes them from the staff records.
pub async fn issue(state: &AppState, user: &StaffUser, village_id: i64) -> ApiResult<IssuedCard> {
    let db = &state.db.conn;
    let village = repo::regions::get(db, village_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    authorize(db, user, &village.path, CardAccess::Manage).await?;
    if village.level != RegionLevel::Village {
        return Err(ApiError::unprocessable(codes::NOT_A_VILLAGE, "id", "联系卡只能发给村"));
    }
    let now = state.now();
    let tx = state.db.begin().await?;
    let (contacts, hotline) = match repo::cards::active_for_region(&*tx, village.id).await? {
        Some(old) => {
            if !repo::cards::end(&*tx, old.id, CardStatus::Rotated, now).await? {
                return Err(ApiError::conflict(codes::CARD_CHANGED, "联系卡刚被其他人更换或停用，请刷新后重试"));
            }
            (serde_json::from_str(&old.contacts).unwrap_or_default(), old.hotline)
        }
        None => (contacts_for(&*tx, &village).await?, hotline_for(state, &*tx, &village).await?),
    };
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
    .await
    .map_err(|e| match e.sql_err() {
        // Another issue for the same village committed first (one active card per village).
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict(codes::CARD_CHANGED, "联系卡刚被其他人更换或停用，请刷新后重试")
        }
        _ => e.into(),
    })?;
    tx.commit().await?;
    tracing::info!(village = village.id, version, "card issued");
    state.reference.changed();
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
    let db = &state.db.conn;
    let card = find(db, code).await?.ok_or_else(|| ApiError::not_found("联系卡不存在"))?;
    let village = repo::regions::get(db, card.region_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    authorize(db, user, &village.path, CardAccess::Manage).await?;
    if !repo::cards::end(db, card.id, CardStatus::Revoked, state.now()).await? {
        return Err(ApiError::conflict(codes::CARD_NOT_ACTIVE, "该联系卡已停用"));
    }
    state.reference.changed();
    Ok(json!({"code": card.code, "status": CardStatus::Revoked, "version": card.version}))
}

pub async fn find<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<Option<Card>> {
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
    /// For counting scans; not part of the public answer.
    #[serde(skip)]
    pub card_id: i64,
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
    Ended { card_id: i64, status: CardStatus, village: String, hotline: String },
    Unknown,
}

pub async fn lookup(state: &AppState, code: &str) -> ApiResult<CardLookup> {
    let db = &state.db.conn;
    let Some(card) = find(db, code).await? else {
        return Ok(CardLookup::Unknown);
    };
    let village = repo::regions::get(db, card.region_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    if card.status != CardStatus::Active {
        return Ok(CardLookup::Ended {
            card_id: card.id,
            status: card.status,
            village: village.name,
            hotline: card.hotline,
        });
    }
    let lineage = repo::regions::lineage(db, &village).await?;
    let at = |level: RegionLevel| {
        lineage.iter().find(|r| r.level == level).map(|r| json!({"id": r.id, "name": r.name})).unwrap_or(Value::Null)
    };
    Ok(CardLookup::Active(Box::new(PublicCard {
        card_id: card.id,
        code: card.code.clone(),
        version: card.version,
        village: json!({"id": village.id, "name": village.name}),
        township: at(RegionLevel::Township),
        county: at(RegionLevel::County),
        contacts: leaves::on_card(db, serde_json::from_str(&card.contacts).unwrap_or_default(), state.now()).await?,
        hotline: card.hotline,
        categories: category_tree(db).await?,
    })))
}
