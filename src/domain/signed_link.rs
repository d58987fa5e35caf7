//! Signed links: a payload and a truncated HMAC-SHA256 tag under a purpose's own key, so a link in
//! an SMS cannot be forged or altered and stays short. Each kind of link (the cadre's `/w/`, the
//! villager's `/r/`) frames its payload and tag its own way — those formats are fixed on the wire,
//! links already sent must keep working — and shares what is here: the tag, its constant-time check,
//! and the order of checks (signature first, so a forged token learns nothing, not even "expired";
//! then the payload; then expiry).
use super::mac;
use chrono::{DateTime, Utc};
use hmac::Mac;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not a token we made: malformed, altered, forged, or signed with another key.
    Invalid,
    /// Genuine, but past its expiry.
    Expired,
}

/// One kind of link: the bytes its tag is separated from other purposes with, and how many bytes of
/// the HMAC-SHA256 it keeps.
#[derive(Clone, Copy, Debug)]
pub struct LinkKind {
    pub domain: &'static [u8],
    pub tag_len: usize,
}

impl LinkKind {
    /// The first `tag_len` bytes of HMAC-SHA256(key, domain ‖ payload).
    pub fn tag(&self, key: &[u8], payload: &[u8]) -> Vec<u8> {
        let mut m = mac::hmac_sha256(key);
        m.update(self.domain);
        m.update(payload);
        let full = m.finalize().into_bytes();
        full[..self.tag_len.min(full.len())].to_vec()
    }

    /// Opens a presented link: `tag` must be the payload's (compared in constant time); only then is
    /// the payload read by `decode` (its value and the instant it expires), and `now` must be
    /// before that instant.
    pub fn open<T>(
        &self,
        key: &[u8],
        payload: &[u8],
        tag: &[u8],
        now: DateTime<Utc>,
        decode: impl FnOnce(&[u8]) -> Option<(T, DateTime<Utc>)>,
    ) -> Result<T, LinkError> {
        if tag.len() != self.tag_len || !mac::equal(&self.tag(key, payload), tag) {
            return Err(LinkError::Invalid);
        }
        let (value, expires) = decode(payload).ok_or(LinkError::Invalid)?;
        if now >= expires {
            return Err(LinkError::Expired);
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    const KIND: LinkKind = LinkKind { domain: b"test-v1", tag_len: 8 };

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap()
    }

    fn decode(p: &[u8]) -> Option<(Vec<u8>, DateTime<Utc>)> {
        (p != b"unreadable").then(|| (p.to_vec(), at()))
    }

    #[test]
    fn a_tag_opens_its_payload_until_expiry() {
        let tag = KIND.tag(b"key", b"payload");
        assert_eq!(tag.len(), 8);
        let before = at() - Duration::seconds(1);
        assert_eq!(KIND.open(b"key", b"payload", &tag, before, decode), Ok(b"payload".to_vec()));
        assert_eq!(KIND.open(b"key", b"payload", &tag, at(), decode), Err(LinkError::Expired));
    }

    #[test]
    fn another_key_domain_payload_or_tag_length_is_invalid_even_when_expired() {
        let tag = KIND.tag(b"key", b"payload");
        let late = at() + Duration::days(1);
        assert_eq!(KIND.open(b"other", b"payload", &tag, late, decode), Err(LinkError::Invalid));
        assert_eq!(KIND.open(b"key", b"payloaD", &tag, late, decode), Err(LinkError::Invalid));
        assert_eq!(KIND.open(b"key", b"payload", &tag[..7], late, decode), Err(LinkError::Invalid));
        let other_domain = LinkKind { domain: b"test-v2", tag_len: 8 };
        assert_eq!(other_domain.open(b"key", b"payload", &tag, late, decode), Err(LinkError::Invalid));
        let longer = LinkKind { domain: b"test-v1", tag_len: 12 };
        assert_eq!(longer.tag(b"key", b"payload")[..8], tag[..], "a longer tag starts with the shorter one");
        // A genuine payload the decoder cannot read is invalid, not expired.
        let tag = KIND.tag(b"key", b"unreadable");
        assert_eq!(KIND.open(b"key", b"unreadable", &tag, late, decode), Err(LinkError::Invalid));
    }
}
