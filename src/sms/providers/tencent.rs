//! Tencent Cloud SMS (2021-01-11) `SendSms`, signed with TC3-HMAC-SHA256. `SessionContext` carries
//! the outbox id. Template variables are positional (`kinds::param_names`, or `param_order`).
//! Before sending again a message whose last send may have gone, the worker asks
//! `PullSmsSendStatusByPhoneNumber` (same signature) for the number's delivery reports and looks for
//! our `SessionContext`. Not `PullSmsSendStatus`: that one is a queue (each report is handed out
//! once, to whoever pulls first, and must be enabled by Tencent), while the per-number pull reads
//! without consuming and only the number we care about.
use super::common::{self, e164};
use crate::sms::settings::{TENCENT_ENDPOINT, TencentSettings};
use crate::sms::signing::tencent as sign;
use crate::sms::values::ProviderName;
use crate::sms::{Found, Lookup, OutgoingSms, SendError, Sent, SmsProvider, Window, kinds};
use anyhow::Context;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::json;

const VERSION: &str = "2021-01-11";
const CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub struct Tencent {
    cfg: TencentSettings,
    sign_name: String,
    client: reqwest::Client,
    url: reqwest::Url,
    host: String,
}

impl Tencent {
    pub fn new(cfg: &TencentSettings, county_sign: &str) -> anyhow::Result<Tencent> {
        if cfg.secret_id.is_empty() || cfg.secret_key.expose_secret().is_empty() || cfg.sdk_app_id.is_empty() {
            anyhow::bail!("sms.tencent.secret_id, secret_key and sdk_app_id must be set to send through Tencent Cloud");
        }
        let (url, host) = common::endpoint(&cfg.common.base_url, TENCENT_ENDPOINT, "sms.tencent.base_url")?;
        let sign_name = if cfg.common.sign_name.is_empty() { county_sign } else { &cfg.common.sign_name };
        Ok(Tencent {
            cfg: cfg.clone(),
            sign_name: sign_name.to_string(),
            client: common::client(cfg.common.timeout_ms).context("sms.tencent")?,
            url,
            host,
        })
    }

    fn payload(&self, msg: &OutgoingSms) -> Result<String, SendError> {
        let template = common::template_id(&self.cfg.common, ProviderName::Tencent, &msg.template)?;
        let vars = common::checked_vars(&self.cfg.common, msg)?;
        let order = self
            .cfg
            .param_order
            .get(&msg.template)
            .cloned()
            .unwrap_or_else(|| kinds::param_names(&msg.template, &msg.params));
        let mut set = Vec::with_capacity(order.len());
        for name in &order {
            let v = vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).ok_or_else(|| {
                SendError::ProviderFault(format!("tencent template for {} needs variable {name}", msg.template))
            })?;
            set.push(v);
        }
        Ok(json!({
            "PhoneNumberSet": [e164(&msg.phone)],
            "SmsSdkAppId": self.cfg.sdk_app_id,
            "SignName": self.sign_name,
            "TemplateId": template,
            "TemplateParamSet": set,
            "SessionContext": msg.id.to_string(),
        })
        .to_string())
    }
}

#[async_trait]
impl SmsProvider for Tencent {
    fn name(&self) -> ProviderName {
        ProviderName::Tencent
    }

    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError> {
        let payload = self.payload(msg)?;
        let (status, body) = self.call("SendSms", payload).await?;
        classify(status, &body)
    }

    fn can_query(&self) -> bool {
        true
    }

    /// The number's delivery reports from a minute before `since` to `until` (three days at most; 100
    /// reports at most, the API takes offset 0 only), looking for our outbox id as `SessionContext`.
    /// Tencent lists a message once its report is in, so "not found" means something only after the
    /// receipt window.
    async fn query(&self, q: &Lookup<'_>) -> Result<Option<Found>, SendError> {
        let payload = json!({
            "PhoneNumber": e164(&q.msg.phone),
            "SmsSdkAppId": self.cfg.sdk_app_id,
            "BeginTime": (q.since - chrono::Duration::seconds(60)).timestamp(),
            // The report of a send at `since` comes within hours; the API takes a week at most.
            "EndTime": q.until.min(q.since + chrono::Duration::days(3)).timestamp().max(q.since.timestamp()),
            "Offset": 0,
            "Limit": 100,
        })
        .to_string();
        let (status, body) = self.call("PullSmsSendStatusByPhoneNumber", payload).await?;
        Ok(reports(status, &body)?.into_iter().find(|r| r.0 == q.msg.id.to_string()).map(|r| r.1))
    }
}

