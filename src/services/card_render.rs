//! Printable cards for staff: one card as SVG, PNG or PDF, and every active card under a region as
//! one PDF sheet. Only active cards render: printing a rotated or revoked code would post a dead QR.
//! Rasterising and PDF writing run on the blocking pool so they never stall the HTTP workers.
use super::card_admin::load;
use super::cards::{Contact, authorize, card_url};
use crate::auth::StaffUser;
use crate::cards::{self, CardContent, CardSize, RenderError, fonts};
use crate::domain::card::CardAccess;
use crate::domain::values::{CardStatus, RegionLevel};
use crate::error::codes;
use crate::error::{ApiError, ApiResult};
use crate::repo;
use crate::repo::cards::Card;
use crate::repo::regions::Region;
use crate::state::AppState;
use std::collections::HashMap;

/// A rendered file and the name to save it under.
pub struct Rendered {
    /// The name in Chinese (sent as RFC 5987 `filename*`).
    pub filename: String,
    /// An ASCII name for clients that do not read `filename*`.
    pub ascii_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

pub fn parse_size(s: Option<&str>) -> ApiResult<CardSize> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(CardSize::Wallet),
        Some(s) => CardSize::parse(s).ok_or_else(|| {
            ApiError::validation("size", "尺寸只能是 wallet（卡片，85.6×54 毫米）或 poster（A4 张贴版）")
        }),
    }
}

pub fn parse_dpi(size: CardSize, dpi: Option<u32>) -> ApiResult<u32> {
    let dpi = dpi.unwrap_or(size.default_dpi());
    if !(72..=size.max_dpi()).contains(&dpi) {
        return Err(ApiError::validation("dpi", format!("分辨率应在 72 到 {} 之间", size.max_dpi())));
    }
    Ok(dpi)
}

/// Copies of each card on a sheet (one per household, handed out by the village): 1–20.
pub const MAX_COPIES: u32 = 20;
/// The most cards one sheet may hold (300 A4 pages of wallet cards): a larger print is split by
/// township or done in rounds.
pub const MAX_SHEET_CARDS: usize = 3000;

pub fn parse_copies(copies: Option<u32>) -> ApiResult<usize> {
    let n = copies.unwrap_or(1);
    if !(1..=MAX_COPIES).contains(&n) {
        return Err(ApiError::validation("copies", format!("每村份数应在 1 到 {MAX_COPIES} 之间")));
    }
    Ok(n as usize)
}

/// Each card `copies` times, a village's copies together (they are cut and handed out together).
fn repeated(cards: Vec<CardContent>, copies: usize) -> ApiResult<Vec<CardContent>> {
    if cards.len() * copies > MAX_SHEET_CARDS {
        return Err(ApiError::unprocessable(
            codes::TOO_MANY_CARDS,
            "copies",
            format!(
                "一次最多打印{MAX_SHEET_CARDS}张（{}个村×{copies}份超出），请按乡镇分批打印或减少份数",
                cards.len()
            ),
        ));
    }
    Ok(cards.into_iter().flat_map(|c| std::iter::repeat_n(c, copies)).collect())
}

fn render_error(e: RenderError) -> ApiError {
    ApiError::internal(anyhow::Error::new(e).context("rendering a contact card"))
}

/// Runs CPU-heavy rendering off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, RenderError> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?.map_err(render_error)
}

