//! The console provider for development and the demo: "sends" by writing the message to the log,
//! with the phone number masked.
use crate::domain::phone::mask;
use crate::sms::values::ProviderName;
use crate::sms::{OutgoingSms, SendError, Sent, SmsProvider};
use async_trait::async_trait;

pub struct ConsoleProvider;

#[async_trait]
impl SmsProvider for ConsoleProvider {
    fn name(&self) -> ProviderName {
        ProviderName::Console
    }

    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError> {
        tracing::info!(outbox_id = msg.id, to = %mask(&msg.phone), template = %msg.template, body = %msg.body, "sms (console)");
        Ok(Sent { provider_message_id: Some(format!("console-{}", msg.id)) })
    }
}
