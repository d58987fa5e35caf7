//! SMS provider adapters.
pub mod console;

use super::SmsProvider;
use std::sync::Arc;

/// Builds the provider named in configuration.
pub fn from_settings(settings: &crate::configuration::Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    match settings.sms.provider.as_str() {
        "console" => Ok(Arc::new(console::ConsoleProvider)),
        other => anyhow::bail!("unknown sms.provider {other:?} (available: console)"),
    }
}
