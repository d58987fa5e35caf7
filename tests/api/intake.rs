use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

#[tokio::test]
async fn intake_creates_a_numbered_ticket_and_a_confirmation_sms() {
    let app = spawn_app().await;
    let r = app.intake(&app.intake_body("李家庄村", "+8613812345678"), Some("k-1")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let no = v["ticket_no"].as_str().unwrap();
    assert!(regex_like_ticket_no(no), "{no}");
    assert_eq!(v["status"], "submitted");
    assert_eq!(v["tracking_url"], format!("http://minsheng.test/t/{no}"));
    let respond_by = chrono::DateTime::parse_from_rfc3339(v["respond_by"].as_str().unwrap()).unwrap();
    let in_two_hours = chrono::Utc::now() + chrono::Duration::hours(2);
    assert!((respond_by.with_timezone(&chrono::Utc) - in_two_hours).num_seconds().abs() < 60);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation' AND recipient = '13812345678'").await,
        1
    );
    // The confirmation carries the number and the tracking link.
    let body = app
        .count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation' AND body LIKE '%{no}%' \
             AND body LIKE '%http://minsheng.test/t/{no}%'"
        ))
        .await;
    assert_eq!(body, 1);
}

fn regex_like_ticket_no(no: &str) -> bool {
    let today = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y%m%d").to_string();
    no.len() == 15 && no.starts_with(&today) && no.as_bytes()[8] == b'-' && no[9..].bytes().all(|b| b.is_ascii_digit())
}

