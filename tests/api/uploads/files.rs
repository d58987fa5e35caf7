//! Files the upload tests send: an image bomb built by hand, a large photo, the process's peak memory.

/// Deflate's bits, least significant first (RFC 1951 §3.1.1).
#[derive(Default)]
struct Bits {
    out: Vec<u8>,
    used: u32,
}

impl Bits {
    /// A number of `n` bits (header fields, extra bits).
    fn put(&mut self, value: u32, n: u32) {
        for i in 0..n {
            if self.used == 0 {
                self.out.push(0);
            }
            if let Some(last) = self.out.last_mut() {
                *last |= (((value >> i) & 1) as u8) << self.used;
            }
            self.used = (self.used + 1) % 8;
        }
    }

    /// A Huffman code of `n` bits, most significant bit first.
    fn code(&mut self, code: u32, n: u32) {
        for i in (0..n).rev() {
            self.put((code >> i) & 1, 1);
        }
    }
}

/// A zlib stream of `n` zero bytes, about 1000:1: one dynamic-Huffman block whose only codes are
/// the literal 0 (`10`), end of block (`11`), length 258 (`0`) and distance 1 (`0`), so every
/// further 258 zeros cost two bits.
fn zlib_of_zeros(n: u64) -> Vec<u8> {
    let mut b = Bits::default();
    b.put(1, 1); // BFINAL
    b.put(2, 2); // BTYPE: dynamic Huffman
    b.put(286 - 257, 5); // HLIT
    b.put(2 - 1, 5); // HDIST
    b.put(18 - 4, 4); // HCLEN
    // Code-length code lengths, in the order 16 17 18 0 8 7 9 6 10 5 11 4 12 3 13 2 14 1:
    // 18 (runs of zeros) → `0`, 1 → `10`, 2 → `11`.
    for len in [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2] {
        b.put(len, 3);
    }
    let (len1, len2, zeros) = ((0b10, 2), (0b11, 2), (0b0, 1));
    b.code(len2.0, len2.1); // literal 0: length 2
    for run in [138, 117] {
        b.code(zeros.0, zeros.1); // literals 1–255: unused
        b.put(run - 11, 7);
    }
    b.code(len2.0, len2.1); // 256 (end of block): length 2
    b.code(zeros.0, zeros.1); // 257–284: unused
    b.put(28 - 11, 7);
    b.code(len1.0, len1.1); // 285 (length 258): length 1
    b.code(len1.0, len1.1); // distance codes 0 and 1: length 1
    b.code(len1.0, len1.1);
    b.code(0b10, 2); // one literal 0, then copies of it
    for _ in 0..(n - 1) / 258 {
        b.code(0, 1); // length 258
        b.code(0, 1); // distance 1
    }
    for _ in 0..(n - 1) % 258 {
        b.code(0b10, 2);
    }
    b.code(0b11, 2); // end of block
    let adler = ((n % 65521) << 16) as u32 | 1; // a = 1 + Σ0, b = Σa = n
    [vec![0x78, 0x01], b.out, adler.to_be_bytes().to_vec()].concat()
}

fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |mut c, &x| {
        c ^= u32::from(x);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 };
        }
        c
    })
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let body = [&kind[..], data].concat();
    [&(data.len() as u32).to_be_bytes()[..], &body, &crc32(&body).to_be_bytes()].concat()
}

/// A black RGB PNG of `width`×`height`: 11000×11000 declares 363 MB of pixels in ~350 KB.
pub fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = [width.to_be_bytes(), height.to_be_bytes()].concat();
    ihdr.extend([8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive filters, not interlaced
    let raw = (u64::from(width) * 3 + 1) * u64::from(height); // a filter byte before each row
    [b"\x89PNG\r\n\x1a\n".to_vec(), chunk(b"IHDR", &ihdr), chunk(b"IDAT", &zlib_of_zeros(raw)), chunk(b"IEND", &[])]
        .concat()
}

/// An 8×8 black PNG whose ICC profile (`iCCP`, read while the header is parsed) inflates to
/// `inflated` bytes.
pub fn png_with_icc_bomb(inflated: u64) -> Vec<u8> {
    let mut ihdr = [8u32.to_be_bytes(), 8u32.to_be_bytes()].concat();
    ihdr.extend([8, 2, 0, 0, 0]);
    let iccp = [&b"bomb\0\0"[..], &zlib_of_zeros(inflated)].concat(); // name, compression method 0
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        chunk(b"IHDR", &ihdr),
        chunk(b"iCCP", &iccp),
        chunk(b"IDAT", &zlib_of_zeros((8 * 3 + 1) * 8)),
        chunk(b"IEND", &[]),
    ]
    .concat()
}

/// A baseline 4:2:0 JPEG of `width`×`height` in flat grey, built by hand so that a 24-megapixel
/// photo costs the test nothing to make: one Huffman code (`0`) for "DC unchanged" and one for "end
/// of block", so each of the 6 blocks of a 16×16 MCU takes two zero bits.
pub fn flat_jpeg(width: u16, height: u16) -> Vec<u8> {
    let segment =
        |marker: u8, data: &[u8]| [&[0xFF, marker][..], &((data.len() + 2) as u16).to_be_bytes(), data].concat();
    let [w0, w1] = width.to_be_bytes();
    let [h0, h1] = height.to_be_bytes();
    let mut one_code = vec![1u8]; // one code of length 1 …
    one_code.extend([0u8; 15]);
    one_code.push(0x00); // … for symbol 0 (DC: difference 0; AC: end of block)
    let mcus = u64::from(width).div_ceil(16) * u64::from(height).div_ceil(16);
    [
        vec![0xFF, 0xD8],
        segment(0xDB, &[[0u8].as_slice(), &[1u8; 64]].concat()), // quantisation table 0: all ones
        segment(0xC0, &[8, h0, h1, w0, w1, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]), // Y 2×2, Cb, Cr
        segment(0xC4, &[[0x00u8].as_slice(), &one_code].concat()), // DC table 0
        segment(0xC4, &[[0x10u8].as_slice(), &one_code].concat()), // AC table 0
        segment(0xDA, &[3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]),
        vec![0u8; (mcus * 6 * 2).div_ceil(8) as usize],
        vec![0xFF, 0xD9],
    ]
    .concat()
}

/// A line of /proc/self/status in kB (`VmHWM`: peak resident memory; `VmRSS`: now).
pub fn status_kb(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
        .unwrap_or(0)
}

/// Starts a new peak: writing 5 to clear_refs sets VmHWM to the present RSS (Linux ≥ 4.0). Returns
/// the peak to compare with afterwards.
pub fn restart_peak() -> u64 {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("clear_refs not writable: measuring against the process's earlier peak");
    }
    status_kb("VmHWM")
}

/// Every file under a directory (uploads are written under `YYYY/MM/`).
pub fn files_under(dir: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.flatten().map(|e| if e.path().is_dir() { files_under(&e.path().to_string_lossy()) } else { 1 }).sum()
}
