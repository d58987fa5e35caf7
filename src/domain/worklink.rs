//! The cadre's short link in the assignment SMS (`/w/{token}`): which assignment, for which staff
//! member, until when — signed (`signed_link`) so it cannot be forged or altered, and compact
//! (about 30 characters) because every character of an SMS is paid for. The token is
//! base64url(varint payload ‖ tag); that format is fixed, links already sent must keep working.
pub use super::signed_link::LinkError;
use super::signed_link::LinkKind;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};

/// 10 bytes of the MAC kept in the token: 80 bits, far beyond guessing over HTTP.
const KIND: LinkKind = LinkKind { domain: b"minsheng-worklink-v1", tag_len: 10 };

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkLink {
    pub assignment_id: i64,
    /// The cadre the link acts for; `None` for a unit's duty phone (read-only page).
    pub staff_id: Option<i64>,
    /// Expiry, to the minute.
    pub expires: DateTime<Utc>,
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

pub fn sign(key: &[u8], link: &WorkLink) -> String {
    let mut payload = vec![];
    put_varint(&mut payload, link.assignment_id.max(0) as u64);
    put_varint(&mut payload, link.staff_id.map_or(0, |s| s.max(0) as u64 + 1));
    put_varint(&mut payload, (link.expires.timestamp() / 60).max(0) as u64);
    let tag = KIND.tag(key, &payload);
    payload.extend_from_slice(&tag);
    URL_SAFE_NO_PAD.encode(payload)
}

/// Checks the signature first (a forged token learns nothing, not even "expired"), then expiry.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<WorkLink, LinkError> {
    if token.len() > 64 {
        return Err(LinkError::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LinkError::Invalid)?;
    if bytes.len() <= KIND.tag_len {
        return Err(LinkError::Invalid);
    }
    let (payload, tag) = bytes.split_at(bytes.len() - KIND.tag_len);
    KIND.open(key, payload, tag, now, read)
}

/// The link in a genuine payload, and when it expires.
fn read(payload: &[u8]) -> Option<(WorkLink, DateTime<Utc>)> {
    let mut pos = 0;
    let assignment_id = i64::try_from(take_varint(payload, &mut pos)?).ok()?;
    let staff = take_varint(payload, &mut pos)?;
    let minutes = i64::try_from(take_varint(payload, &mut pos)?).ok()?;
    if pos != payload.len() {
        return None;
    }
    let expires = Utc.timestamp_opt(minutes.checked_mul(60)?, 0).single()?;
    let staff_id = if staff > 0 { Some(i64::try_from(staff - 1).ok()?) } else { None };
    Some((WorkLink { assignment_id, staff_id, expires }, expires))
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

    /// Tokens made by the code before `signed_link` (links already sent by SMS): they still verify,
    /// and signing the same links still gives them.
    #[test]
    fn tokens_made_by_the_earlier_code_still_verify() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let duty = WorkLink { staff_id: None, ..link() };
        let first = WorkLink {
            assignment_id: 9,
            staff_id: Some(0),
            expires: Utc.with_ymd_and_hms(2027, 1, 2, 3, 4, 0).unwrap(),
        };
        let key32 = [7u8; 32];
        let cases: [(&[u8], WorkLink, &str); 3] = [
            (b"k", link(), "wMQHK-CMow4QXKhPHjyX1KjY"),
            (b"k", duty, "wMQHAOCMow4BHra0f8yyxVr3"),
            (&key32, first, "CQG48qUOmMEVWBCgPlVUBw"),
        ];
        for (key, link, old) in cases {
            assert_eq!(verify(key, old, now), Ok(link), "{old}");
            assert_eq!(sign(key, &link), old);
        }
    }
}
