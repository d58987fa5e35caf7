//! Every error speaks the contract: JSON `{"error": {code, message, field?}}` in Chinese with the
//! right status on the API, a Chinese HTML page on pages, whichever layer (handler, extractor,
//! router, a panic) failed; and a panic answers a 500 with the request id, not a dropped connection.
use crate::helpers::{TestApp, spawn_app, spawn_app_with_routes};
use actix_web::{HttpResponse, web};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

fn has_chinese(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// Words of serde's, actix's and our own English that must never reach a client.
fn assert_no_english(text: &str) {
    for word in ["invalid type", "expected", "missing field", "reached size", "can not parse", "Parse error", "limit:"]
    {
        assert!(!text.contains(word), "English leaked ({word}): {text}");
    }
}

/// The contract's JSON error: status, JSON content type, a Chinese message; returns `error`.
async fn contract_error(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status, "{:?}", r.url().path());
    let ctype = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    assert!(ctype.starts_with("application/json"), "JSON, not {ctype:?}");
    let text = r.text().await.unwrap();
    assert_no_english(&text);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("JSON body: {text}"));
    let e = v["error"].clone();
    assert_eq!(e["code"], code, "{v}");
    assert!(has_chinese(e["message"].as_str().unwrap_or("")), "a Chinese message: {v}");
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only `error`: {v}");
    e
}

/// A Chinese HTML message page with this status; returns the body.
async fn chinese_page(r: Response, status: StatusCode) -> String {
    assert_eq!(r.status(), status, "{:?}", r.url().path());
    let ctype = r.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ctype.starts_with("text/html"), "a page, not {ctype:?}");
    let body = r.text().await.unwrap();
    assert!(body.contains("<h2>出错了</h2>") || body.contains("<h2>"), "{body}");
    assert_no_english(&body);
    body
}

async fn registered(app: &TestApp) -> (String, String) {
    let no = app.file("李家庄村", "13812345678").await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    (no, app.token("dispatcher").await)
}

async fn events_of(app: &TestApp, no: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}'")).await
}

#[tokio::test]
async fn an_action_body_of_the_wrong_shape_names_its_field_in_chinese_and_changes_nothing() {
    let app = spawn_app().await;
    let (no, di) = registered(&app).await;
    let before = events_of(&app, &no).await;
    let cases = [
        ("dispatch", json!({"unit_id": "李家庄"}), "unit_id", "字段类型或格式不正确：unit_id"),
        ("dispatch", json!({"unit_id": 1, "assignee_id": true}), "assignee_id", "字段类型或格式不正确：assignee_id"),
        ("dispatch", json!({"unit_id": 1, "note": 5}), "note", "字段类型或格式不正确：note"),
        ("progress", json!({"note": "x", "upload_ids": [7]}), "upload_ids[0]", "字段类型或格式不正确：upload_ids[0]"),
        ("progress", json!({"note": "x", "upload_ids": "a"}), "upload_ids", "字段类型或格式不正确：upload_ids"),
        ("council_decision", json!({"decision": "同意", "publish": "yes"}), "publish", "字段类型或格式不正确：publish"),
        ("merge", json!({"into": 42}), "into", "字段类型或格式不正确：into"),
    ];
    for (action, body, field, message) in cases {
        let e =
            contract_error(app.act(&di, &no, action, body.clone()).await, StatusCode::BAD_REQUEST, "validation_failed")
                .await;
        assert_eq!(e["field"], field, "{action} {body}: {e}");
        assert_eq!(e["message"], message, "{action} {body}: {e}");
    }
    // A body that is JSON but not an object, and one that is not JSON at all.
    let e = contract_error(
        app.act(&di, &no, "dispatch", json!("派单")).await,
        StatusCode::BAD_REQUEST,
        "validation_failed",
    )
    .await;
    assert!(e.get("field").is_none(), "no field to name at the top level: {e}");
    let r = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{no}/dispatch")))
        .bearer_auth(&di)
        .header("content-type", "application/json")
        .body("{\"unit_id\": ")
        .send()
        .await
        .unwrap();
    contract_error(r, StatusCode::BAD_REQUEST, "invalid_body").await;
    // A missing required field is named too (the action's own check).
    let e =
        contract_error(app.act(&di, &no, "dispatch", json!({})).await, StatusCode::BAD_REQUEST, "validation_failed")
            .await;
    assert_eq!(e["field"], "unit_id");
    assert_eq!(app.ticket(&di, &no).await["status"], "registered");
    assert_eq!(events_of(&app, &no).await, before, "no event was written");
}

#[tokio::test]
async fn raw_bodies_over_the_limit_answer_a_json_413() {
    let app = spawn_app().await;
    let (no, di) = registered(&app).await;
    let before = events_of(&app, &no).await;
    let big = format!("{{\"note\": \"{}\"}}", "长".repeat(100_000));
    let r = app
        .client
        .post(app.url(&format!("/api/v1/tickets/{no}/urge")))
        .bearer_auth(&di)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    contract_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
    assert_eq!(events_of(&app, &no).await, before, "no urge was recorded");
    let r = app.client.post(app.url("/hooks/sms/console/status")).body(big).send().await.unwrap();
    contract_error(r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await;
}

#[tokio::test]
async fn a_path_id_that_is_not_a_number_is_a_json_404() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    for path in ["/api/v1/sla-policies/abc", "/api/v1/outbox/abc", "/api/v1/sla-policies/99999999999999999999"] {
        let e = contract_error(app.get(path, Some(&admin)).await, StatusCode::NOT_FOUND, "not_found").await;
        assert!(e.get("field").is_none(), "{e}");
    }
}

