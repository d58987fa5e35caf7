//! What providers push to `/hooks/sms/{provider}/…`: delivery receipts and replies, parsed from each
//! provider's format into one shape, the check of the provider's secret, and the acknowledgement
//! each provider expects. Pure: the route and the services do the I/O.
use super::providers::http::signature;
use super::values::ProviderName;
use crate::domain::mac;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

/// A delivery receipt.
#[derive(Clone, Debug, PartialEq)]
pub struct Receipt {
    /// Our outbox id as echoed by the provider (Alibaba `out_id`), when it echoes one.
    pub outbox_id: Option<i64>,
    pub provider_message_id: Option<String>,
    pub phone: Option<String>,
    pub delivered: bool,
    pub code: String,
    pub description: String,
    pub at: Option<DateTime<Utc>>,
}

/// A message a phone sent us.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbound {
    pub phone: String,
    pub text: String,
    pub at: Option<DateTime<Utc>>,
    /// The provider's own reference for the message, when it has one (Alibaba `sequence_id`).
    pub reference: Option<String>,
}

/// Provider timestamps like `2017-01-01 00:00:00` are Beijing time.
fn beijing(s: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok()?;
    chrono_tz::Asia::Shanghai.from_local_datetime(&naive).earliest().map(|d| d.to_utc())
}

/// A provider's field as text. What phones send cannot be refused (the provider would retry the
/// batch for ever), so control characters and direction overrides are dropped instead.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(crate::domain::text::scrub(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An array of items, or one object taken as an array of one.
fn items(body: &[u8]) -> Result<Vec<Value>, String> {
    match serde_json::from_slice::<Value>(body).map_err(|e| format!("请求体不是有效的 JSON：{e}"))? {
        Value::Array(a) => Ok(a),
        v @ Value::Object(_) => Ok(vec![v]),
        _ => Err("请求体必须是 JSON 对象或数组".into()),
    }
}

fn field<'a>(v: &'a Value, names: &[&str]) -> Option<&'a Value> {
    names.iter().find_map(|n| v.get(*n)).filter(|v| !v.is_null())
}

fn string(v: &Value, names: &[&str]) -> Option<String> {
    field(v, names).and_then(text).filter(|s| !s.is_empty())
}

#[derive(Deserialize)]
struct GenericStatus {
    status: String,
}

pub fn parse_receipts(provider: ProviderName, body: &[u8]) -> Result<Vec<Receipt>, String> {
    let mut out = Vec::new();
    for v in items(body)? {
        let r = match provider {
            // SmsReport: success (bool), err_code, err_msg, biz_id, out_id, phone_number, report_time.
            ProviderName::Aliyun => Receipt {
                outbox_id: string(&v, &["out_id"]).and_then(|s| s.parse().ok()),
                provider_message_id: string(&v, &["biz_id"]),
                phone: string(&v, &["phone_number"]),
                delivered: field(&v, &["success"]).and_then(Value::as_bool).ok_or("回执缺少 success 字段")?,
                code: string(&v, &["err_code"]).unwrap_or_default(),
                description: string(&v, &["err_msg"]).unwrap_or_default(),
                at: string(&v, &["report_time"]).and_then(|s| beijing(&s)),
            },
            // Status callback: sid (= SerialNo), report_status SUCCESS|FAIL, errmsg, description.
            ProviderName::Tencent => Receipt {
                outbox_id: None,
                provider_message_id: Some(string(&v, &["sid"]).ok_or("回执缺少 sid 字段")?),
                phone: string(&v, &["mobile"]),
                delivered: string(&v, &["report_status"]).ok_or("回执缺少 report_status 字段")? == "SUCCESS",
                code: string(&v, &["errmsg"]).unwrap_or_default(),
                description: string(&v, &["description"]).unwrap_or_default(),
                at: string(&v, &["user_receive_time"]).and_then(|s| beijing(&s)),
            },
            // Ours: {outbox_id?, message_id?, phone?, status: delivered|failed, code?, description?, at?}.
            ProviderName::Http | ProviderName::Console => {
                let s: GenericStatus = serde_json::from_value(v.clone()).map_err(|_| "回执缺少 status 字段")?;
                if !matches!(s.status.as_str(), "delivered" | "failed") {
                    return Err("回执 status 只能是 delivered 或 failed".into());
                }
                Receipt {
                    outbox_id: field(&v, &["outbox_id"]).and_then(text).and_then(|s| s.parse().ok()),
                    provider_message_id: string(&v, &["message_id"]),
                    phone: string(&v, &["phone"]),
                    delivered: s.status == "delivered",
                    code: string(&v, &["code"]).unwrap_or_else(|| s.status.to_uppercase()),
                    description: string(&v, &["description"]).unwrap_or_default(),
                    at: string(&v, &["at"]).and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.to_utc()),
                }
            }
        };
        if r.outbox_id.is_none() && r.provider_message_id.is_none() {
            return Err("回执既无 out_id 也无消息编号".into());
        }
        out.push(r);
    }
    Ok(out)
}

