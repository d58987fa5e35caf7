//! Alibaba Cloud SMS (dysmsapi 2017-05-25) `SendSms`. Signed with V3 (ACS3-HMAC-SHA256: POST, the
//! parameters in the query, empty body) as the official SDK sends it, or the legacy RPC signature
//! (GET, HMAC-SHA1). `OutId` carries the outbox id; Alibaba echoes it in the delivery receipt and
//! in `QuerySendDetails`, which the worker asks (signed the same way) before sending a message again
//! whose last send may have gone.
use super::common::{self, bare};
use crate::sms::settings::{ALIYUN_ENDPOINT, AliyunSettings};
use crate::sms::signing::{aliyun as sign, percent_encode, sha256_hex};
use crate::sms::values::ProviderName;
use crate::sms::{Found, Lookup, OutgoingSms, SendError, Sent, SmsProvider, Window};
use anyhow::Context;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde::Deserialize;

const VERSION: &str = "2017-05-25";

pub struct Aliyun {
    cfg: AliyunSettings,
    sign_name: String,
    client: reqwest::Client,
    url: reqwest::Url,
    host: String,
}

impl Aliyun {
    pub fn new(cfg: &AliyunSettings, county_sign: &str) -> anyhow::Result<Aliyun> {
        if cfg.access_key_id.is_empty() || cfg.access_key_secret.expose_secret().is_empty() {
            anyhow::bail!("sms.aliyun.access_key_id and access_key_secret must be set to send through Alibaba Cloud");
        }
        if !matches!(cfg.signature.as_str(), "v3" | "rpc") {
            anyhow::bail!("sms.aliyun.signature must be v3 or rpc");
        }
        let (url, host) = common::endpoint(&cfg.common.base_url, ALIYUN_ENDPOINT, "sms.aliyun.base_url")?;
        let sign_name = if cfg.common.sign_name.is_empty() { county_sign } else { &cfg.common.sign_name };
        Ok(Aliyun {
            cfg: cfg.clone(),
            sign_name: sign_name.to_string(),
            client: common::client(cfg.common.timeout_ms).context("sms.aliyun")?,
            url,
            host,
        })
    }

    /// The SendSms business parameters.
    fn business(&self, msg: &OutgoingSms) -> Result<Vec<(String, String)>, SendError> {
        let template = common::template_id(&self.cfg.common, ProviderName::Aliyun, &msg.template)?;
        let vars = common::checked_vars(&self.cfg.common, msg)?;
        let map: serde_json::Map<String, serde_json::Value> =
            vars.into_iter().map(|(k, v)| (k, serde_json::Value::String(v))).collect();
        Ok(vec![
            ("PhoneNumbers".into(), bare(&msg.phone)),
            ("SignName".into(), self.sign_name.clone()),
            ("TemplateCode".into(), template.to_string()),
            ("TemplateParam".into(), serde_json::Value::Object(map).to_string()),
            ("OutId".into(), msg.id.to_string()),
        ])
    }

    fn request(&self, action: &str, params: Vec<(String, String)>) -> reqwest::RequestBuilder {
        if self.cfg.signature == "rpc" { self.request_rpc(action, params) } else { self.request_v3(action, params) }
    }

    fn request_v3(&self, action: &str, query: Vec<(String, String)>) -> reqwest::RequestBuilder {
        let date = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let headers: Vec<(String, String)> = vec![
            ("host".into(), self.host.clone()),
            ("x-acs-action".into(), action.into()),
            ("x-acs-version".into(), VERSION.into()),
            ("x-acs-date".into(), date),
            ("x-acs-signature-nonce".into(), nonce),
            ("x-acs-content-sha256".into(), sha256_hex(b"")),
        ];
        let r = sign::V3Request { method: "POST", query: &query, headers: &headers, body: b"" };
        let auth = sign::v3_authorization(&self.cfg.access_key_id, self.cfg.access_key_secret.expose_secret(), &r);
        let mut url = self.url.clone();
        url.set_query(Some(&crate::sms::signing::canonical_query(&query)));
        let mut rb = self.client.post(url).header("authorization", auth);
        for (k, v) in headers.into_iter().filter(|(k, _)| k != "host") {
            rb = rb.header(k, v);
        }
        rb
    }

