//! The pure half of the Open311 GeoReport v2 facade: the API key an outside application presents
//! (shown once, only its SHA-256 stored, never printed by `Debug`), how our ticket states read as
//! the standard's `open`/`closed`, and the masking of numbers in text that is published.
use super::ticket::Status;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

const PREFIX: &str = "o311_";

/// An Open311 API key: `o311_` and 43 base64url characters (32 random bytes).
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// A key from 32 random bytes (the caller draws them).
    pub fn from_random(bytes: [u8; 32]) -> Self {
        ApiKey(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// A key as presented, if it has a key's shape.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.trim().strip_prefix(PREFIX)?;
        (body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
            .then(|| ApiKey(raw.trim().to_string()))
    }

    /// What is stored and looked up: the hex SHA-256 of the whole key.
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The key itself, for the one answer that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("o311_****")
    }
}

/// The standard's two states: a request is `closed` once it has been answered (resolved, visited,
/// closed) or set aside (merged into another, found invalid); everything else is still `open`. A
/// reopened ticket is open again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenStatus {
    Open,
    Closed,
}

impl OpenStatus {
    pub fn of(status: Status) -> Self {
        match status {
            Status::Resolved | Status::Visited | Status::Closed | Status::Merged | Status::Invalid => {
                OpenStatus::Closed
            }
            Status::Submitted
            | Status::Registered
            | Status::Dispatched
            | Status::Accepted
            | Status::InProgress
            | Status::Reopened
            | Status::Referred
            | Status::Paused => OpenStatus::Open,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            OpenStatus::Open => "open",
            OpenStatus::Closed => "closed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "open" => Some(OpenStatus::Open),
            "closed" => Some(OpenStatus::Closed),
            _ => None,
        }
    }

    /// Our states that read as this one.
    pub fn statuses(self) -> Vec<Status> {
        super::ticket::ALL_STATUSES.into_iter().filter(|s| OpenStatus::of(*s) == self).collect()
    }
}

/// The `status_notes` of a request: where it stands, in words a citizen understands.
pub fn status_note(status: Status) -> &'static str {
    match status {
        Status::Submitted => "已收到，等待登记",
        Status::Registered => "已登记，等待派单",
        Status::Dispatched => "已派单至承办单位，等待签收",
        Status::Accepted => "承办单位已签收，正在处理",
        Status::InProgress => "正在办理",
        Status::Resolved => "已办结，等待回访",
        Status::Visited => "已回访",
        Status::Closed => "已办结归档",
        Status::Reopened => "回访不满意，已重新办理",
        Status::Referred => "已提交村民议事会（三老合议）",
        Status::Merged => "与同一诉求合并办理",
        Status::Invalid => "经核实为无效诉求",
        Status::Paused => "经批准暂停办理（挂起），到期恢复",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_parses_back_and_hides_in_debug() {
        let k = ApiKey::from_random([3; 32]);
        assert_eq!(ApiKey::parse(k.expose()), Some(k.clone()));
        assert_eq!(format!("{k:?}"), "o311_****");
        assert_eq!(k.hash().len(), 64);
        assert_ne!(k.hash(), ApiKey::from_random([4; 32]).hash());
        for raw in ["", "o311_", "o311_short", "scr_abc", &format!("o311_{}!", "a".repeat(42))] {
            assert!(ApiKey::parse(raw).is_none(), "{raw}");
        }
    }

    #[test]
    fn every_state_is_open_or_closed_and_the_lists_split_them() {
        let open = OpenStatus::Open.statuses();
        let closed = OpenStatus::Closed.statuses();
        assert_eq!(open.len() + closed.len(), super::super::ticket::ALL_STATUSES.len());
        assert!(open.contains(&Status::Reopened) && closed.contains(&Status::Resolved));
        assert_eq!(OpenStatus::parse("closed"), Some(OpenStatus::Closed));
        assert_eq!(OpenStatus::parse("done"), None);
    }
}
