//! Ogg (RFC 3533) carrying Opus (RFC 7845) or Vorbis: every page is checked — capture pattern,
//! version, flags, segment table, CRC — and the pages must tile the file exactly. The first page
//! opens the one logical stream and holds exactly its identification header; at least one audio
//! packet must follow the codec's header packets.
use super::{Refused, refuse};

const HEADER: usize = 27;

/// CRC-32 as Ogg defines it: polynomial 0x04C11DB7, not reflected, initial value 0, no final xor
/// (not the zlib CRC, which is reflected).
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut r = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04C1_1DB7 } else { r << 1 };
            bit += 1;
        }
        table[i] = r;
        i += 1;
    }
    table
};

pub fn crc_update(crc: u32, bytes: &[u8]) -> u32 {
    bytes.iter().fold(crc, |c, &b| (c << 8) ^ CRC_TABLE[((c >> 24) as u8 ^ b) as usize])
}

/// A page's checksum: computed with its own CRC field taken as zero.
pub fn page_crc(page: &[u8]) -> u32 {
    let c = crc_update(0, &page[..22]);
    crc_update(crc_update(c, &[0; 4]), &page[26..])
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Codec {
    Opus,
    Vorbis,
}

impl Codec {
    /// Header packets before the first audio packet.
    fn header_packets(self) -> usize {
        match self {
            Codec::Opus => 2,
            Codec::Vorbis => 3,
        }
    }
}

/// The identification header (the first packet of the stream).
fn codec_of(packet: &[u8]) -> Result<Codec, Refused> {
    if packet.starts_with(b"OpusHead") {
        // version (major 0), channels ≥ 1, …: RFC 7845 §5.1.
        if packet.len() < 19 || packet[8] >> 4 != 0 || packet[9] == 0 {
            return refuse("ogg: malformed OpusHead");
        }
        Ok(Codec::Opus)
    } else if packet.starts_with(b"\x01vorbis") {
        // vorbis_version 0, channels ≥ 1, rate > 0, framing bit set: Vorbis I §4.2.2.
        let rate = u32::from_le_bytes([packet[12], packet[13], packet[14], packet[15]]);
        if packet.len() != 30 || packet[7..11] != [0; 4] || packet[11] == 0 || rate == 0 || packet[29] & 1 == 0 {
            return refuse("ogg: malformed Vorbis identification header");
        }
        Ok(Codec::Vorbis)
    } else {
        refuse("ogg: the first packet is neither OpusHead nor a Vorbis identification header")
    }
}

pub fn probe(b: &[u8]) -> Result<(), Refused> {
    let mut at = 0usize;
    let mut page_no = 0u32;
    let mut serial = 0u32;
    let mut codec = None;
    let mut packets = 0usize;
    // The last page ended inside a packet, so the next page must say it continues one.
    let mut open_packet = false;
    let mut seen_eos = false;
    while at < b.len() {
        let page = &b[at..];
        if page.len() < HEADER || &page[..4] != b"OggS" {
            return refuse(format!("ogg: no page at byte {at}"));
        }
        if seen_eos {
            return refuse("ogg: data after the end-of-stream page");
        }
        let (version, flags, n) = (page[4], page[5], page[26] as usize);
        if version != 0 || flags & !0x07 != 0 {
            return refuse(format!("ogg: page {page_no}: version {version}, flags {flags:#x}"));
        }
        let Some(lacing) = page.get(HEADER..HEADER + n) else {
            return refuse(format!("ogg: page {page_no}: segment table cut off"));
        };
        let body_len: usize = lacing.iter().map(|&l| l as usize).sum();
        let len = HEADER + n + body_len;
        let Some(page) = page.get(..len) else {
            return refuse(format!("ogg: page {page_no}: runs past the end of the file"));
        };
        let stored = u32::from_le_bytes([page[22], page[23], page[24], page[25]]);
        let computed = page_crc(page);
        if stored != computed {
            return refuse(format!("ogg: page {page_no}: CRC {stored:#010x}, computed {computed:#010x}"));
        }
        let page_serial = u32::from_le_bytes([page[14], page[15], page[16], page[17]]);
        let sequence = u32::from_le_bytes([page[18], page[19], page[20], page[21]]);
        let (continued, bos, eos) = (flags & 1 != 0, flags & 2 != 0, flags & 4 != 0);
        if page_no == 0 {
            if !bos || continued {
                return refuse("ogg: the first page does not begin a stream");
            }
            serial = page_serial;
            // The identification header is alone on the first page and complete there.
            if lacing.last().is_none_or(|&l| l == 255) || lacing[..n - 1].iter().any(|&l| l < 255) {
                return refuse("ogg: the first page must hold exactly the identification header");
            }
            codec = Some(codec_of(&page[HEADER + n..])?);
        } else if bos || page_serial != serial {
            return refuse(format!("ogg: page {page_no}: a second logical stream"));
        }
        if sequence != page_no {
            return refuse(format!("ogg: page {page_no}: sequence number {sequence}"));
        }
        if continued != open_packet {
            return refuse(format!("ogg: page {page_no}: continuation flag does not match the previous page"));
        }
        packets += lacing.iter().filter(|&&l| l < 255).count();
        if let Some(&last) = lacing.last() {
            open_packet = last == 255;
        }
        seen_eos = eos;
        at += len;
        page_no += 1;
    }
    let Some(codec) = codec else { return refuse("ogg: empty file") };
    if open_packet {
        return refuse("ogg: the last packet is cut off");
    }
    if packets <= codec.header_packets() {
        return refuse(format!("ogg: {codec:?} headers without audio"));
    }
    Ok(())
}
