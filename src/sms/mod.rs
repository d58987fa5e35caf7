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

pub use gateway::Gateway;

use async_trait::async_trait;

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
}

impl SendError {
    /// The outcome name recorded per attempt.
    pub fn outcome(&self) -> &'static str {
        match self {
            SendError::Rejected(_) => "rejected",
            SendError::Transient(_) => "transient",
            SendError::Deferred { .. } => "deferred",
            SendError::ProviderFault(_) => "provider_fault",
        }
    }

    /// Transport failures: timeouts and connection errors may go through on another try.
    pub fn from_transport(e: &reqwest::Error) -> SendError {
        let what = if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else {
            "transport"
        };
        SendError::Transient(format!("{what}: {e}"))
    }
}

#[async_trait]
pub trait SmsProvider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError>;
}