    fn request_rpc(&self, action: &str, mut params: Vec<(String, String)>) -> reqwest::RequestBuilder {
        let common = [
            ("AccessKeyId", self.cfg.access_key_id.clone()),
            ("Action", action.to_string()),
            ("Format", "JSON".to_string()),
            ("RegionId", self.cfg.region_id.clone()),
            ("SignatureMethod", "HMAC-SHA1".to_string()),
            ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
            ("SignatureVersion", "1.0".to_string()),
            ("Timestamp", chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            ("Version", VERSION.to_string()),
        ];
        params.extend(common.into_iter().map(|(k, v)| (k.to_string(), v)));
        let sts = sign::rpc_string_to_sign("GET", &params);
        let signature = sign::rpc_signature(self.cfg.access_key_secret.expose_secret(), &sts);
        let query =
            format!("Signature={}&{}", percent_encode(&signature), crate::sms::signing::canonical_query(&params));
        let mut url = self.url.clone();
        url.set_query(Some(&query));
        self.client.get(url)
    }
}

#[async_trait]
impl SmsProvider for Aliyun {
    fn name(&self) -> ProviderName {
        ProviderName::Aliyun
    }

    async fn send(&self, msg: &OutgoingSms) -> Result<Sent, SendError> {
        let params = self.business(msg)?;
        let resp = self.request("SendSms", params).send().await.map_err(|e| SendError::from_transport(&e))?;
        let (status, body) = common::read(resp).await?;
        classify(status, &body)
    }

    fn can_query(&self) -> bool {
        true
    }

    /// `QuerySendDetails` for the number on each China date from `since` to `until` (at most three),
    /// paged by 50, looking for our outbox id as `OutId`. The records list a message from the moment
    /// Alibaba took it (status 1, waiting for the receipt).
    async fn query(&self, q: &Lookup<'_>) -> Result<Option<Found>, SendError> {
        let china = chrono_tz::Asia::Shanghai;
        let first = q.since.with_timezone(&china).date_naive();
        let last = q.until.with_timezone(&china).date_naive().min(first + chrono::Days::new(2));
        let key = q.msg.id.to_string();
        for offset in 0..=(last - first).num_days().max(0) as u64 {
            let day = first + chrono::Days::new(offset);
            for page in 1..=MAX_PAGES {
                let params = vec![
                    ("PhoneNumber".to_string(), bare(&q.msg.phone)),
                    ("SendDate".to_string(), day.format("%Y%m%d").to_string()),
                    ("PageSize".to_string(), PAGE_SIZE.to_string()),
                    ("CurrentPage".to_string(), page.to_string()),
                ];
                let resp =
                    self.request("QuerySendDetails", params).send().await.map_err(|e| SendError::from_transport(&e))?;
                let (status, body) = common::read(resp).await?;
                let details = details(status, &body)?;
                if let Some(found) = details.find(&key) {
                    return Ok(Some(found));
                }
                if details.rows < PAGE_SIZE || (page * PAGE_SIZE) as u64 >= details.total {
                    break;
                }
            }
        }
        Ok(None)
    }
}

/// QuerySendDetails pages: 50 records at most per page (the API's limit), 10 pages per day (500
/// messages to one number in a day is far beyond what a county sends).
const PAGE_SIZE: usize = 50;
const MAX_PAGES: usize = 10;

/// One page of QuerySendDetails.
pub struct Details {
    total: u64,
    rows: usize,
    items: Vec<Detail>,
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "PascalCase")]
struct Detail {
    send_status: Option<serde_json::Value>,
    err_code: Option<String>,
    out_id: Option<String>,
}