/// What a card prints, from its row and the names of its village, township and county.
fn content(state: &AppState, card: &Card, village: &Region, names: &HashMap<i64, Region>) -> CardContent {
    let ancestor = |level: RegionLevel| {
        village
            .path
            .split('/')
            .filter_map(|s| s.parse::<i64>().ok())
            .filter_map(|id| names.get(&id))
            .find(|r| r.level == level)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let content = CardContent {
        code: card.code.clone(),
        url: card_url(state, &card.code),
        version: card.version,
        village: village.name.clone(),
        township: ancestor(RegionLevel::Township),
        county: ancestor(RegionLevel::County),
        contacts: serde_json::from_str::<Vec<Contact>>(&card.contacts).unwrap_or_default(),
        hotline: card.hotline.clone(),
        warning: crate::domain::card::print_warning(state.public_url()),
    };
    let missing = fonts::unprintable(&content.printed_text());
    if !missing.is_empty() {
        tracing::warn!(card = card.id, missing = ?missing, "card text has characters the card font lacks");
    }
    content
}

/// Regions named in the villages' paths, by id (one query for a whole county).
async fn ancestors(state: &AppState, villages: &[&Region]) -> ApiResult<HashMap<i64, Region>> {
    let mut ids: Vec<i64> =
        villages.iter().flat_map(|v| v.path.split('/').filter_map(|s| s.parse::<i64>().ok())).collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(repo::cards::regions_by_ids(&state.db.conn, &ids).await?.into_iter().map(|r| (r.id, r)).collect())
}

/// The card behind `code` for printing: in the caller's read scope and active (410 otherwise).
async fn printable(state: &AppState, user: &StaffUser, code: &str) -> ApiResult<CardContent> {
    let (card, village) = load(&state.db.conn, code).await?;
    authorize(&state.db.conn, user, &village.path, CardAccess::Read).await?;
    match card.status.as_str() {
        "active" => {}
        "rotated" => return Err(ApiError::gone(codes::CARD_ROTATED, "该联系卡已更换，请打印新卡")),
        _ => return Err(ApiError::gone(codes::CARD_REVOKED, "该联系卡已停用，不能打印")),
    }
    let names = ancestors(state, &[&village]).await?;
    Ok(content(state, &card, &village, &names))
}

fn filename(card: &CardContent, size: CardSize, ext: &str) -> (String, String) {
    (
        format!("{}联系卡-{}-{}-第{}版.{ext}", card.village, size.label(), card.code, card.version),
        format!("card-{}-{}-v{}.{ext}", card.code, size.as_str(), card.version),
    )
}

pub async fn card_svg(state: &AppState, user: &StaffUser, code: &str, size: CardSize) -> ApiResult<Rendered> {
    let card = printable(state, user, code).await?;
    let svg = cards::svg(&card, size).map_err(render_error)?;
    let (filename, ascii_name) = filename(&card, size, "svg");
    Ok(Rendered { filename, ascii_name, content_type: "image/svg+xml; charset=utf-8", bytes: svg.into() })
}

pub async fn card_png(state: &AppState, user: &StaffUser, code: &str, size: CardSize, dpi: u32) -> ApiResult<Rendered> {
    let card = printable(state, user, code).await?;
    let (filename, ascii_name) = filename(&card, size, "png");
    let bytes = blocking(move || cards::png::render(&cards::raster_svg(&card, size)?, dpi)).await?;
    Ok(Rendered { filename, ascii_name, content_type: "image/png", bytes })
}

/// One card as a PDF; `copies` of it fill a sheet of wallet cards for the village's households.
pub async fn card_pdf(
    state: &AppState,
    user: &StaffUser,
    code: &str,
    size: CardSize,
    copies: usize,
) -> ApiResult<Rendered> {
    let card = printable(state, user, code).await?;
    let (filename, ascii_name) = filename(&card, size, "pdf");
    let mut heading = format!("{}{}{} 联系卡", card.county, card.township, card.village);
    if copies > 1 {
        heading.push_str(&format!("（{copies}份）"));
    }
    let sheet = repeated(vec![card], copies)?;
    let bytes = blocking(move || cards::pdf::render(&sheet, size, &heading)).await?;
    Ok(Rendered { filename, ascii_name, content_type: "application/pdf", bytes })
}

/// Every active card of the villages under a region, in tree order, as one PDF; `copies` of each
/// for the households of each village.
pub async fn region_pdf(
    state: &AppState,
    user: &StaffUser,
    region_id: i64,
    size: CardSize,
    copies: usize,
) -> ApiResult<Rendered> {
    let db = &state.db.conn;
    let region = repo::regions::get(db, region_id).await?.ok_or_else(|| ApiError::not_found("区域不存在"))?;
    authorize(db, user, &region.path, CardAccess::Read).await?;
    let mut villages = repo::cards::villages_under(db, &region.path).await?;
    // Numeric tree order: township by township, villages in the order they were registered.
    villages.sort_by_key(|v| v.path.split('/').filter_map(|s| s.parse::<i64>().ok()).collect::<Vec<_>>());
    let ids: Vec<i64> = villages.iter().map(|v| v.id).collect();
    let active: HashMap<i64, Card> = repo::cards::of_regions(db, &ids)
        .await?
        .into_iter()
        .filter(|c| c.status == CardStatus::Active)
        .map(|c| (c.region_id, c))
        .collect();
    let with_cards: Vec<&Region> = villages.iter().filter(|v| active.contains_key(&v.id)).collect();
    if with_cards.is_empty() {
        return Err(ApiError::not_found("该区域下没有正在使用的联系卡"));
    }
    let mut names = ancestors(state, &with_cards).await?;
    names.insert(region.id, region.clone());
    let contents: Vec<CardContent> =
        with_cards.iter().filter_map(|v| active.get(&v.id).map(|c| content(state, c, v, &names))).collect();
    let villages = contents.len();
    let contents = repeated(contents, copies)?;
    let place: String = repo::regions::lineage(db, &region).await?.iter().map(|r| r.name.as_str()).collect();
    let each = if copies > 1 { format!("{villages}个村各{copies}份，") } else { String::new() };
    let heading = format!("{place} 联系卡（{}，{each}共{}张）", size.label(), contents.len());
    let filename = format!("{place}联系卡-{}-{}张.pdf", size.label(), contents.len());
    let ascii_name = format!("cards-region-{}-{}.pdf", region.id, size.as_str());
    let bytes = blocking(move || cards::pdf::render(&contents, size, &heading)).await?;
    Ok(Rendered { filename, ascii_name, content_type: "application/pdf", bytes })
}
