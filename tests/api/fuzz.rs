//! Property-based fuzzing of the request parsers over HTTP (issue 21, point 5), bounded so it runs in
//! every CI pass: JSON bodies (intake, staff actions), the work link's multipart forms, the villager
//! card form, the SMS providers' pushes and the Open311 form. Whatever arrives, the answer is never a
//! 5xx, a refusal carries the error contract with a Chinese message (pages answer a page), and
//! nothing is half-written: the tickets counted are the intakes answered 201.
//! `MINSHENG_FUZZ_CASES` raises the number of cases per parser (default 40).
use crate::helpers::{TestApp, spawn_app_with};
use crate::sms_fakes::{CALLBACK_TOKEN, use_aliyun};
use minsheng::kv::limiter::Limit;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn cases() -> u32 {
    std::env::var("MINSHENG_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(40)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// JSON of every shape, with the names the parsers look for among the keys.
fn json_value(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        "[\\x00-\\x1f<>&\"'\\\\]{0,8}".prop_map(Value::String),
        "1[3-9][0-9]{9}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![prop::sample::select(keys).prop_map(str::to_string), "[a-z_]{1,12}"],
                inner,
                0..8
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid body with one field replaced, one removed, or one added; or anything at all.
fn mutated(valid: Value, keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let v2 = valid.clone();
    let v3 = valid.clone();
    prop_oneof![
        (prop::sample::select(keys), json_value(keys)).prop_map(move |(k, x)| {
            let mut b = valid.clone();
            b[k] = x;
            b
        }),
        prop::sample::select(keys).prop_map(move |k| {
            let mut b = v2.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        }),
        ("[a-z]{1,10}", json_value(keys)).prop_map(move |(k, x)| {
            let mut b = v3.clone();
            b[k] = x;
            b
        }),
        json_value(keys),
    ]
}

/// Raw bytes sent under a content type: valid UTF-8 or not, truncated JSON, deep nesting.
fn raw_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        "\\PC{0,200}".prop_map(String::into_bytes),
        (1usize..3000).prop_map(|n| format!("{}1{}", "[".repeat(n), "]".repeat(n)).into_bytes()),
        "\\{\"[a-z]{1,8}\":".prop_map(String::into_bytes),
    ]
}

fn chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// The contract for an API refusal: the error object with a code and a Chinese message.
fn contract(status: StatusCode, body: &str, what: &str) -> Result<(), TestCaseError> {
    prop_assert!(!status.is_server_error(), "{what}: {status} {body:.300}");
    if status.is_client_error() {
        let v: Value = serde_json::from_str(body).map_err(|_| TestCaseError::fail(format!("{what}: {body:.300}")))?;
        prop_assert!(v["error"]["code"].is_string(), "{what}: {body:.300}");
        let message = v["error"]["message"].as_str().unwrap_or_default();
        prop_assert!(chinese(message), "{what}: message not in Chinese: {body:.300}");
    }
    Ok(())
}

/// Sends from inside the property (the runner is synchronous; the server runs on the test runtime).
fn send(rb: reqwest::RequestBuilder) -> (StatusCode, String) {
    tokio::runtime::Handle::current().block_on(async move {
        let r = rb.send().await.expect("an answer, not a dropped connection");
        let status = r.status();
        (status, String::from_utf8_lossy(&r.bytes().await.unwrap()).to_string())
    })
}

async fn fuzz_app() -> TestApp {
    spawn_app_with(|s| {
        // The limits would answer 429 before the parsers see most cases.
        let lots = Limit { max: 1_000_000, window_seconds: 60 };
        s.limits.intake_per_ip = lots;
        s.limits.intake_per_ip_daily = lots;
        s.limits.intake_per_phone = lots;
        s.limits.intake_per_card = lots;
        s.limits.upload_per_ip = lots;
        s.sms.provider = "aliyun".into();
        use_aliyun(s, "http://127.0.0.1:9");
    })
    .await
}

const INTAKE_KEYS: &[&str] = &[
    "card_code",
    "category",
    "kind",
    "description",
    "phone",
    "name",
    "address",
    "channel",
    "location",
    "linked_tickets",
    "upload_ids",
    "anonymous",
    "lat",
    "lng",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_and_action_bodies_of_any_shape_get_a_contract_answer_and_nothing_half_written() {
    let app = fuzz_app().await;
    let valid = app.intake_body("李家庄村", "13812345678");
    let dispatcher = app.token("dispatcher").await;
    let no = app.file("李家庄村", "13812345671").await;
    let before = app.count("SELECT COUNT(*) FROM tickets").await;
    let created = std::cell::Cell::new(0i64);
    tokio::task::block_in_place(|| {
        runner()
            .run(&mutated(valid, INTAKE_KEYS), |body| {
                let (status, text) = send(app.client.post(app.url("/api/v1/tickets")).json(&body));
                if status == StatusCode::CREATED {
                    created.set(created.get() + 1);
                }
                contract(status, &text, &format!("intake {body}"))
            })
            .unwrap();
        runner()
            .run(&raw_bytes(), |bytes| {
                let rb = app.client.post(app.url("/api/v1/tickets")).header("content-type", "application/json");
                let (status, text) = send(rb.body(bytes));
                prop_assert!(status != StatusCode::CREATED);
                contract(status, &text, "intake bytes")
            })
            .unwrap();
        let actions = prop::sample::select(vec![
            "register",
            "dispatch",
            "accept",
            "progress",
            "resolve",
            "urge",
            "refer",
            "merge",
            "pause",
            "assist_report",
            "nosuch",
            "..",
            "%00",
        ]);
        let keys: &'static [&'static str] =
            &["unit_id", "note", "reason", "result", "assisting_unit_ids", "upload_ids", "until", "target", "kind"];
        runner()
            .run(&(actions, json_value(keys)), |(action, body)| {
                let url = app.url(&format!("/api/v1/tickets/{no}/{action}"));
                let (status, text) = send(app.client.post(url).bearer_auth(&dispatcher).json(&body));
                contract(status, &text, &format!("{action} {body}"))
            })
            .unwrap();
    });
    let after = app.count("SELECT COUNT(*) FROM tickets").await;
    assert_eq!(after - before, created.get(), "every ticket written was answered 201, and only those");
    let broken =
        app.count("SELECT COUNT(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.ticket_id = t.id)");
    assert_eq!(broken.await, 0, "no ticket without its first ledger event");
    eprintln!(
        "fuzz: {} intake cases ({} accepted), raw bodies and action bodies, {} each",
        cases(),
        created.get(),
        cases()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_multipart_and_provider_pushes_of_any_shape_are_answered_never_a_5xx() {
    let app = fuzz_app().await;
    let no = app.file("李家庄村", "13812345678").await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let sms = app.sent_body(&no, "assignment").await;
    let link = sms[sms.find("/w/").unwrap()..].split_whitespace().next().unwrap().to_string();
    let card = app.card("李家庄村");
    tokio::task::block_in_place(|| {
        // The work link's multipart forms: any field names, values, file names and bytes, a boundary
        // that does not match, or none.
        let field = ("[a-z_]{1,10}|note|result|photos|voice", "\\PC{0,60}");
        let file = ("photos|voice|file", "[^\"\\r\\n]{0,20}", prop::collection::vec(any::<u8>(), 0..200));
        let forms = (
            prop::sample::select(vec!["accept", "progress", "resolve", "return", "assist_report", "nosuch"]),
            prop::collection::vec(field, 0..4),
            prop::collection::vec(file, 0..2),
            prop::sample::select(vec!["b0undary", "other", ""]),
        );
        runner()
            .run(&forms, |(action, fields, files, declared)| {
                let mut body = Vec::new();
                for (k, v) in &fields {
                    body.extend(format!("--b0undary\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
                }
                for (k, name, bytes) in &files {
                    body.extend(
                        format!("--b0undary\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
                            .bytes(),
                    );
                    body.extend(bytes);
                    body.extend(b"\r\n");
                }
                body.extend(b"--b0undary--\r\n");
                let ct = format!("multipart/form-data; boundary={declared}");
                let rb = app.client.post(app.url(&format!("{link}/{action}"))).header("content-type", ct).body(body);
                let (status, text) = send(rb);
                prop_assert!(!status.is_server_error(), "{action}: {status} {text:.300}");
                Ok(())
            })
            .unwrap();
        // The villager's card form (urlencoded), any pairs and any bytes.
        let pairs = prop::collection::vec(("[a-z_]{1,12}|description|phone|category|kind|name", "\\PC{0,40}"), 0..6);
        runner()
            .run(&(pairs, raw_bytes()), |(pairs, raw)| {
                let (status, text) = send(app.client.post(app.url(&format!("/c/{card}"))).form(&pairs));
                prop_assert!(!status.is_server_error(), "card form {pairs:?}: {status} {text:.300}");
                let rb = app
                    .client
                    .post(app.url(&format!("/c/{card}")))
                    .header("content-type", "application/x-www-form-urlencoded");
                let (status, text) = send(rb.body(raw));
                prop_assert!(!status.is_server_error(), "card form bytes: {status} {text:.300}");
                Ok(())
            })
            .unwrap();
        // Provider pushes, with the right secret: the JSON the parsers read, or any bytes.
        let keys: &'static [&'static str] =
            &["out_id", "biz_id", "phone_number", "success", "content", "sequence_id", "sid", "mobile", "text", "time"];
        let pushes = (prop::sample::select(vec!["status", "inbound"]), json_value(keys), raw_bytes());
        runner()
            .run(&pushes, |(what, v, raw)| {
                let url = app.url(&format!("/hooks/sms/aliyun/{what}?token={CALLBACK_TOKEN}"));
                let (status, text) = send(app.client.post(&url).json(&v));
                contract(status, &text, &format!("{what} {v}"))?;
                let (status, text) = send(app.client.post(&url).header("content-type", "application/json").body(raw));
                contract(status, &text, &format!("{what} bytes"))
            })
            .unwrap();
        // The Open311 form: it answers the standard's error list, never a 5xx.
        let pairs = prop::collection::vec(
            ("[a-z_]{1,12}|service_code|description|lat|long|phone|api_key|email|media_url", "\\PC{0,40}"),
            0..6,
        );
        runner()
            .run(&pairs, |pairs| {
                let (status, text) = send(app.client.post(app.url("/open311/v2/requests.json")).form(&pairs));
                prop_assert!(!status.is_server_error(), "open311 {pairs:?}: {status} {text:.300}");
                Ok(())
            })
            .unwrap();
    });
    // The server is still whole, and the order untouched by anything the link refused.
    assert_eq!(app.get("/healthz", None).await.status(), StatusCode::OK);
    eprintln!("fuzz: {} cases each of link forms, card forms, provider pushes and Open311 forms", cases());
}

/// A compressed body is refused from its header (415 in the contract), before a byte of it is
/// inflated: 48 KB of gzip would otherwise be 50 MB of work per request on every endpoint.
#[tokio::test]
async fn compressed_request_bodies_are_refused_before_they_are_inflated() {
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;
    let app = fuzz_app().await;
    let mut gz = GzEncoder::new(Vec::new(), Compression::best());
    for _ in 0..50 {
        gz.write_all(&[b' '; 1 << 20]).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 100_000, "{} bytes of gzip for 50 MB", bomb.len());
    let written = app.written().await;
    for (path, ct) in [
        ("/api/v1/tickets", "application/json"),
        ("/api/v1/auth/login", "application/json"),
        ("/hooks/sms/aliyun/status", "application/json"),
        ("/api/v1/uploads", "multipart/form-data; boundary=x"),
        ("/open311/v2/requests.json", "application/x-www-form-urlencoded"),
    ] {
        for encoding in ["gzip", "deflate", "br", "zstd", "GZIP"] {
            let r = app
                .client
                .post(app.url(path))
                .header("content-type", ct)
                .header("content-encoding", encoding)
                .body(bomb.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path} {encoding}");
            let text = r.text().await.unwrap();
            if !path.starts_with("/open311/") {
                let v: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["error"]["code"], "unsupported_encoding", "{path}: {text}");
                assert!(chinese(v["error"]["message"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(app.written().await, written, "nothing written");
    // An uncompressed body marked `identity` is read as usual.
    let r = app
        .client
        .post(app.url("/api/v1/tickets"))
        .header("content-encoding", "identity")
        .json(&app.intake_body("李家庄村", "13812345678"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}
