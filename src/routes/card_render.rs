//! Card downloads for staff: `card.svg`, `card.png`, `card.pdf` per card and `cards.pdf` per region.
use crate::auth::StaffUser;
use crate::error::ApiResult;
use crate::services::card_render::{self, Rendered, parse_copies, parse_dpi, parse_size};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;

#[derive(Deserialize)]
struct RenderQuery {
    size: Option<String>,
    dpi: Option<u32>,
    /// PDF only: copies of each card (one per household), 1–20.
    copies: Option<u32>,
}

/// RFC 5987 encoding for the UTF-8 file name (Chinese village names).
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn file(r: Rendered) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(r.content_type)
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{}\"; filename*=UTF-8''{}", r.ascii_name, pct(&r.filename)),
        ))
        // Contents change with edits and rotations; always fetch the current card.
        .insert_header(("Cache-Control", "private, no-cache"))
        .body(r.bytes)
}

#[utoipa::path(tag = "cards", params(crate::openapi::CardSizeParam), responses((status = 200, description = "联系卡 SVG", content_type = "image/svg+xml")))]
#[get("/cards/{code}/card.svg")]
async fn svg(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    q: web::Query<RenderQuery>,
) -> ApiResult<HttpResponse> {
    let size = parse_size(q.size.as_deref())?;
    Ok(file(card_render::card_svg(&state, &user, &code, size).await?))
}

#[utoipa::path(tag = "cards", params(crate::openapi::CardSizeParam, crate::openapi::CardDpiParam), responses((status = 200, description = "联系卡 PNG", content_type = "image/png")))]
#[get("/cards/{code}/card.png")]
async fn png(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    q: web::Query<RenderQuery>,
) -> ApiResult<HttpResponse> {
    let size = parse_size(q.size.as_deref())?;
    let dpi = parse_dpi(size, q.dpi)?;
    Ok(file(card_render::card_png(&state, &user, &code, size, dpi).await?))
}

#[utoipa::path(tag = "cards", params(crate::openapi::CardSizeParam, crate::openapi::CardCopiesParam), responses((status = 200, description = "联系卡 PDF", content_type = "application/pdf")))]
#[get("/cards/{code}/card.pdf")]
async fn pdf(
    state: web::Data<AppState>,
    user: StaffUser,
    code: web::Path<String>,
    q: web::Query<RenderQuery>,
) -> ApiResult<HttpResponse> {
    let size = parse_size(q.size.as_deref())?;
    let copies = parse_copies(q.copies)?;
    Ok(file(card_render::card_pdf(&state, &user, &code, size, copies).await?))
}

#[utoipa::path(tag = "cards", params(crate::openapi::CardSizeParam, crate::openapi::CardCopiesParam), responses((status = 200, description = "辖区内全部联系卡 PDF", content_type = "application/pdf")))]
#[get("/regions/{id}/cards.pdf")]
async fn region_pdf(
    state: web::Data<AppState>,
    user: StaffUser,
    id: web::Path<i64>,
    q: web::Query<RenderQuery>,
) -> ApiResult<HttpResponse> {
    let size = parse_size(q.size.as_deref())?;
    let copies = parse_copies(q.copies)?;
    Ok(file(card_render::region_pdf(&state, &user, *id, size, copies).await?))
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(svg).service(png).service(pdf).service(region_pdf);
}
