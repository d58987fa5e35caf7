//! Cards for staff: the scoped list with scan counts, one card's details, editing its contacts and
//! hotline (the code stays, so printed QR codes keep working; the version rises), re-pulling the
//! contacts from the staff records, and scan figures for a region.
use super::cards::{Contact, authorize, authorize_list, card_url, contacts_for, find};
use crate::auth::StaffUser;
use crate::cards::fonts;
use crate::domain::card::{self, CardAccess};
use crate::domain::values::{CardStatus, RegionLevel};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::Page;
use crate::repo::cards::Card;
use crate::repo::regions::Region;
use crate::state::AppState;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// The county-local calendar day of `now` (scans are counted per local day).
pub fn local_day(state: &AppState, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&state.tz()).date_naive()
}

fn id_name(r: &Region) -> Value {
    json!({"id": r.id, "name": r.name})
}

/// A card with its village, or 404.
pub async fn load<C: ConnectionTrait>(db: &C, code: &str) -> ApiResult<(Card, Region)> {
    let card = find(db, code).await?.ok_or_else(|| ApiError::not_found("联系卡不存在"))?;
    let village = repo::regions::get(db, card.region_id).await?.ok_or_else(|| ApiError::not_found("村不存在"))?;
    Ok((card, village))
}

/// `{id, name}` of the given parent regions (the townships of a list of villages), by id.
async fn townships_of<C: ConnectionTrait>(
    db: &C,
    villages: impl Iterator<Item = &Region>,
) -> ApiResult<HashMap<i64, Value>> {
    let mut ids: Vec<i64> = villages.filter_map(|v| v.parent_id).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(repo::cards::regions_by_ids(db, &ids).await?.iter().map(|r| (r.id, id_name(r))).collect())
}

/// Scans of each card: all time, and the last seven local days including today.
async fn scan_totals<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
    today: NaiveDate,
) -> ApiResult<(HashMap<i64, i64>, HashMap<i64, i64>)> {
    let total = repo::card_scans::per_card(db, ids, None, None).await?;
    let week = repo::card_scans::per_card(db, ids, Some(today - Duration::days(6)), Some(today)).await?;
    Ok((total, week))
}

