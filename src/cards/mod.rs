//! Print-ready village contact cards: the QR code, the two designs (wallet card and A4 poster) as SVG
//! with real text, PNG at a chosen print resolution, and PDF sheets of many cards with cut marks.
//! Pure rendering: callers pass what to print; nothing here touches the database.
pub mod case;
pub mod fonts;
pub mod layout;
pub mod pdf;
pub mod png;
pub mod qr;
pub mod scans;
pub mod subset;
pub mod svg;

pub use crate::domain::card::Contact;
use svg::escape;

/// Everything printed on one card.
#[derive(Clone, Debug, PartialEq)]
pub struct CardContent {
    pub code: String,
    /// What the QR code encodes: `{public_url}/c/{code}`.
    pub url: String,
    pub version: i32,
    pub village: String,
    pub township: String,
    pub county: String,
    pub contacts: Vec<Contact>,
    pub hotline: String,
    /// Why the QR code would not open on a villager's phone (`domain::card::print_warning`): printed
    /// across the card as a stamp, so a test print is not posted.
    pub warning: Option<String>,
}

impl CardContent {
    /// All the text a card prints (to check the font covers it before anyone prints).
    pub fn printed_text(&self) -> String {
        let mut s = format!("{}{}{}{}", self.village, self.township, self.county, self.hotline);
        if let Some(w) = &self.warning {
            s.push_str(layout::STAMP);
            s.push_str(w);
        }
        for c in &self.contacts {
            s.push_str(&c.post);
            s.push_str(&c.name);
            s.push_str(&c.phone);
        }
        s
    }
}

/// The two formats a county prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardSize {
    /// 85.6 × 54 mm, handed to every household; ten to an A4 sheet.
    Wallet,
    /// A4 portrait for the village notice board.
    Poster,
}

impl CardSize {
    pub fn parse(s: &str) -> Option<CardSize> {
        match s {
            "wallet" => Some(CardSize::Wallet),
            "poster" => Some(CardSize::Poster),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CardSize::Wallet => "wallet",
            CardSize::Poster => "poster",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CardSize::Wallet => "卡片",
            CardSize::Poster => "张贴版",
        }
    }

    /// Width and height in millimetres.
    pub fn mm(self) -> (f32, f32) {
        match self {
            CardSize::Wallet => (85.6, 54.0),
            CardSize::Poster => (210.0, 297.0),
        }
    }

    /// PNG resolution when none is asked for: print quality for the small card, enough for an A4
    /// office printer for the poster (about 1240 × 1754 px).
    pub fn default_dpi(self) -> u32 {
        match self {
            CardSize::Wallet => 300,
            CardSize::Poster => 150,
        }
    }