impl Tencent {
    /// One signed API call: (HTTP status, body).
    async fn call(&self, action: &str, payload: String) -> Result<(u16, String), SendError> {
        let timestamp = chrono::Utc::now().timestamp();
        let r = sign::Tc3Request {
            method: "POST",
            host: &self.host,
            content_type: CONTENT_TYPE,
            action: Some(action),
            payload: payload.as_bytes(),
        };
        let auth = sign::authorization(&self.cfg.secret_id, self.cfg.secret_key.expose_secret(), "sms", timestamp, &r);
        let resp = self
            .client
            .post(self.url.clone())
            .header("authorization", auth)
            .header("content-type", CONTENT_TYPE)
            .header("x-tc-action", action)
            .header("x-tc-version", VERSION)
            .header("x-tc-timestamp", timestamp.to_string())
            .header("x-tc-region", &self.cfg.region)
            .body(payload)
            .send()
            .await
            .map_err(|e| SendError::from_transport(&e))?;
        common::read(resp).await
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PullResponse {
    error: Option<ApiError>,
    pull_sms_send_status_set: Option<Vec<Report>>,
}

#[derive(Deserialize)]
struct PullEnvelope {
    #[serde(rename = "Response")]
    response: Option<PullResponse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Report {
    serial_no: Option<String>,
    report_status: Option<String>,
    description: Option<String>,
    session_context: Option<String>,
}

/// Reads a PullSmsSendStatusByPhoneNumber answer: (SessionContext, what the report says) per report,
/// or the class of a call-level error.
pub fn reports(status: u16, body: &str) -> Result<Vec<(String, Found)>, SendError> {
    let Some(r) = serde_json::from_str::<PullEnvelope>(body).ok().and_then(|e| e.response) else {
        return Err(common::by_status(status.max(500), body));
    };
    if let Some(e) = r.error {
        return Err(by_code(&e.code, e.message.as_deref().unwrap_or("")));
    }
    if status >= 300 {
        return Err(common::by_status(status, body));
    }
    Ok(r.pull_sms_send_status_set
        .unwrap_or_default()
        .into_iter()
        .filter_map(|x| {
            let found = Found {
                provider_message_id: x.serial_no.filter(|s| !s.is_empty()),
                delivered: match x.report_status.as_deref() {
                    Some("SUCCESS") => Some(true),
                    Some("FAIL") => Some(false),
                    _ => None,
                },
                code: x.description.filter(|d| !d.is_empty()),
            };
            Some((x.session_context.filter(|c| !c.is_empty())?, found))
        })
        .collect())
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: Option<Response>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    error: Option<ApiError>,
    send_status_set: Option<Vec<Status>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
    message: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Status {
    serial_no: Option<String>,
    code: String,
    message: Option<String>,
}

/// Reads a SendSms answer: a call-level `Response.Error`, else the one number's status, which is a
/// success only when its code is exactly `Ok`.
pub fn classify(status: u16, body: &str) -> Result<Sent, SendError> {
    let Some(r) = serde_json::from_str::<Envelope>(body).ok().and_then(|e| e.response) else {
        return Err(common::by_status(status, body));
    };
    if let Some(e) = r.error {
        return Err(by_code(&e.code, e.message.as_deref().unwrap_or("")));
    }
    match r.send_status_set.as_deref() {
        Some([s, ..]) if s.code == "Ok" => Ok(Sent { provider_message_id: s.serial_no.clone() }),
        Some([s, ..]) => Err(by_code(&s.code, s.message.as_deref().unwrap_or(""))),
        _ => Err(common::by_status(status.max(500), body)),
    }
}

/// The class of a Tencent error code (PROTOCOLS §2c; the classification is ours).
pub fn by_code(code: &str, message: &str) -> SendError {
    let what = format!("{code}: {message}");
    let deferred = |window| SendError::Deferred { reason: what.clone(), window };
    match code {
        "LimitExceeded.PhoneNumberThirtySecondLimit" => deferred(Window::Seconds(30)),
        "LimitExceeded.PhoneNumberOneHourLimit" | "LimitExceeded.DeliveryFrequencyLimit" => deferred(Window::Hour),
        "LimitExceeded.PhoneNumberDailyLimit"
        | "LimitExceeded.PhoneNumberSameContentDailyLimit"
        | "LimitExceeded.AppDailyLimit"
        | "LimitExceeded.DailyLimit" => deferred(Window::Day),
        "FailedOperation.MarketingSendTimeConstraint" => deferred(Window::Hour),
        "InvalidParameterValue.IncorrectPhoneNumber"
        | "InvalidParameterValue.TemplateParameterFormatError"
        | "InvalidParameterValue.TemplateParameterLengthLimit"
        | "InvalidParameterValue.ContentLengthLimit"
        | "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"
        | "FailedOperation.PhoneNumberInBlacklist"
        | "FailedOperation.ContainSensitiveWord"
        | "UnsupportedOperation.ContainDomesticAndInternationalPhoneNumber"
        | "LimitExceeded.PhoneNumberCountLimit"
        | "MissingParameter.EmptyPhoneNumberSet" => SendError::Rejected(what),
        // Clock skew is ours to fix, not something a retry cures.
        "InternalError.RequestTimeException" => SendError::ProviderFault(what),
        c if c.starts_with("InternalError") || c.starts_with("RequestLimitExceeded") => SendError::Transient(what),
        _ => SendError::ProviderFault(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_needs_exactly_ok() {
        let ok = r#"{"Response":{"SendStatusSet":[{"SerialNo":"2019:5100123456","PhoneNumber":"+8618511122233","Fee":1,"SessionContext":"test","Code":"Ok","Message":"send success","IsoCode":"CN"}],"RequestId":"a"}}"#;
        assert_eq!(classify(200, ok).unwrap().provider_message_id.as_deref(), Some("2019:5100123456"));
        let upper = ok.replace("\"Code\":\"Ok\"", "\"Code\":\"OK\"");
        assert!(classify(200, &upper).is_err(), "\"OK\" is not Tencent's success code");
    }

    #[test]
    fn per_number_reports_carry_our_session_context() {
        let body = r#"{"Response":{"PullSmsSendStatusSet":[
            {"Description":"DELIVRD","CountryCode":"86","SubscriberNumber":"15291996666","ReportStatus":"SUCCESS","PhoneNumber":"+8615291996666","SerialNo":"14:19325917feb3914eb78b50d6182d7e452e","UserReceiveTime":1620734188,"SessionContext":"41"},
            {"Description":"MK:0001","CountryCode":"86","SubscriberNumber":"15291996666","ReportStatus":"FAIL","PhoneNumber":"+8615291996666","SerialNo":"14:2","UserReceiveTime":1620734188,"SessionContext":""}],
            "RequestId":"8979fc1e-9564-4fc9-bf7d-2958ce679b72"}}"#;
        let r = reports(200, body).unwrap();
        assert_eq!(r.len(), 1, "a report without our context is someone else's");
        assert_eq!(r[0].0, "41");
        assert_eq!(r[0].1.delivered, Some(true));
        assert_eq!(r[0].1.provider_message_id.as_deref(), Some("14:19325917feb3914eb78b50d6182d7e452e"));
        let err = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"x"},"RequestId":"c"}}"#;
        assert!(matches!(reports(200, err), Err(SendError::ProviderFault(_))));
        assert!(matches!(reports(502, "bad gateway"), Err(SendError::Transient(_))));
    }

