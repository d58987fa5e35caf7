//! Request signing for the SMS providers: pure functions (no clock, no randomness — both are
//! inputs), unit-tested against the providers' documented example values (PROTOCOLS §1, §2).
pub mod aliyun;
pub mod tencent;

use hmac::Mac;
use sha2::{Digest, Sha256};

/// RFC 3986 percent-encoding as both Alibaba Cloud signatures need it: unreserved characters
/// (`A-Z a-z 0-9 - _ . ~`) stay, every other UTF-8 byte becomes `%XY` in upper case.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Parameters sorted by name and joined as `k=v&…`, both percent-encoded.
pub fn canonical_query(params: &[(String, String)]) -> String {
    let mut sorted: Vec<(String, String)> =
        params.iter().map(|(k, v)| (percent_encode(k), percent_encode(v))).collect();
    sorted.sort();
    sorted.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = crate::domain::mac::hmac_sha256(key);
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_follows_rfc3986() {
        assert_eq!(percent_encode(" a!*'()~"), "%20a%21%2A%27%28%29~");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("A-z_0.9"), "A-z_0.9");
    }
}
