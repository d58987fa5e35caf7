//! Local fakes of the SMS providers for the adapter tests: each checks the exact request the real
//! service would check (method, path, action and version headers, the business parameters, and the
//! signature, recomputed from the request as received) and answers with the provider's real success
//! and error shapes. A script queues the answers of the next calls; without one every call succeeds.
//! Each fake keeps every request it saw. A second request with a key it accepted before (OutId,
//! SessionContext, Idempotency-Key) is answered with the first answer and marked a replay: Alibaba
//! and Tencent would send it again, so tests count replays as duplicates on the villager's phone.
//! The Alibaba and Tencent fakes also answer their status queries (QuerySendDetails,
//! PullSmsSendStatusByPhoneNumber, signed like SendSms and checked the same way) from what they
//! accepted, and can be switched off (`set_down`: every request answered 503, nothing accepted).
use minsheng::sms::signing::{aliyun, sha256_hex, tencent};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate, matchers::any};

pub const ALIYUN_ID: &str = "LTAI-test-id";
pub const ALIYUN_SECRET: &str = "aliyun-test-secret";
pub const TENCENT_ID: &str = "AKID-test-id";
pub const TENCENT_KEY: &str = "tencent-test-key";
pub const TENCENT_APP: &str = "1400006666";
pub const HTTP_SECRET: &str = "http-gateway-secret";

/// What the next call gets.
#[derive(Clone, Debug)]
pub enum Answer {
    Ok,
    /// The provider's error code in its usual shape (HTTP 200, as both answer business errors).
    Code(&'static str, &'static str),
    /// A raw HTTP answer (5xx pages, gateway errors).
    Http(u16, &'static str),
    /// Taken and sent, but answered only after the client gave up (a timeout after sending).
    Hang(Duration),
    /// Never reached the provider (lost on the way), and no answer: the client times out too.
    Lost(Duration),
}

/// One request the fake saw with a valid signature.
#[derive(Clone, Debug)]
pub struct Seen {
    pub key: String,
    pub phone: String,
    pub template: String,
    pub params: Value,
    pub accepted: bool,
    pub replay: bool,
}

#[derive(Default)]
pub struct Log {
    pub seen: Vec<Seen>,
    pub bad_signatures: usize,
    /// Idempotency key → provider message id of its first acceptance.
    pub accepted: HashMap<String, String>,
    pub script: VecDeque<Answer>,
    /// Delay of every answer (to let a test kill a worker mid-send).
    pub delay: Option<Duration>,
    /// Status queries answered (found or not).
    pub queries: usize,
    /// Out of service: every request gets a 503 and nothing is taken.
    pub down: bool,
    /// Requests refused while down.
    pub refused: usize,
}

#[derive(Clone)]
pub struct Fake {
    pub server: Arc<MockServer>,
    pub log: Arc<Mutex<Log>>,
}

impl Fake {
    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn script(&self, answers: impl IntoIterator<Item = Answer>) {
        self.log.lock().unwrap().script.extend(answers);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().seen.clone()
    }

    pub fn accepted(&self) -> HashMap<String, String> {
        self.log.lock().unwrap().accepted.clone()
    }

    pub fn bad_signatures(&self) -> usize {
        self.log.lock().unwrap().bad_signatures
    }

    pub fn set_delay(&self, d: Duration) {
        self.log.lock().unwrap().delay = Some(d);
    }

    pub fn set_down(&self, down: bool) {
        self.log.lock().unwrap().down = down;
    }

    pub fn queries(&self) -> usize {
        self.log.lock().unwrap().queries
    }

    pub fn refused(&self) -> usize {
        self.log.lock().unwrap().refused
    }