#[derive(Serialize)]
pub struct CardRow {
    pub code: String,
    pub version: i32,
    pub status: CardStatus,
    pub village: Value,
    pub township: Value,
    pub url: String,
    pub scans_total: i64,
    pub scans_7d: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Cards in the caller's scope (optionally under one region), with scan counts.
pub async fn list(
    state: &AppState,
    user: &StaffUser,
    status: Option<&str>,
    region_id: Option<i64>,
    page: Page,
) -> ApiResult<(Vec<CardRow>, u64)> {
    let db = &state.db.conn;
    authorize_list(db, user).await?;
    let status = match status {
        Some(s) => Some(CardStatus::parse(s).ok_or_else(|| {
            ApiError::validation("status", format!("状态只能是 active、rotated 或 revoked，而不是 {s}"))
        })?),
        None => None,
    };
    let under = match region_id {
        None => user.scope.region_path.clone(),
        Some(id) => {
            let region = repo::regions::get(db, id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
            authorize(db, user, &region.path, CardAccess::Read).await?;
            region.path
        }
    };
    let (rows, total) = repo::cards::list(db, &under, status, page).await?;
    let ids: Vec<i64> = rows.iter().map(|(c, _)| c.id).collect();
    let (all, week) = scan_totals(db, &ids, local_day(state, state.now())).await?;
    let townships = townships_of(db, rows.iter().filter_map(|(_, v)| v.as_ref())).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (c, village) in rows {
        let township =
            village.as_ref().and_then(|v| v.parent_id).and_then(|p| townships.get(&p)).cloned().unwrap_or(Value::Null);
        items.push(CardRow {
            url: card_url(state, &c.code),
            scans_total: all.get(&c.id).copied().unwrap_or(0),
            scans_7d: week.get(&c.id).copied().unwrap_or(0),
            village: village.as_ref().map(id_name).unwrap_or(Value::Null),
            township,
            code: c.code,
            version: c.version,
            status: c.status,
            created_at: c.created_at,
            updated_at: c.updated_at,
        });
    }
    Ok((items, total))
}

/// Every day from `from` to `to` with its count (zero when nothing was scanned), for charts.
fn fill_days(from: NaiveDate, to: NaiveDate, counts: &[(NaiveDate, i64)]) -> Vec<Value> {
    let by_day: HashMap<NaiveDate, i64> = counts.iter().copied().collect();
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|d| json!({"day": d, "scans": by_day.get(&d).copied().unwrap_or(0)}))
        .collect()
}

/// One card for staff: what it prints, its history in the village, scans, and where to download it.
pub async fn details(state: &AppState, user: &StaffUser, code: &str) -> ApiResult<Value> {
    let db = &state.db.conn;
    let (card, village) = load(db, code).await?;
    authorize(db, user, &village.path, CardAccess::Read).await?;
    let lineage = repo::regions::lineage(db, &village).await?;
    let at = |level: RegionLevel| lineage.iter().find(|r| r.level == level).map(id_name).unwrap_or(Value::Null);
    let contacts: Vec<Contact> = serde_json::from_str(&card.contacts).unwrap_or_default();
    let history = repo::cards::of_region(db, village.id).await?;
    let ids: Vec<i64> = history.iter().map(|c| c.id).collect();
    let today = local_day(state, state.now());
    let (all, week) = scan_totals(db, &ids, today).await?;
    let from = today - Duration::days(29);
    let by_day = repo::card_scans::per_day(db, &[card.id], from, today).await?;
    let issued_by = match card.issued_by {
        Some(id) => repo::staff::get(db, id).await?.map(|s| json!({"id": s.id, "name": s.name})),
        None => None,
    };
    let printed: String = contacts.iter().map(|c| format!("{}{}", c.post, c.name)).collect::<String>() + &village.name;
    let unprintable: Vec<String> = fonts::unprintable(&printed).into_iter().map(String::from).collect();
    let base = format!("/api/v1/cards/{}", card.code);
    Ok(json!({
        "code": card.code,
        "version": card.version,
        "status": card.status,
        "url": card_url(state, &card.code),
        "village": id_name(&village),
        "township": at(RegionLevel::Township),
        "county": at(RegionLevel::County),
        "contacts": contacts,
        "hotline": card.hotline,
        "issued_by": issued_by,
        "created_at": card.created_at,
        "updated_at": card.updated_at,
        "rotated_at": card.rotated_at,
        "revoked_at": card.revoked_at,
        "scans_total": all.get(&card.id).copied().unwrap_or(0),
        "scans_7d": week.get(&card.id).copied().unwrap_or(0),
        "scans_by_day": fill_days(from, today, &by_day),
        "unprintable": unprintable,
        "downloads": {
            "svg": format!("{base}/card.svg"),
            "png": format!("{base}/card.png"),
            "poster_svg": format!("{base}/card.svg?size=poster"),
            "poster_png": format!("{base}/card.png?size=poster"),
        },
        "history": history.iter().filter(|c| c.id != card.id).map(|c| json!({
            "code": c.code, "version": c.version, "status": c.status, "created_at": c.created_at,
            "rotated_at": c.rotated_at, "revoked_at": c.revoked_at,
            "scans_total": all.get(&c.id).copied().unwrap_or(0),
        })).collect::<Vec<_>>(),
    }))
}

/// The answer to an edit: the card as it now prints, and whether anything changed.
#[derive(Serialize)]
pub struct EditedCard {
    pub code: String,
    pub version: i32,
    pub status: CardStatus,
    pub url: String,
    pub contacts: Vec<Contact>,
    pub hotline: String,
    pub changed: bool,
}

/// Sets the card's contacts and/or hotline. Same content → nothing written, same version.
async fn apply(
    state: &AppState,
    card: Card,
    contacts: Vec<Contact>,
    hotline: String,
    user: &StaffUser,
) -> ApiResult<EditedCard> {
    let current: Vec<Contact> = serde_json::from_str(&card.contacts).unwrap_or_default();
    let answer = |version, contacts, hotline, changed| EditedCard {
        url: card_url(state, &card.code),
        code: card.code.clone(),
        version,
        status: card.status,
        contacts,
        hotline,
        changed,
    };
    if current == contacts && card.hotline == hotline {
        return Ok(answer(card.version, contacts, hotline, false));
    }
    let json = serde_json::to_string(&contacts).map_err(ApiError::internal)?;
    let tx = state.db.begin().await?;
    let version = repo::cards::max_version(&*tx, card.region_id).await?.max(card.version) + 1;
    if !repo::cards::update_content(&*tx, card.id, card.version, version, &json, &hotline, state.now()).await? {
        return Err(ApiError::conflict(codes::CARD_CHANGED, "联系卡刚被其他人修改、更换或停用，请刷新后重试"));
    }
    tx.commit().await?;
    tracing::info!(card = card.id, version, staff = user.id, "card contents edited");
    state.reference.changed();
    Ok(answer(version, contacts, hotline, true))
}

async fn editable(state: &AppState, user: &StaffUser, code: &str) -> ApiResult<(Card, Region)> {
    let (card, village) = load(&state.db.conn, code).await?;
    authorize(&state.db.conn, user, &village.path, CardAccess::Manage).await?;
    if card.status != CardStatus::Active {
        return Err(ApiError::conflict(codes::CARD_NOT_ACTIVE, "该联系卡已更换或停用，只能修改正在使用的卡"));
    }
    Ok((card, village))
}

/// `PATCH /cards/{code}` with `{contacts?, hotline?}`.
pub async fn edit(state: &AppState, user: &StaffUser, code: &str, body: &Value) -> ApiResult<EditedCard> {
    if !body.is_object() || (body.get("contacts").is_none() && body.get("hotline").is_none()) {
        return Err(ApiError::validation("contacts", "请提供要修改的联系人（contacts）或服务热线（hotline）"));
    }
    let contacts = match body.get("contacts") {
        Some(v) => Some(card::parse_contacts(v).map_err(|e| ApiError::validation(e.field, e.message))?),
        None => None,
    };
    let hotline = match body.get("hotline") {
        Some(v) => Some(
            v.as_str()
                .and_then(card::hotline)
                .ok_or_else(|| ApiError::validation("hotline", "服务热线格式不正确（3–20 位数字，可含“-”）"))?,
        ),
        None => None,
    };
    let (card, _) = editable(state, user, code).await?;
    let contacts = match contacts {
        Some(c) => c,
        None => serde_json::from_str(&card.contacts).unwrap_or_default(),
    };
    let hotline = hotline.unwrap_or_else(|| card.hotline.clone());
    apply(state, card, contacts, hotline, user).await
}

/// Takes the contacts from the staff records again (after a cadre changed or a phone number did).
pub async fn refresh_contacts(state: &AppState, user: &StaffUser, code: &str) -> ApiResult<EditedCard> {
    let (card, village) = editable(state, user, code).await?;
    let contacts = contacts_for(&state.db.conn, &village).await?;
    if contacts.is_empty() {
        return Err(ApiError::unprocessable(
            codes::NO_STAFF_CONTACTS,
            "contacts",
            "该村和所属乡镇没有登记手机号的承办干部，请先完善人员信息或手动填写联系人",
        ));
    }
    let hotline = card.hotline.clone();
    apply(state, card, contacts, hotline, user).await
}

fn parse_day(field: &'static str, v: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    v.filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| ApiError::validation(field, "日期格式应为 YYYY-MM-DD"))
        })
        .transpose()
}

