//! Print-ready village contact cards: the QR code, the two designs (wallet card and A4 poster) as SVG
//! with real text, PNG at a chosen print resolution, and PDF sheets of many cards with cut marks.
//! Pure rendering: callers pass what to print; nothing here touches the database.
pub mod fonts;
pub mod layout;
pub mod pdf;
pub mod png;
pub mod qr;
pub mod scans;
pub mod svg;

pub use crate::domain::card::Contact;
use crate::html::escape;

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
}

impl CardContent {
    /// All the text a card prints (to check the font covers it before anyone prints).
    pub fn printed_text(&self) -> String {
        let mut s = format!("{}{}{}{}", self.village, self.township, self.county, self.hotline);
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

/// Wraps a drawing of `w × h` mm in a standalone SVG document.
pub fn document(w: f32, h: f32, title: &str, desc: &str, body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w}mm\" height=\"{h}mm\" viewBox=\"0 0 {w} {h}\" font-family=\"{fam}\" xml:lang=\"zh-CN\">\n<title id=\"card-title\">{title}</title>\n\
         <desc id=\"card-desc\">{desc}</desc>\n{body}\n</svg>\n",
        w = svg::num(w),
        h = svg::num(h),
        fam = fonts::FONT_FAMILY_CSS,
        title = escape(title),
        desc = escape(desc),
    )
}

/// One card as a standalone SVG document (what `card.svg` serves; PNG is rendered from it).
pub fn svg(card: &CardContent, size: CardSize) -> Result<String, RenderError> {
    let (w, h) = size.mm();
    let title = format!("{}联系卡（{}{}）", card.village, card.county, card.township);
    let desc = format!("扫描二维码打开 {} 反映诉求；服务热线 {}", card.url, card.hotline);
    Ok(document(w, h, &title, &desc, &body(card, size)?))
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
            // Parses with the compiled-in font.
            let opts = png::options();
            assert!(resvg::usvg::Tree::from_str(&s, &opts).is_ok());
        }
    }
}
