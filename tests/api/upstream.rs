//! The city 12345 platform (issue 19 point 4) against a fake platform (wiremock) that checks every
//! request's signature (recomputed here, independently of `minsheng::upstream::sign`), serves the
//! same order twice, fails a page once with 500, fails a push once with 500 and refuses another.
use crate::helpers::{TestApp, spawn_app_with};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use minsheng::services::intake::{self, UpstreamFiled};
use minsheng::upstream::Order;
use minsheng::workers::upstream as worker;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const KEY: &str = "mk-qinghe";
const SECRET: &str = "s3cret-of-the-county";

/// The signature the platform expects, computed from the request as it arrived.
fn expected_signature(r: &Request) -> String {
    let mut pairs: Vec<&str> = r.url.query().unwrap_or("").split('&').filter(|p| !p.is_empty()).collect();
    pairs.sort();
    let header = |n: &str| r.headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let canonical = [
        r.method.as_str().to_string(),
        r.url.path().to_string(),
        pairs.join("&"),
        header("x-app-key"),
        header("x-timestamp"),
        header("x-nonce"),
        hex::encode(Sha256::digest(&r.body)),
    ]
    .join("\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(canonical.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Only correctly signed requests match a mock; anything else gets wiremock's 404 (a refusal).
struct Signed;

impl wiremock::Match for Signed {
    fn matches(&self, r: &Request) -> bool {
        let sig = r.headers.get("x-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
        let key = r.headers.get("x-app-key").and_then(|v| v.to_str().ok()).unwrap_or("");
        key == KEY && !sig.is_empty() && sig == expected_signature(r)
    }
}

fn order(id: &str, region: &str, deadline: DateTime<Utc>) -> Value {
    json!({"id": id, "region_code": region, "category": "water.supply", "description": format!("{id}：村东头自来水管破裂，已停水两天"),
           "phone": "13812340001", "name": "张三", "address": "村东头", "urgent": false,
           "received_at": (deadline - Duration::hours(3)).to_rfc3339(), "deadline": deadline.to_rfc3339()})
}

async fn app_with(server: &MockServer) -> TestApp {
    let base = format!("{}/gateway", server.uri());
    let app = spawn_app_with(move |s| {
        s.upstream.base_url = base;
        s.upstream.app_key = KEY.into();
        s.upstream.app_secret = SECRET.to_string().into();
        s.upstream.county_code = "130529".into();
        s.upstream.page_size = 2;
    })
    .await;
    let set = |code: &str, name: &str| format!("UPDATE regions SET code = '{code}' WHERE name = '{name}'");
    for sql in [set("130529", "清河县"), set("130529101001", "李家庄村"), set("130529102002", "王家湾村")] {
        app.state.db.conn.execute_unprepared(&sql).await.unwrap();
    }
    app
}

async fn text(app: &TestApp, sql: &str) -> String {
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("a row");
    row.try_get_by_index::<String>(0).unwrap()
}

async fn time(app: &TestApp, sql: &str) -> DateTime<Utc> {
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("a row");
    row.try_get_by_index::<DateTime<Utc>>(0).unwrap()
}

use sea_orm::ConnectionTrait;

#[tokio::test]
async fn orders_are_pulled_once_each_and_their_changes_pushed_back_in_order() {
    let server = MockServer::start().await;
    let app = app_with(&server).await;
    let now = app.state.now();
    let due = DateTime::from_timestamp(now.timestamp() + 3 * 3600, 0).unwrap();
    let (a, b, c) = (order("U-A", "130529101001", due), order("U-B", "130529102002", due), order("U-C", "999", due));

    // Page 1: A and B. Page 2 (cursor c1): a 500 the first time, then B again and C. Page 3: empty.
    Mock::given(method("GET"))
        .and(path("/gateway/api/v1/orders"))
        .and(query_param("county", "130529"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("cursor"))
        .and(Signed)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"orders": [a, b], "next_cursor": "c1", "has_more": true})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gateway/api/v1/orders"))
        .and(query_param("cursor", "c1"))
        .and(Signed)
        .respond_with(ResponseTemplate::new(500).set_body_string("busy"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gateway/api/v1/orders"))
        .and(query_param("cursor", "c1"))
        .and(Signed)
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"orders": [b, c], "next_cursor": "c/2", "has_more": false})),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/gateway/api/v1/orders"))
        .and(query_param("cursor", "c/2"))
        .and(Signed)
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"orders": [], "next_cursor": "c/2", "has_more": false})),
        )
        .mount(&server)
        .await;

    // First pass: page 1 filed, page 2 fails; the cursor stays after page 1.
    let p = worker::pull_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.pages, p.created, p.duplicates, p.refused), (1, 2, 0, 0), "{p:?}");
    assert!(p.failed.as_deref().is_some_and(|e| e.contains("transient") && e.contains("500")), "{p:?}");
    assert_eq!(text(&app, "SELECT cursor FROM upstream_cursors WHERE name = 'orders'").await, "c1");
    // Second pass: the same page again; B is not filed twice.
    let p = worker::pull_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.pages, p.created, p.duplicates, p.failed.clone()), (1, 1, 1, None), "{p:?}");
    assert_eq!(text(&app, "SELECT cursor FROM upstream_cursors WHERE name = 'orders'").await, "c/2");
    // Third pass: nothing new.
    let p = worker::pull_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.pages, p.created, p.duplicates), (1, 0, 0), "{p:?}");

    // Three tickets, one per order: hotline, registered, in the right place, the order id recorded.
    assert_eq!(app.count("SELECT COUNT(*) FROM upstream_orders").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets WHERE channel = 'hotline' AND status = 'registered'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 3);
    let region_of = |id: &str| {
        format!(
            "SELECT r.name FROM upstream_orders u JOIN tickets t ON t.id = u.ticket_id JOIN regions r ON r.id = t.region_id WHERE u.upstream_id = '{id}'"
        )
    };
    assert_eq!(text(&app, &region_of("U-A")).await, "李家庄村");
    assert_eq!(text(&app, &region_of("U-B")).await, "王家湾村");
    assert_eq!(text(&app, &region_of("U-C")).await, "清河县", "an unknown region code files at the county");
    assert_eq!(time(&app, "SELECT deadline FROM upstream_orders WHERE upstream_id = 'U-A'").await, due);
    let no = text(
        &app,
        "SELECT t.no FROM upstream_orders u JOIN tickets t ON t.id = u.ticket_id WHERE u.upstream_id = 'U-A'",
    )
    .await;
    let stored = text(&app, &format!("SELECT description FROM tickets WHERE no = '{no}'")).await;
    assert_eq!(stored, "U-A：村东头自来水管破裂，已停水两天");
    assert_eq!(text(&app, &format!("SELECT requester_phone FROM tickets WHERE no = '{no}'")).await, "13812340001");
    // No confirmation SMS: the platform answered its caller.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms'").await, 0);
    // The ledger names the platform as who filed it.
    let actor = text(&app, &format!("SELECT e.actor_name FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' ORDER BY e.id LIMIT 1")).await;
    assert_eq!(actor, "市12345平台");
    let data = text(
        &app,
        &format!(
            "SELECT e.data FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' ORDER BY e.id LIMIT 1"
        ),
    )
    .await;
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["upstream_id"], "U-A");
    assert_eq!(data["upstream_deadline"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), due);

    // The dispatcher gives A to the village: the unit's result deadline is the platform's.
    let di = app.token("dispatcher").await;
    let ca = app.token("lijiazhuang").await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    let resolve_by = time(
        &app,
        &format!("SELECT a.resolve_by FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.no = '{no}'"),
    )
    .await;
    assert_eq!(resolve_by, due, "the upstream deadline is the assignment's result deadline");
    let respond_by = time(
        &app,
        &format!("SELECT a.respond_by FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.no = '{no}'"),
    )
    .await;
    assert!(respond_by <= resolve_by);
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let before = app.state.now();
    let resolved = app.act_ok(&ca, &no, "resolve", json!({"result": "已更换破裂管道，恢复供水"})).await;
    let after = app.state.now();

    // Pushes: A's first fails with 500 once; C's is refused for good; B's goes.
    let status_path = |id: &str| format!("/gateway/api/v1/orders/{id}/status");
    Mock::given(method("POST"))
        .and(path(status_path("U-A")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    for id in ["U-A", "U-B"] {
        Mock::given(method("POST"))
            .and(path(status_path(id)))
            .and(Signed)
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
            .with_priority(2)
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(status_path("U-C")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": "order closed"})))
        .mount(&server)
        .await;
    // registered ×3, then A's dispatched, accepted, resolved.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'upstream' AND status = 'pending'").await, 6);
    let p = worker::push_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.claimed, p.sent, p.retried, p.dead, p.held), (6, 1, 1, 1, 3), "{p:?}");
    let c_row = "SELECT last_error FROM outbox WHERE channel = 'upstream' AND recipient = 'U-C'";
    assert!(text(&app, c_row).await.contains("400"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'U-C' AND status = 'dead' AND attempts = 1").await,
        1
    );
    // Nothing is due before the backoff; an hour later A's four changes go, in order.
    let p = worker::push_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(p.sent, 0, "{p:?}");
    app.state.time.advance(Duration::hours(1));
    let p = worker::push_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.claimed, p.sent, p.retried, p.dead, p.held), (4, 4, 0, 0, 0), "{p:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'U-A' AND status = 'sent'").await, 4);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE recipient = 'U-B' AND status = 'sent'").await, 1);

    // What the platform received: every request signed, every nonce fresh, A's changes in order.
    let received = server.received_requests().await.unwrap();
    let mut nonces: Vec<String> = vec![];
    for r in &received {
        assert_eq!(r.headers.get("x-signature").unwrap().to_str().unwrap(), expected_signature(r), "{}", r.url);
        nonces.push(r.headers.get("x-nonce").unwrap().to_str().unwrap().to_string());
    }
    let n = nonces.len();
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), n, "a nonce was used twice");
    let to_a: Vec<Value> = received
        .iter()
        .filter(|r| r.url.path() == status_path("U-A"))
        .map(|r| {
            assert_eq!(r.headers.get("content-type").unwrap(), "application/json");
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect();
    let statuses: Vec<&str> = to_a.iter().map(|b| b["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["registered", "registered", "dispatched", "accepted", "resolved"]);
    let last = to_a.last().unwrap();
    let at: DateTime<Utc> = last["at"].as_str().unwrap().parse().unwrap();
    assert!(at >= before - Duration::seconds(1) && at <= after, "{at}");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(
        *last,
        json!({"order_id": "U-A", "ticket_no": no, "status": "resolved", "status_label": "已办结", "action": "resolve",
               "note": "已更换破裂管道，恢复供水", "result": "已更换破裂管道，恢复供水", "at": last["at"]})
    );
    // The bytes sent are the row's body, exactly.
    let raw = received.iter().rfind(|r| r.url.path() == status_path("U-A")).unwrap();
    let row = text(&app, "SELECT body FROM outbox WHERE recipient = 'U-A' ORDER BY id DESC LIMIT 1").await;
    assert_eq!(String::from_utf8(raw.body.clone()).unwrap(), row);
    // Nothing lost: every change of every order is accounted for (sent, or dead and visible).
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'upstream' AND status = 'pending'").await, 0);

    // The dead push is in the outbox console, whole; once the platform takes it, an admin resends it.
    let admin = app.token("admin").await;
    let id = app.count("SELECT id FROM outbox WHERE recipient = 'U-C'").await;
    let v: Value = app.get(&format!("/api/v1/outbox/{id}"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(
        (v["channel"].as_str(), v["kind"].as_str(), v["status"].as_str()),
        (Some("upstream"), Some("upstream_status"), Some("dead")),
        "{v}"
    );
    assert_eq!(v["body"], text(&app, "SELECT body FROM outbox WHERE recipient = 'U-C'").await.as_str());
    server.reset().await;
    Mock::given(method("POST"))
        .and(path(status_path("U-C")))
        .and(Signed)
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let r = app.post(&format!("/api/v1/outbox/{id}/resend"), Some(&admin), &json!({})).await;
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    let p = worker::push_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.claimed, p.sent), (1, 1), "{p:?}");
    let got = server.received_requests().await.unwrap();
    let body: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(
        (body["order_id"].as_str(), body["status"].as_str(), body["action"].as_str()),
        (Some("U-C"), Some("registered"), Some("register"))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'upstream' AND status <> 'sent'").await, 0);
}

#[tokio::test]
async fn the_same_order_filed_twice_at_once_makes_one_ticket() {
    let server = MockServer::start().await;
    let app = app_with(&server).await;
    let due = DateTime::from_timestamp(app.state.now().timestamp() + 86_400, 0).unwrap();
    let o: Order = serde_json::from_value(order("U-RACE", "130529101001", due)).unwrap();
    let (x, y) = tokio::join!(intake::file_upstream(&app.state, &o), intake::file_upstream(&app.state, &o));
    let outcomes = [x.unwrap(), y.unwrap()];
    assert_eq!(outcomes.iter().filter(|o| matches!(o, UpstreamFiled::Created { .. })).count(), 1, "{outcomes:?}");
    assert!(outcomes.contains(&UpstreamFiled::Duplicate), "{outcomes:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM upstream_orders WHERE upstream_id = 'U-RACE'").await, 1);
    // One registration, pushed once.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'upstream'").await, 1);
}

#[tokio::test]
async fn an_order_without_a_description_is_refused_and_does_not_stop_the_pull() {
    let server = MockServer::start().await;
    let app = app_with(&server).await;
    let due = DateTime::from_timestamp(app.state.now().timestamp() + 86_400, 0).unwrap();
    let mut empty = order("U-EMPTY", "130529101001", due);
    empty["description"] = json!("   ");
    Mock::given(method("GET"))
        .and(path("/gateway/api/v1/orders"))
        .and(Signed)
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"orders": [empty, order("U-OK", "130529101001", due)], "next_cursor": "n1", "has_more": false}),
        ))
        .mount(&server)
        .await;
    let p = worker::pull_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!((p.created, p.refused, p.failed.clone()), (1, 1, None), "{p:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM upstream_orders").await, 1);
    assert_eq!(text(&app, "SELECT cursor FROM upstream_cursors WHERE name = 'orders'").await, "n1");
}

