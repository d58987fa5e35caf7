//! Typed settings: the YAML layers shipped in the binary, files under `configuration/`, then
//! `MINSHENG__SECTION__KEY` environment variables. Secrets are `SecretString` and never printed.
use crate::kv::limiter::Limit;
use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const BASE: &str = include_str!("../configuration/base.yaml");
const LOCAL: &str = include_str!("../configuration/local.yaml");
const PRODUCTION: &str = include_str!("../configuration/production.yaml");

#[derive(Clone, Debug, Deserialize)]
pub struct Settings {
    pub application: ApplicationSettings,
    pub database: DatabaseSettings,
    #[serde(default)]
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub county: CountySettings,
    #[serde(default)]
    pub sms: SmsSettings,
    #[serde(default)]
    pub email: EmailSettings,
    pub metrics: MetricsSettings,
    #[serde(default)]
    pub ranking: RankingSettings,
    #[serde(default)]
    pub log: LogSettings,
    pub intake: IntakeSettings,
    pub uploads: UploadSettings,
    pub limits: LimitSettings,
    pub otp: OtpSettings,
    pub villager: VillagerSettings,
    pub wechat: WechatSettings,
    pub visits: VisitSettings,
    #[serde(default)]
    pub observability: ObservabilitySettings,
    #[serde(default)]
    pub live: LiveSettings,
    /// The city 12345 platform (`upstream`): off unless `base_url` is set.
    #[serde(default)]
    pub upstream: crate::upstream::UpstreamSettings,
    /// Accountability rules (追责红线) the inspectors' worker checks.
    #[serde(default)]
    pub accountability: AccountabilitySettings,
    /// How long requesters' personal data is kept on closed tickets (`retention`).
    #[serde(default)]
    pub retention: RetentionSettings,
}

/// Accountability (追责红线): which rules create a record for the inspectors, with their
/// thresholds, and how often the worker looks. See `domain::accountability`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct AccountabilitySettings {
    /// An assignment whose response deadline passed before the unit signed for it.
    pub response_missed: bool,
    /// An assignment resolved (or still open) more than this many days after its result deadline;
    /// `None` switches the rule off.
    pub result_overdue_days: Option<i64>,
    /// The same unit returned (退单) the same ticket twice.
    pub returned_twice: bool,
    /// A ticket reopened twice by dissatisfied return visits.
    pub reopened_twice: bool,
    /// Seconds between two passes of the worker.
    pub interval_seconds: u64,
    /// Only deadlines and events of the last this many days are looked at (bounded scans).
    pub lookback_days: i64,
}

impl Default for AccountabilitySettings {
    fn default() -> Self {
        Self {
            response_missed: true,
            result_overdue_days: Some(3),
            returned_twice: true,
            reopened_twice: true,
            interval_seconds: 300,
            lookback_days: 90,
        }
    }
}

impl AccountabilitySettings {
    pub fn rules(&self) -> crate::domain::accountability::Rules {
        crate::domain::accountability::Rules {
            response_missed: self.response_missed,
            result_overdue_days: self.result_overdue_days,
            returned_twice: self.returned_twice,
            reopened_twice: self.reopened_twice,
        }
    }
}

/// The retention job (`workers::retention`): on tickets closed, merged or declared invalid more
/// than `days` ago, the requester's phone, name, address, openid and uploads are removed.
#[derive(Clone, Debug, Deserialize)]
pub struct RetentionSettings {
    /// Days after closing (default 1095, three years).
    #[serde(default = "default_retention_days")]
    pub days: i64,
    /// Tickets anonymised per transaction.
    #[serde(default = "default_retention_batch")]
    pub batch: u64,
    /// How often the worker looks for tickets past retention.
    #[serde(default = "default_retention_interval_seconds")]
    pub interval_seconds: u64,
}

fn default_retention_days() -> i64 {
    1095
}

fn default_retention_batch() -> u64 {
    200
}

fn default_retention_interval_seconds() -> u64 {
    3600
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            days: default_retention_days(),
            batch: default_retention_batch(),
            interval_seconds: default_retention_interval_seconds(),
        }
    }
}

/// The dashboard stream (`GET /api/v1/stream/dashboard`, see `live`).
#[derive(Clone, Debug, Deserialize)]
pub struct LiveSettings {
    /// Open streams one instance serves at most; one more is answered 503.
    #[serde(default = "default_live_max_streams")]
    pub max_streams: usize,
    /// A comment line this often keeps proxies from closing an idle stream; the stream's credential
    /// (a screen token, a staff member) is checked again at each one.
    #[serde(default = "default_live_heartbeat_seconds")]
    pub heartbeat_seconds: u64,
    /// Events each instance keeps for reconnecting streams (`Last-Event-ID`).
    #[serde(default = "default_live_replay")]
    pub replay: usize,
}

