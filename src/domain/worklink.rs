//! The cadre's short link in the assignment SMS (`/w/{token}`): which assignment, for which staff
//! member, until when — signed with HMAC-SHA256 so it cannot be forged or altered, and compact
//! (about 30 characters) because every character of an SMS is paid for.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of the MAC kept in the token: 80 bits, far beyond guessing over HTTP.
const MAC_LEN: usize = 10;
const DOMAIN: &[u8] = b"minsheng-worklink-v1";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkLink {
    pub assignment_id: i64,
    /// The cadre the link acts for; `None` for a unit's duty phone (read-only page).
    pub staff_id: Option<i64>,
    /// Expiry, to the minute.
    pub expires: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    Invalid,
    Expired,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn take_varint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn mac(key: &[u8], payload: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut m = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(m) => m,
        Err(_) => return vec![0; MAC_LEN],
    };
    m.update(DOMAIN);
    m.update(payload);
    m.finalize().into_bytes()[..MAC_LEN].to_vec()
}

pub fn sign(key: &[u8], link: &WorkLink) -> String {
    let mut payload = vec![];
    put_varint(&mut payload, link.assignment_id.max(0) as u64);
    put_varint(&mut payload, link.staff_id.map_or(0, |s| s.max(0) as u64 + 1));
    put_varint(&mut payload, (link.expires.timestamp() / 60).max(0) as u64);
    let tag = mac(key, &payload);
    payload.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(payload)
}

/// Checks the signature first (a forged token learns nothing, not even "expired"), then expiry.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<WorkLink, LinkError> {
    if token.len() > 64 {
        return Err(LinkError::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LinkError::Invalid)?;
    if bytes.len() <= MAC_LEN {
        return Err(LinkError::Invalid);
    }
    let (payload, tag) = bytes.split_at(bytes.len() - MAC_LEN);
    let expected = mac(key, payload);
    // Constant-time comparison: no early exit on the first differing byte.
    if expected.iter().zip(tag).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
        return Err(LinkError::Invalid);
    }
    let mut pos = 0;
    let assignment_id = take_varint(payload, &mut pos).ok_or(LinkError::Invalid)? as i64;
    let staff = take_varint(payload, &mut pos).ok_or(LinkError::Invalid)?;
    let minutes = take_varint(payload, &mut pos).ok_or(LinkError::Invalid)? as i64;
    if pos != payload.len() {
        return Err(LinkError::Invalid);
    }
    let expires = Utc.timestamp_opt(minutes * 60, 0).single().ok_or(LinkError::Invalid)?;
    if now >= expires {
        return Err(LinkError::Expired);
    }
    Ok(WorkLink { assignment_id, staff_id: (staff > 0).then(|| staff as i64 - 1), expires })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn link() -> WorkLink {
        WorkLink {
            assignment_id: 123_456,
            staff_id: Some(42),
            expires: Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_signed_link_round_trips_and_is_short() {
        let token = sign(b"k", &link());
        assert!(token.len() <= 32, "{token}");
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        assert_eq!(verify(b"k", &token, now), Ok(link()));
        let duty = WorkLink { staff_id: None, ..link() };
        assert_eq!(verify(b"k", &sign(b"k", &duty), now), Ok(duty));
    }

    #[test]
    fn forged_altered_or_expired_links_are_refused() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let token = sign(b"k", &link());
        assert_eq!(verify(b"other", &token, now), Err(LinkError::Invalid));
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[0] ^= 1;
        assert_eq!(verify(b"k", &URL_SAFE_NO_PAD.encode(bytes), now), Err(LinkError::Invalid));
        assert_eq!(verify(b"k", "not a token!", now), Err(LinkError::Invalid));
        assert_eq!(verify(b"k", &token, link().expires), Err(LinkError::Expired));
        assert_eq!(verify(b"k", &token, link().expires - Duration::minutes(1)), Ok(link()));
    }
}
