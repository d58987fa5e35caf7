//! SVG → PNG with resvg and the compiled-in font, at a print resolution recorded in the file (pHYs),
//! so an image printed without scaling comes out at the card's real size.
use super::{FONT_STYLE_OPEN, RenderError, fonts};
use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg;
use std::borrow::Cow;

/// Parser options shared by PNG and PDF: only our font, Chinese as the text language.
pub fn options() -> usvg::Options<'static> {
    usvg::Options {
        fontdb: fonts::database(),
        font_family: fonts::FAMILY.to_string(),
        languages: vec!["zh-CN".to_string()],
        ..usvg::Options::default()
    }
}

/// `svg` without the `<style>` carrying an embedded card font (see `cards::svg`): resvg draws with
/// the compiled-in font anyway and would only wade through the base64 and log that it skips
/// `@font-face`.
pub fn without_embedded_font(svg: &str) -> Cow<'_, str> {
    let Some(start) = svg.find(FONT_STYLE_OPEN) else { return Cow::Borrowed(svg) };
    let Some(len) = svg[start..].find("</style>") else { return Cow::Borrowed(svg) };
    let mut end = start + len + "</style>".len();
    if svg[end..].starts_with('\n') {
        end += 1;
    }
    Cow::Owned(format!("{}{}", &svg[..start], &svg[end..]))
}

/// Renders an SVG document at `dpi` dots per inch (an embedded card font is dropped first; better
/// still, pass `cards::raster_svg`, which never builds it).
pub fn render(svg: &str, dpi: u32) -> Result<Vec<u8>, RenderError> {
    let tree = usvg::Tree::from_str(&without_embedded_font(svg), &options())?;
    // usvg sizes documents at 96 px per inch.
    let scale = dpi as f32 / 96.0;
    let (w, h) = ((tree.size().width() * scale).round() as u32, (tree.size().height() * scale).round() as u32);
    let mut pixmap = Pixmap::new(w, h).ok_or(RenderError::Pixmap(w, h))?;
    pixmap.fill(Color::WHITE);
    resvg::render(&tree, Transform::from_scale(scale, scale), &mut pixmap.as_mut());
    encode(&pixmap, dpi)
}

/// Opaque RGB (the card has a white ground), a third smaller than tiny-skia's RGBA output.
fn encode(pixmap: &Pixmap, dpi: u32) -> Result<Vec<u8>, RenderError> {
    let rgb: Vec<u8> = pixmap.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let mut out = Vec::with_capacity(rgb.len() / 8);
    {
        let mut enc = ::png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
        enc.set_color(::png::ColorType::Rgb);
        enc.set_depth(::png::BitDepth::Eight);
        enc.set_compression(::png::Compression::Fast);
        let per_metre = (dpi as f64 / 0.0254).round() as u32;
        enc.set_pixel_dims(Some(::png::PixelDimensions { xppu: per_metre, yppu: per_metre, unit: ::png::Unit::Meter }));
        let mut writer = enc.write_header()?;
        writer.write_image_data(&rgb)?;
        writer.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::{CardSize, raster_svg, sample, svg};

    #[test]
    fn the_embedded_font_is_stripped_before_rendering_and_changes_no_pixel() {
        let embedded = svg(&sample(), CardSize::Wallet).unwrap();
        let plain = raster_svg(&sample(), CardSize::Wallet).unwrap();
        let stripped = without_embedded_font(&embedded);
        assert!(!stripped.contains("<style") && !stripped.contains("base64"));
        assert!(matches!(without_embedded_font(&plain), Cow::Borrowed(_)));
        // Parsed with the @font-face left in, usvg skips the rule and lays out the same text.
        let opts = options();
        let (a, b) = (usvg::Tree::from_str(&embedded, &opts).unwrap(), usvg::Tree::from_str(&plain, &opts).unwrap());
        assert_eq!(a.size(), b.size());
        let started = std::time::Instant::now();
        let from_embedded = render(&embedded, 150).unwrap();
        println!("wallet PNG at 150 dpi in {:?}", started.elapsed());
        assert_eq!(from_embedded, render(&plain, 150).unwrap());
    }

    #[test]
    fn a_wallet_card_at_300_dpi_is_1011_by_638_pixels_with_dark_text_in_the_header_column() {
        let png = render(&svg(&sample(), CardSize::Wallet).unwrap(), 300).unwrap();
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&png));
        let mut reader = decoder.read_info().unwrap();
        let info = reader.info();
        assert_eq!((info.width, info.height), (1011, 638));
        let dims = info.pixel_dims.unwrap();
        assert_eq!(dims.xppu, 11811);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        // The contact names are drawn: the name column (x 19.5–31 mm) has dark pixels.
        let (x0, x1) = ((19.5 / 25.4 * 300.0) as usize, (31.0 / 25.4 * 300.0) as usize);
        let (y0, y1) = ((14.4 / 25.4 * 300.0) as usize, (41.0 / 25.4 * 300.0) as usize);
        let dark = (y0..y1)
            .flat_map(|y| (x0..x1).map(move |x| (y * 1011 + x) * 3))
            .filter(|i| buf[*i] < 100 && buf[i + 1] < 100 && buf[i + 2] < 100)
            .count();
        assert!(dark > 500, "{dark}");
    }
}
