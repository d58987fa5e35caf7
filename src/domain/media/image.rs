//! How much memory decoding a photo takes, told from its header before any pixel is decoded. The
//! `image` crate's own `Limits::max_alloc` does not cover it: a caller-driven decode (`into_decoder`
//! then `from_decoder`) does not count the output buffer, the JPEG decoder ignores `max_alloc`
//! (only width and height reach zune-jpeg) and keeps a whole plane of 16-bit coefficients per
//! component for progressive files, and the WebP decoder keeps its own frame buffers beside the
//! output. This estimate adds those buffers to the output size so the caller can refuse first.
use super::Media;

/// Bytes a decoder holds beside the output buffer (`width`×`height` as its header declares them).
pub fn decoder_overhead(media: Media, bytes: &[u8], width: u32, height: u32) -> u64 {
    let (w, h) = (u64::from(width), u64::from(height));
    match media {
        Media::Jpeg => match jpeg_frame(bytes) {
            Some(frame) => frame.coefficient_bytes(w, h),
            // A header we cannot follow: assume the worst, four full-size coefficient planes.
            None => 4 * 2 * (w + 32) * (h + 32),
        },
        // Simple lossy: Y, U and V planes (1.5 bytes a pixel, rounded up to macroblocks). Lossless:
        // an RGBA frame before it is cut to RGB. Extended (alpha, animation): both and a canvas.
        Media::Webp => match bytes.get(12..16) {
            Some(b"VP8 ") => 2 * (w + 16) * (h + 16),
            Some(b"VP8L") => 4 * w * h,
            _ => 9 * w * h,
        },
        // PNG decodes row by row: the current and previous rows (at most 8 bytes a pixel each).
        Media::Png => 2 * 8 * (w + 1),
        _ => 0,
    }
}

/// What the frame and first scan headers of a JPEG say about the decoder's buffers.
#[derive(Debug, PartialEq, Eq)]
struct JpegFrame {
    progressive: bool,
    /// Sampling factors (horizontal, vertical) per component.
    sampling: Vec<(u64, u64)>,
    first_scan_components: usize,
}

impl JpegFrame {
    /// A baseline image whose first scan holds every component is decoded one row of blocks at a
    /// time; otherwise (progressive, or components in separate scans) zune-jpeg keeps every
    /// component's coefficients (i16) for the whole image until the last scan.
    fn coefficient_bytes(&self, w: u64, h: u64) -> u64 {
        if !self.progressive && self.first_scan_components >= self.sampling.len() {
            return 0;
        }
        let h_max = self.sampling.iter().map(|s| s.0).max().unwrap_or(1);
        let v_max = self.sampling.iter().map(|s| s.1).max().unwrap_or(1);
        let per_component = |(hs, vs): (u64, u64)| {
            if h_max == 1 && v_max == 1 {
                w.div_ceil(8) * h.div_ceil(8) * 64
            } else {
                w.div_ceil(8 * h_max) * h.div_ceil(8 * v_max) * 64 * hs * vs
            }
        };
        2 * self.sampling.iter().map(|&s| per_component(s)).sum::<u64>()
    }
}

/// Walks the marker segments up to the first scan (SOS). `None` when the header is not followed.
fn jpeg_frame(b: &[u8]) -> Option<JpegFrame> {
    if !b.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut at = 2;
    let mut frame: Option<JpegFrame> = None;
    loop {
        if *b.get(at)? != 0xFF {
            return None;
        }
        while *b.get(at)? == 0xFF {
            at += 1; // fill bytes
        }
        let marker = b[at];
        at += 1;
        if matches!(marker, 0x01 | 0xD0..=0xD8) {
            continue; // markers without a length
        }
        let len = usize::from(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]));
        let segment = b.get(at + 2..at + len.max(2))?;
        match marker {
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                let count = usize::from(*segment.get(5)?);
                let mut sampling = Vec::with_capacity(count.min(4));
                for i in 0..count {
                    let hv = *segment.get(6 + 3 * i + 1)?;
                    let (hs, vs) = (u64::from(hv >> 4), u64::from(hv & 0x0F));
                    if !(1..=4).contains(&hs) || !(1..=4).contains(&vs) || i >= 4 {
                        return None;
                    }
                    sampling.push((hs, vs));
                }
                let progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                frame = Some(JpegFrame { progressive, sampling, first_scan_components: 0 });
            }
            0xDA => {
                let mut frame = frame?;
                frame.first_scan_components = usize::from(*segment.first()?);
                return Some(frame);
            }
            0xD9 => return None,
            _ => {}
        }
        at += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SOI, SOF (marker `sof`) of 4000×3000 with the given sampling, SOS with `scan` components.
    fn jpeg(sof: u8, sampling: &[u8], scan: u8) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 4, 0, 0];
        let n = sampling.len() as u8;
        b.extend([0xFF, sof, 0, 8 + 3 * n, 8, 0x0B, 0xB8, 0x0F, 0xA0, n]);
        for (i, hv) in sampling.iter().enumerate() {
            b.extend([i as u8 + 1, *hv, 0]);
        }
        b.extend([0xFF, 0xFF, 0xDA, 0, 6 + 2 * scan, scan]);
        b.extend(std::iter::repeat_n(0, 3 + 2 * scan as usize));
        b
    }

    #[test]
    fn baseline_jpegs_need_no_coefficient_planes() {
        let b = jpeg(0xC0, &[0x22, 0x11, 0x11], 3);
        assert_eq!(decoder_overhead(Media::Jpeg, &b, 4000, 3000), 0);
    }

    #[test]
    fn progressive_jpegs_keep_every_coefficient() {
        // 4:2:0 in 16-pixel MCUs: luma 4000×3008, chroma 2000×1504 each, two bytes a coefficient.
        let b = jpeg(0xC2, &[0x22, 0x11, 0x11], 3);
        assert_eq!(decoder_overhead(Media::Jpeg, &b, 4000, 3000), 2 * (4000 * 3008 + 2 * 2000 * 1504));
        // 4:4:4 in separate baseline scans: three full planes.
        let b = jpeg(0xC0, &[0x11, 0x11, 0x11], 1);
        assert_eq!(decoder_overhead(Media::Jpeg, &b, 4000, 3000), 2 * 3 * 4000 * 3000);
    }

    #[test]
    fn a_real_progressive_jpeg_is_recognised() {
        // jpegtran -progressive of a 64×48 4:2:0 JPEG: 4×3 MCUs of 16×16, six blocks each.
        let b = include_bytes!("../../../tests/fixtures/progressive-64x48.jpg");
        assert_eq!(decoder_overhead(Media::Jpeg, b, 64, 48), 2 * 4 * 3 * 6 * 64);
    }

    #[test]
    fn an_unreadable_jpeg_header_is_assumed_the_worst() {
        let worst = 8 * (4000 + 32) * (3000 + 32);
        assert_eq!(decoder_overhead(Media::Jpeg, &[0xFF, 0xD8, 0xFF, 0xC2, 0, 200], 4000, 3000), worst);
        assert_eq!(decoder_overhead(Media::Jpeg, &jpeg(0xC2, &[0x55], 1), 4000, 3000), worst);
    }
}