    /// Acceptances per key (replays included): what phones received.
    pub fn deliveries(&self) -> HashMap<String, usize> {
        let mut out: HashMap<String, usize> = HashMap::new();
        for s in self.seen().iter().filter(|s| s.accepted) {
            *out.entry(s.key.clone()).or_default() += 1;
        }
        out
    }
}

/// Answers 503 (and counts it) when the fake is down.
fn refuse_if_down(log: &Arc<Mutex<Log>>) -> Option<ResponseTemplate> {
    let mut l = log.lock().unwrap();
    if !l.down {
        return None;
    }
    l.refused += 1;
    Some(ResponseTemplate::new(503).set_body_string("<html>503 Service Temporarily Unavailable</html>"))
}

/// The accepted sends to `phone` (replays included, as the provider's records would list them):
/// (key, provider message id).
fn records(log: &Arc<Mutex<Log>>, phone: &str) -> Vec<(String, String)> {
    let mut l = log.lock().unwrap();
    l.queries += 1;
    l.seen
        .iter()
        .filter(|s| s.accepted && s.phone == phone)
        .map(|s| (s.key.clone(), l.accepted.get(&s.key).cloned().unwrap_or_default()))
        .collect()
}

async fn start(responder: impl Respond + 'static) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(responder).mount(&server).await;
    server
}

fn header(r: &Request, name: &str) -> String {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Records a verified request and picks its answer: the script, else success; a replayed key gets
/// its first message id back.
fn decide(
    log: &Arc<Mutex<Log>>,
    mut seen: Seen,
    next_id: impl FnOnce(usize) -> String,
) -> (Answer, String, Option<Duration>) {
    let mut l = log.lock().unwrap();
    let delay = l.delay;
    if let Some(id) = l.accepted.get(&seen.key).cloned() {
        seen.replay = true;
        seen.accepted = true;
        l.seen.push(seen);
        return (Answer::Ok, id, delay);
    }
    let answer = l.script.pop_front().unwrap_or(Answer::Ok);
    let id = next_id(l.seen.len() + 1);
    if matches!(answer, Answer::Ok | Answer::Hang(_)) {
        seen.accepted = true;
        l.accepted.insert(seen.key.clone(), id.clone());
    }
    l.seen.push(seen);
    (answer, id, delay)
}

fn with_delay(t: ResponseTemplate, answer: &Answer, delay: Option<Duration>) -> ResponseTemplate {
    match (answer, delay) {
        (Answer::Hang(d) | Answer::Lost(d), _) => t.set_delay(*d),
        (_, Some(d)) => t.set_delay(d),
        _ => t,
    }
}

// ---------------------------------------------------------------- Alibaba Cloud

struct AliyunFake {
    log: Arc<Mutex<Log>>,
}

fn aliyun_error(code: &str, message: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"Code": code, "Message": message,
        "RequestId": "0D5B2A6E-3C1F-4C41-9E4C-0A2B7B5F5B11"}))
}

const ALIYUN_ACTIONS: [&str; 2] = ["SendSms", "QuerySendDetails"];

impl Respond for AliyunFake {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        if let Some(t) = refuse_if_down(&self.log) {
            return t;
        }
        let pairs: Vec<(String, String)> = r.url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        let signed = if r.method.as_str() == "GET" {
            // Legacy RPC signature: every parameter but Signature, HMAC-SHA1 with "secret&".
            let rest: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "Signature").cloned().collect();
            let expected = aliyun::rpc_signature(ALIYUN_SECRET, &aliyun::rpc_string_to_sign("GET", &rest));
            get("Signature") == expected
                && get("AccessKeyId") == ALIYUN_ID
                && ALIYUN_ACTIONS.contains(&get("Action").as_str())
                && get("Version") == "2017-05-25"
                && get("SignatureMethod") == "HMAC-SHA1"
        } else {
            let names =
                ["x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"];
            let mut headers: Vec<(String, String)> = names.iter().map(|n| (n.to_string(), header(r, n))).collect();
            headers.push(("host".into(), header(r, "host")));
            let req = aliyun::V3Request { method: "POST", query: &pairs, headers: &headers, body: &r.body };
            r.method.as_str() == "POST"
                && r.url.path() == "/"
                && ALIYUN_ACTIONS.contains(&header(r, "x-acs-action").as_str())
                && header(r, "x-acs-version") == "2017-05-25"
                && header(r, "x-acs-content-sha256") == sha256_hex(&r.body)
                && header(r, "authorization") == aliyun::v3_authorization(ALIYUN_ID, ALIYUN_SECRET, &req)
        };
        if !signed {
            self.log.lock().unwrap().bad_signatures += 1;
            return aliyun_error(
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation.",
                400,
            );
        }
        let action = if r.method.as_str() == "GET" { get("Action") } else { header(r, "x-acs-action") };
        if action == "QuerySendDetails" {
            return aliyun_details(&self.log, &get);
        }
        let params: Value = serde_json::from_str(&get("TemplateParam")).unwrap_or(Value::Null);
        let strings_only = params.as_object().is_some_and(|o| o.values().all(Value::is_string));
        if get("PhoneNumbers").len() != 11 || get("SignName").is_empty() || !get("TemplateCode").starts_with("SMS_") {
            return aliyun_error("isv.INVALID_PARAMETERS", "参数异常", 200);
        }
        if !strings_only {
            return aliyun_error("isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值", 200);
        }
        let seen = Seen {
            key: get("OutId"),
            phone: get("PhoneNumbers"),
            template: get("TemplateCode"),
            params,
            accepted: false,
            replay: false,
        };
        let (answer, biz_id, delay) = decide(&self.log, seen, |n| format!("9006197469364{n:05}^0"));
        let t = match &answer {
            Answer::Ok | Answer::Hang(_) | Answer::Lost(_) => ResponseTemplate::new(200)
                .set_body_json(json!({"Code": "OK", "Message": "OK",
                "BizId": biz_id, "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990"})),
            Answer::Code(c, m) => aliyun_error(c, m, 200),
            Answer::Http(s, b) => ResponseTemplate::new(*s).set_body_string(*b),
        };
        with_delay(t, &answer, delay)
    }
}

