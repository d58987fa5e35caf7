//! What an uploaded file really is, told from its bytes alone (never from its name or declared type).
//! Photos are recognised by their signature here and proven by decoding (`services::uploads`); voice
//! notes cannot be decoded here, so their container is walked to the last byte instead: a file that
//! merely starts like Ogg or WebM (`OggS` followed by HTML) is refused.
//!
//! The walkers are pure and bounded: they only slice the input, never allocate from a declared size,
//! and their nesting depth is fixed by the code (no recursion driven by the file).
pub mod amr;
pub mod image;
pub mod isobmff;
pub mod matroska;
pub mod ogg;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    Jpeg,
    Png,
    Webp,
    Webm,
    Ogg,
    Mp4Audio,
    Amr,
    AmrWb,
}

impl Media {
    pub fn is_image(self) -> bool {
        matches!(self, Media::Jpeg | Media::Png | Media::Webp)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Media::Jpeg => "image/jpeg",
            Media::Png => "image/png",
            Media::Webp => "image/webp",
            Media::Webm => "audio/webm",
            Media::Ogg => "audio/ogg",
            Media::Mp4Audio => "audio/mp4",
            Media::Amr => "audio/amr",
            Media::AmrWb => "audio/amr-wb",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Media::Jpeg => "jpg",
            Media::Png => "png",
            Media::Webp => "webp",
            Media::Webm => "webm",
            Media::Ogg => "ogg",
            Media::Mp4Audio => "m4a",
            Media::Amr => "amr",
            Media::AmrWb => "awb",
        }
    }
}

/// Why a file is not an accepted voice note: for the log only (the client hears "unsupported type").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

pub(crate) fn refuse<T>(why: impl Into<String>) -> Result<T, Refused> {
    Err(Refused(why.into()))
}

/// The format a file claims by its leading bytes (magic numbers). For audio this is only a claim:
/// `identify` walks the container before believing it.
pub fn sniff(b: &[u8]) -> Option<Media> {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Media::Jpeg)
    } else if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Media::Png)
    } else if b.starts_with(b"RIFF") && b.len() >= 12 && &b[8..12] == b"WEBP" {
        Some(Media::Webp)
    } else if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some(Media::Webm)
    } else if b.starts_with(b"OggS") {
        Some(Media::Ogg)
    } else if b.len() >= 8 && &b[4..8] == b"ftyp" {
        Some(Media::Mp4Audio)
    } else if b.starts_with(amr::NB_MAGIC) {
        Some(Media::Amr)
    } else if b.starts_with(amr::WB_MAGIC) {
        Some(Media::AmrWb)
    } else {
        None
    }
}

/// Checks that a voice note is the audio container it claims to be, from its first to its last byte.
pub fn probe_audio(b: &[u8], claimed: Media) -> Result<Media, Refused> {
    match claimed {
        Media::Ogg => ogg::probe(b),
        Media::Webm => matroska::probe(b),
        Media::Mp4Audio => isobmff::probe(b),
        Media::Amr | Media::AmrWb => amr::probe(b),
        other => refuse(format!("{other:?} is not an audio container")),
    }?;
    Ok(claimed)
}