impl Details {
    /// Our message on this page (by OutId): waiting (1), failed (2) or delivered (3).
    pub fn find(&self, out_id: &str) -> Option<Found> {
        let d = self.items.iter().find(|d| d.out_id.as_deref() == Some(out_id))?;
        let status = d.send_status.as_ref().and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
        let delivered = match status {
            Some(3) => Some(true),
            Some(2) => Some(false),
            _ => None,
        };
        // The records carry no BizId; receipts find the message by OutId.
        Some(Found { provider_message_id: None, delivered, code: d.err_code.clone().filter(|c| !c.is_empty()) })
    }
}

/// Reads a QuerySendDetails answer: `Code == "OK"` and the records, else the error's class (as for
/// SendSms).
pub fn details(status: u16, body: &str) -> Result<Details, SendError> {
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| common::by_status(status.max(500), body))?;
    if v["Code"] != "OK" || status >= 300 {
        return Err(classify(status, body).err().unwrap_or_else(|| common::by_status(status.max(500), body)));
    }
    let total = match &v["TotalCount"] {
        serde_json::Value::Number(n) => n.as_u64().unwrap_or(0),
        serde_json::Value::String(s) => s.parse().unwrap_or(0),
        _ => 0,
    };
    let raw = &v["SmsSendDetailDTOs"]["SmsSendDetailDTO"];
    let items: Vec<Detail> = match raw {
        serde_json::Value::Array(_) => serde_json::from_value(raw.clone()).unwrap_or_default(),
        serde_json::Value::Null => vec![],
        // A single record may come as an object.
        other => serde_json::from_value(other.clone()).map(|d| vec![d]).unwrap_or_default(),
    };
    Ok(Details { total, rows: items.len(), items })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: Option<String>,
    message: Option<String>,
    biz_id: Option<String>,
}