/// QuerySendDetails: the parameters checked as the API checks them, the number's records paged.
fn aliyun_details(log: &Arc<Mutex<Log>>, get: &dyn Fn(&str) -> String) -> ResponseTemplate {
    let phone = get("PhoneNumber");
    let date = get("SendDate");
    let size: usize = get("PageSize").parse().unwrap_or(0);
    let page: usize = get("CurrentPage").parse().unwrap_or(0);
    let date_ok = date.len() == 8 && chrono::NaiveDate::parse_from_str(&date, "%Y%m%d").is_ok();
    if phone.len() != 11 || !date_ok || !(1..=50).contains(&size) || page < 1 {
        return aliyun_error("isv.INVALID_PARAMETERS", "参数异常", 200);
    }
    let all = records(log, &phone);
    let items: Vec<Value> = all
        .iter()
        .skip((page - 1) * size)
        .take(size)
        .map(|(key, _)| {
            json!({"PhoneNum": phone, "SendStatus": 3, "ErrCode": "DELIVERED", "TemplateCode": "SMS_300000002",
                "Content": "【民声直达】您的诉求已受理", "SendDate": "2026-12-07 10:00:00",
                "ReceiveDate": "2026-12-07 10:00:05", "OutId": key})
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({"Code": "OK", "Message": "OK",
        "RequestId": "819BE656-D2E0-4858-8B21-B2E477085AAF", "TotalCount": all.len(),
        "SmsSendDetailDTOs": {"SmsSendDetailDTO": items}}))
}

pub async fn aliyun() -> Fake {
    let log = Arc::new(Mutex::new(Log::default()));
    let server = start(AliyunFake { log: log.clone() }).await;
    Fake { server: Arc::new(server), log }
}

// ---------------------------------------------------------------- Tencent Cloud

struct TencentFake {
    log: Arc<Mutex<Log>>,
}

fn tencent_error(code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"Response": {"Error": {"Code": code, "Message": message},
        "RequestId": "a3b4c5d6-0000-4000-8000-000000000001"}}))
}

const TENCENT_ACTIONS: [&str; 2] = ["SendSms", "PullSmsSendStatusByPhoneNumber"];