pub fn parse_inbound(provider: ProviderName, body: &[u8]) -> Result<Vec<Inbound>, String> {
    let mut out = Vec::new();
    for v in items(body)? {
        let i = match provider {
            // SmsUp: phone_number, content, send_time, sequence_id (number or string).
            ProviderName::Aliyun => Inbound {
                phone: string(&v, &["phone_number"]).ok_or("上行短信缺少 phone_number")?,
                text: string(&v, &["content"]).unwrap_or_default(),
                at: string(&v, &["send_time"]).and_then(|s| beijing(&s)),
                reference: string(&v, &["sequence_id"]),
            },
            // Reply callback: mobile, nationcode, text, time (Unix seconds).
            ProviderName::Tencent => Inbound {
                phone: string(&v, &["mobile"]).ok_or("上行短信缺少 mobile")?,
                text: string(&v, &["text"]).unwrap_or_default(),
                at: field(&v, &["time"]).and_then(Value::as_i64).and_then(|t| DateTime::from_timestamp(t, 0)),
                reference: None,
            },
            // Ours: {phone, text, at? (RFC 3339), id?}.
            ProviderName::Http | ProviderName::Console => Inbound {
                phone: string(&v, &["phone"]).ok_or("缺少 phone 字段")?,
                text: string(&v, &["text"]).unwrap_or_default(),
                at: string(&v, &["at"]).and_then(|s| DateTime::parse_from_rfc3339(&s).ok()).map(|d| d.to_utc()),
                reference: string(&v, &["id"]),
            },
        };
        out.push(i);
    }
    Ok(out)
}

/// The answer each provider expects when its push was taken.
pub fn ack(provider: ProviderName) -> Value {
    match provider {
        ProviderName::Aliyun => json!({"code": 0, "msg": "接收成功"}),
        ProviderName::Tencent => json!({"result": 0, "errmsg": "OK"}),
        ProviderName::Http | ProviderName::Console => json!({"ok": true}),
    }
}

