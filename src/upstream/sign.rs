//! The signature of every request to the 12345 platform: HMAC-SHA256 with the app secret over the
//! canonical request, seven lines joined by `\n` (no trailing newline):
//!
//! ```text
//! GET                                   the method, upper case
//! /gateway/api/v1/orders                the path as sent (base URL's path included), not decoded
//! county=130529&cursor=c%2F1&limit=50   the query: pairs percent-encoded (RFC 3986), sorted
//! mk-test                               the app key (X-App-Key)
//! 1796547600                            Unix seconds (X-Timestamp)
//! 6b4f0c1e-…                            a fresh nonce (X-Nonce)
//! e3b0c442…b855                         lowercase hex SHA-256 of the body (of nothing for a GET)
//! ```
//!
//! sent as lowercase hex in `X-Signature`. The platform should refuse a timestamp more than five
//! minutes off and a nonce it has seen in that window.
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const APP_KEY: &str = "X-App-Key";
pub const TIMESTAMP: &str = "X-Timestamp";
pub const NONCE: &str = "X-Nonce";
pub const SIGNATURE: &str = "X-Signature";

/// The parts of a request that are signed.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// Raw (unencoded) pairs in any order.
    pub query: &'a [(&'a str, &'a str)],
    pub app_key: &'a str,
    pub timestamp: i64,
    pub nonce: &'a str,
    pub body: &'a [u8],
}

/// RFC 3986 percent-encoding: unreserved characters stay, every other byte becomes `%XX` (upper).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The query as signed and as sent: encoded pairs sorted by key, then value.
pub fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

pub fn canonical(r: &Request<'_>) -> String {
    [
        r.method.to_ascii_uppercase(),
        r.path.to_string(),
        canonical_query(r.query),
        r.app_key.to_string(),
        r.timestamp.to_string(),
        r.nonce.to_string(),
        hex::encode(Sha256::digest(r.body)),
    ]
    .join("\n")
}

/// Lowercase hex HMAC-SHA256 of `canonical` under `secret`.
pub fn signature(secret: &[u8], canonical: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_is_encoded_and_sorted() {
        assert_eq!(
            canonical_query(&[("limit", "50"), ("cursor", "c/1 +x"), ("county", "130529")]),
            "county=130529&cursor=c%2F1%20%2Bx&limit=50"
        );
        assert_eq!(encode("清"), "%E6%B8%85");
    }

    /// The vector was computed outside Rust, with
    /// `B=$(printf '{"status":"accepted"}' | sha256sum | cut -c1-64)` and
    /// `printf 'POST\n/gateway/api/v1/orders/U-1/status\n\nmk-test\n1796547600\nn-1\n%s' "$B" | openssl dgst -sha256 -hmac s3cret`.
    #[test]
    fn the_signature_matches_an_independent_computation() {
        let body = br#"{"status":"accepted"}"#;
        let r = Request {
            method: "post",
            path: "/gateway/api/v1/orders/U-1/status",
            query: &[],
            app_key: "mk-test",
            timestamp: 1_796_547_600,
            nonce: "n-1",
            body,
        };
        let c = canonical(&r);
        assert_eq!(c, format!("POST\n/gateway/api/v1/orders/U-1/status\n\nmk-test\n1796547600\nn-1\n{BODY_SHA256}"));
        assert_eq!(signature(b"s3cret", &c), EXPECTED);
    }

    const BODY_SHA256: &str = "0ba7c0356149946bf0642fab4ef85b95e7090f6f785d0fb84323d0c442e5190a";
    const EXPECTED: &str = "82108e68a1052e210e8743c752bfaa1fbad7c0bc85ac24914d949b3915f8c679";
}
