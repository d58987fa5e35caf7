//! SMS provider adapters: Alibaba Cloud, Tencent Cloud, a generic HTTP gateway, and the console.
pub mod aliyun;
pub mod common;
pub mod console;
pub mod http;
pub mod tencent;

use super::SmsProvider;
use super::values::ProviderName;
use crate::configuration::Settings;
use std::sync::Arc;

/// Builds the provider of that name from configuration (missing credentials fail here, at start-up).
pub fn build(name: &str, settings: &Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    let sms = &settings.sms;
    let sign = &settings.county.sms_sign;
    let Some(provider) = ProviderName::parse(name) else {
        anyhow::bail!("unknown SMS provider {name:?} (available: {})", ProviderName::names())
    };
    Ok(match provider {
        ProviderName::Console => Arc::new(console::ConsoleProvider),
        ProviderName::Aliyun => Arc::new(aliyun::Aliyun::new(&sms.aliyun, sign)?),
        ProviderName::Tencent => Arc::new(tencent::Tencent::new(&sms.tencent, sign)?),
        ProviderName::Http => Arc::new(http::Http::new(&sms.http, sign)?),
    })
}

/// The primary provider named in configuration (`sms.provider`).
pub fn from_settings(settings: &Settings) -> anyhow::Result<Arc<dyn SmsProvider>> {
    build(&settings.sms.provider, settings)
}