#[tokio::test]
async fn with_no_base_url_nothing_is_pulled_or_pushed() {
    let app = spawn_app_with(|_| {}).await;
    assert!(!app.state.settings.upstream.enabled());
    assert_eq!(worker::pull_pass(&app.state, app.state.now()).await.unwrap(), worker::PullPass::default());
    assert_eq!(worker::push_pass(&app.state, app.state.now()).await.unwrap(), worker::PushPass::default());
    // A staff-registered hotline ticket is no platform order: nothing to push.
    let op = app.token("operator").await;
    let region = app.region_id("李家庄村").await;
    let r = app
        .post(
            "/api/v1/tickets",
            Some(&op),
            &json!({"region_id": region, "channel": "hotline", "category": "water.supply",
               "description": "村里停水两天了", "phone": "13812340002"}),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'upstream'").await, 0);
}

#[tokio::test]
async fn the_platform_is_configured_from_the_environment_and_checked_at_start() {
    let url = crate::helpers::fresh_database_url().await;
    let run = |env: &[(&str, &str)]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_minsheng"));
        cmd.args(["migrate", "--database", &url]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run minsheng")
    };
    let base = ("MINSHENG__UPSTREAM__BASE_URL", "https://12345.city.example/gateway");
    // Switched on without its secret: refused at start, naming the setting (never a value).
    let out = run(&[base, ("MINSHENG__UPSTREAM__APP_KEY", "mk"), ("MINSHENG__UPSTREAM__COUNTY_CODE", "130529")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("upstream.app_secret must be set"), "{err}");
    let out = run(&[("MINSHENG__UPSTREAM__BASE_URL", "ftp://x"), ("MINSHENG__UPSTREAM__APP_KEY", "mk")]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("upstream.base_url"));
    // Complete: it starts (and migrates the platform's tables).
    let out = run(&[
        base,
        ("MINSHENG__UPSTREAM__APP_KEY", "mk"),
        ("MINSHENG__UPSTREAM__APP_SECRET", "very-secret-value"),
        ("MINSHENG__UPSTREAM__COUNTY_CODE", "130529"),
        ("MINSHENG__UPSTREAM__PAGE_SIZE", "25"),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("very-secret-value"));
}

#[test]
fn the_settings_are_off_by_default() {
    let s = minsheng::configuration::load(minsheng::configuration::AppEnvironment::Local).unwrap();
    assert!(!s.upstream.enabled());
    assert_eq!((s.upstream.page_size, s.upstream.default_category.as_str()), (50, "other"));
}