impl Respond for TencentFake {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        if let Some(t) = refuse_if_down(&self.log) {
            return t;
        }
        let ts: i64 = header(r, "x-tc-timestamp").parse().unwrap_or(0);
        let action = header(r, "x-tc-action");
        let req = tencent::Tc3Request {
            method: "POST",
            host: &header(r, "host"),
            content_type: &header(r, "content-type"),
            action: Some(&action),
            payload: &r.body,
        };
        let expected = tencent::authorization(TENCENT_ID, TENCENT_KEY, "sms", ts, &req);
        let fresh = (chrono::Utc::now().timestamp() - ts).abs() <= 300;
        let ok = r.method.as_str() == "POST"
            && r.url.path() == "/"
            && TENCENT_ACTIONS.contains(&action.as_str())
            && header(r, "x-tc-version") == "2021-01-11"
            && header(r, "x-tc-region") == "ap-guangzhou"
            && header(r, "content-type").starts_with("application/json");
        if !ok || header(r, "authorization") != expected {
            self.log.lock().unwrap().bad_signatures += 1;
            return tencent_error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.");
        }
        if !fresh {
            return tencent_error("AuthFailure.SignatureExpire", "Signature expired.");
        }
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if action == "PullSmsSendStatusByPhoneNumber" {
            return tencent_reports(&self.log, &body);
        }
        let phone = body["PhoneNumberSet"][0].as_str().unwrap_or_default().to_string();
        let set_ok = body["TemplateParamSet"].as_array().is_some_and(|a| a.iter().all(Value::is_string));
        if !phone.starts_with("+86") || body["SmsSdkAppId"] != TENCENT_APP || !set_ok || body["SignName"].is_null() {
            return tencent_error("InvalidParameterValue.IncorrectPhoneNumber", "phone number or parameters invalid");
        }
        let context = body["SessionContext"].as_str().unwrap_or_default().to_string();
        let seen = Seen {
            key: context.clone(),
            phone: phone.clone(),
            template: body["TemplateId"].as_str().unwrap_or_default().to_string(),
            params: body["TemplateParamSet"].clone(),
            accepted: false,
            replay: false,
        };
        let (answer, serial, delay) = decide(&self.log, seen, |n| format!("2026:51001{n:05}"));
        let status = |code: &str, message: &str, serial: &str, fee: i32| {
            ResponseTemplate::new(200).set_body_json(json!({"Response": {"SendStatusSet": [{"SerialNo": serial,
                "PhoneNumber": phone, "Fee": fee, "SessionContext": context, "Code": code, "Message": message,
                "IsoCode": "CN"}], "RequestId": "a3b4c5d6-0000-4000-8000-000000000002"}}))
        };
        let t = match &answer {
            Answer::Ok | Answer::Hang(_) | Answer::Lost(_) => status("Ok", "send success", &serial, 1),
            // Call-level failures come as Response.Error; per-number ones in SendStatusSet.
            Answer::Code(c, m)
                if c.starts_with("LimitExceeded.PhoneNumber") || c.starts_with("InvalidParameterValue") =>
            {
                status(c, m, "", 0)
            }
            Answer::Code(c, m) => tencent_error(c, m),
            Answer::Http(s, b) => ResponseTemplate::new(*s).set_body_string(*b),
        };
        with_delay(t, &answer, delay)
    }
}

/// PullSmsSendStatusByPhoneNumber: the parameters checked as the API checks them (offset 0 only,
/// at most 100, seven days back at most), the number's delivery reports.
fn tencent_reports(log: &Arc<Mutex<Log>>, body: &Value) -> ResponseTemplate {
    let phone = body["PhoneNumber"].as_str().unwrap_or_default().to_string();
    let (begin, end) = (body["BeginTime"].as_i64().unwrap_or(-1), body["EndTime"].as_i64().unwrap_or(-1));
    let limit = body["Limit"].as_i64().unwrap_or(0);
    let ok = phone.starts_with("+86")
        && phone.len() == 14
        && body["SmsSdkAppId"] == TENCENT_APP
        && body["Offset"] == 0
        && (1..=100).contains(&limit)
        && begin > 0
        && begin <= end
        && end - begin <= 7 * 86_400;
    if !ok {
        return tencent_error("InvalidParameter", "parameters invalid");
    }
    let set: Vec<Value> = records(log, &phone)
        .into_iter()
        .take(limit as usize)
        .map(|(key, serial)| {
            json!({"Description": "DELIVRD", "CountryCode": "86", "SubscriberNumber": &phone[3..],
                "ReportStatus": "SUCCESS", "PhoneNumber": phone, "SerialNo": serial, "UserReceiveTime": end,
                "SessionContext": key})
        })
        .collect();
    ResponseTemplate::new(200).set_body_json(json!({"Response": {"PullSmsSendStatusSet": set,
        "RequestId": "8979fc1e-9564-4fc9-bf7d-2958ce679b72"}}))
}

