//! A minimal TrueType subsetter: from a font with `glyf` outlines and the characters a document
//! uses, a standalone font holding only their glyphs, small enough to embed in an SVG as a data URL.
//!
//! Kept: `.notdef` (glyph 0), the glyphs the characters map to and the components of composite
//! glyphs, renumbered in their original order, with composite component indices rewritten. Written:
//! `head`, `hhea`, `maxp`, `OS/2`, `name`, `cmap` (format 4 for the BMP, plus format 12 when a
//! character lies beyond it), `hmtx`, `loca`, `glyf` and `post` (version 3.0, no glyph names).
//! Dropped: layout tables (GSUB/GPOS/GDEF), vertical metrics, hinting tables other than the glyphs'
//! own instructions, which are copied as they are. CFF fonts are refused.
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SubsetError {
    #[error("not a TrueType font: {0}")]
    NotTrueType(&'static str),
    #[error("table {0} is missing")]
    Missing(&'static str),
    #[error("malformed font: {0}")]
    Malformed(&'static str),
    #[error("too many characters for a format 4 cmap")]
    TooManySegments,
}

type Result<T> = std::result::Result<T, SubsetError>;

fn u16_at(data: &[u8], at: usize) -> Result<u16> {
    data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or(SubsetError::Malformed("short read"))
}

fn u32_at(data: &[u8], at: usize) -> Result<u32> {
    data.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or(SubsetError::Malformed("short read"))
}

fn put_u16(data: &mut [u8], at: usize, v: u16) {
    data[at..at + 2].copy_from_slice(&v.to_be_bytes());
}

/// The tables of the font file, by tag.
struct Tables<'a> {
    tables: BTreeMap<[u8; 4], &'a [u8]>,
}

impl<'a> Tables<'a> {
    fn parse(font: &'a [u8]) -> Result<Self> {
        match u32_at(font, 0)? {
            0x0001_0000 | 0x7472_7565 => {} // 1.0 or 'true'
            0x4F54_544F => return Err(SubsetError::NotTrueType("CFF outlines (OTTO)")),
            0x7474_6366 => return Err(SubsetError::NotTrueType("a collection (ttcf); pass one face")),
            _ => return Err(SubsetError::NotTrueType("unknown sfnt version")),
        }
        let n = u16_at(font, 4)? as usize;
        let mut tables = BTreeMap::new();
        for i in 0..n {
            let rec = 12 + 16 * i;
            let tag: [u8; 4] =
                font.get(rec..rec + 4).ok_or(SubsetError::Malformed("table directory"))?.try_into().unwrap();
            let (off, len) = (u32_at(font, rec + 8)? as usize, u32_at(font, rec + 12)? as usize);
            let data = font.get(off..off + len).ok_or(SubsetError::Malformed("table beyond the end of the file"))?;
            tables.insert(tag, data);
        }
        Ok(Tables { tables })
    }

    fn get(&self, tag: &'static str) -> Result<&'a [u8]> {
        let key: [u8; 4] = tag.as_bytes().try_into().expect("four-byte tag");
        self.tables.get(&key).copied().ok_or(SubsetError::Missing(tag))
    }
}

/// Read access to the outlines: `loca` + `glyf`.
struct Glyphs<'a> {
    loca: &'a [u8],
    glyf: &'a [u8],
    long: bool,
    count: u16,
}

/// Composite glyph flags (the `glyf` table's component records).
const ARG_1_AND_2_ARE_WORDS: u16 = 0x0001;
const WE_HAVE_A_SCALE: u16 = 0x0008;
const MORE_COMPONENTS: u16 = 0x0020;
const WE_HAVE_AN_X_AND_Y_SCALE: u16 = 0x0040;
const WE_HAVE_A_TWO_BY_TWO: u16 = 0x0080;

impl<'a> Glyphs<'a> {
    /// The bytes of one glyph (empty for a glyph without outline, such as the space).
    fn data(&self, gid: u16) -> Result<&'a [u8]> {
        if gid >= self.count {
            return Err(SubsetError::Malformed("glyph index beyond numGlyphs"));
        }
        let i = gid as usize;
        let (start, end) = if self.long {
            (u32_at(self.loca, 4 * i)? as usize, u32_at(self.loca, 4 * i + 4)? as usize)
        } else {
            (u16_at(self.loca, 2 * i)? as usize * 2, u16_at(self.loca, 2 * i + 2)? as usize * 2)
        };
        if start > end {
            return Err(SubsetError::Malformed("loca offsets decrease"));
        }
        self.glyf.get(start..end).ok_or(SubsetError::Malformed("glyph beyond the glyf table"))
    }
}

/// For a composite glyph, where each component's glyph index sits in the glyph data, and the index;
/// empty for a simple or empty glyph.
fn components(glyph: &[u8]) -> Result<Vec<(usize, u16)>> {
    if glyph.is_empty() || (u16_at(glyph, 0)? as i16) >= 0 {
        return Ok(vec![]);
    }
    let mut out = vec![];
    let mut at = 10;
    loop {
        let flags = u16_at(glyph, at)?;
        out.push((at + 2, u16_at(glyph, at + 2)?));
        at += 4 + if flags & ARG_1_AND_2_ARE_WORDS != 0 { 4 } else { 2 };
        at += if flags & WE_HAVE_A_SCALE != 0 {
            2
        } else if flags & WE_HAVE_AN_X_AND_Y_SCALE != 0 {
            4
        } else if flags & WE_HAVE_A_TWO_BY_TWO != 0 {
            8
        } else {
            0
        };
        if flags & MORE_COMPONENTS == 0 {
            return Ok(out);
        }
        if at >= glyph.len() {
            return Err(SubsetError::Malformed("composite glyph runs past its end"));
        }
    }
}

/// The subset of `font` (TrueType, one face) that draws `chars`. Characters the font lacks are
/// left out (a renderer falls back to another family for them).
pub fn subset(font: &[u8], chars: impl IntoIterator<Item = char>) -> Result<Vec<u8>> {
    let tables = Tables::parse(font)?;
    let face = ttf_parser::Face::parse(font, 0).map_err(|_| SubsetError::Malformed("ttf-parser refuses the font"))?;
    let head = tables.get("head")?;
    let maxp = tables.get("maxp")?;
    let hhea = tables.get("hhea")?;
    let hmtx = tables.get("hmtx")?;
    let os2 = tables.get("OS/2")?;
    let name = tables.get("name")?;
    let post = tables.get("post")?;
    if head.len() < 54 || hhea.len() < 36 || maxp.len() < 6 || post.len() < 32 || os2.len() < 68 {
        return Err(SubsetError::Malformed("a table is too short"));
    }
    let glyphs = Glyphs {
        loca: tables.get("loca")?,
        glyf: tables.get("glyf")?,
        long: u16_at(head, 50)? == 1,
        count: u16_at(maxp, 4)?,
    };
    let long_metrics = u16_at(hhea, 34)?;
    if long_metrics == 0 || long_metrics > glyphs.count {
        return Err(SubsetError::Malformed("numberOfHMetrics"));
    }

    // Characters → original glyphs, then the closure over composite components.
    let mapped: BTreeMap<char, u16> =
        chars.into_iter().filter_map(|c| face.glyph_index(c).map(|g| (c, g.0))).filter(|(_, g)| *g != 0).collect();
    let mut keep: BTreeSet<u16> = BTreeSet::from([0]);
    let mut todo: Vec<u16> = mapped.values().copied().collect();
    todo.push(0);
    while let Some(gid) = todo.pop() {
        keep.insert(gid);
        for (_, component) in components(glyphs.data(gid)?)? {
            if !keep.contains(&component) {
                todo.push(component);
            }
        }
    }
    let new_id: BTreeMap<u16, u16> = keep.iter().enumerate().map(|(i, g)| (*g, i as u16)).collect();
    let num_glyphs = keep.len() as u16;

    // glyf + loca, with component indices renumbered; each glyph padded to an even length.
    let mut glyf = Vec::new();
    let mut offsets = Vec::with_capacity(keep.len() + 1);
    let mut bbox: Option<[i16; 4]> = None;
    for &gid in &keep {
        offsets.push(glyf.len());
        let data = glyphs.data(gid)?;
        let mut copy = data.to_vec();
        for (at, component) in components(data)? {
            put_u16(&mut copy, at, new_id[&component]);
        }
        if copy.len() >= 10 {
            let r = [1, 2, 3, 4].map(|k| u16_at(&copy, 2 * k).unwrap() as i16);
            bbox = Some(match bbox {
                None => r,
                Some(b) => [b[0].min(r[0]), b[1].min(r[1]), b[2].max(r[2]), b[3].max(r[3])],
            });
        }
        glyf.extend_from_slice(&copy);
        if glyf.len() % 2 == 1 {
            glyf.push(0);
        }
    }
    offsets.push(glyf.len());
    let short_loca = glyf.len() / 2 <= u16::MAX as usize;
    let mut loca = Vec::with_capacity(offsets.len() * 4);
    for off in &offsets {
        if short_loca {
            loca.extend_from_slice(&((off / 2) as u16).to_be_bytes());
        } else {
            loca.extend_from_slice(&(*off as u32).to_be_bytes());
        }
    }

    // hmtx: the original advance and left side bearing of every kept glyph; trailing glyphs of the
    // same advance share the last long metric, as the format allows.
    let metric = |gid: u16| -> Result<(u16, i16)> {
        let advance = u16_at(hmtx, 4 * (gid.min(long_metrics - 1) as usize))?;
        let lsb = if gid < long_metrics {
            u16_at(hmtx, 4 * gid as usize + 2)?
        } else {
            u16_at(hmtx, 4 * long_metrics as usize + 2 * (gid - long_metrics) as usize)?
        };
        Ok((advance, lsb as i16))
    };
    let metrics: Vec<(u16, i16)> = keep.iter().map(|g| metric(*g)).collect::<Result<_>>()?;
    let mut new_long = metrics.len();
    while new_long > 1 && metrics[new_long - 2].0 == metrics[new_long - 1].0 {
        new_long -= 1;
    }
    let mut hmtx_out = Vec::with_capacity(metrics.len() * 4);
    for (i, (advance, lsb)) in metrics.iter().enumerate() {
        if i < new_long {
            hmtx_out.extend_from_slice(&advance.to_be_bytes());
        }
        hmtx_out.extend_from_slice(&lsb.to_be_bytes());
    }

    // hhea: the extremes over the kept glyphs (those with an outline) and the new metric count.
    let mut hhea_out = hhea[..36].to_vec();
    let (mut max_advance, mut min_lsb, mut min_rsb, mut max_extent) = (0u16, i16::MAX, i16::MAX, i16::MIN);
    for (i, &gid) in keep.iter().enumerate() {
        let (advance, lsb) = metrics[i];
        max_advance = max_advance.max(advance);
        let data = glyphs.data(gid)?;
        if data.len() >= 10 {
            let (x_min, x_max) = (u16_at(data, 2)? as i16, u16_at(data, 6)? as i16);
            let width = i32::from(x_max) - i32::from(x_min);
            min_lsb = min_lsb.min(lsb);
            min_rsb = min_rsb.min((i32::from(advance) - i32::from(lsb) - width).clamp(-32768, 32767) as i16);
            max_extent = max_extent.max((i32::from(lsb) + width).clamp(-32768, 32767) as i16);
        }
    }
    if max_extent == i16::MIN {
        (min_lsb, min_rsb, max_extent) = (0, 0, 0);
    }
    put_u16(&mut hhea_out, 10, max_advance);
    put_u16(&mut hhea_out, 12, min_lsb as u16);
    put_u16(&mut hhea_out, 14, min_rsb as u16);
    put_u16(&mut hhea_out, 16, max_extent as u16);
    put_u16(&mut hhea_out, 34, new_long as u16);

    let mut maxp_out = maxp.to_vec();
    put_u16(&mut maxp_out, 4, num_glyphs);

    let mut head_out = head[..54].to_vec();
    head_out[8..12].fill(0); // checksumAdjustment, set once the file is assembled
    let [x_min, y_min, x_max, y_max] = bbox.unwrap_or([0; 4]);
    for (k, v) in [x_min, y_min, x_max, y_max].into_iter().enumerate() {
        put_u16(&mut head_out, 36 + 2 * k, v as u16);
    }
    put_u16(&mut head_out, 50, if short_loca { 0 } else { 1 });

    let mut os2_out = os2.to_vec();
    let first = mapped.keys().next().map_or(0, |c| (*c as u32).min(0xFFFF) as u16);
    let last = mapped.keys().next_back().map_or(0, |c| (*c as u32).min(0xFFFF) as u16);
    put_u16(&mut os2_out, 64, first);
    put_u16(&mut os2_out, 66, last);

    let mut post_out = post[..32].to_vec();
    post_out[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());

    let cmap: Vec<(u32, u16)> = mapped.iter().map(|(c, g)| (*c as u32, new_id[g])).collect();
    let cmap_out = cmap_table(&cmap)?;

    Ok(assemble(vec![
        (*b"OS/2", os2_out),
        (*b"cmap", cmap_out),
        (*b"glyf", glyf),
        (*b"head", head_out),
        (*b"hhea", hhea_out),
        (*b"hmtx", hmtx_out),
        (*b"loca", loca),
        (*b"maxp", maxp_out),
        (*b"name", name.to_vec()),
        (*b"post", post_out),
    ]))
}

/// Runs of consecutive characters mapped to consecutive glyphs: (first char, last char, first glyph).
fn runs(map: &[(u32, u16)]) -> Vec<(u32, u32, u16)> {
    let mut out: Vec<(u32, u32, u16)> = vec![];
    for &(c, g) in map {
        match out.last_mut() {
            Some((start, end, first)) if c == *end + 1 && u32::from(g) == u32::from(*first) + (c - *start) => *end = c,
            _ => out.push((c, c, g)),
        }
    }
    out
}

/// `cmap` with a format 4 subtable for the BMP (Unicode and Windows platforms) and, if any character
/// lies beyond it, a format 12 subtable for all of them. `map` is sorted by character.
fn cmap_table(map: &[(u32, u16)]) -> Result<Vec<u8>> {
    let bmp: Vec<(u32, u16)> = map.iter().copied().filter(|(c, _)| *c < 0xFFFF).collect();
    let mut segments = runs(&bmp);
    segments.push((0xFFFF, 0xFFFF, 0)); // the required last segment; 0xFFFF + delta 1 maps to glyph 0
    let seg_count = segments.len();
    let length = 16 + 8 * seg_count;
    if length > u16::MAX as usize {
        return Err(SubsetError::TooManySegments);
    }
    let pow = 1usize << (usize::BITS - 1 - seg_count.leading_zeros()); // largest power of two ≤ segCount
    let mut f4 = Vec::with_capacity(length);
    for v in [4, length as u16, 0, 2 * seg_count as u16, 2 * pow as u16, pow.trailing_zeros() as u16] {
        f4.extend_from_slice(&v.to_be_bytes());
    }
    f4.extend_from_slice(&((2 * seg_count - 2 * pow) as u16).to_be_bytes());
    for (_, end, _) in &segments {
        f4.extend_from_slice(&(*end as u16).to_be_bytes());
    }
    f4.extend_from_slice(&0u16.to_be_bytes()); // reservedPad
    for (start, _, _) in &segments {
        f4.extend_from_slice(&(*start as u16).to_be_bytes());
    }
    for (start, _, first) in &segments {
        f4.extend_from_slice(&first.wrapping_sub(*start as u16).to_be_bytes());
    }
    f4.extend(std::iter::repeat_n(0u8, 2 * seg_count)); // idRangeOffset: deltas only

    let f12 = map.iter().any(|(c, _)| *c > 0xFFFF).then(|| {
        let groups = runs(map);
        let mut t = Vec::with_capacity(16 + 12 * groups.len());
        t.extend_from_slice(&12u16.to_be_bytes());
        t.extend_from_slice(&0u16.to_be_bytes());
        t.extend_from_slice(&((16 + 12 * groups.len()) as u32).to_be_bytes());
        t.extend_from_slice(&0u32.to_be_bytes()); // language
        t.extend_from_slice(&(groups.len() as u32).to_be_bytes());
        for (start, end, first) in groups {
            for v in [start, end, u32::from(first)] {
                t.extend_from_slice(&v.to_be_bytes());
            }
        }
        t
    });

    let records: Vec<(u16, u16, bool)> = match f12 {
        None => vec![(0, 3, false), (3, 1, false)],
        Some(_) => vec![(0, 3, false), (0, 4, true), (3, 1, false), (3, 10, true)],
    };
    let header = 4 + 8 * records.len();
    let f4_at = header as u32;
    let f12_at = f4_at + f4.len() as u32;
    let mut out = Vec::new();
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&(records.len() as u16).to_be_bytes());
    for (platform, encoding, long) in records {
        out.extend_from_slice(&platform.to_be_bytes());
        out.extend_from_slice(&encoding.to_be_bytes());
        out.extend_from_slice(&if long { f12_at } else { f4_at }.to_be_bytes());
    }
    out.extend_from_slice(&f4);
    if let Some(f12) = f12 {
        out.extend_from_slice(&f12);
    }
    Ok(out)
}

