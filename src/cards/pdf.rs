//! PDF sheets for the print shop or the township's office printer: wallet cards ten to an A4 page
//! (2 × 5, abutting, so one guillotine cut serves two cards) with crop marks in the margin and faint
//! cut guides for scissors; posters one to a page. Text stays text (krilla embeds a subset of the
//! font holding only the glyphs used), the QR code stays vector.
use super::{CardContent, CardSize, RenderError, body, document, png, svg};
use krilla::Document;
use krilla::geom::Size;
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla_svg::{SurfaceExt, SvgSettings};
use resvg::usvg;
use std::fmt::Write;

pub const A4_MM: (f32, f32) = (210.0, 297.0);
const PT_PER_MM: f32 = 72.0 / 25.4;
/// Crop marks start this far from the trimmed edge and are this long.
const MARK_GAP: f32 = 2.0;
const MARK_LEN: f32 = 5.0;

/// Cards per page as (columns, rows).
pub fn grid(size: CardSize) -> (usize, usize) {
    match size {
        CardSize::Wallet => (2, 5),
        CardSize::Poster => (1, 1),
    }
}

fn mark(out: &mut String, (x1, y1): (f32, f32), (x2, y2): (f32, f32)) {
    let _ = write!(
        out,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#000\" stroke-width=\"0.15\"/>",
        svg::num(x1),
        svg::num(y1),
        svg::num(x2),
        svg::num(y2)
    );
}

/// One A4 page of wallet cards: the cards, the cut guides and crop marks, and a line in the top
/// margin saying what the sheet is.
fn wallet_page(cards: &[CardContent], heading: &str, page: usize, pages: usize) -> Result<String, RenderError> {
    let (cols, rows) = grid(CardSize::Wallet);
    let (w, h) = CardSize::Wallet.mm();
    let (x0, y0) = ((A4_MM.0 - cols as f32 * w) / 2.0, (A4_MM.1 - rows as f32 * h) / 2.0);
    let used_rows = cards.len().div_ceil(cols);
    let (x_end, y_end) = (x0 + cols as f32 * w, y0 + used_rows as f32 * h);
    let mut out = String::new();
    for (i, card) in cards.iter().enumerate() {
        let (x, y) = (x0 + (i % cols) as f32 * w, y0 + (i / cols) as f32 * h);
        let _ = write!(
            out,
            "<g transform=\"translate({} {})\">{}</g>",
            svg::num(x),
            svg::num(y),
            body(card, CardSize::Wallet)?
        );
    }
    // Faint guides along every cut, for cutting by hand.
    let mut guides = String::new();
    for k in 0..=cols {
        let x = x0 + k as f32 * w;
        let _ = write!(guides, "M{} {}V{}", svg::num(x), svg::num(y0), svg::num(y_end));
    }
    for k in 0..=used_rows {
        let y = y0 + k as f32 * h;
        let _ = write!(guides, "M{} {}H{}", svg::num(x0), svg::num(y), svg::num(x_end));
    }
    let _ = write!(out, "<path d=\"{guides}\" fill=\"none\" stroke=\"#c8c8c8\" stroke-width=\"0.1\"/>");
    // Crop marks outside the grid, in line with every cut.
    for k in 0..=cols {
        let x = x0 + k as f32 * w;
        mark(&mut out, (x, y0 - MARK_GAP - MARK_LEN), (x, y0 - MARK_GAP));
        mark(&mut out, (x, y_end + MARK_GAP), (x, y_end + MARK_GAP + MARK_LEN));
    }
    for k in 0..=used_rows {
        let y = y0 + k as f32 * h;
        mark(&mut out, (x0 - MARK_GAP - MARK_LEN, y), (x0 - MARK_GAP, y));
        mark(&mut out, (x_end + MARK_GAP, y), (x_end + MARK_GAP + MARK_LEN, y));
    }
    let mut s = svg::Svg::new();
    let label_y = y0 - MARK_GAP - 1.0;
    s.text(svg::Text::new(x0 + 4.0, label_y, 2.6, heading, "#555555").fit(A4_MM.0 / 2.0 - x0 - 8.0));
    let right = format!("第{page}/{pages}页 · 沿裁切线裁开");
    s.text(svg::Text::new(x_end - 4.0, label_y, 2.6, &right, "#555555").anchor(svg::Anchor::End));
    out.push_str(&s.finish());
    Ok(out)
}

