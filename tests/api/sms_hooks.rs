//! Delivery receipts on `/hooks/sms/{provider}/status`: authenticated per provider (401 and nothing
//! written otherwise), matched by OutId or the provider's message id, answered in the provider's shape.
use crate::helpers::{error_of, spawn_app_with};
use crate::sms_fakes::{self, CALLBACK_TOKEN, HTTP_SECRET};
use crate::sms_support::{CADRE_PHONE, beijing, dispatched, hook, message, reload};
use minsheng::sms::providers::http::signature;
use minsheng::workers::outbox::run_pass;
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn aliyun_reports_mark_messages_delivered_or_failed() {
    let fake = sms_fakes::aliyun().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
    })
    .await;
    let no = dispatched(&app, "13812345678").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let a = message(&app, &no, "assignment").await;
    let c = message(&app, &no, "confirmation").await;
    let now = beijing(app.state.now());
    let report = json!([
        {"phone_number": CADRE_PHONE, "send_time": now, "report_time": now, "success": true, "err_code": "DELIVERED",
         "err_msg": "用户接收成功", "sms_size": "1", "biz_id": a.provider_message_id, "out_id": a.id.to_string()},
        {"phone_number": "13812345678", "send_time": now, "report_time": now, "success": false, "err_code": "MK:0005",
         "err_msg": "空号", "sms_size": "1", "biz_id": c.provider_message_id, "out_id": c.id.to_string()}
    ]);
    let r = hook(&app, "aliyun", "status", CALLBACK_TOKEN, &report).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ack: Value = r.json().await.unwrap();
    assert_eq!(ack["code"], 0);
    let a = reload(&app, a.id).await;
    assert_eq!((a.status.as_str(), a.receipt_code.as_deref()), ("delivered", Some("DELIVERED")));
    assert!(a.delivered_at.is_some());
    let c = reload(&app, c.id).await;
    assert_eq!((c.status.as_str(), c.receipt_code.as_deref()), ("failed", Some("MK:0005")));
    // A late failure report never undoes a delivery.
    let late = json!([{"phone_number": CADRE_PHONE, "send_time": now, "report_time": now, "success": false,
        "err_code": "MK:0001", "err_msg": "x", "sms_size": "1", "biz_id": a.provider_message_id, "out_id": a.id.to_string()}]);
    assert_eq!(hook(&app, "aliyun", "status", CALLBACK_TOKEN, &late).await.status(), StatusCode::OK);
    assert_eq!(reload(&app, a.id).await.status.as_str(), "delivered");
}

