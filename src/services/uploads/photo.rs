//! Photos: judged from their header before a single pixel is decoded (pixel count, and the memory the
//! decoder will hold), decoded only a few at a time (the caller holds a permit of
//! `AppState::photo_decodes`), then scaled down, turned upright and re-encoded, which drops EXIF
//! (GPS position, camera, time) and every other piece of metadata.
//!
//! A 353 KB PNG can declare 11000×11000 pixels: decoded, that is 363 MB, and the old Triangle resize
//! then held another 16 bytes a pixel of its width. Here such a file is refused from its header, and
//! scaling uses an area average (`thumbnail`) that allocates only the small output.
use crate::domain::media::{self, Media};
use image::{DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits};
use std::io::Cursor;

#[derive(Clone, Copy, Debug)]
pub struct PhotoLimits {
    pub max_pixels: u64,
    pub max_decode_bytes: u64,
    pub max_side: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("{width}×{height} pixels, {needs} bytes to decode")]
    TooLarge { width: u32, height: u32, needs: u64 },
    #[error("unreadable: {0}")]
    Unreadable(String),
}

fn format_of(media: Media) -> Result<ImageFormat, PhotoError> {
    match media {
        Media::Jpeg => Ok(ImageFormat::Jpeg),
        Media::Png => Ok(ImageFormat::Png),
        Media::Webp => Ok(ImageFormat::WebP),
        other => Err(PhotoError::Unreadable(format!("{other:?} is not a photo"))),
    }
}

/// What the PNG decoder may allocate for itself (`Limits::max_alloc`, which `image` hands to `png` as
/// its own budget): chiefly the ICC profile and text chunks it reads with the header, before any
/// decoding slot is taken. A profile that would inflate beyond it is dropped (we drop metadata anyway).
/// The old budget, 512 MiB (then 128), let a 200 KB `iCCP` chunk inflate to that much per request.
pub const PNG_METADATA_BUDGET: u64 = 8 * 1024 * 1024;

/// A decoder for the photo's header; nothing is decoded yet.
fn decoder<'a>(bytes: &'a [u8], media: Media, limits: &PhotoLimits) -> Result<impl ImageDecoder + 'a, PhotoError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format_of(media)?);
    let mut l = Limits::default();
    l.max_alloc = Some(PNG_METADATA_BUDGET.min(limits.max_decode_bytes));
    reader.limits(l);
    reader.into_decoder().map_err(|e| decode_error(e, limits))
}

fn decode_error(e: ImageError, limits: &PhotoLimits) -> PhotoError {
    match e {
        ImageError::Limits(_) => PhotoError::TooLarge { width: 0, height: 0, needs: limits.max_decode_bytes },
        e => PhotoError::Unreadable(e.to_string()),
    }
}

fn unreadable(e: ImageError) -> PhotoError {
    PhotoError::Unreadable(e.to_string())
}

/// Refuses a photo whose header declares too many pixels, or whose decoding would take more memory
/// than allowed: the output buffer, what the decoder keeps beside it (see `domain::media::image`),
/// the copy of the input the JPEG decoder makes and the PNG decoder's own budget.
pub fn inspect(bytes: &[u8], media: Media, limits: &PhotoLimits) -> Result<(), PhotoError> {
    let d = decoder(bytes, media, limits)?;
    let (width, height) = d.dimensions();
    let needs = d
        .total_bytes()
        .saturating_add(media::image::decoder_overhead(media, bytes, width, height))
        .saturating_add(bytes.len() as u64)
        .saturating_add(if media == Media::Png { PNG_METADATA_BUDGET } else { 0 });
    if u64::from(width) * u64::from(height) > limits.max_pixels || needs > limits.max_decode_bytes {
        return Err(PhotoError::TooLarge { width, height, needs });
    }
    Ok(())
}

/// Decodes, scales to `max_side`, orients and re-encodes: JPEG for photos, PNG when the source is
/// PNG (screenshots keep their sharp text). The output carries no metadata. Call `inspect` first.
pub fn clean(bytes: &[u8], media: Media, limits: &PhotoLimits) -> Result<(Vec<u8>, Media), PhotoError> {
    let mut d = decoder(bytes, media, limits)?;
    // A damaged EXIF block only costs the orientation, never the photo.
    let orientation = d.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(d).map_err(|e| decode_error(e, limits))?;
    // Scale before turning: the rotation then copies only the small image. `thumbnail` averages the
    // area under each output pixel and allocates nothing but its output.
    if img.width().max(img.height()) > limits.max_side {
        img = img.thumbnail(limits.max_side, limits.max_side);
    }
    img.apply_orientation(orientation);
    let mut out = Cursor::new(Vec::new());
    if media == Media::Png {
        img.write_to(&mut out, ImageFormat::Png).map_err(unreadable)?;
        Ok((out.into_inner(), Media::Png))
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        rgb.write_with_encoder(encoder).map_err(unreadable)?;
        Ok((out.into_inner(), Media::Jpeg))
    }
}