/// The pages of a sheet as SVG documents (A4, millimetres).
pub fn pages(cards: &[CardContent], size: CardSize, heading: &str) -> Result<Vec<String>, RenderError> {
    let (cols, rows) = grid(size);
    let per_page = cols * rows;
    let total = cards.len().div_ceil(per_page);
    let desc = format!("{}，共{}张", heading, cards.len());
    cards
        .chunks(per_page)
        .enumerate()
        .map(|(i, chunk)| {
            let content = match size {
                CardSize::Wallet => wallet_page(chunk, heading, i + 1, total)?,
                CardSize::Poster => chunk.iter().map(|c| body(c, size)).collect::<Result<String, _>>()?,
            };
            Ok(document(A4_MM.0, A4_MM.1, heading, &desc, &content))
        })
        .collect()
}

/// The PDF of a sheet: one A4 page per SVG page.
pub fn render(cards: &[CardContent], size: CardSize, heading: &str) -> Result<Vec<u8>, RenderError> {
    from_pages(&pages(cards, size, heading)?, heading)
}

/// A PDF of A4 pages, each drawn from an SVG document in millimetres (text stays text, set in a
/// subset of the embedded font; vector stays vector; raster images are embedded as they are).
pub fn from_pages(pages: &[String], title: &str) -> Result<Vec<u8>, RenderError> {
    let page_size =
        Size::from_wh(A4_MM.0 * PT_PER_MM, A4_MM.1 * PT_PER_MM).ok_or_else(|| RenderError::Pdf("page size".into()))?;
    let opts = png::options();
    let mut doc = Document::new();
    doc.set_metadata(
        Metadata::new().title(title.to_string()).creator("民声直达 minsheng".to_string()).language("zh-CN".to_string()),
    );
    for page_svg in pages {
        let tree = usvg::Tree::from_str(page_svg, &opts)?;
        let mut page = doc.start_page_with(PageSettings::new(page_size));
        let mut surface = page.surface();
        surface
            .draw_svg(&tree, page_size, SvgSettings::default())
            .ok_or_else(|| RenderError::Pdf("drawing the page failed".into()))?;
        surface.finish();
        page.finish();
    }
    doc.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::sample;

    #[test]
    fn eleven_wallet_cards_take_two_pages_with_marks_and_labels() {
        let cards: Vec<CardContent> = (0..11).map(|_| sample()).collect();
        let pages = pages(&cards, CardSize::Wallet, "清河县东坝镇联系卡").unwrap();
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].matches("<g transform=\"translate(").count(), 10 + 10); // cards + QR groups
        assert!(pages[1].contains("第2/2页"));
        // 3 vertical cuts × 2 marks + 6 horizontal cuts × 2 marks on a full page.
        assert_eq!(pages[0].matches("stroke-width=\"0.15\"").count(), 3 * 2 + 6 * 2);
        // One card on the last page: two horizontal cuts.
        assert_eq!(pages[1].matches("stroke-width=\"0.15\"").count(), 3 * 2 + 2 * 2);
    }

    #[test]
    fn a_pdf_embeds_a_small_font_subset() {
        let cards = vec![sample(), sample()];
        let pdf = render(&cards, CardSize::Poster, "清河县联系卡").unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        // The whole font is 3 MB; a subset of the few dozen glyphs used is a small fraction of it.
        assert!(pdf.len() < 150_000, "{} bytes", pdf.len());
    }
}