/// Reads a SendSms answer: success iff `Code == "OK"`; otherwise the code decides the class
/// (PROTOCOLS §1c; the classification is ours, Alibaba publishes no retryable flag).
pub fn classify(status: u16, body: &str) -> Result<Sent, SendError> {
    let Ok(a) = serde_json::from_str::<Answer>(body) else {
        return Err(common::by_status(status, body));
    };
    let Some(code) = a.code else {
        return Err(common::by_status(status, body));
    };
    if code == "OK" && status < 300 {
        return Ok(Sent { provider_message_id: a.biz_id });
    }
    let message = a.message.unwrap_or_default();
    let what = format!("{code}: {message}");
    Err(match code.as_str() {
        "isv.BUSINESS_LIMIT_CONTROL" => {
            let window = if message.contains('天') {
                Window::Day
            } else if message.contains("小时") {
                Window::Hour
            } else {
                Window::Minute
            };
            SendError::Deferred { reason: what, window }
        }
        "isv.DAY_LIMIT_CONTROL" => SendError::Deferred { reason: what, window: Window::Day },
        "isv.MONTH_LIMIT_CONTROL" => SendError::Deferred { reason: what, window: Window::Month },
        "isv.MOBILE_NUMBER_ILLEGAL"
        | "isv.MOBILE_COUNT_OVER_LIMIT"
        | "isv.TEMPLATE_MISSING_PARAMETERS"
        | "isv.TEMPLATE_PARAMS_ILLEGAL"
        | "isv.INVALID_JSON_PARAM"
        | "isv.PARAM_LENGTH_LIMIT"
        | "isv.PARAM_NOT_SUPPORT_URL"
        | "isv.INVALID_PARAMETERS"
        | "isv.BLACK_KEY_CONTROL_LIMIT" => SendError::Rejected(what),
        c if c.starts_with("isp.") && c != "isp.RAM_PERMISSION_DENY" => SendError::Transient(what),
        c if c.starts_with("Throttling") || c == "ServiceUnavailable" || c.starts_with("InternalError") => {
            SendError::Transient(what)
        }
        _ if status >= 500 => SendError::Transient(what),
        // Signature, template, balance, account, permissions, and codes we do not know.
        _ => SendError::ProviderFault(what),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: &str, msg: &str) -> SendError {
        classify(200, &format!(r#"{{"Code":"{code}","Message":"{msg}","RequestId":"r"}}"#)).unwrap_err()
    }

    #[test]
    fn ok_carries_the_biz_id() {
        let body = r#"{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}"#;
        assert_eq!(classify(200, body).unwrap().provider_message_id.as_deref(), Some("900619746936498440^0"));
    }

    #[test]
    fn query_send_details_records_are_matched_by_out_id() {
        let body = r#"{"Code":"OK","Message":"OK","RequestId":"819BE656-D2E0-4858-8B21-B2E477085AAF","TotalCount":2,
            "SmsSendDetailDTOs":{"SmsSendDetailDTO":[
            {"PhoneNum":"13900000301","SendStatus":1,"ErrCode":"","TemplateCode":"SMS_1","Content":"x","SendDate":"2026-12-07 10:00:00","ReceiveDate":"","OutId":"41"},
            {"PhoneNum":"13900000301","SendStatus":2,"ErrCode":"MK:0000","TemplateCode":"SMS_1","Content":"x","SendDate":"2026-12-07 10:01:00","ReceiveDate":"2026-12-07 10:01:09","OutId":"42"}]}}"#;
        let d = details(200, body).unwrap();
        assert_eq!(d.find("41"), Some(Found { provider_message_id: None, delivered: None, code: None }));
        assert_eq!(d.find("42").and_then(|f| f.delivered), Some(false));
        assert_eq!(d.find("42").and_then(|f| f.code).as_deref(), Some("MK:0000"));
        assert_eq!(d.find("4"), None, "whole ids only");
        let empty = r#"{"Code":"OK","Message":"OK","RequestId":"r","TotalCount":0,"SmsSendDetailDTOs":{"SmsSendDetailDTO":[]}}"#;
        assert_eq!(details(200, empty).unwrap().find("41"), None);
        assert!(matches!(
            details(200, r#"{"Code":"isp.SYSTEM_ERROR","Message":"系统错误"}"#),
            Err(SendError::Transient(_))
        ));
        assert!(matches!(details(503, "<html>busy</html>"), Err(SendError::Transient(_))));
    }

    #[test]
    fn codes_are_classified() {
        assert!(matches!(err("isp.SYSTEM_ERROR", "系统错误"), SendError::Transient(_)));
        assert!(matches!(err("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号"), SendError::Rejected(_)));
        assert!(matches!(err("isv.SMS_SIGNATURE_ILLEGAL", "签名不合法"), SendError::ProviderFault(_)));
        assert!(matches!(err("isv.AMOUNT_NOT_ENOUGH", "余额不足"), SendError::ProviderFault(_)));
        assert!(matches!(err("isp.RAM_PERMISSION_DENY", "x"), SendError::ProviderFault(_)));
        assert_eq!(
            err("isv.BUSINESS_LIMIT_CONTROL", "触发分钟级流控Permits:1"),
            SendError::Deferred {
                reason: "isv.BUSINESS_LIMIT_CONTROL: 触发分钟级流控Permits:1".into(),
                window: Window::Minute
            }
        );
        assert!(matches!(
            err("isv.BUSINESS_LIMIT_CONTROL", "触发天级流控Permits:10"),
            SendError::Deferred { window: Window::Day, .. }
        ));
        assert!(matches!(err("isv.MONTH_LIMIT_CONTROL", "x"), SendError::Deferred { window: Window::Month, .. }));
        assert!(matches!(classify(503, "<html>busy</html>"), Err(SendError::Transient(_))));
        assert!(matches!(classify(404, "not found"), Err(SendError::ProviderFault(_))));
        let sig = r#"{"Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched","RequestId":"x"}"#;
        assert!(matches!(classify(400, sig), Err(SendError::ProviderFault(_))));
    }
}
