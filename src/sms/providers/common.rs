//! What the HTTP adapters share: a client with the configured timeout, the host a signature covers,
//! phone formats, template lookup and variable checks.
use crate::sms::settings::Common;
use crate::sms::values::ProviderName;
use crate::sms::{OutgoingSms, SendError, params};
use anyhow::Context;
use std::time::Duration;

pub fn client(timeout_ms: u64) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms.max(100)))
        .connect_timeout(Duration::from_millis(timeout_ms.clamp(100, 5000)))
        .build()
        .context("building the SMS HTTP client")
}

/// The base URL (or the provider's public endpoint when none is set), parsed, and its `host[:port]`
/// as the `Host` header (and so the signature) carries it.
pub fn endpoint(base_url: &str, default: &str, key: &str) -> anyhow::Result<(reqwest::Url, String)> {
    let base_url = if base_url.trim().is_empty() { default } else { base_url };
    let url = reqwest::Url::parse(base_url).with_context(|| format!("{key} {base_url:?} is not a URL"))?;
    let host = url.host_str().with_context(|| format!("{key} {base_url:?} has no host"))?;
    let host = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    Ok((url, host))
}

/// The 11 bare digits of a stored mainland number (stored numbers are already normalised).
pub fn bare(phone: &str) -> String {
    crate::domain::phone::Phone::parse(phone).map(|p| p.as_str().to_string()).unwrap_or_else(|| phone.to_string())
}

pub fn e164(phone: &str) -> String {
    format!("+86{}", bare(phone))
}

/// The provider template for a message kind, or a provider fault (the other provider may have one).
pub fn template_id<'a>(common: &'a Common, provider: ProviderName, kind: &str) -> Result<&'a str, SendError> {
    common.templates.get(kind).map(String::as_str).filter(|s| !s.is_empty()).ok_or_else(|| {
        SendError::ProviderFault(format!("no {} template configured for kind {kind}", provider.as_str()))
    })
}

/// Variables as strings, checked against this account's limits. A violation is this provider's
/// limit, not the message's fault: another provider (or the generic gateway) may carry it.
pub fn checked_vars(common: &Common, msg: &OutgoingSms) -> Result<Vec<(String, String)>, SendError> {
    let vars = params::as_strings(&msg.params);
    params::validate(&msg.template, &vars, common.max_param_chars).map_err(SendError::ProviderFault)?;
    Ok(vars)
}

/// The answer body, read even on errors (providers explain themselves in it).
pub async fn read(resp: reqwest::Response) -> Result<(u16, String), SendError> {
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| SendError::from_transport(&e))?;
    Ok((status, body))
}

/// The class of an HTTP failure the body did not explain.
pub fn by_status(status: u16, detail: &str) -> SendError {
    let what = format!("HTTP {status}: {}", detail.chars().take(200).collect::<String>());
    match status {
        408 | 500..=599 => SendError::Transient(what),
        429 => SendError::Deferred { reason: what, window: crate::sms::Window::Seconds(60) },
        _ => SendError::ProviderFault(what),
    }
}