/// The parts of a callback request the authentication looks at.
pub struct Presented<'a> {
    /// `token` query parameter or `X-Callback-Token` header.
    pub token: Option<&'a str>,
    /// The http provider's timestamp and signature headers.
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks a callback against the provider's secret. Alibaba and Tencent push to a URL the county
/// registers, so the secret travels as a token in that URL; the generic gateway signs the body
/// (HMAC-SHA256 over `"{timestamp}.{body}"`, at most `max_skew_seconds` old).
pub fn authenticate(
    provider: ProviderName,
    secret: Option<&str>,
    p: &Presented<'_>,
    now: DateTime<Utc>,
    max_skew_seconds: i64,
) -> bool {
    let Some(secret) = secret else { return false };
    if provider == ProviderName::Http {
        let (Some(ts), Some(sig)) = (p.timestamp, p.signature) else { return false };
        let Ok(ts) = ts.trim().parse::<i64>() else { return false };
        if (now.timestamp() - ts).abs() > max_skew_seconds {
            return false;
        }
        return mac::equal(signature(secret, ts, p.body).as_bytes(), sig.trim().as_bytes());
    }
    p.token.is_some_and(|t| mac::equal(t.as_bytes(), secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProviderName::{Aliyun, Http, Tencent};

    #[test]
    fn aliyun_report_array_with_a_failure() {
        let body = r#"[{"phone_number":"13900000301","send_time":"2017-01-01 00:00:00","report_time":"2017-01-01 00:00:05","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1","biz_id":"12345^0","out_id":"17"},
                       {"phone_number":"13900000302","send_time":"2017-01-01 00:00:00","report_time":"2017-01-01 00:00:09","success":false,"err_code":"MK:0000","err_msg":"空号","sms_size":"1","biz_id":"12346^0","out_id":"18"}]"#;
        let r = parse_receipts(Aliyun, body.as_bytes()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].outbox_id, Some(17));
        assert!(r[0].delivered && !r[1].delivered);
        assert_eq!(r[1].code, "MK:0000");
        assert_eq!(r[0].at, Some(DateTime::parse_from_rfc3339("2016-12-31T16:00:05Z").unwrap().to_utc()));
    }

    #[test]
    fn aliyun_up_accepts_numeric_and_string_sequence_ids() {
        let a = r#"[{"phone_number":"13800138000","content":"1","send_time":"2017-01-01 00:00:00","dest_code":"1","sequence_id":1234}]"#;
        let b = r#"[{"phone_number":"13800138000","content":"1","send_time":"2017-01-01 00:00:00","dest_code":"1","sequence_id":"1234","sign_name":"x"}]"#;
        assert_eq!(parse_inbound(Aliyun, a.as_bytes()).unwrap()[0].reference.as_deref(), Some("1234"));
        assert_eq!(parse_inbound(Aliyun, b.as_bytes()).unwrap(), parse_inbound(Aliyun, a.as_bytes()).unwrap());
    }

    #[test]
    fn tencent_status_array_and_reply_object() {
        let s = r#"[{"user_receive_time":"2015-10-17 08:03:04","nationcode":"86","mobile":"13800138000","report_status":"FAIL","errmsg":"MK:0001","description":"用户短信未送达","sid":"2019:5100123456"}]"#;
        let r = parse_receipts(Tencent, s.as_bytes()).unwrap();
        assert_eq!(r[0].provider_message_id.as_deref(), Some("2019:5100123456"));
        assert!(!r[0].delivered);
        let i = r#"{"extend":"","mobile":"13800138000","nationcode":"86","sign":"民声直达","text":"收到","time":1457336869}"#;
        let i = parse_inbound(Tencent, i.as_bytes()).unwrap();
        assert_eq!(i[0].text, "收到");
        assert_eq!(i[0].at.map(|t| t.timestamp()), Some(1457336869));
        assert_eq!(ack(Tencent), json!({"result": 0, "errmsg": "OK"}));
        assert!(ack(Aliyun)["code"].is_number());
    }

    #[test]
    fn malformed_pushes_are_refused() {
        assert!(parse_receipts(Aliyun, b"not json").is_err());
        assert!(parse_receipts(Aliyun, br#"[{"out_id":"1"}]"#).is_err());
        assert!(parse_receipts(Http, br#"{"outbox_id":1,"status":"maybe"}"#).is_err());
        assert!(parse_receipts(Http, br#"{"status":"delivered"}"#).is_err());
        assert!(parse_inbound(Tencent, br#"{"text":"1"}"#).is_err());
    }

    #[test]
    fn tokens_and_signatures_are_checked() {
        let now = Utc::now();
        let body = br#"{"phone":"13800138000","text":"1"}"#;
        let with = |token, timestamp, signature| Presented { token, timestamp, signature, body };
        assert!(authenticate(Aliyun, Some("s3cret"), &with(Some("s3cret"), None, None), now, 300));
        assert!(!authenticate(Aliyun, Some("s3cret"), &with(Some("s3cre"), None, None), now, 300));
        assert!(!authenticate(Aliyun, None, &with(Some(""), None, None), now, 300));
        let ts = now.timestamp().to_string();
        let sig = signature("k", now.timestamp(), body);
        assert!(authenticate(Http, Some("k"), &with(None, Some(&ts), Some(&sig)), now, 300));
        assert!(!authenticate(Http, Some("k2"), &with(None, Some(&ts), Some(&sig)), now, 300));
        let old = (now.timestamp() - 600).to_string();
        let old_sig = signature("k", now.timestamp() - 600, body);
        assert!(!authenticate(Http, Some("k"), &with(None, Some(&old), Some(&old_sig)), now, 300));
    }

    // Fuzzing the push parsers (issue 21 point 5): whatever a provider, or someone who learnt the
    // callback secret, sends is answered, never a panic; what parses names its message.
    mod fuzz {
        use super::*;
        use proptest::prelude::*;

        const KEYS: &[&str] = &[
            "out_id",
            "biz_id",
            "phone_number",
            "success",
            "err_code",
            "err_msg",
            "report_time",
            "send_time",
            "content",
            "sequence_id",
            "sid",
            "mobile",
            "report_status",
            "errmsg",
            "description",
            "user_receive_time",
            "text",
            "time",
            "status",
            "outbox_id",
            "message_id",
            "phone",
            "at",
            "id",
            "code",
        ];

        /// JSON built from the fields the parsers look for, with values of every type.
        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
                ".{0,24}".prop_map(Value::String),
                "[0-9]{1,20}".prop_map(Value::String),
                "20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]".prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 48, 8, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                    prop::collection::btree_map(prop::sample::select(KEYS).prop_map(str::to_string), inner, 0..10)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn providers() -> impl Strategy<Value = ProviderName> {
            prop::sample::select(vec![Aliyun, Tencent, Http, ProviderName::Console])
        }

        proptest! {
            #[test]
            fn any_bytes_are_answered_never_a_panic(p in providers(), body in prop::collection::vec(any::<u8>(), 0..512)) {
                let _ = parse_receipts(p, &body);
                let _ = parse_inbound(p, &body);
            }

            #[test]
            fn any_json_of_their_fields_parses_or_is_refused_by_name(p in providers(), v in json()) {
                let body = serde_json::to_vec(&v).unwrap();
                match parse_receipts(p, &body) {
                    Ok(rs) => for r in rs {
                        prop_assert!(r.outbox_id.is_some() || r.provider_message_id.is_some());
                    },
                    Err(e) => prop_assert!(!e.is_empty()),
                }
                match parse_inbound(p, &body) {
                    Ok(is) => for i in is {
                        prop_assert!(!i.phone.is_empty());
                    },
                    Err(e) => prop_assert!(!e.is_empty()),
                }
            }

            #[test]
            fn an_aliyun_report_says_what_was_sent(id in 1i64..i64::MAX, ok in any::<bool>(), biz in "[0-9]{6,18}\\^0") {
                let body = serde_json::json!([{"phone_number": "13900000301", "success": ok, "err_code": "DELIVERED",
                    "biz_id": biz, "out_id": id.to_string(), "report_time": "2026-12-07 10:00:00"}]);
                let r = parse_receipts(Aliyun, body.to_string().as_bytes()).unwrap();
                prop_assert_eq!(r.len(), 1);
                prop_assert_eq!(r[0].outbox_id, Some(id));
                prop_assert_eq!(r[0].delivered, ok);
                prop_assert_eq!(r[0].provider_message_id.as_deref(), Some(biz.as_str()));
            }
        }
    }
}
