//! Admin side of the gateway: outbox filters, resending a dead message, provider health.
use crate::helpers::{error_of, spawn_app_with};
use crate::sms_fakes::{self, Answer};
use crate::sms_support::{dispatched, message, reload};
use minsheng::workers::outbox::run_pass;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn outbox_filters_are_checked_and_combine() {
    let app = spawn_app_with(|_| {}).await;
    let no = dispatched(&app, "13812345678").await;
    let admin = app.token("admin").await;
    for (q, field) in [("status=bogus", "status"), ("kind=spam", "kind"), ("phone=12345", "phone")] {
        let e = error_of(app.get(&format!("/api/v1/outbox?{q}"), Some(&admin)).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{q}");
    }
    let v: Value = app
        .get(&format!("/api/v1/outbox?ticket_no={no}&kind=confirmation&phone=%2B8613812345678"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["phone"], "138****5678");
    // Signature, text and tracking link run past 70 characters: two billed segments of 67.
    let chars = v["items"][0]["body"].as_str().unwrap().chars().count();
    assert!((71..=134).contains(&chars), "{chars}");
    assert_eq!(v["items"][0]["segments"], 2);
    let op = app.token("operator").await;
    error_of(app.get("/api/v1/outbox", Some(&op)).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_dead_message_can_be_resent_once_and_then_goes_out() {
    let fake = sms_fakes::aliyun().await;
    fake.script([Answer::Code("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")]);
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let m = message(&app, &no, "confirmation").await;
    assert_eq!(m.status.as_str(), "dead");
    let admin = app.token("admin").await;
    let op = app.token("operator").await;
    let path = format!("/api/v1/outbox/{}/resend", m.id);
    error_of(app.post(&path, Some(&op), &json!({})).await, StatusCode::FORBIDDEN).await;
    let v: Value = app.post(&path, Some(&admin), &json!({})).await.json().await.unwrap();
    assert_eq!((v["status"].as_str(), v["attempts"].as_i64()), (Some("pending"), Some(0)));
    let e = error_of(app.post(&path, Some(&admin), &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "not_resendable");
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(reload(&app, m.id).await.status.as_str(), "sent");
    let one: Value = app.get(&format!("/api/v1/outbox/{}", m.id), Some(&admin)).await.json().await.unwrap();
    let outcomes: Vec<&str> =
        one["attempt_log"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["rejected", "sent"]);
    error_of(app.post("/api/v1/outbox/999999/resend", Some(&admin), &json!({})).await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn provider_health_shows_recent_success_rate_and_the_last_error() {
    let primary = sms_fakes::aliyun().await;
    let secondary = sms_fakes::tencent().await;
    primary.script([Answer::Http(503, "busy")]);
    let (p, s2) = (primary.uri(), secondary.uri());
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        s.sms.secondary = "tencent".into();
        sms_fakes::use_aliyun(s, &p);
        sms_fakes::use_tencent(s, &s2);
    })
    .await;
    app.file("李家庄村", "13812345678").await;
    app.file("李家庄村", "13812345679").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let admin = app.token("admin").await;
    let v: Value = app.get("/api/v1/sms/providers", Some(&admin)).await.json().await.unwrap();
    let aliyun = &v["items"][0];
    assert_eq!((aliyun["name"].as_str(), aliyun["role"].as_str()), (Some("aliyun"), Some("primary")));
    assert_eq!((aliyun["calls"].as_u64(), aliyun["sent"].as_u64()), (Some(2), Some(1)));
    assert_eq!(aliyun["success_rate"], 0.5);
    assert!(aliyun["last_error"]["error"].as_str().unwrap().contains("503"));
    assert_eq!(aliyun["callback_configured"], true);
    let tencent = &v["items"][1];
    assert_eq!((tencent["role"].as_str(), tencent["sent"].as_u64()), (Some("secondary"), Some(1)));
    assert_eq!(tencent["last_error"], Value::Null);
    assert_eq!(v["outbox"]["sent"], 2);
    let op = app.token("operator").await;
    error_of(app.get("/api/v1/sms/providers", Some(&op)).await, StatusCode::FORBIDDEN).await;
}

/// A 500 in the contract's shape: only `error`, code `internal_error`, a Chinese message naming the
/// request id and nothing of the row.
async fn internal_error(r: reqwest::Response, path: &str) {
    assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "only `error`: {v}");
    assert_eq!(v["error"]["code"], "internal_error", "{path}: {v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert_eq!(message, format!("服务器内部错误，请稍后重试（错误编号 {request_id}）"), "{path}");
}

#[tokio::test]
async fn a_corrupt_outbox_row_is_a_500_naming_the_request_id_not_a_default() {
    let app = spawn_app_with(|_| {}).await;
    let ids = crate::sms_support::enqueue(&app, 2).await;
    let admin = app.token("admin").await;
    let v: Value = app.get("/api/v1/outbox", Some(&admin)).await.json().await.unwrap();
    assert_eq!(v["total"], 2);
    // A status no version of minsheng writes, put there behind the application's back.
    let db = &app.state.db.conn;
    let corrupt = format!("UPDATE outbox SET status = 'lost' WHERE id = {}", ids[0]);
    sea_orm::ConnectionTrait::execute_unprepared(db, &corrupt).await.unwrap();
    for path in ["/api/v1/outbox".to_string(), format!("/api/v1/outbox/{}", ids[0]), "/api/v1/sms/providers".into()] {
        internal_error(app.get(&path, Some(&admin)).await, &path).await;
    }
    // Rows that do not reach the broken one still answer, and it is not shown as any other status.
    let other: Value = app.get(&format!("/api/v1/outbox/{}", ids[1]), Some(&admin)).await.json().await.unwrap();
    assert_eq!(other["status"], "pending");
    let pending: Value = app.get("/api/v1/outbox?status=pending", Some(&admin)).await.json().await.unwrap();
    assert_eq!((pending["total"].as_i64(), pending["items"][0]["id"].as_i64()), (Some(1), Some(ids[1])));
}

#[tokio::test]
async fn a_corrupt_pending_message_is_not_sent_and_does_not_hold_up_the_others() {
    let app = spawn_app_with(|_| {}).await;
    let ids = crate::sms_support::enqueue(&app, 2).await;
    let db = &app.state.db.conn;
    let corrupt = format!("UPDATE outbox SET kind = 'spam' WHERE id = {}", ids[0]);
    sea_orm::ConnectionTrait::execute_unprepared(db, &corrupt).await.unwrap();
    let now = app.state.now();
    let pass = run_pass(&app.state, now).await.unwrap();
    assert_eq!((pass.claimed, pass.sent, pass.unreadable), (1, 1, 1));
    assert_eq!(reload(&app, ids[1]).await.status.as_str(), "sent");
    let untouched =
        format!("SELECT COUNT(*) AS n FROM outbox WHERE id = {} AND status = 'pending' AND attempts = 0", ids[0]);
    assert_eq!(app.count(&untouched).await, 1, "not sent, not defaulted, not given up");
    // Leased like any claimed row: it is reported once per lease, not at every pass.
    let again = run_pass(&app.state, now).await.unwrap();
    assert_eq!((again.claimed, again.unreadable), (0, 0));
    let admin = app.token("admin").await;
    internal_error(app.get("/api/v1/outbox", Some(&admin)).await, "/api/v1/outbox").await;
}
