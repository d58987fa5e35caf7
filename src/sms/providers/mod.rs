//! SMS provider adapters: Alibaba Cloud, Tencent Cloud, a generic HTTP gateway, and the console.
pub mod aliyun;
pub mod common;
pub mod console;
pub mod http;
pub mod tencent;

use super::SmsProvider;
use crate::configuration::Settings;
use std::sync::Arc;

/// Builds the provider of that name from configuration (missing credentials fail here, at start-up).
pub fn build(name: &str, settings: &Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    let sms = &settings.sms;
    let sign = &settings.county.sms_sign;
    Ok(match name {
        "console" => Arc::new(console::ConsoleProvider),
        "aliyun" => Arc::new(aliyun::Aliyun::new(&sms.aliyun, sign)?),
        "tencent" => Arc::new(tencent::Tencent::new(&sms.tencent, sign)?),
        "http" => Arc::new(http::Http::new(&sms.http, sign)?),
        other => anyhow::bail!("unknown SMS provider {other:?} (available: {})", super::settings::PROVIDERS.join(", ")),
    })
}

/// The primary provider named in configuration (`sms.provider`).
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    build(&settings.sms.provider, settings)
}