#[tokio::test]
async fn receipts_with_a_bad_secret_are_refused_and_change_nothing() {
    let fake = sms_fakes::aliyun().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let c = message(&app, &no, "confirmation").await;
    let report = json!([{"phone_number": "13812345678", "success": true, "err_code": "DELIVERED", "err_msg": "ok",
        "biz_id": c.provider_message_id, "out_id": c.id.to_string(), "report_time": beijing(app.state.now())}]);
    let e = error_of(hook(&app, "aliyun", "status", "wrong-token", &report).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "invalid_callback_signature");
    let no_token = app.client.post(app.url("/hooks/sms/aliyun/status")).json(&report).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    // Tencent has no callback secret configured in this app: its hooks are shut.
    let r = hook(&app, "tencent", "status", "", &json!([])).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(hook(&app, "nosuch", "status", CALLBACK_TOKEN, &json!([])).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(reload(&app, c.id).await.status.as_str(), "sent");
    // Malformed pushes with the right secret: 400 naming the body, nothing written.
    let e = error_of(
        hook(&app, "aliyun", "status", CALLBACK_TOKEN, &json!([{"out_id": "1"}])).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "body");
    assert_eq!(reload(&app, c.id).await.status.as_str(), "sent");
    // Replies are guarded the same way: a reply "1" with a wrong or missing secret does nothing.
    let reply = json!([{"phone_number": "13812345678", "content": "1", "send_time": beijing(app.state.now()),
                        "dest_code": "9901", "sequence_id": "7"}]);
    let e = error_of(hook(&app, "aliyun", "inbound", "wrong-token", &reply).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(e["code"], "invalid_callback_signature");
    let no_token = app.client.post(app.url("/hooks/sms/aliyun/inbound")).json(&reply).send().await.unwrap();
    assert_eq!(no_token.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_replies").await, 0);
}

#[tokio::test]
async fn tencent_status_callbacks_match_by_serial_number() {
    let fake = sms_fakes::tencent().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let no = dispatched(&app, "13812345678").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let a = message(&app, &no, "assignment").await;
    let body = json!([{"user_receive_time": beijing(app.state.now()), "nationcode": "86", "mobile": CADRE_PHONE,
        "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": a.provider_message_id}]);
    let r = app
        .client
        .post(app.url("/hooks/sms/tencent/status"))
        .header("X-Callback-Token", CALLBACK_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"result": 0, "errmsg": "OK"}));
    let a = reload(&app, a.id).await;
    assert_eq!((a.status.as_str(), a.receipt_code.as_deref()), ("delivered", Some("DELIVRD")));
    // A receipt whose phone does not match the message is not applied to it.
    let c = message(&app, &no, "confirmation").await;
    let wrong =
        json!([{"mobile": "13700000000", "report_status": "FAIL", "errmsg": "X", "sid": c.provider_message_id}]);
    let r = hook(&app, "tencent", "status", CALLBACK_TOKEN, &wrong).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(reload(&app, c.id).await.status.as_str(), "sent");
}

#[tokio::test]
async fn the_http_gateway_signs_its_callbacks_and_stale_or_forged_ones_are_refused() {
    let fake = sms_fakes::http().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "http".into();
        sms_fakes::use_http(s, &uri);
    })
    .await;
    let no = app.file("李家庄村", "13812345678").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let c = message(&app, &no, "confirmation").await;
    let body =
        serde_json::to_vec(&json!({"message_id": c.provider_message_id, "status": "delivered", "code": "DELIVRD"}))
            .unwrap();
    let post = |ts: i64, sig: String| {
        app.client
            .post(app.url("/hooks/sms/http/status"))
            .header("content-type", "application/json")
            .header("X-Timestamp", ts.to_string())
            .header("X-Signature", sig)
            .body(body.clone())
            .send()
    };
    let now = app.state.now().timestamp();
    assert_eq!(post(now, signature("forged", now, &body)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        post(now - 900, signature(HTTP_SECRET, now - 900, &body)).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(reload(&app, c.id).await.status.as_str(), "sent");
    let r = post(now, signature(HTTP_SECRET, now, &body)).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["matched"], 1);
    assert_eq!(reload(&app, c.id).await.status.as_str(), "delivered");
    // Replies: forged or stale signatures are refused before anything is read.
    let reply = serde_json::to_vec(&json!({"phone": "13812345678", "text": "TD"})).unwrap();
    let inbound = |ts: i64, sig: String| {
        app.client
            .post(app.url("/hooks/sms/http/inbound"))
            .header("content-type", "application/json")
            .header("X-Timestamp", ts.to_string())
            .header("X-Signature", sig)
            .body(reply.clone())
            .send()
    };
    assert_eq!(inbound(now, signature("forged", now, &reply)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let stale = now - 900;
    assert_eq!(inbound(stale, signature(HTTP_SECRET, stale, &reply)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sms_replies").await + app.count("SELECT COUNT(*) FROM sms_opt_outs").await,
        0
    );
    assert_eq!(inbound(now, signature(HTTP_SECRET, now, &reply)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_opt_outs").await, 1, "the signed TD is taken");
}

#[tokio::test]
async fn a_receipt_during_a_dead_workers_lease_saves_the_message_from_a_second_send() {
    let fake = sms_fakes::aliyun().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
    })
    .await;
    let id = crate::sms_support::enqueue(&app, 1).await[0];
    // A worker claims the message, the provider takes it, and the worker dies before recording it.
    let now = app.state.now();
    let tx = app.state.db.begin().await.unwrap();
    let claimed = minsheng::repo::outbox::claim_due(&*tx, now, chrono::Duration::seconds(300), 10).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(claimed.messages.len(), 1);
    let report = json!([{"phone_number": claimed.messages[0].recipient, "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功",
        "biz_id": "123^0", "out_id": id.to_string(), "report_time": beijing(now)}]);
    assert_eq!(hook(&app, "aliyun", "status", CALLBACK_TOKEN, &report).await.status(), StatusCode::OK);
    // The lease runs out: nothing left to send again.
    let p = run_pass(&app.state, now + chrono::Duration::seconds(301)).await.unwrap();
    assert_eq!(p.claimed, 0);
    assert_eq!(reload(&app, id).await.status.as_str(), "delivered");
    assert!(fake.seen().is_empty());
}
