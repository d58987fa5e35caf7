//! Villagers who can only text (issue 20 point 9): a message to the county's service number that
//! answers and follows up nothing becomes a ticket (channel `sms`) in the village it names or of the
//! phone's earlier request, confirmed by SMS, once per message; texting a ticket number answers its
//! status to its requester only; what cannot be placed goes to the operators' queue.
use crate::helpers::{TestApp, spawn_app_with};
use crate::sms_fakes::CALLBACK_TOKEN;
use crate::sms_support::hook;
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn app() -> TestApp {
    spawn_app_with(|s| s.sms.console.callback_secret = secrecy::SecretString::from(CALLBACK_TOKEN)).await
}

async fn text(app: &TestApp, phone: &str, body: &str, id: &str) -> Value {
    let r = hook(app, "console", "inbound", CALLBACK_TOKEN, &json!({"phone": phone, "text": body, "id": id})).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn bodies(app: &TestApp, phone: &str, kind: &str) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let sql = format!("SELECT body FROM outbox WHERE recipient = '{phone}' AND kind = '{kind}' ORDER BY id");
    let rows =
        app.state.db.conn.query_all_raw(sea_orm::Statement::from_string(app.state.db.backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

#[tokio::test]
async fn a_texted_request_becomes_a_ticket_once_and_its_number_texted_back_answers_its_status() {
    let app = app().await;
    let phone = "13612340001";
    let words = "王家湾村东头的路灯坏了三盏，晚上看不见路";
    let r = text(&app, phone, words, "up-1").await;
    assert_eq!(r["outcomes"], json!(["filed"]), "{r}");
    let admin = app.token("admin").await;
    let list: Value = app.get(&format!("/api/v1/tickets?phone={phone}"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let no = list["items"][0]["no"].as_str().unwrap().to_string();
    let t = app.ticket(&admin, &no).await;
    assert_eq!((t["channel"].as_str(), t["status"].as_str()), (Some("sms"), Some("submitted")));
    assert_eq!(t["region"]["name"], "王家湾村");
    assert_eq!(t["description"], words);
    // Confirmed by SMS with the number, as any request.
    let confirmation = bodies(&app, phone, "confirmation").await;
    assert_eq!(confirmation.len(), 1);
    assert!(confirmation[0].contains(&no), "{confirmation:?}");
    // The reply row says what became of it.
    let q = format!(
        "SELECT COUNT(*) FROM sms_replies r JOIN tickets t ON t.id = r.ticket_id WHERE r.outcome = 'filed' AND t.no = '{no}'"
    );
    assert_eq!(app.count(&q).await, 1);
    // The provider pushes it again: handled once.
    assert_eq!(text(&app, phone, words, "up-1").await["outcomes"], json!(["duplicate"]));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{phone}'")).await, 1);

    // The number texted back: its status, to the requester.
    assert_eq!(text(&app, phone, &format!("查询 {no}"), "up-2").await["outcomes"], json!(["status"]));
    let answer = bodies(&app, phone, "status_reply").await;
    assert_eq!(answer.len(), 1);
    assert!(answer[0].contains(&no) && answer[0].contains("已提交"), "{answer:?}");
    // Another phone texting the same number learns nothing about it.
    let other = "13612340002";
    assert_eq!(text(&app, other, &no, "up-3").await["outcomes"], json!(["status"]));
    let answer = bodies(&app, other, "status_reply").await;
    assert!(answer[0].contains("未找到") && !answer[0].contains("已提交"), "{answer:?}");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{other}'")).await, 0);

    // Dispatched, the answer names the unit.
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({"category": "roads.lights"})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("王家湾村村民委员会").await})).await;
    text(&app, phone, &no, "up-4").await;
    let answer = bodies(&app, phone, "status_reply").await;
    assert!(answer[1].contains("已派单") && answer[1].contains("王家湾村村民委员会"), "{answer:?}");
    // A follow-up while the request is open is no new request: queued and noted on the ticket.
    assert_eq!(text(&app, phone, "路灯什么时候能修好啊？", "up-5").await["outcomes"], json!(["queued"]));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{phone}'")).await, 1);
}

#[tokio::test]
async fn the_village_comes_from_the_phones_earlier_request_else_the_desk_registers_it() {
    let app = app().await;
    // A phone that filed in 杏花村 long ago (the request was found invalid, nothing open).
    let phone = "13612340011";
    let earlier = app.file("杏花村", phone).await;
    let op = app.token("operator").await;
    app.act_ok(&op, &earlier, "invalid", json!({"reason": "重复来电"})).await;
    app.state.time.advance(Duration::days(30));
    let r = text(&app, phone, "家门口的水渠堵了，下雨就漫到院子里", "up-11").await;
    assert_eq!(r["outcomes"], json!(["filed"]), "{r}");
    let admin = app.token("admin").await;
    let list: Value =
        app.get(&format!("/api/v1/tickets?phone={phone}&status=submitted"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(list["total"], 1, "{list}");
    let t = app.ticket(&admin, list["items"][0]["no"].as_str().unwrap()).await;
    assert_eq!((t["region"]["name"].as_str(), t["channel"].as_str()), (Some("杏花村"), Some("sms")));

    // A stranger who names no village: to the operators' queue, no ticket.
    let stranger = "13612340012";
    let before = app.count("SELECT COUNT(*) FROM tickets").await;
    assert_eq!(text(&app, stranger, "家门口的路塌了一个大坑", "up-12").await["outcomes"], json!(["queued"]));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, before);
    let q: Value = app.get("/api/v1/sms/replies?status=open", Some(&op)).await.json().await.unwrap();
    let item = q["items"].as_array().unwrap().iter().find(|i| i["phone"] == stranger).expect("queued");
    assert!(item["detail"].as_str().unwrap_or_default().contains("未能确定所在村"), "{item}");
    // Too short to be a request: queued too.
    assert_eq!(text(&app, "13612340013", "你好", "up-13").await["outcomes"], json!(["queued"]));
    // A staff member's phone never files a request.
    assert_eq!(text(&app, "13900000301", "王家湾村路灯坏了三盏了", "up-14").await["outcomes"], json!(["queued"]));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, before);
}
