//! Typed `sms:` configuration: which providers send (primary, optional secondary), how the outbox
//! worker retries, quiet hours, and each provider's endpoint, credentials, template ids, rate limit
//! and callback secret. Every field has a default so a partial YAML section or a few
//! `MINSHENG__SMS__…` variables are enough.
use super::values::ProviderName;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::collections::HashMap;

pub const ALIYUN_ENDPOINT: &str = "https://dysmsapi.aliyuncs.com";
pub const TENCENT_ENDPOINT: &str = "https://sms.tencentcloudapi.com";

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct SmsSettings {
    /// The primary provider: aliyun, tencent, http or console.
    pub provider: String,
    /// Failover provider for transient errors and provider faults; empty = none.
    pub secondary: String,
    /// Attempts (each may try both providers) before a message is dead.
    pub max_attempts: i32,
    pub backoff_base_seconds: i64,
    pub backoff_max_seconds: i64,
    /// Messages one worker claims per pass, and how long its claim holds.
    pub batch_size: u64,
    pub lease_seconds: i64,
    /// Worker loops per process; the database keeps them from taking the same message.
    pub workers: usize,
    /// Messages one worker has waiting on providers at once.
    pub concurrency: usize,
    /// Pause of an idle worker loop.
    pub poll_ms: u64,
    /// How long after our message a reply is taken as answering it.
    pub reply_window_hours: i64,
    /// Consecutive failures after which a provider is tried last, and for how long.
    pub breaker_failures: u32,
    pub breaker_seconds: i64,
    /// After a provider timed out on a request it may have accepted, wait at least this long (for
    /// its delivery receipt) before sending again, and do not fail over in that attempt; then ask the
    /// provider, and send again only if it has no record of the message (the receipt window).
    pub unknown_wait_seconds: i64,
    pub quiet_hours: QuietHours,
    pub aliyun: AliyunSettings,
    pub tencent: TencentSettings,
    pub http: HttpSettings,
    pub console: ConsoleSettings,
}

impl Default for SmsSettings {
    fn default() -> Self {
        SmsSettings {
            provider: ProviderName::Console.as_str().into(),
            secondary: String::new(),
            max_attempts: 6,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            batch_size: 20,
            lease_seconds: 300,
            workers: 1,
            concurrency: 4,
            poll_ms: 2000,
            reply_window_hours: 168,
            breaker_failures: 5,
            breaker_seconds: 60,
            unknown_wait_seconds: 120,
            quiet_hours: QuietHours::default(),
            aliyun: AliyunSettings::default(),
            tencent: TencentSettings::default(),
            http: HttpSettings::default(),
            console: ConsoleSettings::default(),
        }
    }
}

/// Non-urgent messages to villagers wait out the night (county time); one-time codes and urgent
/// orders do not.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct QuietHours {
    pub enabled: bool,
    /// `HH:MM`, county time; the period may cross midnight.
    pub start: String,
    pub end: String,
}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours { enabled: true, start: "21:00".into(), end: "08:00".into() }
    }
}

/// What every provider has: where it is, how long to wait, how fast to send, how it calls us back.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct Common {
    pub base_url: String,
    pub timeout_ms: u64,
    /// Requests per second toward this provider (0 = unlimited); shared through Redis when configured.
    pub rate_per_second: u32,
    /// Secret the provider must present on `/hooks/sms/{provider}/…` (query `token` or header
    /// `X-Callback-Token`; HMAC key for the http provider). Empty: the hooks answer 401.
    #[serde(deserialize_with = "lenient_secret")]
    pub callback_secret: SecretString,
    /// Signature name (without 【】); empty = `county.sms_sign`.
    pub sign_name: String,
    /// Provider template id per message kind (Tencent's ids are numbers; either form is accepted).
    #[serde(deserialize_with = "lenient_map")]
    pub templates: HashMap<String, String>,
    /// Longest template variable this account accepts (0 = no limit).
    pub max_param_chars: usize,
}

impl Default for Common {
    fn default() -> Self {
        Common::with("", 0)
    }
}

impl Common {
    fn with(base_url: &str, max_param_chars: usize) -> Common {
        Common {
            base_url: base_url.into(),
            timeout_ms: 5000,
            rate_per_second: 0,
            callback_secret: SecretString::from(""),
            sign_name: String::new(),
            templates: HashMap::new(),
            max_param_chars,
        }
    }

