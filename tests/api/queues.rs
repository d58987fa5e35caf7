//! The console's daily queues (issue 16 point 7): a free-text SMS reply taken off the operators'
//! queue by linking it to an existing ticket or by a ticket filed from it (`POST
//! /api/v1/sms/replies/{id}/handle` with `ticket_no` and `filed`), and appeals listed with the visit
//! they contest.
use crate::helpers::{TestApp, error_of, spawn_app_with};
use crate::sms_fakes::CALLBACK_TOKEN;
use crate::sms_support::hook;
use reqwest::StatusCode;
use serde_json::{Value, json};

const STRANGER: &str = "13700001111";

async fn console_app() -> TestApp {
    spawn_app_with(|s| s.sms.console.callback_secret = secrecy::SecretString::from(CALLBACK_TOKEN)).await
}

/// A free-text SMS from a phone with no ticket and no message from us: queued, about no ticket.
async fn queued_reply(app: &TestApp, phone: &str, text: &str) -> i64 {
    let r = hook(app, "console", "inbound", CALLBACK_TOKEN, &json!({"phone": phone, "text": text})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["outcomes"], json!(["queued"]));
    let q = format!("SELECT id FROM sms_replies WHERE phone = '{phone}' AND queue_status = 'open' ORDER BY id DESC");
    app.count(&q).await
}

/// The reply's row as the queue keeps it: (queue status, handled_as, handled ticket id, note).
async fn row(app: &TestApp, id: i64) -> (String, Option<String>, Option<i64>, Option<String>) {
    use sea_orm::EntityTrait;
    let m = entity::sms_replies::Entity::find_by_id(id).one(&app.state.db.conn).await.unwrap().unwrap();
    (m.queue_status.unwrap_or_default(), m.handled_as, m.handled_ticket_id, m.handled_note)
}

async fn ticket_id(app: &TestApp, no: &str) -> i64 {
    app.count(&format!("SELECT id FROM tickets WHERE no = '{no}'")).await
}

async fn sms_events(app: &TestApp, no: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.action = 'sms_reply'"
    ))
    .await
}

