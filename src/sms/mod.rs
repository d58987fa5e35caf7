//! SMS: the provider trait, the providers, and the message templates. Messages never go out from a
//! request handler: they are written to the outbox and sent by `workers::outbox`.
pub mod providers;
pub mod templates;

use async_trait::async_trait;

/// One message as the outbox hands it to a provider.
#[derive(Clone, Debug)]
pub struct OutgoingSms {
    /// The outbox id: the idempotency key toward the provider.
    pub id: i64,
    pub phone: String,
    pub body: String,
    pub template: String,
    pub params: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    pub provider_message_id: Option<String>,
}

/// Why a send failed: rejected messages will never go (bad number, template); transient ones may.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("rejected: {0}")]
    Rejected(String),
    #[error("transient: {0}")]
    Transient(String),
}

#[async_trait]
pub trait SmsProvider: Send + Sync {
    fn name(&self) -> &'static str;
    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError>;
}
