//! What every request handler and worker shares: database, settings, keys, Redis, calendar, clock.
use crate::auth::keys::KeyRing;
use crate::configuration::Settings;
use crate::db::Db;
use crate::domain::metrics::Weights;
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    /// Signing keys, one per purpose (see `auth::keys`).
    pub keys: KeyRing,
    pub redis: Option<redis::aio::ConnectionManager>,
    pub time: TimeSource,
    /// The SMS gateway: providers with failover and rate limits (see `sms::gateway`).
    pub sms: Arc<crate::sms::Gateway>,
    /// Verified against when a username does not exist, so both answers take the same time.
    pub dummy_hash: Arc<String>,
    pub prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Rate limits and one-time codes (Redis when configured, else in process).
    pub limiter: crate::kv::limiter::Limiter,
    pub http: reqwest::Client,
    /// Card scans counted in memory until the card_scans worker writes them.
    pub card_scans: Arc<crate::cards::scans::ScanCounter>,
    /// Decoding slots for uploaded photos (`uploads.decode_concurrency`): bounds their memory and CPU.
    pub photo_decodes: Arc<tokio::sync::Semaphore>,
    /// Live updates for the dashboards (see `live`).
    pub live: Arc<crate::live::Hub>,
    /// The big screens' last answers per region (see `services::screen`).
    pub screen_cache: Arc<crate::services::screen::Cache>,
    /// One WeChat access-token refresh at a time in this process (see `wechat::access_token`).
    pub wechat_token_refresh: Arc<tokio::sync::Mutex<()>>,
    /// Cards, regions, categories and SLA policies kept for a few seconds (see `services::reference`).
    pub reference: Arc<crate::services::reference::Reference>,
}

/// Wall-clock time with an offset that tests may move forward (time is an input, tests never sleep).
#[derive(Clone, Default)]
pub struct TimeSource {
    offset_millis: Arc<AtomicI64>,
}

impl TimeSource {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_millis.load(Ordering::Relaxed))
    }

    pub fn advance(&self, by: Duration) {
        // To the millisecond: a clock moved "to midnight" must not land a fraction of a second before.
        self.offset_millis.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}

impl AppState {
    pub fn now(&self) -> DateTime<Utc> {
        self.time.now()
    }

    pub fn tz(&self) -> chrono_tz::Tz {
        self.settings.timezone()
    }

    /// The county zone's offset from UTC in seconds: statistics roll-ups count local days with it
    /// (China keeps one offset all year).
    pub fn rollup_offset(&self) -> i32 {
        self.settings.rollup_offset()
    }

    pub fn weights(&self) -> Weights {
        let m = &self.settings.metrics;
        Weights {
            basic: m.satisfaction_basic_weight,
            response: m.weight_response,
            resolution: m.weight_resolution,
            satisfaction: m.weight_satisfaction,
        }
    }

    pub fn kv(&self) -> &std::sync::Arc<dyn crate::kv::KvStore> {
        self.limiter.store()
    }

    pub fn public_url(&self) -> &str {
        self.settings.public_url()
    }
}