/// The sum of the big-endian 32-bit words of `data`, zero-padded to a multiple of four.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, chunk| {
        let mut word = [0u8; 4];
        word[..chunk.len()].copy_from_slice(chunk);
        sum.wrapping_add(u32::from_be_bytes(word))
    })
}

/// The font file: table directory sorted by tag, every table at a four-byte boundary, and
/// `head.checksumAdjustment` making the whole file sum to 0xB1B0AFBA.
fn assemble(mut tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    tables.sort_by_key(|(tag, _)| *tag);
    let n = tables.len();
    let pow = 1usize << (usize::BITS - 1 - n.leading_zeros());
    let mut out = Vec::new();
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, 16 * pow, pow.trailing_zeros() as usize, 16 * n - 16 * pow] {
        out.extend_from_slice(&(v as u16).to_be_bytes());
    }
    let mut offset = 12 + 16 * n;
    let mut head_at = None;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().div_ceil(4) * 4;
    }
    for (_, data) in &tables {
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(4) * 4, 0);
    }
    if let Some(at) = head_at {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cards::fonts;
    use ttf_parser::{Face, GlyphId, OutlineBuilder};

    /// An outline as a list of drawing commands, to compare glyphs between fonts.
    #[derive(Default, Debug, PartialEq)]
    struct Path(Vec<(char, [i32; 6])>);

    impl OutlineBuilder for Path {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0.push(('M', [x as i32, y as i32, 0, 0, 0, 0]));
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0.push(('L', [x as i32, y as i32, 0, 0, 0, 0]));
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0.push(('Q', [x1 as i32, y1 as i32, x as i32, y as i32, 0, 0]));
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0.push(('C', [x1, y1, x2, y2, x, y].map(|v| v as i32)));
        }
        fn close(&mut self) {
            self.0.push(('Z', [0; 6]));
        }
    }

    fn outline(face: &Face<'_>, g: GlyphId) -> (Option<ttf_parser::Rect>, Path) {
        let mut p = Path::default();
        let rect = face.outline_glyph(g, &mut p);
        (rect, p)
    }

    fn table<'a>(font: &'a [u8], tag: &'static str) -> &'a [u8] {
        Tables::parse(font).unwrap().get(tag).unwrap()
    }

    const TEXT: &str = "李家庄村联系卡清河县 东坝镇民声直达·接诉即办村党支部书记乡镇包村干部长河马建国服务热线\
                        微信扫码反映诉求第3版13900000301ABCDEFGHJK12345（）：";

    #[test]
    fn the_card_font_is_truetype_with_composite_glyphs() {
        let tables = Tables::parse(fonts::FONT).unwrap();
        assert!(tables.get("glyf").is_ok() && tables.get("loca").is_ok() && tables.get("CFF ").is_err());
        let face = Face::parse(fonts::FONT, 0).unwrap();
        let composite = TEXT.chars().filter(|c| {
            let g = face.glyph_index(*c).unwrap();
            let glyphs = glyphs(fonts::FONT);
            !components(glyphs.data(g.0).unwrap()).unwrap().is_empty()
        });
        assert!(composite.count() > 5, "the sample text has composite glyphs to test with");
    }

    fn glyphs(font: &[u8]) -> Glyphs<'_> {
        let head = table(font, "head");
        Glyphs {
            loca: table(font, "loca"),
            glyf: table(font, "glyf"),
            long: u16_at(head, 50).unwrap() == 1,
            count: u16_at(table(font, "maxp"), 4).unwrap(),
        }
    }

    #[test]
    fn a_subset_keeps_exactly_the_used_glyphs_with_their_metrics_and_outlines() {
        let started = std::time::Instant::now();
        let out = subset(fonts::FONT, TEXT.chars()).unwrap();
        let took = started.elapsed();
        println!(
            "subset of {} chars: {} bytes (original {} bytes), in {took:?}",
            TEXT.chars().count(),
            out.len(),
            fonts::FONT.len()
        );
        assert!(out.len() < 40_000, "{} bytes", out.len());
        assert!(out.len() * 50 < fonts::FONT.len());

        let original = Face::parse(fonts::FONT, 0).unwrap();
        let face = Face::parse(&out, 0).unwrap();
        assert_eq!(face.units_per_em(), original.units_per_em());
        assert_eq!(face.ascender(), original.ascender());
        assert_eq!(face.descender(), original.descender());
        for c in TEXT.chars() {
            let (g0, g1) =
                (original.glyph_index(c).unwrap(), face.glyph_index(c).unwrap_or_else(|| panic!("{c} lost")));
            assert_ne!(g1.0, 0, "{c}");
            assert_eq!(face.glyph_hor_advance(g1), original.glyph_hor_advance(g0), "{c}");
            assert_eq!(face.glyph_hor_side_bearing(g1), original.glyph_hor_side_bearing(g0), "{c}");
            assert_eq!(face.glyph_bounding_box(g1), original.glyph_bounding_box(g0), "{c}");
            assert_eq!(outline(&face, g1), outline(&original, g0), "{c}");
        }
        for c in ['王', '湾', 'Z', '𠀀', '\u{3000}'] {
            assert!(original.glyph_index(c).is_some() || c == '𠀀', "{c} is in the original");
            assert_eq!(face.glyph_index(c), None, "{c} is not in the subset");
        }
        // .notdef first, the same drawing.
        assert_eq!(outline(&face, GlyphId(0)), outline(&original, GlyphId(0)));
        assert_eq!(face.glyph_hor_advance(GlyphId(0)), original.glyph_hor_advance(GlyphId(0)));
        // Composite glyphs point at their renumbered components, which draw the original parts.
        let (sub, orig) = (glyphs(&out), glyphs(fonts::FONT));
        let mut composites = 0;
        for c in TEXT.chars() {
            let (g0, g1) = (original.glyph_index(c).unwrap(), face.glyph_index(c).unwrap());
            let (c0, c1) =
                (components(orig.data(g0.0).unwrap()).unwrap(), components(sub.data(g1.0).unwrap()).unwrap());
            assert_eq!(c0.len(), c1.len(), "{c}");
            for ((_, a), (_, b)) in c0.iter().zip(&c1) {
                assert!(*b < face.number_of_glyphs());
                assert_eq!(outline(&face, GlyphId(*b)), outline(&original, GlyphId(*a)), "{c}: component {a} → {b}");
            }
            composites += usize::from(!c1.is_empty());
        }
        assert!(composites > 5, "{composites}");
        assert!(usize::from(face.number_of_glyphs()) > TEXT.chars().collect::<BTreeSet<_>>().len());
    }

    #[test]
    fn the_file_structure_is_valid() {
        let out = subset(fonts::FONT, "村委会12".chars()).unwrap();
        assert_eq!(checksum(&out), 0xB1B0_AFBA, "whole-file checksum with checksumAdjustment");
        let n = u16_at(&out, 4).unwrap() as usize;
        let tags: Vec<[u8; 4]> = (0..n).map(|i| out[12 + 16 * i..16 + 16 * i].try_into().unwrap()).collect();
        assert_eq!(
            tags.iter().map(|t| std::str::from_utf8(t).unwrap()).collect::<Vec<_>>(),
            ["OS/2", "cmap", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "name", "post"]
        );
        assert_eq!(u16_at(&out, 6).unwrap(), 128); // searchRange for 10 tables
        assert_eq!(u16_at(&out, 8).unwrap(), 3);
        assert_eq!(u16_at(&out, 10).unwrap(), 32);
        for (i, tag) in tags.iter().enumerate() {
            let rec = 12 + 16 * i;
            let (sum, off, len) = (
                u32_at(&out, rec + 4).unwrap(),
                u32_at(&out, rec + 8).unwrap() as usize,
                u32_at(&out, rec + 12).unwrap() as usize,
            );
            assert_eq!(off % 4, 0);
            let mut data = out[off..off + len].to_vec();
            if tag == b"head" {
                data[8..12].fill(0);
            }
            assert_eq!(checksum(&data), sum, "{:?}", std::str::from_utf8(tag));
        }
        let face = Face::parse(&out, 0).unwrap();
        let glyphs = u16_at(table(&out, "maxp"), 4).unwrap();
        assert_eq!(face.number_of_glyphs(), glyphs);
        let loca_entries =
            table(&out, "loca").len() / if u16_at(table(&out, "head"), 50).unwrap() == 0 { 2 } else { 4 };
        assert_eq!(loca_entries, glyphs as usize + 1);
        let long = u16_at(table(&out, "hhea"), 34).unwrap() as usize;
        assert_eq!(table(&out, "hmtx").len(), 4 * long + 2 * (glyphs as usize - long));
        assert_eq!(u32_at(table(&out, "post"), 0).unwrap(), 0x0003_0000);
        assert_eq!(
            face.names().into_iter().find(|n| n.name_id == 1).and_then(|n| n.to_string()),
            Some(fonts::FAMILY.into())
        );
    }

    #[test]
    fn cmap_has_format_12_only_when_a_character_lies_beyond_the_bmp() {
        let bmp = cmap_table(&[(0x41, 1), (0x42, 2), (0x44, 3), (0x6751, 9)]).unwrap();
        assert_eq!(u16_at(&bmp, 2).unwrap(), 2);
        let both = cmap_table(&[(0x41, 1), (0x674E, 2), (0x20000, 3), (0x20001, 4)]).unwrap();
        assert_eq!(u16_at(&both, 2).unwrap(), 4);
        // A font wrapped around the tables ttf-parser needs, to read the cmap back.
        let font = |cmap: Vec<u8>| {
            let t = Tables::parse(fonts::FONT).unwrap();
            let mut maxp = t.get("maxp").unwrap().to_vec();
            put_u16(&mut maxp, 4, 10);
            let mut hhea = t.get("hhea").unwrap()[..36].to_vec();
            put_u16(&mut hhea, 34, 1);
            assemble(vec![
                (*b"cmap", cmap),
                (*b"head", t.get("head").unwrap().to_vec()),
                (*b"hhea", hhea),
                (*b"hmtx", vec![0; 4 + 2 * 9]),
                (*b"maxp", maxp),
            ])
        };
        let f = font(both);
        let face = Face::parse(&f, 0).unwrap();
        for (c, g) in [('A', 1), ('李', 2), ('\u{20000}', 3), ('\u{20001}', 4)] {
            assert_eq!(face.glyph_index(c), Some(GlyphId(g)), "{c}");
        }
        assert_eq!(face.glyph_index('B'), None);
        let f = font(bmp);
        let face = Face::parse(&f, 0).unwrap();
        for (c, g) in [('A', 1), ('B', 2), ('D', 3), ('村', 9)] {
            assert_eq!(face.glyph_index(c), Some(GlyphId(g)), "{c}");
        }
        assert_eq!(face.glyph_index('C'), None);
        // The subsetter turns to format 12 for a character beyond the BMP, mapped here by hand.
        assert_eq!(runs(&[(1, 5), (2, 6), (3, 8), (5, 9)]), vec![(1, 2, 5), (3, 3, 8), (5, 5, 9)]);
    }

    #[test]
    fn an_empty_set_keeps_notdef_and_cff_is_refused() {
        let out = subset(fonts::FONT, std::iter::empty()).unwrap();
        let face = Face::parse(&out, 0).unwrap();
        assert_eq!(face.number_of_glyphs(), 1);
        assert_eq!(face.glyph_index('李'), None);
        let mut cff = fonts::FONT[..64].to_vec();
        cff[..4].copy_from_slice(b"OTTO");
        assert!(matches!(subset(&cff, "a".chars()), Err(SubsetError::NotTrueType(_))));
        assert!(matches!(subset(&fonts::FONT[..100], "a".chars()), Err(SubsetError::Malformed(_))));
    }
}