#[tokio::test]
async fn intake_with_same_idempotency_key_creates_one_ticket() {
    let app = spawn_app().await;
    let body = app.intake_body("王家湾村", "13812345678");
    let a: Value = app.intake(&body, Some("same-key")).await.json().await.unwrap();
    let r = app.intake(&body, Some("same-key")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let b: Value = r.json().await.unwrap();
    assert_eq!(a, b);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);

    let mut other = body.clone();
    other["description"] = json!("另一件事情：路灯坏了好几天");
    let e = error_of(app.intake(&other, Some("same-key")).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["code"], "idempotency_key_reused");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_one_key_create_one_ticket() {
    let app = std::sync::Arc::new(spawn_app().await);
    let body = app.intake_body("石桥村", "13812345678");
    let mut handles = vec![];
    for _ in 0..10 {
        let (app, body) = (app.clone(), body.clone());
        handles.push(tokio::spawn(async move {
            let r = app.intake(&body, Some("racing-key")).await;
            (r.status(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut numbers = HashSet::new();
    for h in handles {
        let (status, v) = h.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        numbers.insert(v["ticket_no"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_intakes_get_fifty_distinct_numbers() {
    let app = std::sync::Arc::new(spawn_app().await);
    let mut handles = vec![];
    for i in 0..50 {
        let app = app.clone();
        handles.push(tokio::spawn(async move {
            let body = app.intake_body(["李家庄村", "杏花村", "河口村"][i % 3], &format!("1381234{:04}", i));
            let r = app.intake(&body, Some(&format!("key-{i}"))).await;
            (r.status(), r.json::<Value>().await.unwrap())
        }));
    }
    let mut numbers = HashSet::new();
    for h in handles {
        let (status, v) = h.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{v}");
        numbers.insert(v["ticket_no"].as_str().unwrap().to_string());
    }
    assert_eq!(numbers.len(), 50);
    let mut seqs: Vec<u32> = numbers.iter().map(|n| n[9..].parse().unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (1..=50).collect::<Vec<u32>>());
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 50);
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let base = app.intake_body("李家庄村", "13812345678");
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        ("phone", Value::Null, StatusCode::BAD_REQUEST, "validation_failed"),
        ("phone", json!("12345678901"), StatusCode::BAD_REQUEST, "validation_failed"),
        ("description", json!("短"), StatusCode::BAD_REQUEST, "validation_failed"),
        ("description", json!("长".repeat(2001)), StatusCode::BAD_REQUEST, "validation_failed"),
        ("category", json!("no-such-category"), StatusCode::UNPROCESSABLE_ENTITY, "unknown_category"),
        ("category", Value::Null, StatusCode::BAD_REQUEST, "validation_failed"),
        ("kind", json!("gossip"), StatusCode::BAD_REQUEST, "validation_failed"),
        ("card_code", json!("ZZZZZZZZZZ"), StatusCode::UNPROCESSABLE_ENTITY, "unknown_card"),
        ("card_code", Value::Null, StatusCode::BAD_REQUEST, "validation_failed"),
        ("location", json!({"lat": 91.0, "lng": 10.0}), StatusCode::BAD_REQUEST, "validation_failed"),
        ("upload_ids", json!(["no-such-upload"]), StatusCode::UNPROCESSABLE_ENTITY, "unknown_upload"),
        // Values of the wrong JSON type name their own field too.
        ("phone", json!(13812345678_u64), StatusCode::BAD_REQUEST, "validation_failed"),
        ("description", json!(["村东头停水"]), StatusCode::BAD_REQUEST, "validation_failed"),
        ("upload_ids", json!("abc"), StatusCode::BAD_REQUEST, "validation_failed"),
    ];
    for (field, value, status, code) in cases {
        let mut body = base.clone();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value;
        }
        let e = error_of(app.intake(&body, Some(&format!("bad-{field}-{code}"))).await, status).await;
        assert_eq!(e["field"], field, "{e}");
        assert_eq!(e["code"], code, "{e}");
        assert!(
            e["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "Chinese message: {e}"
        );
    }
    let e = error_of(
        app.client
            .post(app.url("/api/v1/tickets"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["code"], "invalid_body");
    // Nested values: the path down to the value is the field.
    for (patch, field) in [
        (json!({"location": {"lat": "北纬39度", "lng": 116.4}}), "location.lat"),
        (json!({"location": {"lng": 116.4}}), "location.lat"),
        (json!({"upload_ids": [3]}), "upload_ids[0]"),
    ] {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = error_of(app.intake(&body, Some(&format!("bad-{field}"))).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{e}");
    }
    // The same for every JSON body: a login with a number for a name.
    let e = error_of(
        app.post("/api/v1/auth/login", None, &json!({"username": 42, "password": "x"})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("validation_failed"), Some("username")));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0);
}

#[tokio::test]
async fn a_revoked_card_cannot_file() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("河口村");
    assert_eq!(
        app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &json!({})).await.status(),
        StatusCode::OK
    );
    let e =
        error_of(app.intake(&app.intake_body("河口村", "13812345678"), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(e["code"], "card_inactive");
}

/// Cards, villages, categories and SLA policies are kept in the process for a few seconds (they are
/// read on every intake): an admin's change still applies to the very next intake, because every
/// write of them forgets what was kept.
#[tokio::test]
async fn an_admin_change_to_reference_data_applies_to_the_next_intake() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let respond_by = |v: &Value| chrono::DateTime::parse_from_rfc3339(v["respond_by"].as_str().unwrap()).unwrap();
    let first: Value = app.intake(&app.intake_body("河口村", "13812345601"), None).await.json().await.unwrap();
    // A policy of the category's own, much shorter than the county default it used.
    let policy = json!({"name": "供水（求助）", "category_code": "water.supply", "kind": "help", "priority": "normal",
                        "respond_minutes": 7, "progress_minutes": 600, "resolve_minutes": 1440});
    assert_eq!(app.post("/api/v1/sla-policies", Some(&admin), &policy).await.status(), StatusCode::CREATED);
    let second: Value = app.intake(&app.intake_body("河口村", "13812345602"), None).await.json().await.unwrap();
    let first_minutes = (respond_by(&first) - respond_by(&second)).num_minutes();
    assert!(first_minutes >= 60, "the new policy's 7 minutes, not the default's: {first} then {second}");
    // A category switched off takes no more requests.
    let r = app.patch("/api/v1/categories/water.supply", &admin, &json!({"active": false})).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let e =
        error_of(app.intake(&app.intake_body("河口村", "13812345603"), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("unknown_category"), Some("category")));
    let r = app.patch("/api/v1/categories/water.supply", &admin, &json!({"active": true})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.intake(&app.intake_body("河口村", "13812345604"), None).await.status(), StatusCode::CREATED);
    // A revoked card at once.
    let code = app.card("河口村");
    assert_eq!(
        app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &json!({})).await.status(),
        StatusCode::OK
    );
    let e =
        error_of(app.intake(&app.intake_body("河口村", "13812345605"), None).await, StatusCode::UNPROCESSABLE_ENTITY)
            .await;
    assert_eq!(e["code"], "card_inactive");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets WHERE requester_phone LIKE '138123456%'").await, 3);
}

#[tokio::test]
async fn staff_register_a_hotline_call_directly() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let village = app.region_id("柳树沟村").await;
    let body = json!({"region_id": village, "channel": "hotline", "category": "roads.damage", "kind": "complaint",
                      "description": "村口桥面塌了一个大坑，车过不去", "phone": "13912345678", "priority": "urgent"});
    let r = app.post("/api/v1/tickets", Some(&op), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "registered");
    let t = app.ticket(&op, v["ticket_no"].as_str().unwrap()).await;
    assert_eq!(t["channel"], "hotline");
    assert_eq!(t["priority"], "urgent");
    let actions: Vec<&str> = t["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["submit", "register"]);
    // A cadre may not register calls, and an unknown channel is refused.
    let cadre = app.token("liushugou").await;
    assert_eq!(app.post("/api/v1/tickets", Some(&cadre), &body).await.status(), StatusCode::FORBIDDEN);
    let mut bad = body.clone();
    bad["channel"] = json!("fax");
    assert_eq!(
        error_of(app.post("/api/v1/tickets", Some(&op), &bad).await, StatusCode::BAD_REQUEST).await["field"],
        "channel"
    );
}

#[tokio::test]
async fn a_repeat_request_is_linked_to_the_first() {
    let app = spawn_app().await;
    let first = app.file("杏花村", "13812345678").await;
    let r = app.intake(&app.intake_body("杏花村", "13812345678"), Some("second")).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["repeat_of"], first.as_str());
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &first).await["repeat_count"], 1);
    app.file("河口村", "13812345678").await;
    let list: Value = app.get("/api/v1/tickets?repeated=true", Some(&di)).await.json().await.unwrap();
    assert_eq!(list["total"], 2, "the first request and its repeat, not the unrelated one");
    let second = list["items"].as_array().unwrap().iter().find(|t| t["repeat_of"] == first.as_str()).unwrap();
    assert_eq!(second["repeat_count"], 0);
}

#[tokio::test]
async fn every_wrong_field_is_reported_at_once_in_the_form_order() {
    let app = spawn_app().await;
    let body = json!({"card_code": app.card("石桥村"), "category": "", "description": "坏了",
                      "phone": "12345", "name": "王", "address": "村口"});
    let r = app.intake(&body, Some("k-fields")).await;
    let e = error_of(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["code"], "validation_failed");
    // The first one stays `field` / `message` (API.md), the list carries them all.
    assert_eq!(e["field"], "category");
    assert_eq!(e["message"], "请选择诉求分类");
    let fields: Vec<&str> = e["errors"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["category", "description", "phone"], "{e}");
    assert!(e["errors"][2]["message"].as_str().unwrap().contains("手机号码"), "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0, "a refused request uses up no key");
    // One wrong field: the same shape, a list of one.
    let mut one = app.intake_body("石桥村", "13812345678");
    one["phone"] = json!("12345");
    let e = error_of(app.intake(&one, None).await, StatusCode::BAD_REQUEST).await;
    assert_eq!((e["field"].as_str(), e["errors"].as_array().map(Vec::len)), (Some("phone"), Some(1)), "{e}");
}
