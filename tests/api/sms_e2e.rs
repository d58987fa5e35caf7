//! Issue 8 "done when": with Alibaba as primary and Tencent as secondary, both fakes behaving like
//! the real services, an assignment SMS goes out signed, retries through faults, fails over, comes
//! back with a receipt, the cadre signs for it by SMS, and the villager's SMS reply becomes the
//! rating — nothing lost, nothing accepted twice.
use crate::helpers::spawn_app_with;
use crate::sms_fakes::{self, Answer, CALLBACK_TOKEN};
use crate::sms_support::{CADRE_PHONE, beijing, dispatched, hook, message, reload};
use minsheng::workers::outbox::run_pass;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashSet;

#[tokio::test]
async fn an_order_by_sms_survives_faults_fails_over_is_signed_for_and_rated_by_sms() {
    let aliyun = sms_fakes::aliyun().await;
    let tencent = sms_fakes::tencent().await;
    let (a, t) = (aliyun.uri(), tencent.uri());
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        s.sms.secondary = "tencent".into();
        sms_fakes::use_aliyun(s, &a);
        sms_fakes::use_tencent(s, &t);
        // One message at a time, so the scripted faults meet the messages in a known order.
        s.sms.concurrency = 1;
    })
    .await;
    let villager = "13812345678";
    let no = dispatched(&app, villager).await;

    // Pass 1: Alibaba is down (503, then a system error); Tencent times out once, then takes the
    // assignment. The confirmation has nowhere to go and backs off.
    aliyun.script([Answer::Http(503, "<html>503</html>"), Answer::Code("isp.SYSTEM_ERROR", "系统错误")]);
    tencent.script([Answer::Code("InternalError.Timeout", "timeout")]);
    let now = app.state.now();
    let p = run_pass(&app.state, now).await.unwrap();
    assert_eq!((p.sent, p.retried), (1, 1));
    let assignment = message(&app, &no, "assignment").await;
    assert_eq!((assignment.status.as_str(), assignment.provider.map(|p| p.as_str())), ("sent", Some("tencent")));
    let confirmation = message(&app, &no, "confirmation").await;
    assert_eq!((confirmation.status.as_str(), confirmation.attempts), ("pending", 1));

    // Pass 2, when the backoff has run out: Alibaba is back.
    assert_eq!(run_pass(&app.state, confirmation.next_attempt_at).await.unwrap().sent, 1);
    let confirmation = reload(&app, confirmation.id).await;
    assert_eq!(confirmation.provider.map(|p| p.as_str()), Some("aliyun"));

    // Receipts come back from each provider.
    let report = json!([{"phone_number": villager, "send_time": beijing(now), "report_time": beijing(now), "success": true,
        "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1", "biz_id": confirmation.provider_message_id,
        "out_id": confirmation.id.to_string()}]);
    assert_eq!(hook(&app, "aliyun", "status", CALLBACK_TOKEN, &report).await.status(), StatusCode::OK);
    let status = json!([{"user_receive_time": beijing(now), "nationcode": "86", "mobile": CADRE_PHONE,
        "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": assignment.provider_message_id}]);
    assert_eq!(hook(&app, "tencent", "status", CALLBACK_TOKEN, &status).await.status(), StatusCode::OK);
    assert_eq!(reload(&app, assignment.id).await.status.as_str(), "delivered");
    assert_eq!(reload(&app, confirmation.id).await.status.as_str(), "delivered");

    // The cadre answers the order by SMS (through Tencent's reply callback) and later resolves it.
    let up = json!({"extend": "", "mobile": CADRE_PHONE, "nationcode": "86", "sign": "民声直达", "text": "1",
                    "time": now.timestamp()});
    assert_eq!(hook(&app, "tencent", "inbound", CALLBACK_TOKEN, &up).await.status(), StatusCode::OK);
    let admin = app.token("admin").await;
    assert_eq!(app.ticket(&admin, &no).await["status"], "accepted");
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "管道已修复，恢复供水"})).await;
    assert_eq!(run_pass(&app.state, app.state.now()).await.unwrap().sent, 1);

    // The villager rates by SMS (through Alibaba's SmsUp push).
    let up = json!([{"phone_number": villager, "content": "2", "send_time": beijing(app.state.now()),
                     "dest_code": "9901", "sequence_id": "88"}]);
    assert_eq!(hook(&app, "aliyun", "inbound", CALLBACK_TOKEN, &up).await.status(), StatusCode::OK);
    let t: Value = app.ticket(&admin, &no).await;
    assert_eq!(t["status"], "closed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM return_visits WHERE channel = 'sms' AND satisfaction = 'basically_satisfied'")
            .await,
        1
    );
    let verify: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(verify["ok"], true);

    // Nothing lost, nothing accepted twice: every message accepted by exactly one provider, once.
    assert_eq!(aliyun.bad_signatures() + tencent.bad_signatures(), 0);
    let ids: HashSet<String> = crate::sms_support::messages(&app, &no).await.iter().map(|m| m.id.to_string()).collect();
    let a: HashSet<String> = aliyun.accepted().into_keys().collect();
    let t: HashSet<String> = tencent.accepted().into_keys().collect();
    assert!(a.is_disjoint(&t));
    assert_eq!(a.union(&t).cloned().collect::<HashSet<_>>(), ids);
    assert!(aliyun.seen().iter().chain(tencent.seen().iter()).all(|s| !s.replay));
}