#[tokio::test]
async fn a_wrong_method_is_a_405_and_an_unknown_path_a_404_both_in_the_contract() {
    let app = spawn_app().await;
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/v1/tickets"),
        (reqwest::Method::GET, "/api/v1/auth/login"),
        (reqwest::Method::PUT, "/healthz"),
        (reqwest::Method::PATCH, "/hooks/sms/console/status"),
    ] {
        let r = app.client.request(method.clone(), app.url(path)).send().await.unwrap();
        contract_error(r, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed").await;
    }
    contract_error(app.get("/api/v1/no-such-thing", None).await, StatusCode::NOT_FOUND, "not_found").await;
    // On a page the same mistakes are Chinese pages.
    let code = app.card("石桥村");
    let r = app.client.put(app.url(&format!("/c/{code}"))).send().await.unwrap();
    let body = chinese_page(r, StatusCode::METHOD_NOT_ALLOWED).await;
    assert!(body.contains("页面不支持这种打开方式"), "{body}");
    let body = chinese_page(app.get("/c/one/two", None).await, StatusCode::NOT_FOUND).await;
    assert!(body.contains("页面不存在"), "{body}");
}

#[tokio::test]
async fn the_rating_form_too_large_or_of_another_type_answers_a_chinese_page_and_rates_nothing() {
    let app = spawn_app().await;
    let no = app.to_resolved("杏花村", "xinghua", "13800000004").await;
    let token = crate::visits::rating_token(&app, "13800000004").await;
    let big = format!("satisfaction=satisfied&comment={}", "a".repeat(70 * 1024));
    let r = app
        .client
        .post(app.url(&format!("/r/{token}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    let body = chinese_page(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(body.contains("提交的内容过多"), "{body}");
    let r = app
        .client
        .post(app.url(&format!("/r/{token}")))
        .header("content-type", "text/plain")
        .body("satisfaction=satisfied")
        .send()
        .await
        .unwrap();
    let body = chinese_page(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    assert!(body.contains("请以普通表单方式提交"), "{body}");
    let caller = app.token("caller").await;
    assert_eq!(app.ticket(&caller, &no).await["status"], "resolved", "nothing was rated");
    assert_eq!(app.count("SELECT COUNT(*) FROM return_visits").await, 0);
}

fn panic_routes(cfg: &mut web::ServiceConfig) {
    async fn boom() -> HttpResponse {
        let v: Vec<u8> = Vec::new();
        // An index out of bounds: the kind of bug a panic-free review misses.
        HttpResponse::Ok().body(format!("{}", v[usize::from(v.is_empty())]))
    }
    async fn boom_formatted(path: web::Path<String>) -> HttpResponse {
        panic!("the test route was asked to fail for {path}");
    }
    cfg.route("/test/panic", web::get().to(boom))
        .route("/test/panic/{what}", web::post().to(boom_formatted))
        .route("/t/panic/now", web::get().to(boom));
}

#[tokio::test]
async fn a_panicking_handler_answers_a_json_500_naming_the_request_id_and_the_server_goes_on() {
    let app = spawn_app_with_routes(|_| {}, Some(panic_routes)).await;
    for (method, path) in [(reqwest::Method::GET, "/test/panic"), (reqwest::Method::POST, "/test/panic/ledger")] {
        let r = app.client.request(method, app.url(path)).send().await.expect("an answer, not a dropped connection");
        let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let e = contract_error(r, StatusCode::INTERNAL_SERVER_ERROR, "internal_error").await;
        let message = e["message"].as_str().unwrap();
        assert_eq!(message, format!("服务器内部错误，请稍后重试（错误编号 {request_id}）"));
        assert!(!message.contains("index out of bounds") && !message.contains("ledger"), "{message}");
        // The same client (and connection pool) gets the next answer.
        let r = app.get("/healthz", None).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    // A page path panics into the Chinese page, with the id to quote on the phone.
    let r = app.get("/t/panic/now", None).await;
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let body = chinese_page(r, StatusCode::INTERNAL_SERVER_ERROR).await;
    assert!(body.contains(&format!("错误编号 {request_id}")), "{body}");
    assert!(!body.contains("index out of bounds"), "{body}");
    // Several panics at once do not take the server's workers down.
    let many = (0..8).map(|_| app.get("/test/panic", None));
    for r in futures_util::future::join_all(many).await {
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let r = app.get("/api/v1/cards/no-such-card", None).await;
    contract_error(r, StatusCode::NOT_FOUND, "not_found").await;
    // Counted like any other answer.
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    let counted = metrics.lines().any(|l| {
        l.starts_with("minsheng_http_requests_total")
            && l.contains("route=\"/test/panic\"")
            && l.contains("status=\"500\"")
    });
    assert!(counted, "the panic's 500 is in the request counts");
}

/// `panic = "abort"` would end the process at the first panic, before the middleware can answer.
#[test]
fn no_profile_aborts_on_panic() {
    let manifest = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let aborts =
        manifest.lines().map(|l| l.split('#').next().unwrap_or("").replace(' ', "")).any(|l| l == "panic=\"abort\"");
    assert!(!aborts, "Cargo.toml sets panic = \"abort\" in a profile");
}
