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
    assert_eq!(m.status, "dead");
    let admin = app.token("admin").await;
    let op = app.token("operator").await;
    let path = format!("/api/v1/outbox/{}/resend", m.id);
    error_of(app.post(&path, Some(&op), &json!({})).await, StatusCode::FORBIDDEN).await;
    let v: Value = app.post(&path, Some(&admin), &json!({})).await.json().await.unwrap();
    assert_eq!((v["status"].as_str(), v["attempts"].as_i64()), (Some("pending"), Some(0)));
    let e = error_of(app.post(&path, Some(&admin), &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "not_resendable");
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);
    assert_eq!(reload(&app, m.id).await.status, "sent");
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
