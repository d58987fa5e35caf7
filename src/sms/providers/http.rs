//! A generic JSON-over-HTTP gateway: the request body comes from a template in configuration, the
//! request is signed with HMAC-SHA256 over `"{timestamp}.{body}"`, and the outbox id goes in an
//! idempotency header, so a gateway that honours it never delivers one message twice.
use super::common::{self, bare, e164};
use crate::sms::settings::HttpSettings;
use crate::sms::signing::hmac_sha256;
use crate::sms::values::{OutboxKind, ProviderName};
use crate::sms::{OutgoingSms, SendError, Sent, SmsProvider, Window};
use anyhow::Context;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::Value;

pub struct Http {
    cfg: HttpSettings,
    sign_name: String,
    client: reqwest::Client,
    url: reqwest::Url,
}

/// The placeholders of `body_template`, each replaced by a JSON string's content (or, for
/// `{{params}}`, a JSON object).
fn render(template: &str, msg: &OutgoingSms, template_id: &str, sign_name: &str) -> String {
    let esc = |s: &str| {
        let quoted = serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        quoted[1..quoted.len() - 1].to_string()
    };
    let params: serde_json::Map<String, Value> =
        crate::sms::params::as_strings(&msg.params).into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    template
        .replace("{{id}}", &msg.id.to_string())
        .replace("{{phone}}", &bare(&msg.phone))
        .replace("{{phone_e164}}", &e164(&msg.phone))
        .replace("{{body}}", &esc(&msg.body))
        .replace("{{kind}}", &esc(&msg.template))
        .replace("{{template_id}}", &esc(template_id))
        .replace("{{sign_name}}", &esc(sign_name))
        .replace("{{params}}", &Value::Object(params).to_string())
}

/// `sha256=<hex>` over `"{timestamp}.{body}"`: the signature of requests to the gateway and of the
/// gateway's callbacks to us.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut data = format!("{timestamp}.").into_bytes();
    data.extend_from_slice(body);
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), &data)))
}

impl Http {
    pub fn new(cfg: &HttpSettings, county_sign: &str) -> anyhow::Result<Http> {
        let (url, _) = common::endpoint(&cfg.common.base_url, "", "sms.http.base_url")?;
        let sign_name = if cfg.common.sign_name.is_empty() { county_sign } else { &cfg.common.sign_name };
        let sample = OutgoingSms {
            id: 1,
            phone: "13800138000".into(),
            body: "【签名】\"测试\"\n".into(),
            template: OutboxKind::Confirmation.as_str().into(),
            params: serde_json::json!({"no": "1"}),
        };
        serde_json::from_str::<Value>(&render(&cfg.body_template, &sample, "t", sign_name))
            .context("sms.http.body_template does not render to valid JSON")?;
        Ok(Http {
            cfg: cfg.clone(),
            sign_name: sign_name.to_string(),
            client: common::client(cfg.common.timeout_ms).context("sms.http")?,
            url,
        })
    }
}

#[async_trait]
impl SmsProvider for Http {
    fn name(&self) -> ProviderName {
        ProviderName::Http
    }

    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError> {
        // The generic gateway sends the whole text, so a template id is optional.
        let template_id = self.cfg.common.templates.get(&msg.template).cloned().unwrap_or_default();
        if !template_id.is_empty() {
            common::checked_vars(&self.cfg.common, msg)?;
        }
        let body = render(&self.cfg.body_template, msg, &template_id, &self.sign_name);
        let mut rb = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header(self.cfg.idempotency_header.as_str(), format!("minsheng-{}", msg.id));
        for (k, v) in &self.cfg.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        let secret = self.cfg.hmac_secret.expose_secret();
        if !secret.is_empty() {
            let ts = chrono::Utc::now().timestamp();
            rb = rb
                .header(self.cfg.timestamp_header.as_str(), ts.to_string())
                .header(self.cfg.signature_header.as_str(), signature(secret, ts, body.as_bytes()));
        }
        let resp = rb.body(body).send().await.map_err(|e| SendError::from_transport(&e))?;
        let retry_after =
            resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
        let (status, text) = common::read(resp).await?;
        classify(&self.cfg, status, retry_after, &text)
    }
}