#[tokio::test]
async fn an_operator_links_a_reply_to_an_existing_ticket_which_notes_it_in_its_ledger() {
    let app = console_app().await;
    let no = app.file("李家庄村", "13812345678").await;
    let id = queued_reply(&app, STRANGER, "村口的垃圾还没人清，我是昨天打电话的老李").await;
    let op = app.token("operator").await;
    let path = format!("/api/v1/sms/replies/{id}/handle");
    let r = app.post(&path, Some(&op), &json!({"ticket_no": no, "note": "与李家庄村垃圾工单为同一事"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let done: Value = r.json().await.unwrap();
    assert_eq!((done["queue_status"].as_str(), done["handled_as"].as_str()), (Some("done"), Some("linked")));
    assert_eq!(done["handled_ticket_no"], no.as_str());
    let tid = ticket_id(&app, &no).await;
    assert_eq!(
        row(&app, id).await,
        ("done".into(), Some("linked".into()), Some(tid), Some("与李家庄村垃圾工单为同一事".into()))
    );
    // The ticket's ledger has the reply's words, by the operator, and still verifies.
    let admin = app.token("admin").await;
    let t = app.ticket(&admin, &no).await;
    let ev = t["events"].as_array().unwrap().iter().find(|e| e["action"] == "sms_reply").expect("ledgered").clone();
    assert_eq!(ev["note"], "村口的垃圾还没人清，我是昨天打电话的老李");
    assert_eq!(ev["actor"], "刘敏");
    assert_eq!(ev["data"]["reply_id"], id);
    assert_eq!(ev["data"]["handled_as"], "linked");
    assert_eq!(ev["data"]["phone"], "137****1111");
    let verify: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(verify["ok"], true);
    // The queue shows where it went.
    let q: Value = app.get("/api/v1/sms/replies?status=done", Some(&op)).await.json().await.unwrap();
    let item = q["items"].as_array().unwrap().iter().find(|i| i["id"] == id).expect("in the done list").clone();
    assert_eq!((item["handled_as"].as_str(), item["handled_ticket_no"].as_str()), (Some("linked"), Some(no.as_str())));
    // A dispatcher sees the number masked.
    let di = app.token("dispatcher").await;
    let q: Value = app.get("/api/v1/sms/replies?status=done", Some(&di)).await.json().await.unwrap();
    assert_eq!(q["items"][0]["phone"], "137****1111");
}

#[tokio::test]
async fn a_reply_handled_by_filing_a_ticket_records_the_new_ticket_number() {
    let app = console_app().await;
    // A request naming no village, from a phone that never filed one: the desk registers it.
    let id = queued_reply(&app, STRANGER, "桥头路灯坏了一个星期").await;
    let op = app.token("operator").await;
    let body = json!({"region_id": app.region_id("河口村").await, "channel": "sms", "category": "roads.damage",
                      "kind": "help", "description": "河口村桥头路灯坏了一个星期", "phone": STRANGER});
    let r = app.post("/api/v1/tickets", Some(&op), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let path = format!("/api/v1/sms/replies/{id}/handle");
    let done: Value = app.post(&path, Some(&op), &json!({"ticket_no": no, "filed": true})).await.json().await.unwrap();
    assert_eq!((done["handled_as"].as_str(), done["handled_ticket_no"].as_str()), (Some("filed"), Some(no.as_str())));
    let tid = ticket_id(&app, &no).await;
    assert_eq!(row(&app, id).await, ("done".into(), Some("filed".into()), Some(tid), None));
    assert_eq!(sms_events(&app, &no).await, 1, "the filed ticket's ledger names the reply it came from");
    // A note alone still works, and says so.
    let other = queued_reply(&app, "13700002222", "谢谢").await;
    let done: Value = app
        .post(&format!("/api/v1/sms/replies/{other}/handle"), Some(&op), &json!({"note": "致谢，无需处理"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!((done["handled_as"].as_str(), done["handled_ticket_no"].as_null()), (Some("noted"), Some(())));
}

#[tokio::test]
async fn a_bad_link_is_refused_in_chinese_next_to_its_field_and_writes_nothing() {
    let app = console_app().await;
    let old = app.file("杏花村", "13812345678").await;
    app.state.time.advance(chrono::Duration::minutes(5));
    let id = queued_reply(&app, STRANGER, "我家门口的水管又漏了").await;
    let li = app.file("李家庄村", "13812340000").await;
    let op = app.token("operator").await;
    let path = format!("/api/v1/sms/replies/{id}/handle");
    let events = || app.count("SELECT COUNT(*) FROM events");
    let before = events().await;
    let unchanged = ("open".to_string(), None, None, None);

    let e = error_of(
        app.post(&path, Some(&op), &json!({"ticket_no": "20991231-9999"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("unknown_ticket"), Some("ticket_no")));
    assert_eq!(e["message"], "工单号「20991231-9999」不存在");
    let e = error_of(app.post(&path, Some(&op), &json!({"filed": true})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!((e["field"].as_str(), e["message"].as_str()), (Some("ticket_no"), Some("请填写由该短信新建的工单号")));
    let long = "长".repeat(1001);
    let e =
        error_of(app.post(&path, Some(&op), &json!({"ticket_no": li, "note": long})).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(e["field"], "note");
    // A ticket registered before the reply came was not filed from it.
    let e = error_of(
        app.post(&path, Some(&op), &json!({"ticket_no": old, "filed": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["field"], "ticket_no");
    assert!(e["message"].as_str().unwrap().contains("关联已有工单"), "{e}");
    // A dispatcher of 西河乡 may not link to a ticket of 东坝镇.
    let xihe = app.add_staff("xihe-dispatcher", "西河乡派单员", "dispatcher", "西河乡").await;
    let e = error_of(app.post(&path, Some(&xihe), &json!({"ticket_no": li})).await, StatusCode::FORBIDDEN).await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("out_of_scope"), Some("ticket_no")));
    assert_eq!(e["message"], "该工单不在您的管辖范围内");
    // Roles without the queue: 403.
    for who in ["caller", "lijiazhuang", "leader", "inspector"] {
        let t = app.token(who).await;
        let e = error_of(app.post(&path, Some(&t), &json!({"ticket_no": li})).await, StatusCode::FORBIDDEN).await;
        assert_eq!(e["code"], "forbidden", "{who}");
    }
    assert_eq!(row(&app, id).await, unchanged, "nothing written on the reply");
    assert_eq!(events().await, before, "nothing written in any ledger");
    // Handled once; a second link is a conflict and writes nothing either.
    assert_eq!(app.post(&path, Some(&op), &json!({"ticket_no": li})).await.status(), StatusCode::OK);
    let after = events().await;
    let e = error_of(app.post(&path, Some(&op), &json!({"ticket_no": old})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "already_handled");
    assert_eq!(events().await, after);
    assert_eq!(row(&app, id).await.2, Some(ticket_id(&app, &li).await));
}

#[tokio::test]
async fn an_appeal_in_the_list_carries_the_visit_it_contests() {
    let app = console_app().await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13800000008").await;
    let c = app.token("caller").await;
    let v: Value = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&c),
            &json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone",
                    "comment": "水还是浑的"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ca = app.token("lijiazhuang").await;
    let url = format!("/api/v1/return-visits/{}/appeals", v["visit_id"]);
    assert_eq!(app.post(&url, Some(&ca), &json!({"reason": "县水厂检修"})).await.status(), StatusCode::CREATED);
    let leader = app.token("leader").await;
    let list: Value = app.get("/api/v1/appeals?status=pending", Some(&leader)).await.json().await.unwrap();
    let visit = &list["items"][0]["visit"];
    assert_eq!((visit["satisfaction"].as_str(), visit["solved"].as_str()), (Some("dissatisfied"), Some("no")));
    assert_eq!(
        (visit["satisfaction_label"].as_str(), visit["solved_label"].as_str()),
        (Some("不满意"), Some("未解决"))
    );
    assert_eq!(visit["comment"], "水还是浑的");
    assert_eq!(visit["counted"], true);
}
