//! The city 12345 platform (市12345政务服务便民热线) as a source and a sink. Orders addressed to the
//! county are pulled page by page (`workers::upstream::pull_pass`) and filed as hotline tickets,
//! once each (`upstream_orders.upstream_id` is unique); the status changes of those tickets go back
//! through the outbox (channel `upstream`, `workers::upstream::push_pass`) with retries.
//!
//! There is no public standard for this interface: `Upstream` is the adapter, `HttpUpstream` the
//! one we ship (README "Integration" → "The city 12345 platform" documents its endpoints), and the
//! canonical request it signs is in `sign`.
pub mod http;
pub mod push;
pub mod sign;

use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use http::HttpUpstream;

/// `upstream:` in configuration. Every field has a default; with no `base_url` the platform is off:
/// nothing is pulled, and status changes of tickets that came from it wait in the outbox.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct UpstreamSettings {
    /// e.g. `https://12345.city.gov.cn/gateway`; empty: off.
    pub base_url: String,
    /// Who we are to the platform (`X-App-Key`).
    pub app_key: String,
    /// The HMAC-SHA256 key of every request (never sent).
    pub app_secret: SecretString,
    /// The county's code at the platform (`county=` of the pull).
    pub county_code: String,
    /// Seconds between pulls when the last one found nothing more.
    pub poll_seconds: u64,
    /// Orders asked for per page.
    pub page_size: u32,
    /// Pages read at most per pass (the rest waits for the next pass).
    pub max_pages: u32,
    /// Connecting plus the whole exchange, per request.
    pub timeout_ms: u64,
    /// The category of an order whose category the county does not know (or that has none).
    pub default_category: String,
    /// Push attempts before a status change is dead (the outbox console can resend it).
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    /// A pusher claims `batch_size` status changes for `lease_seconds`.
    pub batch_size: u64,
    pub lease_seconds: i64,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            base_url: String::new(),
            app_key: String::new(),
            app_secret: SecretString::from(""),
            county_code: String::new(),
            poll_seconds: 60,
            page_size: 50,
            max_pages: 20,
            timeout_ms: 10_000,
            default_category: "other".into(),
            max_attempts: 10,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            batch_size: 20,
            lease_seconds: 120,
        }
    }
}

impl UpstreamSettings {
    pub fn enabled(&self) -> bool {
        !self.base_url.trim().is_empty()
    }

    /// Checked at start-up: switched on, the platform needs all of its settings.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let url = reqwest::Url::parse(self.base_url.trim())
            .map_err(|e| anyhow::anyhow!("upstream.base_url {:?} is not a URL: {e}", self.base_url))?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            anyhow::bail!("upstream.base_url {:?} must be an http(s) URL without a query", self.base_url);
        }
        for (name, value) in [
            ("app_key", self.app_key.as_str()),
            ("app_secret", secrecy::ExposeSecret::expose_secret(&self.app_secret)),
            ("county_code", self.county_code.as_str()),
        ] {
            if value.trim().is_empty() {
                // Never the secret's value: only its name.
                anyhow::bail!("upstream.{name} must be set when upstream.base_url is");
            }
        }
        if self.page_size < 1 || self.max_attempts < 1 || self.batch_size < 1 || self.lease_seconds < 1 {
            anyhow::bail!("upstream.page_size, max_attempts, batch_size and lease_seconds must be at least 1");
        }
        Ok(())
    }
}

/// One order as the platform hands it over.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Order {
    /// The platform's order id: the key of idempotency.
    pub id: String,
    /// The region (village or township) code; the county's own code or an unknown one files the
    /// order at the county's top region.
    #[serde(default)]
    pub region_code: Option<String>,
    /// Our category code, if the platform uses the county's catalogue; else `default_category`.
    #[serde(default)]
    pub category: Option<String>,
    pub description: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub urgent: bool,
    /// When the call reached the hotline.
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// When the platform wants the result (办结时限): kept as the ticket's deadline.
    #[serde(default)]
    pub deadline: Option<DateTime<Utc>>,
}

/// One page of the pull.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct OrderPage {
    #[serde(default)]
    pub orders: Vec<Order>,
    /// Where the next pull continues (kept once this page is filed); none: the same cursor again.
    #[serde(default)]
    pub next_cursor: Option<String>,
    /// More pages are ready now.
    #[serde(default)]
    pub has_more: bool,
}

/// Why a call to the platform failed: worth trying again later, or never.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A timeout, a connection refused, 5xx, 408 or 429.
    Transient(String),
    /// Any other 4xx, or an answer that does not read: the same request will not do better.
    Permanent(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transient(e) => write!(f, "transient: {e}"),
            Failure::Permanent(e) => write!(f, "permanent: {e}"),
        }
    }
}

impl std::error::Error for Failure {}

/// The adapter to a 12345 platform. `now` signs the request (the app's clock, so tests are exact).
#[async_trait::async_trait]
pub trait Upstream: Send + Sync {
    /// Orders for the county after `cursor` (from the start when none), at most `limit`.
    async fn fetch_orders(&self, cursor: Option<&str>, limit: u32, now: DateTime<Utc>) -> Result<OrderPage, Failure>;

    /// Tells the platform what became of its order `order_id`; `body` is the JSON of the change.
    async fn push_status(&self, order_id: &str, body: &str, now: DateTime<Utc>) -> Result<(), Failure>;
}
