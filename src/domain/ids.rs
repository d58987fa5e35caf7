//! Public identifiers: ticket numbers `YYYYMMDD-NNNNNN` and card codes.
use chrono::NaiveDate;
use rand::Rng;

/// A ticket number such as `20261122-000123`: the county-local day of receipt and the day's sequence.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TicketNo(String);

impl TicketNo {
    pub fn new(day: NaiveDate, seq: i64) -> TicketNo {
        TicketNo(format!("{}-{:06}", day.format("%Y%m%d"), seq))
    }

    pub fn parse(s: &str) -> Option<TicketNo> {
        let s = s.trim();
        let (day, seq) = s.split_once('-')?;
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        (digits(day, 8) && seq.len() >= 6 && digits(seq, seq.len()) && NaiveDate::parse_from_str(day, "%Y%m%d").is_ok())
            .then(|| TicketNo(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Card codes avoid look-alike characters (0/O, 1/I/L) so a code read aloud or typed from paper works.
pub const CARD_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 10 characters of a 31-letter alphabet: log2(31^10) ≈ 49.5 random bits.
pub const CARD_CODE_LEN: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CardCode(String);

impl CardCode {
    pub fn generate() -> CardCode {
        let mut rng = rand::thread_rng();
        let code = (0..CARD_CODE_LEN).map(|_| CARD_ALPHABET[rng.gen_range(0..CARD_ALPHABET.len())] as char).collect();
        CardCode(code)
    }

    /// Case-insensitive: a code typed in lower case is the same code.
    pub fn parse(s: &str) -> Option<CardCode> {
        let up = s.trim().to_ascii_uppercase();
        (up.len() == CARD_CODE_LEN && up.bytes().all(|b| CARD_ALPHABET.contains(&b))).then_some(CardCode(up))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_numbers_format_and_parse() {
        let no = TicketNo::new(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), 123);
        assert_eq!(no.as_str(), "20261122-000123");
        assert_eq!(TicketNo::parse("20261122-000123"), Some(no));
        assert_eq!(TicketNo::parse("20261122-1234567").unwrap().as_str(), "20261122-1234567");
        for bad in ["2026112-000123", "20261322-000123", "20261122-12", "x", "20261122-00012a"] {
            assert!(TicketNo::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn card_codes_have_no_look_alikes_and_enough_entropy() {
        for ch in b"01OIL" {
            assert!(!CARD_ALPHABET.contains(ch));
        }
        let bits = (CARD_ALPHABET.len() as f64).log2() * CARD_CODE_LEN as f64;
        assert!(bits >= 40.0, "{bits}");
        let c = CardCode::generate();
        assert_eq!(CardCode::parse(&c.as_str().to_lowercase()), Some(c));
        assert!(CardCode::parse("ABCDEFGH0J").is_none());
    }
}
