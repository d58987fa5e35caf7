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
    pub metrics: MetricsSettings,
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
    pub otp_per_phone: Limit,
    pub otp_per_ip: Limit,
    /// Failed staff logins from one address (any usernames, known or not).
    #[serde(default = "default_login_failures_per_ip")]
    pub login_failures_per_ip: Limit,
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
}

fn default_scan_flush_seconds() -> u64 {
    10
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
    pub jwt_secret: SecretString,
    pub access_ttl_seconds: i64,
    pub refresh_ttl_seconds: i64,
    pub max_failed_logins: i32,
    pub lockout_seconds: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CountySettings {
    pub name: String,
    pub hotline: String,
    pub sms_sign: String,
}

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
    Ok(settings)
}

impl Settings {
    fn validate(&self) -> anyhow::Result<()> {
        let secret = self.auth.jwt_secret.expose_secret();
        if secret.len() < 32 {
            anyhow::bail!("auth.jwt_secret must be at least 32 characters: set MINSHENG__AUTH__JWT_SECRET");
        }
        if self.application.timezone.parse::<chrono_tz::Tz>().is_err() {
            anyhow::bail!("application.timezone {:?} is not a known time zone", self.application.timezone);
        }
        self.sms.validate()?;
        Ok(())
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.application.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.application.public_url.trim_end_matches('/')
    }
}
