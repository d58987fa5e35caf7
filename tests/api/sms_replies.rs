//! Replies by SMS on `/hooks/sms/{provider}/inbound`: ratings from villagers, sign-for from cadres,
//! TD, and the operators' queue — each ledgered where it touches a ticket.
use crate::helpers::{TestApp, error_of, spawn_app_with};
use crate::sms_fakes::{self, CALLBACK_TOKEN};
use crate::sms_support::{CADRE_PHONE, beijing, dispatched, hook, message};
use minsheng::workers::outbox::run_pass;
use reqwest::StatusCode;
use serde_json::{Value, json};

const VILLAGER: &str = "13812345678";

async fn console_app() -> TestApp {
    spawn_app_with(|s| s.sms.console.callback_secret = secrecy::SecretString::from(CALLBACK_TOKEN)).await
}

/// A reply in our own format (console and http providers).
async fn reply(app: &TestApp, phone: &str, text: &str) -> Value {
    let r = hook(app, "console", "inbound", CALLBACK_TOKEN, &json!({"phone": phone, "text": text})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn events(app: &TestApp, no: &str) -> Vec<Value> {
    let admin = app.token("admin").await;
    app.ticket(&admin, no).await["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_villager_replying_1_to_the_rating_request_closes_the_ticket_by_sms() {
    let fake = sms_fakes::aliyun().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "aliyun".into();
        sms_fakes::use_aliyun(s, &uri);
    })
    .await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(message(&app, &no, "rating_request").await.status.as_str(), "sent");
    let up = json!([{"phone_number": VILLAGER, "content": "1", "send_time": beijing(app.state.now()),
                     "dest_code": "9901", "sequence_id": 7781}]);
    let r = hook(&app, "aliyun", "inbound", CALLBACK_TOKEN, &up).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 0);
    let admin = app.token("admin").await;
    assert_eq!(app.ticket(&admin, &no).await["status"], "closed");
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM return_visits WHERE channel = 'sms' AND satisfaction = 'satisfied' AND solved = 'yes'"
        )
        .await,
        1
    );
    let ev = events(&app, &no).await;
    let visit = ev.iter().find(|e| e["action"] == "return_visit").expect("visit event");
    assert_eq!(visit["actor_kind"], "villager");
    assert!(visit["note"].as_str().unwrap().contains("短信回复"));
    // Alibaba pushes again (it did not hear us): handled once.
    assert_eq!(hook(&app, "aliyun", "inbound", CALLBACK_TOKEN, &up).await.status(), StatusCode::OK);
    assert_eq!(app.count("SELECT COUNT(*) FROM return_visits").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_replies").await, 1);
}

#[tokio::test]
async fn a_reply_of_3_reopens_the_ticket_and_2_counts_as_basically_satisfied() {
    let fake = sms_fakes::tencent().await;
    let uri = fake.uri();
    let app = spawn_app_with(move |s| {
        s.sms.provider = "tencent".into();
        sms_fakes::use_tencent(s, &uri);
    })
    .await;
    let admin = app.token("admin").await;
    let unhappy = app.to_resolved("李家庄村", "lijiazhuang", VILLAGER).await;
    let happy = app.to_resolved("李家庄村", "lijiazhuang", "13812349999").await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let t = app.state.now().timestamp();
    let push = |phone: &str, text: &str, t: i64| json!({"extend": "", "mobile": phone, "nationcode": "86", "sign": "民声直达", "text": text, "time": t});
    let r = hook(&app, "tencent", "inbound", CALLBACK_TOKEN, &push(VILLAGER, "３", t)).await;
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"result": 0, "errmsg": "OK"}));
    assert_eq!(app.ticket(&admin, &unhappy).await["status"], "reopened");
    hook(&app, "tencent", "inbound", CALLBACK_TOKEN, &push("13812349999", "2", t)).await;
    assert_eq!(app.ticket(&admin, &happy).await["status"], "closed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM return_visits WHERE solved = 'no' AND satisfaction = 'dissatisfied'").await,
        1
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM return_visits WHERE solved = 'partly' AND satisfaction = 'basically_satisfied'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_cadre_replying_shoudao_signs_for_the_order_as_that_cadre() {
    let app = console_app().await;
    let no = dispatched(&app, VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    let answer = reply(&app, CADRE_PHONE, "收到").await;
    assert_eq!(answer["outcomes"], json!(["accepted"]));
    let admin = app.token("admin").await;
    let t = app.ticket(&admin, &no).await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["assignment"]["assignee"]["name"], "李长河");
    let ev = events(&app, &no).await;
    let accept = ev.iter().find(|e| e["action"] == "accept").expect("accept event");
    assert_eq!(accept["actor_kind"], "staff");
    assert_eq!(accept["actor"], "李长河");
    assert!(accept["note"].as_str().unwrap().contains("短信回复"));
    // Replying again changes nothing.
    assert_eq!(reply(&app, CADRE_PHONE, "1").await["outcomes"], json!(["noop"]));
    let ev = events(&app, &no).await;
    let note = ev.iter().find(|e| e["action"] == "sms_reply").expect("the extra reply is ledgered too");
    assert_eq!((note["actor"].as_str(), note["note"].as_str()), (Some("李长河"), Some("1")));
    let verify: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(verify["ok"], true);
}

