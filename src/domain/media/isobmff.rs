//! MP4 / M4A (ISO base media file format, ISO/IEC 14496-12): boxes with consistent sizes (32-bit,
//! 64-bit `largesize`, or 0 = "to the end") tile the file and each container exactly; `ftyp` comes
//! first; `moov` holds tracks whose `mdia/hdlr` handler is `soun` (no video track) and there is an
//! `mdat` with the samples.
use super::{Refused, refuse};

struct Box {
    kind: [u8; 4],
    data: usize,
    end: usize,
}

/// The boxes between `start` and `end`, which must tile that range exactly.
fn boxes(b: &[u8], start: usize, end: usize) -> impl Iterator<Item = Result<Box, Refused>> + '_ {
    let mut at = start;
    std::iter::from_fn(move || {
        if at >= end {
            return None;
        }
        let item = read_box(b, at, end);
        at = match &item {
            Ok(bx) => bx.end,
            Err(_) => end,
        };
        Some(item)
    })
}

fn read_box(b: &[u8], at: usize, end: usize) -> Result<Box, Refused> {
    let head = b.get(at..at + 8).filter(|_| at + 8 <= end);
    let Some(head) = head else { return refuse(format!("mp4: box header cut off at byte {at}")) };
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    if !kind.iter().all(|c| (0x20..=0x7E).contains(c)) {
        return refuse(format!("mp4: box type at byte {at} is not a four-character code"));
    }
    let (size, mut data) = match size32 {
        0 => ((end - at) as u64, at + 8),
        1 => {
            let Some(large) = b.get(at + 8..at + 16).filter(|_| at + 16 <= end) else {
                return refuse("mp4: 64-bit box size cut off");
            };
            let mut v = [0u8; 8];
            v.copy_from_slice(large);
            (u64::from_be_bytes(v), at + 16)
        }
        n => (u64::from(n), at + 8),
    };
    if &kind == b"uuid" {
        data += 16;
    }
    let box_end = usize::try_from(size).ok().and_then(|s| at.checked_add(s));
    match box_end {
        Some(box_end) if box_end <= end && box_end >= data => Ok(Box { kind, data, end: box_end }),
        _ => refuse(format!("mp4: box {:?} at byte {at} has an inconsistent size", String::from_utf8_lossy(&kind))),
    }
}

/// The handler type of a `trak` (`trak/mdia/hdlr`: `soun`, `vide`, …); both levels must tile.
fn handler(b: &[u8], trak: &Box) -> Result<[u8; 4], Refused> {
    let mut found = None;
    for child in boxes(b, trak.data, trak.end) {
        let mdia = child?;
        if &mdia.kind != b"mdia" {
            continue;
        }
        for child in boxes(b, mdia.data, mdia.end) {
            let hdlr = child?;
            if &hdlr.kind == b"hdlr" {
                // version and flags (4), pre_defined (4), handler_type (4)
                let Some(t) = b.get(hdlr.data + 8..hdlr.data + 12).filter(|_| hdlr.data + 12 <= hdlr.end) else {
                    return refuse("mp4: hdlr box too short");
                };
                found = Some([t[0], t[1], t[2], t[3]]);
            }
        }
    }
    found.ok_or_else(|| Refused("mp4: a track without mdia/hdlr".into()))
}

pub fn probe(b: &[u8]) -> Result<(), Refused> {
    let mut first = true;
    let (mut sound, mut mdat) = (false, false);
    for top in boxes(b, 0, b.len()) {
        let top = top?;
        if first {
            if &top.kind != b"ftyp" || top.end - top.data < 8 || (top.end - top.data) % 4 != 0 {
                return refuse("mp4: the file does not begin with a well-formed ftyp box");
            }
            first = false;
            continue;
        }
        match &top.kind {
            b"ftyp" => return refuse("mp4: a second ftyp box"),
            b"moov" => {
                for child in boxes(b, top.data, top.end) {
                    let trak = child?;
                    if &trak.kind != b"trak" {
                        continue;
                    }
                    match &handler(b, &trak)? {
                        b"soun" => sound = true,
                        b"vide" => return refuse("mp4: a video track (a voice note is sound only)"),
                        _ => {}
                    }
                }
            }
            b"mdat" => mdat |= top.end > top.data,
            _ => {}
        }
    }
    if first {
        return refuse("mp4: empty file");
    }
    if !sound {
        return refuse("mp4: no sound track");
    }
    if !mdat {
        return refuse("mp4: no media data (mdat)");
    }
    Ok(())
}
