//! Mainland mobile numbers: parsed once at the edge, masked wherever they are shown or logged.
use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    /// Accepts `13800138000`, `+8613800138000`, `008613800138000`, `8613800138000`, with spaces or
    /// dashes; anything else is not a mainland mobile (`^1[3-9]\d{9}$`).
    pub fn parse(input: &str) -> Option<Phone> {
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        let bare = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("0086"))
            .or_else(|| if digits.len() == 13 { digits.strip_prefix("86") } else { None })
            .unwrap_or(&digits);
        let b = bare.as_bytes();
        let ok = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) && b.iter().all(u8::is_ascii_digit);
        ok.then(|| Phone(bare.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`, for public views and logs.
    pub fn masked(&self) -> String {
        mask(&self.0)
    }

    pub fn tail4(&self) -> &str {
        &self.0[7..]
    }
}

/// Masks any stored phone string (it may predate validation): keeps the first 3 and last 4 digits.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mainland_mobiles_and_strips_prefixes() {
        for ok in ["13800138000", "19212345678", "+8613800138000", "008613800138000", "8613800138000", "138-0013-8000"]
        {
            let p = Phone::parse(ok).unwrap_or_else(|| panic!("{ok}"));
            assert!(p.as_str() == "13800138000" || p.as_str() == "19212345678");
        }
        for bad in ["12345678901", "1380013800", "138001380000", "", "abcdefghijk", "+85213800138000", "10800138000"] {
            assert!(Phone::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn masks_the_middle_in_display_debug_and_json() {
        let p = Phone::parse("13812345678").unwrap();
        assert_eq!(p.masked(), "138****5678");
        assert_eq!(format!("{p} {p:?}"), "138****5678 Phone(138****5678)");
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"138****5678\"");
        assert_eq!(p.tail4(), "5678");
    }
}
