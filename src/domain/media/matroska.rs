//! WebM / Matroska (EBML): the EBML header names DocType `webm` or `matroska`; one Segment follows
//! (its size may be unknown, as MediaRecorder writes it) and runs to the end of the file; its
//! elements are known by ID and tile it exactly; Tracks come before the first Cluster and hold only
//! audio tracks with an audio codec; Clusters (also of unknown size) hold blocks of those tracks,
//! and there is at least one.
use super::{Refused, refuse};

const EBML: u32 = 0x1A45_DFA3;
const DOC_TYPE: u32 = 0x4282;
const EBML_READ_VERSION: u32 = 0x42F7;
const SEGMENT: u32 = 0x1853_8067;
const SEEK_HEAD: u32 = 0x114D_9B74;
const INFO: u32 = 0x1549_A966;
const TRACKS: u32 = 0x1654_AE6B;
const CLUSTER: u32 = 0x1F43_B675;
const CUES: u32 = 0x1C53_BB6B;
const ATTACHMENTS: u32 = 0x1941_A469;
const CHAPTERS: u32 = 0x1043_A770;
const TAGS: u32 = 0x1254_C367;
const VOID: u32 = 0xEC;
const CRC32: u32 = 0xBF;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const TRACK_TYPE: u32 = 0x83;
const CODEC_ID: u32 = 0x86;
const TIMESTAMP: u32 = 0xE7;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;
const POSITION: u32 = 0xA7;
const PREV_SIZE: u32 = 0xAB;
const SILENT_TRACKS: u32 = 0x5854;

const LEVEL_1: [u32; 8] = [SEEK_HEAD, INFO, TRACKS, CLUSTER, CUES, ATTACHMENTS, CHAPTERS, TAGS];
const AUDIO_TRACK: u64 = 2;
/// Audio codecs a voice note may carry (Matroska codec IDs; `A_AAC` also has profile suffixes).
const AUDIO_CODECS: [&str; 6] = ["A_OPUS", "A_VORBIS", "A_AAC", "A_MPEG/L3", "A_FLAC", "A_PCM/"];

/// One element: where its data starts and ends (`None`: unknown size, ends where its parent's
/// children stop).
struct Element {
    id: u32,
    data: usize,
    end: Option<usize>,
}

/// A variable-length integer's length from its first byte (1 to `max` bytes).
fn vint_len(first: u8, max: u32) -> Option<usize> {
    let n = first.leading_zeros() + 1;
    (n <= max).then_some(n as usize)
}

/// Reads the element header at `at`; a known size must end within `limit`.
fn element(b: &[u8], at: usize, limit: usize) -> Result<Element, Refused> {
    let cut = || Refused(format!("webm: element header cut off at byte {at}"));
    let first = *b.get(at).ok_or_else(cut)?;
    let id_len = vint_len(first, 4).ok_or_else(|| Refused(format!("webm: bad element ID at byte {at}")))?;
    let id_bytes = b.get(at..at + id_len).ok_or_else(cut)?;
    let id = id_bytes.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x));
    let size_at = at + id_len;
    let first = *b.get(size_at).ok_or_else(cut)?;
    let size_len = vint_len(first, 8).ok_or_else(|| Refused(format!("webm: bad element size at byte {size_at}")))?;
    let size_bytes = b.get(size_at..size_at + size_len).ok_or_else(cut)?;
    let marker_cleared = u64::from(first) & (0xFF >> size_len);
    let size = size_bytes[1..].iter().fold(marker_cleared, |v, &x| (v << 8) | u64::from(x));
    let unknown = size == (1u64 << (7 * size_len)) - 1;
    let data = size_at + size_len;
    if data > limit {
        return Err(cut());
    }
    let end = if unknown {
        None
    } else {
        let end = usize::try_from(size).ok().and_then(|s| data.checked_add(s)).filter(|&e| e <= limit);
        Some(end.ok_or_else(|| Refused(format!("webm: element {id:#x} at byte {at} runs past its parent")))?)
    };
    Ok(Element { id, data, end })
}

/// The data of an element that must have a known size.
fn known(e: &Element) -> Result<usize, Refused> {
    e.end.ok_or_else(|| Refused(format!("webm: element {:#x} of unknown size", e.id)))
}

/// The children of a known-size master element, which must tile it exactly.
fn children(b: &[u8], start: usize, end: usize) -> impl Iterator<Item = Result<(u32, usize, usize), Refused>> + '_ {
    let mut at = start;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let item = element(b, at, end).and_then(|e| {
            let e_end = known(&e)?;
            at = e_end;
            Ok((e.id, e.data, e_end))
        });
        if item.is_err() {
            at = end;
        }
        Some(item)
    })
}

fn uint(data: &[u8]) -> Result<u64, Refused> {
    if data.len() > 8 {
        return refuse("webm: integer longer than 8 bytes");
    }
    Ok(data.iter().fold(0u64, |v, &x| (v << 8) | u64::from(x)))
}

fn string(data: &[u8]) -> &[u8] {
    let end = data.iter().rposition(|&c| c != 0).map_or(0, |p| p + 1);
    &data[..end]
}