    pub fn callback_secret(&self) -> Option<&str> {
        Some(self.callback_secret.expose_secret()).filter(|s| !s.is_empty())
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct AliyunSettings {
    #[serde(flatten)]
    pub common: Common,
    pub access_key_id: String,
    pub access_key_secret: SecretString,
    pub region_id: String,
    /// `v3` (ACS3-HMAC-SHA256, POST) or `rpc` (HMAC-SHA1, GET).
    pub signature: String,
}

impl Default for AliyunSettings {
    fn default() -> Self {
        AliyunSettings {
            // Notification-template variables: at most 35 characters each (Alibaba Cloud template rules).
            common: Common::with(ALIYUN_ENDPOINT, 35),
            access_key_id: String::new(),
            access_key_secret: SecretString::from(""),
            region_id: "cn-hangzhou".into(),
            signature: "v3".into(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct TencentSettings {
    #[serde(flatten)]
    pub common: Common,
    pub secret_id: String,
    pub secret_key: SecretString,
    pub sdk_app_id: String,
    pub region: String,
    /// Positional template variables: the order of our parameter names per kind, where a template
    /// registered with Tencent orders them differently from `templates::param_names`.
    pub param_order: HashMap<String, Vec<String>>,
}

impl Default for TencentSettings {
    fn default() -> Self {
        TencentSettings {
            // Enterprise-verified accounts (government bodies are) have no per-variable limit; a
            // personal account must set 12.
            common: Common::with(TENCENT_ENDPOINT, 0),
            secret_id: String::new(),
            secret_key: SecretString::from(""),
            sdk_app_id: String::new(),
            region: "ap-guangzhou".into(),
            param_order: HashMap::new(),
        }
    }
}

/// A gateway of the county's own choosing: any JSON-over-HTTP SMS service.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    #[serde(flatten)]
    pub common: Common,
    /// JSON body with placeholders `{{id}}`, `{{phone}}`, `{{phone_e164}}`, `{{body}}`, `{{kind}}`,
    /// `{{template_id}}`, `{{sign_name}}` (string-escaped) and `{{params}}` (a JSON object).
    pub body_template: String,
    /// Extra request headers (e.g. an API key).
    pub headers: HashMap<String, String>,
    /// HMAC-SHA256 key for the request signature; empty = unsigned.
    pub hmac_secret: SecretString,
    /// Header carrying `sha256=<hex of HMAC(key, "{timestamp}.{body}")>`, and the timestamp header.
    pub signature_header: String,
    pub timestamp_header: String,
    /// Header carrying the outbox id as the gateway's idempotency key.
    pub idempotency_header: String,
    /// JSON pointers into the answer: the message id, and an error code for 2xx answers that failed.
    pub message_id_pointer: String,
    pub error_code_pointer: String,
    /// Codes (at `error_code_pointer`) meaning success, permanent rejection, or "later".
    pub success_codes: Vec<String>,
    pub rejected_codes: Vec<String>,
    pub deferred_codes: Vec<String>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            common: Common::with("", 0),
            body_template: r#"{"id":"{{id}}","phone":"{{phone}}","content":"{{body}}","kind":"{{kind}}","template_id":"{{template_id}}","params":{{params}}}"#.into(),
            headers: HashMap::new(),
            hmac_secret: SecretString::from(""),
            signature_header: "X-Signature".into(),
            timestamp_header: "X-Timestamp".into(),
            idempotency_header: "Idempotency-Key".into(),
            message_id_pointer: "/message_id".into(),
            error_code_pointer: "/code".into(),
            success_codes: vec![],
            rejected_codes: vec![],
            deferred_codes: vec![],
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ConsoleSettings {
    pub rate_per_second: u32,
    /// Lets a developer post receipts and replies to `/hooks/sms/console/…` by hand.
    pub callback_secret: SecretString,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings { rate_per_second: 0, callback_secret: SecretString::from("") }
    }
}

/// A scalar that YAML or an environment variable may have typed as a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    S(String),
    I(i64),
    U(u64),
    F(f64),
    B(bool),
}

impl Scalar {
    fn text(self) -> String {
        match self {
            Scalar::S(s) => s,
            Scalar::I(n) => n.to_string(),
            Scalar::U(n) => n.to_string(),
            Scalar::F(n) => n.to_string(),
            Scalar::B(b) => b.to_string(),
        }
    }
}

// Flattened sections reach serde as buffered values, which loses the config crate's own
// number-to-string conversion: these accept both.
fn lenient_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<HashMap<String, String>, D::Error> {
    let m = HashMap::<String, Scalar>::deserialize(d)?;
    Ok(m.into_iter().map(|(k, v)| (k, v.text())).collect())
}

fn lenient_secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    Ok(SecretString::from(Scalar::deserialize(d)?.text()))
}

impl SmsSettings {
    /// The callback secret configured for a provider.
    pub fn callback_secret(&self, provider: ProviderName) -> Option<&str> {
        match provider {
            ProviderName::Aliyun => self.aliyun.common.callback_secret(),
            ProviderName::Tencent => self.tencent.common.callback_secret(),
            ProviderName::Http => self.http.common.callback_secret(),
            ProviderName::Console => Some(self.console.callback_secret.expose_secret()).filter(|s| !s.is_empty()),
        }
    }

    pub fn rate_per_second(&self, provider: ProviderName) -> u32 {
        match provider {
            ProviderName::Aliyun => self.aliyun.common.rate_per_second,
            ProviderName::Tencent => self.tencent.common.rate_per_second,
            ProviderName::Http => self.http.common.rate_per_second,
            ProviderName::Console => self.console.rate_per_second,
        }
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if ProviderName::parse(&self.provider).is_none() {
            anyhow::bail!("sms.provider {:?} is not one of {}", self.provider, ProviderName::names());
        }
        if !self.secondary.is_empty() && ProviderName::parse(&self.secondary).is_none() {
            anyhow::bail!("sms.secondary {:?} is not one of {} (or empty)", self.secondary, ProviderName::names());
        }
        if self.provider == self.secondary {
            anyhow::bail!("sms.secondary must differ from sms.provider");
        }
        if self.max_attempts < 1
            || self.batch_size < 1
            || self.lease_seconds < 1
            || self.workers < 1
            || self.concurrency < 1
        {
            anyhow::bail!("sms.max_attempts, batch_size, lease_seconds, workers and concurrency must be at least 1");
        }
        if self.quiet_hours.enabled {
            for (k, v) in [("start", &self.quiet_hours.start), ("end", &self.quiet_hours.end)] {
                if chrono::NaiveTime::parse_from_str(v, "%H:%M").is_err() {
                    anyhow::bail!("sms.quiet_hours.{k} {v:?} must be HH:MM");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use config::{Config, File, FileFormat};

    #[test]
    fn numeric_template_ids_and_secrets_are_read_as_text_and_defaults_fill_the_rest() {
        let yaml = "provider: tencent\nsecondary: aliyun\ntencent:\n  sdk_app_id: 1400006666\n  callback_secret: 123456\n  \
                    templates:\n    assignment: 1234567\n    otp: \"7654321\"\naliyun:\n  rate_per_second: 7\n";
        let s: SmsSettings = Config::builder()
            .add_source(File::from_str(yaml, FileFormat::Yaml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(s.tencent.sdk_app_id, "1400006666");
        assert_eq!(s.tencent.common.templates["assignment"], "1234567");
        assert_eq!(s.tencent.common.templates["otp"], "7654321");
        assert_eq!(s.callback_secret(ProviderName::Tencent), Some("123456"));
        // A section that is present gets its flattened fields from `Common::default()`; the adapters
        // fall back to the public endpoint, and base.yaml always names the limits.
        assert_eq!(s.tencent.common.base_url, "");
        assert_eq!(s.rate_per_second(ProviderName::Aliyun), 7);
        assert_eq!(s.callback_secret(ProviderName::Aliyun), None, "empty secret = hooks shut");
        assert_eq!(s.max_attempts, 6);
        s.validate().unwrap();
    }

    #[test]
    fn bad_provider_names_and_times_are_refused() {
        let mut s = SmsSettings { provider: "sms-cat".into(), ..SmsSettings::default() };
        assert!(s.validate().is_err());
        s.provider = "console".into();
        s.secondary = "console".into();
        assert!(s.validate().is_err());
        s.secondary = String::new();
        s.quiet_hours.start = "25:00".into();
        assert!(s.validate().is_err());
    }
}