/// Scans of the cards of every village under a region between two local days (default: the last
/// 30 days). Villages with no scans are listed too: their cards may not be posted yet.
pub async fn region_scans(
    state: &AppState,
    user: &StaffUser,
    region_id: i64,
    from: Option<&str>,
    to: Option<&str>,
) -> ApiResult<Value> {
    let db = &state.db.conn;
    let region = repo::regions::get(db, region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    authorize(db, user, &region.path, CardAccess::Read).await?;
    let today = local_day(state, state.now());
    let to = parse_day("to", to)?.unwrap_or(today);
    let from = parse_day("from", from)?.unwrap_or(to - Duration::days(29));
    if from > to {
        return Err(ApiError::validation("from", "开始日期不能晚于结束日期"));
    }
    if (to - from).num_days() > 366 {
        return Err(ApiError::validation("from", "统计区间最长一年"));
    }
    let villages = repo::cards::villages_under(db, &region.path).await?;
    let village_ids: Vec<i64> = villages.iter().map(|v| v.id).collect();
    let cards = repo::cards::of_regions(db, &village_ids).await?;
    let card_ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let per_card = repo::card_scans::per_card(db, &card_ids, Some(from), Some(to)).await?;
    let per_day = repo::card_scans::per_day(db, &card_ids, from, to).await?;
    let mut per_village: HashMap<i64, i64> = HashMap::new();
    for c in &cards {
        *per_village.entry(c.region_id).or_default() += per_card.get(&c.id).copied().unwrap_or(0);
    }
    let active: HashMap<i64, &str> =
        cards.iter().filter(|c| c.status == CardStatus::Active).map(|c| (c.region_id, c.code.as_str())).collect();
    let townships = townships_of(db, villages.iter()).await?;
    let mut rows: Vec<(i64, Value)> = villages
        .iter()
        .map(|v| {
            let scans = per_village.get(&v.id).copied().unwrap_or(0);
            let township = v.parent_id.and_then(|p| townships.get(&p)).cloned().unwrap_or(Value::Null);
            (
                scans,
                json!({"village": id_name(v), "township": township, "active_code": active.get(&v.id), "scans": scans}),
            )
        })
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    Ok(json!({
        "region": {"id": region.id, "name": region.name, "level": region.level},
        "from": from,
        "to": to,
        "scans_total": per_village.values().sum::<i64>(),
        "scans_by_day": fill_days(from, to, &per_day),
        "villages": rows.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
    }))
}
