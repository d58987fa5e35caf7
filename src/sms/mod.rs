//! SMS: the provider trait, the providers, the message templates, and the gateway that sends
//! through them with failover and rate limits. Messages never go out from a request handler: they
//! are written to the outbox and sent by `workers::outbox`.
pub mod callbacks;
pub mod gateway;
pub mod kinds;
pub mod params;
pub mod providers;
pub mod quiet;
pub mod ratelimit;
pub mod replies;
pub mod retry;
pub mod settings;
pub mod signing;
pub mod templates;
pub mod values;

pub use gateway::Gateway;

use async_trait::async_trait;
use values::{AttemptOutcome, ProviderName};

/// One message as the outbox hands it to a provider.
#[derive(Clone, Debug)]
pub struct OutgoingSms {
    /// The outbox id: the idempotency key toward the provider (Alibaba `OutId`, Tencent
    /// `SessionContext`, the generic gateway's `Idempotency-Key` header).
    pub id: i64,
    pub phone: String,
    pub body: String,
    /// The message kind (`assignment`, `confirmation`, …): selects the provider template.
    pub template: String,
    pub params: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub provider_message_id: Option<String>,
}

/// When a deferred message may try again: the provider's rate-limit windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    Seconds(i64),
    /// The next natural minute, hour, day or month in county time (Alibaba counts in UTC+8 windows).
    Minute,
    Hour,
    Day,
    Month,
}

/// Why a send failed. The worker decides from the class: `Rejected` never goes (bad number, bad
/// parameters), `Transient` may go later or elsewhere (5xx, timeouts, throttling), `Deferred` must
/// wait for a rate-limit window, `ProviderFault` is this provider's account or configuration
/// (signature, template, balance, credentials): try the other provider and alert operations.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("transient: {0}")]
    Transient(String),
    #[error("deferred: {reason}")]
    Deferred { reason: String, window: Window },
    #[error("provider fault: {0}")]
    ProviderFault(String),
    /// The request went out and no answer came back (a read timeout): the provider may have
    /// accepted it. Neither Alibaba nor Tencent deduplicates, so the message is not sent anywhere
    /// else at once; its receipt gets time to arrive first.
    #[error("unknown: {0}")]
    Unknown(String),
}

impl SendError {
    /// The outcome recorded per attempt.
    pub fn outcome(&self) -> AttemptOutcome {
        match self {
            SendError::Rejected(_) => AttemptOutcome::Rejected,
            SendError::Transient(_) => AttemptOutcome::Transient,
            SendError::Deferred { .. } => AttemptOutcome::Deferred,
            SendError::ProviderFault(_) => AttemptOutcome::ProviderFault,
            SendError::Unknown(_) => AttemptOutcome::Unknown,
        }
    }

    /// Transport failures. A connection that never opened (or a request that could not be built)
    /// sent nothing: transient. Anything after that — a timeout, a connection reset or a body cut
    /// off — may come after the provider read the request and accepted it: unknown.
    pub fn from_transport(e: &reqwest::Error) -> SendError {
        if e.is_connect() || e.is_builder() {
            return SendError::Transient(format!("connect: {e}"));
        }
        if e.is_timeout() {
            return SendError::Unknown(format!("timeout: {e}"));
        }
        SendError::Unknown(format!("transport: {e}"))
    }
}

/// Masks phone-like digit runs (11 or more digits) in provider error text before it is logged or
/// stored: a gateway may echo the number it refused.
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        out.push_str(&if run.len() >= 11 { crate::domain::phone::mask(&run) } else { run });
    }
    out
}

/// What a status query asks: did the provider take this message (matched by our outbox id, sent as
/// `OutId` / `SessionContext`) to this phone between `since` and `until`?
#[derive(Clone, Debug)]
pub struct Lookup<'a> {
    pub msg: &'a OutgoingSms,
    pub since: chrono::DateTime<chrono::Utc>,
    pub until: chrono::DateTime<chrono::Utc>,
}

/// A message the provider's records show it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub provider_message_id: Option<String>,
    /// The delivery outcome when the records already have it: `Some(true)` delivered, `Some(false)`
    /// failed (with `code`); none while the provider still waits for the operator's receipt.
    pub delivered: Option<bool>,
    pub code: Option<String>,
}

#[async_trait]
pub trait SmsProvider: Send + Sync {
    fn name(&self) -> ProviderName;
    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError>;
    /// Whether `query` can tell if this provider took a message (Alibaba QuerySendDetails, Tencent
    /// PullSmsSendStatusByPhoneNumber). Providers that cannot (console, the generic gateway, which
    /// deduplicates by Idempotency-Key itself) are sent to again after the wait, as before.
    fn can_query(&self) -> bool {
        false
    }
    /// Asks the provider whether it took `q.msg`: `Ok(None)` when its records do not show it.
    async fn query(&self, _q: &Lookup<'_>) -> Result<Option<Found>, SendError> {
        Err(SendError::ProviderFault(format!("{} has no status query", self.name().as_str())))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_in_error_text_are_masked() {
        assert_eq!(super::scrub("bad number +8613812345678 (HTTP 400)"), "bad number +861******5678 (HTTP 400)");
        assert_eq!(super::scrub("to 13812345678."), "to 138****5678.");
        assert_eq!(super::scrub("HTTP 503: code 1234"), "HTTP 503: code 1234");
    }
}