    /// Upper bound on the PNG resolution, to keep one image below ~35 MB of pixels in memory.
    pub fn max_dpi(self) -> u32 {
        match self {
            CardSize::Wallet => 600,
            CardSize::Poster => 300,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("QR encoding failed: {0:?}")]
    Qr(qrcode::types::QrError),
    #[error("SVG parsing failed: {0}")]
    Svg(#[from] resvg::usvg::Error),
    #[error("image of {0}×{1} px cannot be allocated")]
    Pixmap(u32, u32),
    #[error("PNG encoding failed: {0}")]
    Png(#[from] ::png::EncodingError),
    #[error("PDF writing failed: {0}")]
    Pdf(String),
}

/// The drawing of one card without the `<svg>` wrapper, origin at its top-left corner (sheets place
/// several of these on a page).
pub fn body(card: &CardContent, size: CardSize) -> Result<String, RenderError> {
    let qr = qr::Qr::encode(&card.url).map_err(RenderError::Qr)?;
    Ok(match size {
        CardSize::Wallet => layout::wallet(card, &qr),
        CardSize::Poster => layout::poster(card, &qr),
    })
}

/// Wraps a drawing of `w × h` mm in a standalone SVG document that relies on the fonts of whatever
/// renders it (resvg has the compiled-in font; PDF sheets and PNG are made this way).
pub fn document(w: f32, h: f32, title: &str, desc: &str, body: &str) -> String {
    document_with(w, h, title, desc, body, None)
}

/// Opening of the `<style>` element carrying the embedded font (see [`svg`]); rasterising strips it.
pub const FONT_STYLE_OPEN: &str = "<style id=\"card-font\">";

fn document_with(w: f32, h: f32, title: &str, desc: &str, body: &str, font: Option<&fonts::Embedded>) -> String {
    use base64::Engine as _;
    let (fam, style) = match font {
        Some(f) => (
            format!("'{}', {}", f.family, fonts::FONT_FAMILY_CSS),
            format!(
                "{FONT_STYLE_OPEN}@font-face{{font-family:\"{}\";src:url(data:font/ttf;base64,{}) format(\"truetype\")}}</style>\n",
                f.family,
                base64::engine::general_purpose::STANDARD.encode(&f.ttf)
            ),
        ),
        None => (fonts::FONT_FAMILY_CSS.to_string(), String::new()),
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w}mm\" height=\"{h}mm\" viewBox=\"0 0 {w} {h}\" font-family=\"{fam}\" xml:lang=\"zh-CN\">\n<title id=\"card-title\">{title}</title>\n\
         <desc id=\"card-desc\">{desc}</desc>\n{style}{body}\n</svg>\n",
        w = svg::num(w),
        h = svg::num(h),
        title = escape(title),
        desc = escape(desc),
    )
}

fn card_document(card: &CardContent, size: CardSize, embed: bool) -> Result<String, RenderError> {
    let (w, h) = size.mm();
    let title = format!("{}联系卡（{}{}）", card.village, card.county, card.township);
    let desc = format!("扫描二维码打开 {} 反映诉求；服务热线 {}", card.url, card.hotline);
    let body = body(card, size)?;
    let font = if embed { fonts::embedded(&svg::text_chars(&body)) } else { None };
    Ok(document_with(w, h, &title, &desc, &body, font.as_ref()))
}

/// One card as a standalone SVG document, what `card.svg` serves: the text stays `<text>`, set in
/// a subset of the card font embedded as a data URL (`@font-face`, only the glyphs this card
/// prints), so it reads as Chinese on a machine without Chinese fonts; the usual families follow
/// as fallbacks.
pub fn svg(card: &CardContent, size: CardSize) -> Result<String, RenderError> {
    card_document(card, size, true)
}

/// The same card without the embedded font, for rendering with resvg (which has the whole font
/// compiled in and ignores `@font-face`): what PNG should be made from.
pub fn raster_svg(card: &CardContent, size: CardSize) -> Result<String, RenderError> {
    card_document(card, size, false)
}

#[cfg(test)]
pub(crate) fn sample() -> CardContent {
    CardContent {
        code: "ABCDEFGHJK".into(),
        url: "http://minsheng.test/c/ABCDEFGHJK".into(),
        version: 3,
        village: "李家庄村".into(),
        township: "东坝镇".into(),
        county: "清河县".into(),
        contacts: vec![
            Contact { post: "村党支部书记".into(), name: "李长河".into(), phone: "13900000301".into() },
            Contact { post: "乡镇包村干部".into(), name: "马建国".into(), phone: "13900000201".into() },
        ],
        hotline: "12345".into(),
        warning: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_svg_keeps_its_chinese_as_text_and_prints_the_code() {
        for size in [CardSize::Wallet, CardSize::Poster] {
            let s = svg(&sample(), size).unwrap();
            for needle in
                [">李家庄村</text>", ">李长河</text>", ">13900000301</text>", ">12345</text>", "ABCDEFGHJK</text>"]
            {
                assert!(s.contains(needle), "{size:?} lacks {needle}");
            }
            assert!(s.contains("清河县 东坝镇"), "{size:?}");
            assert!(s.contains(&format!("width=\"{}mm\"", svg::num(size.mm().0))));
            // Parses with the compiled-in font, @font-face and all (usvg skips the rule).
            let opts = png::options();
            assert!(resvg::usvg::Tree::from_str(&s, &opts).is_ok());
        }
    }

    /// The family and the font of the `@font-face` in a card SVG.
    fn embedded_font(s: &str) -> (String, Vec<u8>) {
        use base64::Engine as _;
        let css = &s[s.find(FONT_STYLE_OPEN).expect("style") + FONT_STYLE_OPEN.len()..];
        let css = &css[..css.find("</style>").unwrap()];
        let family = css.split("font-family:\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let b64 = css.split("base64,").nth(1).unwrap().split(')').next().unwrap();
        (family, base64::engine::general_purpose::STANDARD.decode(b64).unwrap())
    }

    #[test]
    fn the_svg_embeds_a_font_with_just_the_glyphs_its_text_uses() {
        for size in [CardSize::Wallet, CardSize::Poster] {
            let plain = raster_svg(&sample(), size).unwrap();
            let started = std::time::Instant::now();
            let s = svg(&sample(), size).unwrap();
            let took = started.elapsed();
            let (family, ttf) = embedded_font(&s);
            println!(
                "{size:?}: SVG {} bytes without the font, {} with it (font {} bytes); card.svg built in {took:?}",
                plain.len(),
                s.len(),
                ttf.len()
            );
            assert!(family.starts_with("MinshengCard-") && family.len() == "MinshengCard-".len() + 12, "{family}");
            assert!(
                s.contains(&format!("font-family=\"'{family}', {}\"", fonts::FONT_FAMILY_CSS)),
                "unique family first"
            );
            assert!(!plain.contains("@font-face") && !plain.contains("MinshengCard"));
            assert!(s.len() < plain.len() + 60_000, "{size:?}: {} bytes", s.len());
            // The text is the same text; the font covers every character of it and nothing else.
            assert_eq!(png::without_embedded_font(&s).replace(&format!("'{family}', "), ""), plain);
            let face = ttf_parser::Face::parse(&ttf, 0).unwrap();
            let drawn = svg::text_chars(&plain);
            for c in &drawn {
                assert!(face.glyph_index(*c).is_some(), "{size:?}: {c} missing");
            }
            for c in ['王', '湾', 'Z', '会'] {
                assert!(!drawn.contains(&c) && face.glyph_index(c).is_none(), "{c}");
            }
            for c in ["联", "扫", "热", "版"] {
                assert!(drawn.contains(&c.chars().next().unwrap()), "{c} is printed");
            }
        }
        // Another village, other glyphs, another family name.
        let mut other = sample();
        other.village = "王家湾村".into();
        let (a, _) = embedded_font(&svg(&sample(), CardSize::Wallet).unwrap());
        let (b, ttf) = embedded_font(&svg(&other, CardSize::Wallet).unwrap());
        assert_ne!(a, b);
        assert!(ttf_parser::Face::parse(&ttf, 0).unwrap().glyph_index('湾').is_some());
    }

    #[test]
    fn the_wallet_card_says_how_to_scan_as_the_poster_does() {
        let wallet = svg(&sample(), CardSize::Wallet).unwrap();
        assert!(wallet.contains(">微信或手机相机扫码</text>"), "wallet card text");
        let poster = svg(&sample(), CardSize::Poster).unwrap();
        assert!(poster.contains("微信或手机相机扫一扫"), "poster text");
    }

    #[test]
    fn a_card_whose_qr_cannot_open_carries_a_stamp_and_a_good_one_does_not() {
        let mut card = sample();
        card.url = "http://127.0.0.1:8080/c/ABCDEFGHJK".into();
        card.warning = crate::domain::card::print_warning("http://127.0.0.1:8080");
        for size in [CardSize::Wallet, CardSize::Poster] {
            let s = svg(&card, size).unwrap();
            assert!(s.contains(&format!(">{}</text>", layout::STAMP)), "{size:?}");
            assert!(s.contains("二维码指向本机地址（127.0.0.1），群众手机无法打开"), "{size:?}");
            // Still rasterises (the stamp is plain SVG).
            assert!(png::render(&raster_svg(&card, size).unwrap(), 72).is_ok());
            let clean = svg(&sample(), size).unwrap();
            assert!(!clean.contains(layout::STAMP), "{size:?}");
        }
    }
}