/// What a file is, or `None` when it is nothing we accept: images by signature (decoding proves
/// them later), voice notes by a walk of their whole container.
pub fn identify(b: &[u8]) -> Result<Media, Refused> {
    let claimed = sniff(b).ok_or_else(|| Refused("no known signature".into()))?;
    if claimed.is_image() { Ok(claimed) } else { probe_audio(b, claimed) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_content() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(Media::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Media::Png));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Media::Webp));
        assert_eq!(sniff(&[0x1A, 0x45, 0xDF, 0xA3, 1]), Some(Media::Webm));
        assert_eq!(sniff(b"OggS\0\x02"), Some(Media::Ogg));
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A \0\0"), Some(Media::Mp4Audio));
        assert_eq!(sniff(b"#!AMR\n"), Some(Media::Amr));
        assert_eq!(sniff(b"#!AMR-WB\n"), Some(Media::AmrWb));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"GIF89a"), None);
    }

    #[test]
    fn a_leading_signature_alone_is_not_a_voice_note() {
        for fake in [
            &b"OggS\0\x02\0\0\0\0\0\0\0\0voice"[..],
            &[0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81][..],
            &b"\0\0\0\x1cftypM4A \0\0\0\0M4A mp42isom"[..],
            &b"#!AMR\n<html><script>alert(1)</script></html>"[..],
        ] {
            assert!(identify(fake).is_err(), "{fake:?}");
        }
    }

    /// Real recordings (tests/fixtures/README.md says how each was made).
    const FIXTURES: [(&str, &[u8], Media); 9] = [
        ("voice.webm", include_bytes!("../../../tests/fixtures/voice.webm"), Media::Webm),
        ("voice-chromium.webm", include_bytes!("../../../tests/fixtures/voice-chromium.webm"), Media::Webm),
        (
            "voice-chromium-onestop.webm",
            include_bytes!("../../../tests/fixtures/voice-chromium-onestop.webm"),
            Media::Webm,
        ),
        ("voice.ogg", include_bytes!("../../../tests/fixtures/voice.ogg"), Media::Ogg),
        ("voice-vorbis.ogg", include_bytes!("../../../tests/fixtures/voice-vorbis.ogg"), Media::Ogg),
        ("voice.m4a", include_bytes!("../../../tests/fixtures/voice.m4a"), Media::Mp4Audio),
        ("voice-chromium.m4a", include_bytes!("../../../tests/fixtures/voice-chromium.m4a"), Media::Mp4Audio),
        ("voice.amr", include_bytes!("../../../tests/fixtures/voice.amr"), Media::Amr),
        ("video-only.mp4", include_bytes!("../../../tests/fixtures/video-only.mp4"), Media::Mp4Audio),
    ];
    const HTML: &[u8] = b"<html><script>alert(document.cookie)</script></html>";

    fn fixture(name: &str) -> Vec<u8> {
        FIXTURES.iter().find(|f| f.0 == name).map(|f| f.1.to_vec()).unwrap_or_default()
    }

    fn reason(b: &[u8]) -> String {
        match identify(b) {
            Ok(m) => panic!("accepted as {m:?}"),
            Err(Refused(why)) => why,
        }
    }

    #[test]
    fn every_real_recording_is_accepted_as_what_it_is() {
        for (name, bytes, media) in FIXTURES.iter().filter(|f| f.0 != "video-only.mp4") {
            assert_eq!(identify(bytes), Ok(*media), "{name}");
        }
    }

    #[test]
    fn a_signature_followed_by_html_is_refused() {
        assert!(reason(&[b"OggS".as_slice(), HTML].concat()).starts_with("ogg:"));
        assert!(reason(&[b"#!AMR\n".as_slice(), HTML].concat()).starts_with("amr:"));
        assert!(reason(&[&[0x1A, 0x45, 0xDF, 0xA3][..], HTML].concat()).starts_with("webm:"));
        // A well-formed ftyp box, then garbage.
        let m4a = fixture("voice.m4a");
        let ftyp_len = u32::from_be_bytes([m4a[0], m4a[1], m4a[2], m4a[3]]) as usize;
        assert!(reason(&[&m4a[..ftyp_len], HTML].concat()).starts_with("mp4:"));
    }

    #[test]
    fn a_cut_off_or_extended_recording_is_refused() {
        for (name, bytes, _) in FIXTURES.iter().filter(|f| f.0 != "video-only.mp4") {
            for cut in [bytes.len() - 1, bytes.len() - 20, bytes.len() / 2] {
                assert!(identify(&bytes[..cut]).is_err(), "{name} cut to {cut} bytes");
            }
            assert!(identify(&[bytes, HTML].concat()).is_err(), "{name} with HTML after it");
        }
    }

    #[test]
    fn an_ogg_page_with_a_wrong_crc_is_refused() {
        let mut ogg = fixture("voice.ogg");
        let last = ogg.len() - 1;
        ogg[last] ^= 0x01;
        assert!(reason(&ogg).contains("CRC"), "{}", reason(&ogg));
    }

    #[test]
    fn an_ogg_stream_must_open_with_an_opus_or_vorbis_header() {
        // "OpusHead" → "OpusHexd" with a correct CRC: refused for the header, not the checksum.
        let mut ogg = fixture("voice.ogg");
        let at = ogg.windows(8).position(|w| w == b"OpusHead").unwrap_or(0);
        ogg[at + 6] = b'x';
        let n = ogg[26] as usize;
        let len = 27 + n + ogg[27..27 + n].iter().map(|&l| l as usize).sum::<usize>();
        let crc = ogg::page_crc(&ogg[..len]);
        ogg[22..26].copy_from_slice(&crc.to_le_bytes());
        assert!(reason(&ogg).contains("neither OpusHead"), "{}", reason(&ogg));
    }

    #[test]
    fn containers_without_sound_are_refused() {
        assert!(reason(&fixture("video-only.mp4")).contains("video track"));
        // The WebM recording with its track made a video track (TrackType 2 → 1).
        let mut webm = fixture("voice.webm");
        let at = webm.windows(3).position(|w| w == [0x83, 0x81, 0x02]).unwrap_or(0);
        webm[at + 2] = 0x01;
        assert!(reason(&webm).contains("not audio"), "{}", reason(&webm));
    }
}