    #[test]
    fn per_number_and_call_level_errors_are_classified() {
        let limited = r#"{"Response":{"SendStatusSet":[{"SerialNo":"","PhoneNumber":"+8613800138000","Fee":0,"SessionContext":"9","Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"the number of sms messages sent from a single mobile number every day exceeds the upper limit","IsoCode":"CN"}],"RequestId":"b"}}"#;
        assert!(matches!(classify(200, limited), Err(SendError::Deferred { window: Window::Day, .. })));
        let auth = r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"c"}}"#;
        assert!(matches!(classify(200, auth), Err(SendError::ProviderFault(_))));
        assert!(matches!(by_code("InternalError.Timeout", ""), SendError::Transient(_)));
        assert!(matches!(by_code("RequestLimitExceeded", ""), SendError::Transient(_)));
        assert!(matches!(by_code("InvalidParameterValue.IncorrectPhoneNumber", ""), SendError::Rejected(_)));
        assert!(matches!(by_code("FailedOperation.InsufficientBalanceInSmsPackage", ""), SendError::ProviderFault(_)));
        assert!(matches!(
            by_code("LimitExceeded.PhoneNumberThirtySecondLimit", ""),
            SendError::Deferred { window: Window::Seconds(30), .. }
        ));
        assert!(matches!(classify(502, "bad gateway"), Err(SendError::Transient(_))));
    }
}
