//! The villager's rating link in the rating SMS (`/r/{token}`): which ticket, which resolution of
//! it (its ledger sequence), valid through which UTC day — signed (`signed_link`). The whole token
//! is one template variable (providers allow at most 35 characters per variable), ≈ 25 characters.
//!
//! The token is `tag` then `ticket-seq-day`: the tag 96 bits in base64url, always 16 characters,
//! then the numbers in base 36 (digits and lower-case letters) joined by `-`. Only `[A-Za-z0-9_-]`,
//! so SMS apps keep the whole token inside the link (they end a link at a dot, and at the dot that
//! ends a sentence), and it never ends with `-` or `_`. The fixed-length tag comes first, so the
//! `-` and `_` it may hold are never read as separators.
//!
//! Links sent before (`ticket.seq.day.tag`, dots) still open: a token with a dot is read the old
//! way. The two formats sign different bytes (`-` or `.` between the numbers), so neither token can
//! be turned into the other.
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

/// Characters of the tag in a token: 12 bytes in base64url without padding.
const TAG_CHARS: usize = 16;
/// Between the numbers of a token (before: `.`, still read).
const SEP: char = '-';
const OLD_SEP: char = '.';
/// Longer than any token we make (the old format included).
const MAX_TOKEN: usize = 64;

fn payload(link: RatingLink, expires: DateTime<Utc>, sep: char) -> String {
    let day = expires.timestamp().div_euclid(DAY).max(0) as u64;
    let (ticket, seq) = (b36(link.ticket_id.max(0) as u64), b36(link.seq.max(0) as u64));
    format!("{ticket}{sep}{seq}{sep}{}", b36(day))
}

/// A token for `link`, valid through the UTC day of `expires`.
pub fn sign(key: &[u8], link: RatingLink, expires: DateTime<Utc>) -> String {
    let payload = payload(link, expires, SEP);
    let tag = URL_SAFE_NO_PAD.encode(KIND.tag(key, payload.as_bytes()));
    debug_assert_eq!(tag.len(), TAG_CHARS);
    format!("{tag}{payload}")
}

/// The link a token stands for, if it is genuine and its day has not passed. Reads both formats:
/// the one `sign` makes, and the dotted one of links sent before.
pub fn verify(key: &[u8], token: &str, now: DateTime<Utc>) -> Result<RatingLink, LinkError> {
    if token.len() > MAX_TOKEN || !token.is_ascii() {
        return Err(LinkError::Invalid);
    }
    let (payload, tag, sep) = match token.rsplit_once(OLD_SEP) {
        Some((payload, tag)) => (payload, tag, OLD_SEP),
        None if token.len() > TAG_CHARS => {
            let (tag, payload) = token.split_at(TAG_CHARS);
            (payload, tag, SEP)
        }
        None => return Err(LinkError::Invalid),
    };
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| LinkError::Invalid)?;
    KIND.open(key, payload.as_bytes(), &tag, now, |p| read(p, sep))
}

/// The link in a genuine payload (numbers joined by `sep`), and when it expires: at the end of its
/// day.
fn read(payload: &[u8], sep: char) -> Option<(RatingLink, DateTime<Utc>)> {
    let payload = std::str::from_utf8(payload).ok()?;
    let fields: Vec<i64> = payload.split(sep).map(|p| i64::from_str_radix(p, 36).ok()).collect::<Option<_>>()?;
    let [ticket_id, seq, day] = fields[..] else { return None };
    let expires = Utc.timestamp_opt(day.checked_add(1)?.checked_mul(DAY)?, 0).single()?;
    Some((RatingLink { ticket_id, seq: i32::try_from(seq).ok()? }, expires))
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

    /// What SMS apps keep inside a link: no dot, and no `-` or `_` at the end.
    fn sms_safe(token: &str) -> bool {
        token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            && token.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
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
    fn tokens_hold_only_characters_sms_apps_keep_in_a_link_and_stay_short() {
        let far = Utc.with_ymd_and_hms(2099, 12, 31, 0, 0, 0).unwrap();
        for (ticket_id, seq, key) in [(4711, 7, KEY), (1, 1, [0; 32]), (i64::from(u32::MAX), 400, [255; 32])] {
            for k in 0..64u8 {
                // Many keys: tags with `-` and `_` at either end.
                let mut key = key;
                key[0] = k;
                let token = sign(&key, RatingLink { ticket_id, seq }, far);
                assert!(sms_safe(&token) && token.len() <= 35, "{token}");
                let now = far - Duration::days(1);
                assert_eq!(verify(&key, &token, now), Ok(RatingLink { ticket_id, seq }), "{token}");
            }
        }
    }

    #[test]
    fn forged_or_altered_links_are_invalid_even_when_expired() {
        let token = sign(&KEY, link(), expires());
        let late = expires() + Duration::days(30);
        assert_eq!(verify(b"other", &token, late), Err(LinkError::Invalid));
        let altered = token.replacen("3mv-", "3mw-", 1);
        assert_ne!(altered, token);
        assert_eq!(verify(&KEY, &altered, late), Err(LinkError::Invalid));
        assert_eq!(verify(&KEY, "not a token", late), Err(LinkError::Invalid));
        assert_eq!(verify(&KEY, &token[..TAG_CHARS], late), Err(LinkError::Invalid));
        assert_eq!(verify(&KEY, &token[1..], late), Err(LinkError::Invalid));
        // The same link in the old format with the new tag, or the other way round: refused.
        let (tag, payload) = token.split_at(TAG_CHARS);
        assert_eq!(verify(&KEY, &format!("{}.{tag}", payload.replace('-', ".")), late), Err(LinkError::Invalid));
        let old = "3mv.7.g1n.z94p2Nk6rfjcXH3n";
        let (old_payload, old_tag) = old.rsplit_once('.').unwrap();
        assert_eq!(verify(&KEY, &format!("{old_tag}{}", old_payload.replace('.', "-")), late), Err(LinkError::Invalid));
    }

    /// Tokens made by the code before (dotted; links already sent by SMS): they still verify.
    #[test]
    fn tokens_made_by_the_earlier_code_still_verify() {
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        let cases =
            [(link(), "3mv.7.g1n.z94p2Nk6rfjcXH3n"), (RatingLink { ticket_id: 1, seq: 3 }, "1.3.g1f.WoOi3BiEuOsv1Ejn")];
        for (link, old) in cases {
            assert_eq!(verify(&KEY, old, now), Ok(link), "{old}");
        }
        let late = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
        assert_eq!(verify(&KEY, "3mv.7.g1n.z94p2Nk6rfjcXH3n", late), Err(LinkError::Expired));
    }

    /// The new format is fixed too, from now on: links sent with it must keep working.
    #[test]
    fn the_format_is_stable() {
        let cases = [
            (link(), expires(), "xTsWASxBYVsRiOSx3mv-7-g1n"),
            (
                RatingLink { ticket_id: 1, seq: 3 },
                Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap(),
                "DIedD0Hthq3ETMXA1-3-g1f",
            ),
        ];
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, 0).unwrap();
        for (link, expires, token) in cases {
            assert_eq!(sign(&KEY, link, expires), token);
            assert_eq!(verify(&KEY, token, now), Ok(link));
        }
    }
}
