//! The typeface the cards are set in, compiled into the binary so that Chinese renders the same on a
//! server without any system font (see assets/fonts/README.md for what the subset holds and why).
use super::subset;
use resvg::usvg::fontdb;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

/// The family name inside the font file; SVG text asks for it first, then any sans-serif face (so a
/// browser opening the SVG on its own still shows Chinese with its own fonts).
pub const FAMILY: &str = "WenQuanYi Micro Hei";
pub const FONT_FAMILY_CSS: &str = "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";

pub(crate) static FONT: &[u8] = include_bytes!("../../assets/fonts/wqy-microhei-cards.ttf");

struct Loaded {
    db: Arc<fontdb::Database>,
    /// `None` only if the compiled-in file were broken (a unit test guards it); metrics then assume
    /// one em per character rather than failing a request.
    face: Option<ttf_parser::Face<'static>>,
}

fn loaded() -> &'static Loaded {
    static LOADED: OnceLock<Loaded> = OnceLock::new();
    LOADED.get_or_init(|| {
        let mut db = fontdb::Database::new();
        // Binary source over the static bytes: no copy, no file system.
        db.load_font_source(fontdb::Source::Binary(Arc::new(FONT)));
        db.set_sans_serif_family(FAMILY);
        let face = ttf_parser::Face::parse(FONT, 0).ok();
        if face.is_none() {
            tracing::error!("the compiled-in card font does not parse");
        }
        Loaded { db: Arc::new(db), face }
    })
}

/// The font database every card render uses (shared; cloning the `Arc` is free).
pub fn database() -> Arc<fontdb::Database> {
    loaded().db.clone()
}

/// Width of `text` set at `size` (same unit as `size`), plus `letter_spacing` after every character.
/// The subset carries no kerning, so this is what usvg lays out.
pub fn advance(text: &str, size: f32, letter_spacing: f32) -> f32 {
    let Some(face) = &loaded().face else {
        return (size + letter_spacing) * text.chars().count() as f32;
    };
    let upem = f32::from(face.units_per_em());
    let units: f32 = text
        .chars()
        .map(|c| {
            face.glyph_index(c).and_then(|g| face.glyph_hor_advance(g)).map(f32::from).unwrap_or(upem) // a missing glyph is drawn by a fallback at about one em
        })
        .sum();
    units / upem * size + letter_spacing * text.chars().count() as f32
}

/// Characters in `text` the card font cannot draw (they would print as blanks): staff see them
/// before printing and can choose a common character or call the vendor.
pub fn unprintable(text: &str) -> Vec<char> {
    let Some(face) = &loaded().face else {
        return vec![];
    };
    let mut out: Vec<char> = vec![];
    for c in text.chars().filter(|c| !c.is_whitespace() && face.glyph_index(*c).is_none()) {
        if !out.contains(&c) {
            out.push(c);
        }
    }
    out
}

/// The card font cut down to some characters, for a document to carry with it.
pub struct Embedded {
    /// A family name for this very set of glyphs: `MinshengCard-` and a hash of the characters, so
    /// two cards shown on one page, each with its own subset, never stand in for each other.
    pub family: String,
    /// A standalone TrueType font.
    pub ttf: Vec<u8>,
}

/// A subset of the card font holding the glyphs of `chars` it has (the others are left to fallback
/// fonts); `None` if subsetting failed, which is logged (the document then relies on the viewer's
/// fonts, as before).
pub fn embedded(chars: &BTreeSet<char>) -> Option<Embedded> {
    let face = loaded().face.as_ref()?;
    let covered: String = chars.iter().filter(|c| face.glyph_index(**c).is_some()).collect();
    match subset::subset(FONT, covered.chars()) {
        Ok(ttf) => {
            let hash = Sha256::digest(covered.as_bytes());
            Some(Embedded { family: format!("MinshengCard-{}", hex::encode(&hash[..6])), ttf })
        }
        Err(e) => {
            tracing::error!(error = %e, "subsetting the card font failed");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_font_covers_the_demo_text_and_rare_name_characters() {
        let text = "清河县东坝镇李家庄村联系卡村党支部书记乡镇包村领导网格员服务热线12345扫码堃喆昇镕犇（）：·";
        assert!(unprintable(text).is_empty(), "{:?}", unprintable(text));
        assert_eq!(unprintable("李𠀀"), vec!['𠀀']);
        assert_eq!(database().faces().next().map(|f| f.families[0].0.clone()), Some(FAMILY.to_string()));
    }

    #[test]
    fn han_characters_are_one_em_wide_and_digits_narrower() {
        let han = advance("联系卡", 10.0, 0.0);
        assert!((han - 30.0).abs() < 0.5, "{han}");
        let digits = advance("12345", 10.0, 0.0);
        assert!(digits > 20.0 && digits < 40.0, "{digits}");
        assert!((advance("12", 10.0, 1.0) - advance("12", 10.0, 0.0) - 2.0).abs() < 1e-4);
    }
}