pub async fn tencent() -> Fake {
    let log = Arc::new(Mutex::new(Log::default()));
    let server = start(TencentFake { log: log.clone() }).await;
    Fake { server: Arc::new(server), log }
}

// ---------------------------------------------------------------- generic HTTP gateway

struct HttpFake {
    log: Arc<Mutex<Log>>,
}

impl Respond for HttpFake {
    fn respond(&self, r: &Request) -> ResponseTemplate {
        let ts: i64 = header(r, "x-timestamp").parse().unwrap_or(0);
        let expected = minsheng::sms::providers::http::signature(HTTP_SECRET, ts, &r.body);
        if r.method.as_str() != "POST" || header(r, "x-signature") != expected || header(r, "x-api-key") != "k-1" {
            self.log.lock().unwrap().bad_signatures += 1;
            return ResponseTemplate::new(401).set_body_json(json!({"code": "E_AUTH"}));
        }
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let seen = Seen {
            key: header(r, "idempotency-key"),
            phone: body["phone"].as_str().unwrap_or_default().to_string(),
            template: body["kind"].as_str().unwrap_or_default().to_string(),
            params: json!({"content": body["content"].clone(), "params": body["params"].clone()}),
            accepted: false,
            replay: false,
        };
        let (answer, id, delay) = decide(&self.log, seen, |n| format!("gw-{n}"));
        let t = match &answer {
            Answer::Ok | Answer::Hang(_) | Answer::Lost(_) => {
                ResponseTemplate::new(200).set_body_json(json!({"code": 0, "message_id": id}))
            }
            Answer::Code(c, _) => ResponseTemplate::new(200).set_body_json(json!({"code": c})),
            Answer::Http(s, b) => ResponseTemplate::new(*s).set_body_string(*b),
        };
        with_delay(t, &answer, delay)
    }
}

pub async fn http() -> Fake {
    let log = Arc::new(Mutex::new(Log::default()));
    let server = start(HttpFake { log: log.clone() }).await;
    Fake { server: Arc::new(server), log }
}

// ---------------------------------------------------------------- settings pointing at the fakes

use minsheng::configuration::Settings;
use secrecy::SecretString;

pub const CALLBACK_TOKEN: &str = "cb-token-0123456789";

pub fn use_aliyun(s: &mut Settings, uri: &str) {
    let a = &mut s.sms.aliyun;
    a.common.base_url = uri.to_string();
    a.access_key_id = ALIYUN_ID.into();
    a.access_key_secret = SecretString::from(ALIYUN_SECRET);
    a.common.timeout_ms = 1000;
    a.common.callback_secret = SecretString::from(CALLBACK_TOKEN);
    for (kind, code) in [
        ("assignment", "SMS_300000001"),
        ("confirmation", "SMS_300000002"),
        ("rating_request", "SMS_300000003"),
        ("urge", "SMS_300000004"),
        ("escalation", "SMS_300000005"),
        ("otp", "SMS_300000006"),
    ] {
        a.common.templates.insert(kind.into(), code.into());
    }
}

pub fn use_tencent(s: &mut Settings, uri: &str) {
    let t = &mut s.sms.tencent;
    t.common.base_url = uri.to_string();
    t.secret_id = TENCENT_ID.into();
    t.secret_key = SecretString::from(TENCENT_KEY);
    t.sdk_app_id = TENCENT_APP.into();
    t.common.timeout_ms = 1000;
    t.common.callback_secret = SecretString::from(CALLBACK_TOKEN);
    for (kind, id) in [
        ("assignment", "1000001"),
        ("confirmation", "1000002"),
        ("rating_request", "1000003"),
        ("urge", "1000004"),
        ("escalation", "1000005"),
        ("otp", "1000006"),
    ] {
        t.common.templates.insert(kind.into(), id.into());
    }
}

pub fn use_http(s: &mut Settings, uri: &str) {
    let h = &mut s.sms.http;
    h.common.base_url = uri.to_string();
    h.common.timeout_ms = 1000;
    h.hmac_secret = SecretString::from(HTTP_SECRET);
    h.common.callback_secret = SecretString::from(HTTP_SECRET);
    h.headers.insert("X-Api-Key".into(), "k-1".into());
    h.success_codes = vec!["0".into()];
    h.rejected_codes = vec!["E_NUMBER".into()];
}
