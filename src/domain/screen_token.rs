//! A big screen's token: `scr_` and 43 base64url characters (32 random bytes). It is shown once, when
//! an admin makes the screen; only its SHA-256 is stored. `Debug` never prints it.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const PREFIX: &str = "scr_";

#[derive(Clone, PartialEq, Eq)]
pub struct ScreenToken(String);

impl ScreenToken {
    /// A token from 32 random bytes (the caller draws them).
    pub fn from_random(bytes: [u8; 32]) -> Self {
        ScreenToken(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A token as presented, if it has a screen token's shape (a staff JWT never does).
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(PREFIX)?;
        (body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| ScreenToken(raw.to_string()))
    }

    /// What is stored and looked up: the hex SHA-256 of the whole token.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The token itself, for the one answer that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ScreenToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scr_****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_token_parses_back_and_hides_in_debug() {
        let t = ScreenToken::from_random([7; 32]);
        assert_eq!(ScreenToken::parse(t.expose()), Some(t.clone()));
        assert_eq!(format!("{t:?}"), "scr_****");
        assert_eq!(t.hash().len(), 64);
        assert_ne!(t.hash(), ScreenToken::from_random([8; 32]).hash());
    }

    #[test]
    fn other_tokens_are_not_screen_tokens() {
        for raw in ["", "scr_", "scr_short", "eyJhbGciOiJIUzI1NiJ9.e30.sig", &format!("scr_{}", "a".repeat(42) + "!")] {
            assert!(ScreenToken::parse(raw).is_none(), "{raw}");
        }
    }
}