#[tokio::test]
async fn td_unsubscribes_and_the_rating_request_is_then_withheld() {
    let app = console_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(reply(&app, VILLAGER, "ＴＤ").await["outcomes"], json!(["unsubscribed"]));
    assert_eq!(reply(&app, VILLAGER, "退订").await["outcomes"], json!(["unsubscribed"]));
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_opt_outs").await, 1);
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已修复"})).await;
    let p = run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(p.suppressed, 1);
    assert_eq!(message(&app, &no, "rating_request").await.status.as_str(), "suppressed");
    // The admin sees the opt-out and may lift it when the villager asks.
    let admin = app.token("admin").await;
    let list: Value = app.get("/api/v1/sms/opt-outs", Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["items"][0]["phone"], VILLAGER);
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/sms/opt-outs/{VILLAGER}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_opt_outs").await, 0);
}

#[tokio::test]
async fn free_text_goes_to_the_operators_queue_and_into_the_ledger() {
    let app = console_app().await;
    let no = app.file("李家庄村", VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(reply(&app, VILLAGER, "水还是没来，什么时候能修好？").await["outcomes"], json!(["queued"]));
    assert_eq!(reply(&app, "13700001111", "你好").await["outcomes"], json!(["queued"]), "a stranger's message");
    let ev = events(&app, &no).await;
    let note = ev.iter().find(|e| e["action"] == "sms_reply").expect("ledger note");
    assert_eq!(note["note"], "水还是没来，什么时候能修好？");
    let op = app.token("operator").await;
    let q: Value = app.get("/api/v1/sms/replies", Some(&op)).await.json().await.unwrap();
    assert_eq!(q["total"], 2);
    let item = q["items"].as_array().unwrap().iter().find(|i| i["ticket_no"] == no.as_str()).expect("queued reply");
    assert_eq!(item["phone"], VILLAGER);
    let id = item["id"].as_i64().unwrap();
    let caller = app.token("caller").await;
    error_of(app.get("/api/v1/sms/replies", Some(&caller)).await, StatusCode::FORBIDDEN).await;
    let path = format!("/api/v1/sms/replies/{id}/handle");
    let done: Value = app.post(&path, Some(&op), &json!({"note": "已电话联系群众"})).await.json().await.unwrap();
    assert_eq!(done["queue_status"], "done");
    let e = error_of(app.post(&path, Some(&op), &json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "already_handled");
    let q: Value = app.get("/api/v1/sms/replies?status=open", Some(&op)).await.json().await.unwrap();
    assert_eq!(q["total"], 1);
    let e = error_of(app.get("/api/v1/sms/replies?status=maybe", Some(&op)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "status");
    // What a phone sends cannot be refused (the provider would retry it for ever): NUL — which
    // PostgreSQL cannot store — and direction overrides are dropped, the words kept.
    assert_eq!(reply(&app, VILLAGER, "路灯\u{0}坏了\u{202E}三天").await["outcomes"], json!(["queued"]));
    let ev = events(&app, &no).await;
    assert!(ev.iter().any(|e| e["action"] == "sms_reply" && e["note"] == "路灯坏了三天"), "{ev:?}");
}

#[tokio::test]
async fn a_rating_digit_with_no_rating_request_is_queued_not_applied() {
    let app = console_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(reply(&app, VILLAGER, "1").await["outcomes"], json!(["queued"]));
    let admin = app.token("admin").await;
    assert_eq!(app.ticket(&admin, &no).await["status"], "accepted");
    assert_eq!(app.count("SELECT COUNT(*) FROM return_visits").await, 0);
}

#[tokio::test]
async fn a_reply_about_a_ticket_is_handled_only_by_staff_whose_region_covers_it() {
    let app = console_app().await;
    let no = app.file("李家庄村", VILLAGER).await;
    run_pass(&app.state, app.state.now()).await.unwrap();
    assert_eq!(reply(&app, VILLAGER, "水还是没来").await["outcomes"], json!(["queued"]));
    let op = app.token("operator").await;
    let q: Value = app.get("/api/v1/sms/replies", Some(&op)).await.json().await.unwrap();
    let item = q["items"].as_array().unwrap().iter().find(|i| i["ticket_no"] == no.as_str()).expect("queued reply");
    let id = item["id"].as_i64().unwrap();
    // A dispatcher of another township neither sees it nor takes it off the queue.
    let outsider = app.add_staff("xihe-dispatcher", "西河乡派单员", "dispatcher", "西河乡").await;
    let theirs: Value = app.get("/api/v1/sms/replies", Some(&outsider)).await.json().await.unwrap();
    assert_eq!(theirs["total"], 0);
    let path = format!("/api/v1/sms/replies/{id}/handle");
    let e = error_of(app.post(&path, Some(&outsider), &json!({"note": "x"})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["message"].as_str()), (Some("out_of_scope"), Some("该工单不在您的管辖范围内")));
    let open: Value = app.get("/api/v1/sms/replies?status=open", Some(&op)).await.json().await.unwrap();
    let still = open["items"].as_array().unwrap().iter().find(|i| i["id"] == id).expect("still queued");
    assert_eq!((still["queue_status"].as_str(), still["handled_by"].as_i64()), (Some("open"), None));
}
