//! AMR and AMR-WB storage format (RFC 4867 §5): the magic line, then frames, each a header byte
//! (`0 FFFF Q 00`: frame type and quality) and the payload size its type fixes. The frames must add
//! up to the file exactly and at least one must carry speech.
use super::{Refused, refuse};

pub const NB_MAGIC: &[u8] = b"#!AMR\n";
pub const WB_MAGIC: &[u8] = b"#!AMR-WB\n";

/// Payload bytes per frame type; `None` for reserved types. NB: 0–7 speech modes, 8 SID, 9–11
/// other codecs' SID, 15 no data. WB: 0–8 speech modes, 9 SID, 14 speech lost, 15 no data.
const NB: [Option<usize>; 16] = [
    Some(12),
    Some(13),
    Some(15),
    Some(17),
    Some(19),
    Some(20),
    Some(26),
    Some(31),
    Some(5),
    Some(6),
    Some(5),
    Some(5),
    None,
    None,
    None,
    Some(0),
];
const WB: [Option<usize>; 16] = [
    Some(17),
    Some(23),
    Some(32),
    Some(36),
    Some(40),
    Some(46),
    Some(50),
    Some(58),
    Some(60),
    Some(5),
    None,
    None,
    None,
    None,
    Some(0),
    Some(0),
];

pub fn probe(b: &[u8]) -> Result<(), Refused> {
    let (mut at, sizes, speech_types) = if b.starts_with(NB_MAGIC) {
        (NB_MAGIC.len(), &NB, 8)
    } else if b.starts_with(WB_MAGIC) {
        (WB_MAGIC.len(), &WB, 9)
    } else {
        return refuse("amr: no single-channel AMR magic");
    };
    let mut speech = 0usize;
    while at < b.len() {
        let header = b[at];
        let kind = usize::from((header >> 3) & 0x0F);
        if header & 0x83 != 0 {
            return refuse(format!("amr: frame header {header:#04x} at byte {at} has padding bits set"));
        }
        let Some(payload) = sizes[kind] else {
            return refuse(format!("amr: reserved frame type {kind} at byte {at}"));
        };
        if kind < speech_types {
            speech += 1;
        }
        at += 1 + payload;
    }
    if at != b.len() {
        return refuse("amr: the last frame is cut off");
    }
    if speech == 0 {
        return refuse("amr: no speech frames");
    }
    Ok(())
}