fn code_at(v: &Value, pointer: &str) -> Option<String> {
    if pointer.is_empty() {
        return None;
    }
    match v.pointer(pointer)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Reads the gateway's answer by status, then by the configured code lists.
pub fn classify(cfg: &HttpSettings, status: u16, retry_after: Option<i64>, body: &str) -> Result<Sent, SendError> {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let code = code_at(&json, &cfg.error_code_pointer);
    let what =
        format!("HTTP {status} {}: {}", code.as_deref().unwrap_or("-"), body.chars().take(200).collect::<String>());
    let listed = |list: &[String]| code.as_ref().is_some_and(|c| list.contains(c));
    if listed(&cfg.rejected_codes) {
        return Err(SendError::Rejected(what));
    }
    if listed(&cfg.deferred_codes) {
        return Err(SendError::Deferred { reason: what, window: Window::Seconds(retry_after.unwrap_or(60)) });
    }
    if (200..300).contains(&status) {
        if code.is_some() && !cfg.success_codes.is_empty() && !listed(&cfg.success_codes) {
            return Err(SendError::ProviderFault(what));
        }
        return Ok(Sent { provider_message_id: code_at(&json, &cfg.message_id_pointer) });
    }
    Err(match status {
        429 => SendError::Deferred { reason: what, window: Window::Seconds(retry_after.unwrap_or(60)) },
        400 | 422 => SendError::Rejected(what),
        408 | 500..=599 => SendError::Transient(what),
        _ => SendError::ProviderFault(what),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_template_escapes_text_and_embeds_params() {
        let msg = OutgoingSms {
            id: 42,
            phone: "+8613800138000".into(),
            body: "【县】\"引号\"\n换行".into(),
            template: "assignment".into(),
            params: serde_json::json!({"no": "20261122-000001", "n": 3}),
        };
        let out = render(&HttpSettings::default().body_template, &msg, "", "县");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["id"], "42");
        assert_eq!(v["phone"], "13800138000");
        assert_eq!(v["content"], "【县】\"引号\"\n换行");
        assert_eq!(v["params"]["n"], "3");
    }

    #[test]
    fn answers_are_classified_by_status_and_code() {
        let cfg = HttpSettings {
            success_codes: vec!["0".into()],
            rejected_codes: vec!["E_NUMBER".into()],
            deferred_codes: vec!["E_LIMIT".into()],
            ..HttpSettings::default()
        };
        let ok = classify(&cfg, 200, None, r#"{"code":0,"message_id":"m-1"}"#).unwrap();
        assert_eq!(ok.provider_message_id.as_deref(), Some("m-1"));
        assert!(matches!(classify(&cfg, 200, None, r#"{"code":"E_NUMBER"}"#), Err(SendError::Rejected(_))));
        assert!(matches!(classify(&cfg, 200, None, r#"{"code":"E_OTHER"}"#), Err(SendError::ProviderFault(_))));
        assert!(matches!(
            classify(&cfg, 200, None, r#"{"code":"E_LIMIT"}"#),
            Err(SendError::Deferred { window: Window::Seconds(60), .. })
        ));
        assert!(matches!(
            classify(&cfg, 429, Some(7), ""),
            Err(SendError::Deferred { window: Window::Seconds(7), .. })
        ));
        assert!(matches!(classify(&cfg, 503, None, ""), Err(SendError::Transient(_))));
        assert!(matches!(classify(&cfg, 422, None, "{}"), Err(SendError::Rejected(_))));
        assert!(matches!(classify(&cfg, 401, None, "{}"), Err(SendError::ProviderFault(_))));
    }

    #[test]
    fn signature_covers_timestamp_and_body() {
        let a = signature("k", 1, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("k", 2, b"{}"));
        assert_ne!(a, signature("k", 1, b"{ }"));
    }
}
