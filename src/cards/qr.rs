//! The QR code of a card as vector geometry. Error correction Q (25 % of the symbol may be lost: a
//! card on a notice board gets dirty, folded and sun-bleached) and the standard 4-module quiet zone,
//! which the drawing always includes so that no layout can crowd it.
use qrcode::{Color, EcLevel, QrCode};

/// Light modules around the symbol required by ISO/IEC 18004.
pub const QUIET_ZONE: usize = 4;
pub const EC_LEVEL: EcLevel = EcLevel::Q;

pub struct Qr {
    /// Modules per side, without the quiet zone.
    width: usize,
    dark: Vec<bool>,
}

impl Qr {
    /// Encodes `data` (the card URL) exactly as given.
    pub fn encode(data: &str) -> Result<Qr, qrcode::types::QrError> {
        let code = QrCode::with_error_correction_level(data.as_bytes(), EC_LEVEL)?;
        let width = code.width();
        let dark = code.to_colors().into_iter().map(|c| c == Color::Dark).collect();
        Ok(Qr { width, dark })
    }

    /// Modules per side including the quiet zone on both sides.
    pub fn modules_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The dark modules as one SVG path in module units, quiet zone included (the symbol starts at
    /// `QUIET_ZONE`). Runs of dark modules in a row become one rectangle, which keeps the path short
    /// and leaves no hairline seams between neighbouring modules when rasterised.
    pub fn path_data(&self) -> String {
        let mut d = String::with_capacity(self.width * self.width * 3);
        for y in 0..self.width {
            let row = &self.dark[y * self.width..(y + 1) * self.width];
            let mut x = 0;
            while x < self.width {
                if !row[x] {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && row[x] {
                    x += 1;
                }
                let run = x - start;
                d.push_str(&format!("M{} {}h{run}v1h-{run}z", start + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
        d
    }

    /// An SVG group drawing the code (white quiet zone included) in a `size`-wide square at (x, y).
    pub fn svg(&self, x: f32, y: f32, size: f32) -> String {
        let n = self.modules_with_quiet_zone();
        let scale = size / n as f32;
        format!(
            "<g transform=\"translate({} {}) scale({})\"><rect width=\"{n}\" height=\"{n}\" fill=\"#fff\"/>\
             <path d=\"{}\" fill=\"#000\" shape-rendering=\"crispEdges\"/></g>",
            super::svg::num(x),
            super::svg::num(y),
            scale,
            self.path_data()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_url_fits_a_small_symbol_at_level_q() {
        let qr = Qr::encode("https://minsheng.example.gov.cn/c/ABCDEFGHJK").unwrap();
        // 45 bytes at level Q need version 4 or 5 (33 or 37 modules).
        assert!(qr.width == 33 || qr.width == 37, "{}", qr.width);
        assert_eq!(qr.modules_with_quiet_zone(), qr.width + 8);
    }

    #[test]
    fn the_path_covers_exactly_the_dark_modules() {
        let qr = Qr::encode("http://minsheng.test/c/ABCDEFGHJK").unwrap();
        let d = qr.path_data();
        let mut area = 0usize;
        for part in d.split('M').skip(1) {
            let run: usize = part.split('h').nth(1).and_then(|s| s.split('v').next()).unwrap().parse().unwrap();
            area += run;
        }
        assert_eq!(area, qr.dark.iter().filter(|d| **d).count());
        // Finder pattern: the top-left module of the symbol is dark, right after the quiet zone.
        assert!(d.starts_with("M4 4h7v1h-7z"), "{}", &d[..20]);
    }
}