fn check_header(b: &[u8], data: usize, end: usize) -> Result<(), Refused> {
    let mut doc_type = None;
    for child in children(b, data, end) {
        let (id, s, e) = child?;
        match id {
            DOC_TYPE => doc_type = Some(string(&b[s..e])),
            EBML_READ_VERSION if uint(&b[s..e])? != 1 => return refuse("webm: EBML read version is not 1"),
            _ => {}
        }
    }
    match doc_type {
        Some(b"webm") | Some(b"matroska") => Ok(()),
        _ => refuse("webm: DocType is not webm or matroska"),
    }
}

/// The track numbers of the audio tracks; any other kind of track, or another codec, is refused.
fn audio_tracks(b: &[u8], data: usize, end: usize) -> Result<Vec<u64>, Refused> {
    let mut tracks = vec![];
    for entry in children(b, data, end) {
        let (id, s, e) = entry?;
        if id != TRACK_ENTRY {
            continue;
        }
        let (mut number, mut kind, mut codec) = (None, None, None);
        for field in children(b, s, e) {
            let (id, s, e) = field?;
            match id {
                TRACK_NUMBER => number = Some(uint(&b[s..e])?),
                TRACK_TYPE => kind = Some(uint(&b[s..e])?),
                CODEC_ID => codec = Some(string(&b[s..e])),
                _ => {}
            }
        }
        let (Some(number), Some(kind), Some(codec)) = (number, kind, codec) else {
            return refuse("webm: a track without number, type or codec");
        };
        if kind != AUDIO_TRACK {
            return refuse(format!("webm: track {number} is of type {kind}, not audio"));
        }
        if !AUDIO_CODECS.iter().any(|c| codec.starts_with(c.as_bytes())) {
            return refuse(format!("webm: audio codec {:?} is not accepted", String::from_utf8_lossy(codec)));
        }
        tracks.push(number);
    }
    if tracks.is_empty() {
        return refuse("webm: no audio track");
    }
    Ok(tracks)
}

/// A (Simple)Block's payload starts with its track number, then a 16-bit timecode and flags.
fn block_track(payload: &[u8]) -> Result<u64, Refused> {
    let first = *payload.first().ok_or_else(|| Refused("webm: empty block".into()))?;
    let n = vint_len(first, 8).ok_or_else(|| Refused("webm: bad block track number".into()))?;
    if payload.len() < n + 3 {
        return refuse("webm: block header cut off");
    }
    let value = payload[1..n].iter().fold(u64::from(first) & (0xFF >> n), |v, &x| (v << 8) | u64::from(x));
    Ok(value)
}

/// Walks a Cluster's children; returns where the cluster ends and how many blocks it holds. A
/// cluster of unknown size ends at the first top-level element or at its parent's end.
fn cluster(b: &[u8], c: &Element, parent_end: usize, tracks: &[u64]) -> Result<(usize, usize), Refused> {
    let end = c.end.unwrap_or(parent_end);
    let mut at = c.data;
    let mut blocks = 0;
    while at < end {
        let e = element(b, at, end)?;
        if c.end.is_none() && LEVEL_1.contains(&e.id) {
            return Ok((at, blocks));
        }
        let e_end = known(&e)?;
        let mut block = |payload: &[u8]| -> Result<(), Refused> {
            let track = block_track(payload)?;
            if !tracks.contains(&track) {
                return refuse(format!("webm: a block of unknown track {track}"));
            }
            blocks += 1;
            Ok(())
        };
        match e.id {
            SIMPLE_BLOCK => block(&b[e.data..e_end])?,
            BLOCK_GROUP => {
                for child in children(b, e.data, e_end) {
                    let (id, s, ce) = child?;
                    if id == BLOCK {
                        block(&b[s..ce])?;
                    }
                }
            }
            TIMESTAMP | POSITION | PREV_SIZE | SILENT_TRACKS | VOID | CRC32 => {}
            other => return refuse(format!("webm: unexpected element {other:#x} in a cluster")),
        }
        at = e_end;
    }
    Ok((end, blocks))
}

pub fn probe(b: &[u8]) -> Result<(), Refused> {
    let header = element(b, 0, b.len())?;
    if header.id != EBML {
        return refuse("webm: no EBML header");
    }
    let header_end = known(&header)?;
    check_header(b, header.data, header_end)?;
    let segment = element(b, header_end, b.len())?;
    if segment.id != SEGMENT {
        return refuse("webm: no Segment after the EBML header");
    }
    let end = segment.end.unwrap_or(b.len());
    if end != b.len() {
        return refuse("webm: bytes after the Segment");
    }
    let mut tracks: Option<Vec<u64>> = None;
    let mut blocks = 0;
    let mut at = segment.data;
    while at < end {
        let e = element(b, at, end)?;
        match e.id {
            TRACKS if tracks.is_none() => tracks = Some(audio_tracks(b, e.data, known(&e)?)?),
            CLUSTER => {
                let Some(tracks) = &tracks else { return refuse("webm: a Cluster before the Tracks") };
                let (cluster_end, n) = cluster(b, &e, end, tracks)?;
                blocks += n;
                at = cluster_end;
                continue;
            }
            SEEK_HEAD | INFO | CUES | ATTACHMENTS | CHAPTERS | TAGS | VOID | CRC32 => {
                known(&e)?;
            }
            other => return refuse(format!("webm: unexpected element {other:#x} in the Segment")),
        }
        at = known(&e)?;
    }
    if tracks.is_none() {
        return refuse("webm: no Tracks");
    }
    if blocks == 0 {
        return refuse("webm: no audio blocks");
    }
    Ok(())
}
