//! The villager's rating link in the rating SMS (`/r/{token}`): which ticket, which resolution of
//! it (its ledger sequence), valid through which UTC day — signed (`signed_link`). The token is
//! `ticket.seq.day.tag`, numbers in base 36 and the tag 96 bits in base64url (≈ 25 characters: the
//! whole token is one template variable, and providers allow at most 35 characters per variable).
//! That format is fixed: links already sent must keep working.
use super::signed_link::{LinkError, LinkKind};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};

const KIND: LinkKind = LinkKind { domain: b"rating|", tag_len: 12 };
const DAY: i64 = 86_400;

/// What a rating link stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RatingLink {
    pub ticket_id: i64,
    /// Ledger sequence of the resolution being rated.
    pub seq: i32,
}

fn b36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = String::new();
    loop {
        out.insert(0, char::from(DIGITS[(n % 36) as usize]));
        n /= 36;
        if n == 0 {
            return out;
        }
    }
}

/// A token for `link`, valid through the UTC day of `expires`.
pub fn sign(key: &[u8], link: RatingLink, expires: DateTime<Utc>) -> String {
    let day = expires.timestamp().div_euclid(DAY).max(0) as u64;
    let payload = format!("{}.{}.{}", b36(link.ticket_id.max(0) as u64), b36(link.seq.max(0) as u64), b36(day));
    let tag = KIND.tag(key, payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The link a token stands for, if it is genuine and its day has not passed.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<RatingLink, LinkError> {
    let (payload, tag) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Invalid)?;
    KIND.open(key, payload.as_bytes(), &tag, now, read)
}

/// The link in a genuine payload, and when it expires: at the end of its day.
fn read(payload: &[u8]) -> Option<(RatingLink, DateTime<Utc>)> {
    let payload = std::str::from_utf8(payload).ok()?;
    let fields: Vec<i64> = payload.split('.').filter_map(|p| i64::from_str_radix(p, 36).ok()).collect();
    let [ticket_id, seq, day] = fields[..] else { return None };
    let expires = Utc.timestamp_opt(day.checked_add(1)?.checked_mul(DAY)?, 0).single()?;
    Some((RatingLink { ticket_id, seq: seq as i32 }, expires))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    const KEY: [u8; 32] = [7; 32];

    fn link() -> RatingLink {
        RatingLink { ticket_id: 4711, seq: 7 }
    }

    fn expires() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 8, 15, 30, 0).unwrap()
    }

    #[test]
    fn a_link_is_valid_through_the_utc_day_of_its_expiry() {
        let token = sign(&KEY, link(), expires());
        assert!(token.len() <= 35, "{token}");
        let midnight = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
        assert_eq!(verify(&KEY, &token, midnight - Duration::seconds(1)), Ok(link()));
        assert_eq!(verify(&KEY, &token, midnight), Err(LinkError::Expired));
    }

    #[test]
    fn forged_or_altered_links_are_invalid_even_when_expired() {
        let token = sign(&KEY, link(), expires());
        let late = expires() + Duration::days(30);
        assert_eq!(verify(b"other", &token, late), Err(LinkError::Invalid));
        let altered = token.replacen("3mv.", "3mw.", 1);
        assert_ne!(altered, token);
        assert_eq!(verify(&KEY, &altered, late), Err(LinkError::Invalid));
        assert_eq!(verify(&KEY, "not a token", late), Err(LinkError::Invalid));
        let (payload, tag) = token.rsplit_once('.').unwrap();
        assert_eq!(verify(&KEY, &format!("{payload}.{}", &tag[..tag.len() - 2]), late), Err(LinkError::Invalid));
    }

    /// Tokens made by the code before `signed_link` (links already sent by SMS): they still verify,
    /// and signing the same links still gives them.
    #[test]
    fn tokens_made_by_the_earlier_code_still_verify() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let cases = [
            (link(), expires(), "3mv.7.g1n.z94p2Nk6rfjcXH3n"),
            (
                RatingLink { ticket_id: 1, seq: 3 },
                Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
                "1.3.g1f.WoOi3BiEuOsv1Ejn",
            ),
        ];
        for (link, expires, old) in cases {
            assert_eq!(verify(&KEY, old, now), Ok(link), "{old}");
            assert_eq!(sign(&KEY, link, expires), old);
        }
    }
}