fn default_live_max_streams() -> usize {
    1000
}

fn default_live_heartbeat_seconds() -> u64 {
    15
}

fn default_live_replay() -> usize {
    500
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            max_streams: default_live_max_streams(),
            heartbeat_seconds: default_live_heartbeat_seconds(),
            replay: default_live_replay(),
        }
    }
}

/// Who may read `/metrics`: loopback always (a direct connection, not through a proxy), anyone
/// else only with this bearer token. Empty (the default): loopback only.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ObservabilitySettings {
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
}

impl ObservabilitySettings {
    /// The configured token, treating an empty string as "not configured".
    pub fn metrics_token(&self) -> Option<&str> {
        self.metrics_token.as_ref().map(|s| s.expose_secret()).filter(|s| !s.trim().is_empty())
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct VisitSettings {
    pub lease_seconds: i64,
    pub retry_after_minutes: Vec<i64>,
    pub rating_link_days: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct IntakeSettings {
    pub repeat_window_days: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct UploadSettings {
    pub max_image_bytes: usize,
    pub max_audio_bytes: usize,
    pub max_image_side: u32,
    /// Photos declaring more pixels are refused from their header, before decoding.
    pub max_image_pixels: u64,
    /// Memory one photo may take to decode (pixels plus the decoder's own buffers), in bytes.
    pub max_decode_bytes: u64,
    /// Photos decoded at the same time; 0 = one per CPU core.
    pub decode_concurrency: usize,
    /// How long an upload waits for a free decoding slot before it is answered 503.
    pub decode_wait_ms: u64,
}

impl UploadSettings {
    /// Decoding slots: `decode_concurrency`, or the number of CPU cores when it is 0.
    pub fn decode_slots(&self) -> usize {
        match self.decode_concurrency {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct LimitSettings {
    pub trust_forwarded_for: bool,
    pub intake_per_ip: Limit,
    pub intake_per_ip_daily: Limit,
    pub intake_per_phone: Limit,
    pub intake_per_card: Limit,
    pub upload_per_ip: Limit,
    pub track_failures_per_ip: Limit,
    /// Wrong tracking tries at one ticket number, from all addresses together.
    #[serde(default = "default_track_failures_per_ticket")]
    pub track_failures_per_ticket: Limit,
    pub otp_per_phone: Limit,
    pub otp_per_ip: Limit,
    /// Confirmation SMS to one number, whoever files (requests are accepted beyond it).
    #[serde(default = "default_confirmation_sms_per_phone")]
    pub confirmation_sms_per_phone: Limit,
    /// Urge SMS to one person about one ticket (every urge is still on the ledger).
    #[serde(default = "default_urge_sms_per_recipient")]
    pub urge_sms_per_recipient: Limit,
    /// Failed staff logins from one address (any usernames, known or not).
    #[serde(default = "default_login_failures_per_ip")]
    pub login_failures_per_ip: Limit,
    /// Requests an Open311 API key files, by default (an admin may give a key its own when making
    /// it): a partner's server files for many people from one address, so its key is counted
    /// instead of the address.
    #[serde(default = "default_open311_per_minute")]
    pub open311_per_minute: Limit,
    #[serde(default = "default_open311_per_day")]
    pub open311_per_day: Limit,
}

fn default_open311_per_minute() -> Limit {
    Limit { max: 30, window_seconds: 60 }
}

fn default_open311_per_day() -> Limit {
    Limit { max: 2000, window_seconds: 86400 }
}

fn default_track_failures_per_ticket() -> Limit {
    Limit { max: 10, window_seconds: 3600 }
}

fn default_confirmation_sms_per_phone() -> Limit {
    Limit { max: 3, window_seconds: 86400 }
}

fn default_urge_sms_per_recipient() -> Limit {
    Limit { max: 1, window_seconds: 1800 }
}

fn default_login_failures_per_ip() -> Limit {
    Limit { max: 30, window_seconds: 900 }
}

#[derive(Clone, Debug, Deserialize)]
pub struct OtpSettings {
    pub ttl_seconds: i64,
    pub resend_seconds: i64,
    pub max_attempts: u64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct VillagerSettings {
    pub token_ttl_seconds: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct WechatSettings {
    pub base_url: String,
    pub appid: String,
    pub secret: SecretString,
    pub timeout_ms: u64,
    /// Progress messages to villagers who filed through the mini-program (`workers::wechat`).
    #[serde(default)]
    pub subscribe: SubscribeSettings,
}

/// WeChat subscribe messages (订阅消息): one template per event. An event whose `template_id` is
/// empty is off (the villager gets the SMS, as without WeChat).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct SubscribeSettings {
    /// `formal`, `trial` or `developer`: which version of the mini-program a tap opens.
    pub miniprogram_state: String,
    pub lang: String,
    /// The responsible unit signed for the order (签收).
    pub accepted: SubscribeTemplate,
    /// The order is resolved: the page is the rating page.
    pub resolved: SubscribeTemplate,
    /// Attempts before a message is given up and its SMS fallback written.
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    pub lease_seconds: i64,
    pub batch_size: u64,
    pub poll_ms: u64,
    /// The cached access token is refreshed this long before WeChat's `expires_in` runs out.
    pub token_margin_seconds: i64,
    /// Unused allowances one ticket may hold per template (each tap in the mini-program adds one).
    pub max_unused_per_template: u64,
}

impl Default for SubscribeSettings {
    fn default() -> Self {
        let data = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        SubscribeSettings {
            miniprogram_state: "formal".into(),
            lang: "zh_CN".into(),
            accepted: SubscribeTemplate {
                template_id: String::new(),
                page: "pages/ticket/index?no={no}".into(),
                data: data(&[
                    ("character_string1", "{no}"),
                    ("thing2", "{summary}"),
                    ("phrase3", "已签收"),
                    ("time4", "{time}"),
                ]),
            },
            resolved: SubscribeTemplate {
                template_id: String::new(),
                page: "pages/rating/index?no={no}&token={token}".into(),
                data: data(&[
                    ("character_string1", "{no}"),
                    ("thing2", "{summary}"),
                    ("phrase3", "已办结"),
                    ("time4", "{time}"),
                    ("thing5", "请点击评价办理结果"),
                ]),
            },
            max_attempts: 5,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            lease_seconds: 60,
            batch_size: 50,
            poll_ms: 2000,
            token_margin_seconds: 300,
            max_unused_per_template: 5,
        }
    }
}

/// One subscribe-message template: its id in the mini-program's console, the page a tap opens and
/// the value of each template key. `{no}` (ticket number), `{summary}` (the request, shortened),
/// `{time}` (local time of the event) and, for `resolved`, `{token}` (the rating link's token) are
/// filled in; values are cut to WeChat's limits by the key's type (`thing` 20 characters, …).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SubscribeTemplate {
    pub template_id: String,
    pub page: String,
    pub data: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub timezone: String,
    pub run_migrations: bool,
    pub workers_enabled: bool,
    /// How often this instance writes the card scans it counted in memory.
    #[serde(default = "default_scan_flush_seconds")]
    pub scan_flush_seconds: u64,
    pub assets_dir: String,
    pub upload_dir: String,
    /// The most rows one ticket export may hold (an XLSX sheet holds 1,048,575 at most).
    #[serde(default = "default_export_max_rows")]
    pub export_max_rows: u64,
    /// Rows an export reads per query.
    #[serde(default = "default_export_batch_rows")]
    pub export_batch_rows: u64,
}

fn default_scan_flush_seconds() -> u64 {
    10
}

fn default_export_max_rows() -> u64 {
    1_000_000
}

fn default_export_batch_rows() -> u64 {
    1000
}

#[derive(Clone, Debug, Deserialize)]
pub struct DatabaseSettings {
    pub url: SecretString,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct RedisSettings {
    #[serde(default)]
    pub url: Option<SecretString>,
    /// Prefix of every key minsheng writes, so several deployments (or tests) can share a server.
    #[serde(default = "default_redis_prefix")]
    pub key_prefix: String,
}

fn default_redis_prefix() -> String {
    "minsheng:".into()
}

impl RedisSettings {
    /// The configured Redis URL, treating an empty string as "not configured".
    pub fn url(&self) -> Option<&str> {
        self.url.as_ref().map(|s| s.expose_secret()).filter(|s| !s.trim().is_empty())
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct AuthSettings {
    /// The master signing secret; empty = generated on first start and kept in the database
    /// (refused in production). See `auth::keys`.
    #[serde(default = "empty_secret")]
    pub jwt_secret: SecretString,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
    /// Failed logins at one account from one address before that address is locked out of it.
    pub max_failed_logins: i32,
    pub lockout_seconds: i64,
    /// Failed logins at one account from all addresses before the account itself is locked (and an
    /// alert logged): far above `max_failed_logins`, so one stranger cannot lock anyone out.
    #[serde(default = "default_account_max_failed_logins")]
    pub account_max_failed_logins: i32,
    #[serde(default = "default_account_lockout_seconds")]
    pub account_lockout_seconds: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}

fn default_account_max_failed_logins() -> i32 {
    50
}

fn default_account_lockout_seconds() -> i64 {
    3600
}

fn empty_secret() -> SecretString {
    SecretString::from("")
}

impl AuthSettings {
    /// The configured master secret, if one is set.
    pub fn configured_secret(&self) -> Option<&SecretString> {
        Some(&self.jwt_secret).filter(|s| !s.expose_secret().is_empty())
    }
}

#[derive(Clone, Debug, Deserialize)]
pub struct CountySettings {
    pub name: String,
    pub hotline: String,
    pub sms_sign: String,
}

pub use crate::email::EmailSettings;
pub use crate::sms::settings::SmsSettings;

#[derive(Clone, Debug, Deserialize)]
pub struct MetricsSettings {
    pub satisfaction_basic_weight: f64,
    pub weight_response: f64,
    pub weight_resolution: f64,
    pub weight_satisfaction: f64,
}

#[derive(Clone, Debug, Deserialize)]
pub struct LogSettings {
    pub format: String,
}

/// Who is ranked (DESIGN.md "Metrics": fair rankings).
#[derive(Clone, Debug, Deserialize)]
pub struct RankingSettings {
    /// A unit is ranked only with at least this many counted return visits in the period.
    pub min_visits: i64,
    /// Units per tier on each side of the weekly red/black list.
    #[serde(default = "default_redblack_size")]
    pub redblack_size: usize,
}

fn default_redblack_size() -> usize {
    3
}

impl Default for RankingSettings {
    fn default() -> Self {
        Self { min_visits: 10, redblack_size: default_redblack_size() }
    }
}

impl Default for LogSettings {
    fn default() -> Self {
        Self { format: "pretty".into() }
    }
}

/// Which layer of configuration to apply on top of the base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnvironment {
    Local,
    Production,
}

impl AppEnvironment {
    pub fn from_env() -> anyhow::Result<Self> {
        match std::env::var("MINSHENG_ENVIRONMENT").unwrap_or_else(|_| "local".into()).as_str() {
            "local" => Ok(Self::Local),
            "production" => Ok(Self::Production),
            other => {
                anyhow::bail!("MINSHENG_ENVIRONMENT must be local or production, not {other:?}")
            }
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Production => "production",
        }
    }
}

/// Reads the layered configuration for the environment named by `MINSHENG_ENVIRONMENT`.
pub fn get_configuration() -> anyhow::Result<Settings> {
    load(AppEnvironment::from_env()?)
}

pub fn load(env: AppEnvironment) -> anyhow::Result<Settings> {
    let embedded_env = match env {
        AppEnvironment::Local => LOCAL,
        AppEnvironment::Production => PRODUCTION,
    };
    let dir = std::env::current_dir()?.join("configuration");
    let settings = Config::builder()
        .add_source(File::from_str(BASE, FileFormat::Yaml))
        .add_source(File::from_str(embedded_env, FileFormat::Yaml))
        .add_source(File::from(dir.join("base.yaml")).required(false))
        .add_source(File::from(dir.join(format!("{}.yaml", env.name()))).required(false))
        .add_source(Environment::with_prefix("MINSHENG").prefix_separator("__").separator("__").try_parsing(true))
        .build()?
        .try_deserialize::<Settings>()?;
    settings.validate()?;
    crate::auth::keys::check_configured(settings.auth.jwt_secret.expose_secret(), env)?;
    Ok(settings)
}

impl Settings {
    fn validate(&self) -> anyhow::Result<()> {
        if self.application.timezone.parse::<chrono_tz::Tz>().is_err() {
            anyhow::bail!("application.timezone {:?} is not a known time zone", self.application.timezone);
        }
        self.sms.validate()?;
        self.email.validate()?;
        self.upstream.validate()?;
        Ok(())
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.application.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The county zone's offset from UTC in seconds now (the local days of the statistics).
    pub fn rollup_offset(&self) -> i32 {
        use chrono::{Offset, TimeZone};
        self.timezone().offset_from_utc_datetime(&chrono::Utc::now().naive_utc()).fix().local_minus_utc()
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.application.public_url.trim_end_matches('/')
    }
}
