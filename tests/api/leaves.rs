//! Leave and deputies: while a cadre is on leave, new orders, their SMS and the card's contact go to
//! the deputy, and the ledger says on whose behalf; the clock moving past the leave (or a cancel)
//! restores everything. Time moves with the test clock, never with sleeps.
use crate::helpers::{PASSWORD, TestApp, error_of, spawn_app};
use chrono::{Duration, Utc};
use minsheng::auth::password::HashParams;
use minsheng::repo;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DEPUTY_PHONE: &str = "13900000399";

/// A second cadre of 李家庄村村民委员会 (王副主任) who can log in; returns (id, token).
async fn deputy(app: &TestApp) -> (i64, String) {
    let unit = app.unit_id("李家庄村村民委员会").await;
    let region_id = app.region_id("李家庄村").await;
    let hash =
        minsheng::auth::password::hash(PASSWORD.to_string().into(), HashParams { memory_kib: 1024, iterations: 1 })
            .await
            .unwrap();
    let s = repo::staff::NewStaff {
        username: "lijiazhuang2",
        name: "王副主任",
        password_hash: &hash,
        roles: "cadre",
        region_id,
        unit_id: Some(unit),
        phone: Some(DEPUTY_PHONE),
        post: Some("村委会副主任"),
        must_change_password: false,
    };
    let s = repo::staff::create(&app.state.db.conn, s, Utc::now()).await.unwrap();
    (s.id, app.token("lijiazhuang2").await)
}

async fn cadre_id(app: &TestApp) -> i64 {
    repo::staff::by_username(&app.state.db.conn, "lijiazhuang").await.unwrap().unwrap().id
}

fn leave_body(app: &TestApp, deputy_id: i64, days: i64) -> Value {
    let now = app.state.now();
    json!({"from": (now - Duration::hours(1)).to_rfc3339(), "to": (now + Duration::days(days)).to_rfc3339(),
           "deputy_id": deputy_id, "reason": "外出培训"})
}

async fn record(app: &TestApp, token: &str, cadre: i64, body: &Value) -> reqwest::Response {
    app.post(&format!("/api/v1/staff/{cadre}/leaves"), Some(token), body).await
}

/// A new ticket in 李家庄村, registered and dispatched to the committee naming 李长河; the ticket JSON.
async fn dispatched(app: &TestApp, cadre: i64) -> (String, Value) {
    let no = app.file("李家庄村", "13800001111").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "assignee_id": cadre})).await;
    (no, t)
}

async fn dispatch_sms_to(app: &TestApp, no: &str) -> Vec<String> {
    let sql = format!(
        "SELECT o.recipient FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'assignment' ORDER BY o.id"
    );
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    use sea_orm::ConnectionTrait;
    let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
    rows.into_iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect()
}

async fn card_contacts(app: &TestApp) -> Vec<Value> {
    let r = app.get(&format!("/api/v1/cards/{}", app.card("李家庄村")), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    v["contacts"].as_array().unwrap().clone()
}

fn dispatch_event(t: &Value) -> Value {
    t["events"].as_array().unwrap().iter().rev().find(|e| e["action"] == "dispatch").unwrap().clone()
}

#[tokio::test]
async fn during_a_leave_new_orders_sms_and_card_go_to_the_deputy_and_come_back_when_it_ends() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cadre = cadre_id(&app).await;
    let (deputy_id, deputy_token) = deputy(&app).await;

    let r = record(&app, &admin, cadre, &leave_body(&app, deputy_id, 3)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let leave: Value = r.json().await.unwrap();
    assert_eq!(leave["current"], true);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'leave' AND action = 'create'").await, 1);

    // During the leave: the deputy holds the order, gets the SMS, and the ledger says for whom.
    let (no, t) = dispatched(&app, cadre).await;
    assert_eq!(t["assignment"]["assignee"]["id"], deputy_id, "{t}");
    assert_eq!(dispatch_sms_to(&app, &no).await, vec![DEPUTY_PHONE.to_string()]);
    let ev = dispatch_event(&t);
    assert_eq!(ev["data"]["on_behalf_of"]["id"], cadre, "{ev}");
    assert_eq!(ev["data"]["on_behalf_of"]["name"], "李长河");
    assert_eq!(ev["data"]["on_behalf_label"], "（代李长河办理）");
    app.act_ok(&deputy_token, &no, "accept", json!({})).await;
    app.act_ok(&deputy_token, &no, "progress", json!({"note": "已联系水站"})).await;
    let t = app.act_ok(&deputy_token, &no, "resolve", json!({"result": "已恢复供水"})).await;
    assert_eq!(t["status"], "resolved");

    // The card shows the deputy in the cadre's place, marked （代）.
    let contacts = card_contacts(&app).await;
    assert!(contacts.iter().any(|c| c["name"] == "王副主任（代）" && c["phone"] == DEPUTY_PHONE), "{contacts:?}");
    assert!(!contacts.iter().any(|c| c["phone"] == "13900000301"), "{contacts:?}");
    let page = app.get(&format!("/c/{}", app.card("李家庄村")), None).await.text().await.unwrap();
    assert!(page.contains("王副主任（代）"), "the card page shows the deputy");

    // Past the end of the leave: back to the cadre.
    app.state.time.advance(Duration::days(4));
    let (no, t) = dispatched(&app, cadre).await;
    assert_eq!(t["assignment"]["assignee"]["id"], cadre, "{t}");
    assert_eq!(dispatch_sms_to(&app, &no).await, vec!["13900000301".to_string()]);
    assert!(dispatch_event(&t)["data"].get("on_behalf_of").is_none());
    let contacts = card_contacts(&app).await;
    assert!(contacts.iter().any(|c| c["name"] == "李长河" && c["phone"] == "13900000301"), "{contacts:?}");
    let page = app.get(&format!("/c/{}", app.card("李家庄村")), None).await.text().await.unwrap();
    assert!(page.contains("李长河") && !page.contains("王副主任（代）"));
}

#[tokio::test]
async fn an_order_for_the_whole_unit_texts_the_deputy_instead_of_the_cadre_on_leave() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cadre = cadre_id(&app).await;
    let (deputy_id, _) = deputy(&app).await;
    assert_eq!(record(&app, &admin, cadre, &leave_body(&app, deputy_id, 3)).await.status(), StatusCode::CREATED);
    let no = app.file("李家庄村", "13800001112").await;
    app.act_ok(&app.token("operator").await, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&app.token("dispatcher").await, &no, "dispatch", json!({"unit_id": unit})).await;
    assert_eq!(dispatch_sms_to(&app, &no).await, vec![DEPUTY_PHONE.to_string()]);
}

#[tokio::test]
async fn cancelling_a_leave_restores_routing_at_once_and_get_lists_it() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cadre = cadre_id(&app).await;
    let (deputy_id, _) = deputy(&app).await;
    let leave: Value = record(&app, &admin, cadre, &leave_body(&app, deputy_id, 3)).await.json().await.unwrap();
    let id = leave["id"].as_i64().unwrap();

    let r = app.get(&format!("/api/v1/staff/{cadre}/leaves"), Some(&admin)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let list: Value = r.json().await.unwrap();
    assert_eq!(list["items"][0]["id"], id);
    assert_eq!(list["items"][0]["deputy"]["name"], "王副主任");

    let r = app.delete(&format!("/api/v1/staff/{cadre}/leaves/{id}"), &admin).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v["cancelled_at"].is_string(), "{v}");
    assert_eq!(v["current"], false);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'leave' AND action = 'cancel'").await, 1);

    let (no, t) = dispatched(&app, cadre).await;
    assert_eq!(t["assignment"]["assignee"]["id"], cadre, "{t}");
    assert_eq!(dispatch_sms_to(&app, &no).await, vec!["13900000301".to_string()]);

    // Cancelling twice is a conflict.
    let r = app.delete(&format!("/api/v1/staff/{cadre}/leaves/{id}"), &admin).await;
    error_of(r, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn overlapping_bad_and_out_of_scope_leaves_are_refused_and_write_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let cadre = cadre_id(&app).await;
    let (deputy_id, _) = deputy(&app).await;
    // The demo county already has one leave (县交通运输局); only this cadre's rows are counted.
    let rows = &format!("SELECT COUNT(*) FROM staff_leaves WHERE staff_id = {cadre}");
    let audits = "SELECT COUNT(*) FROM audit_log";

    let now = app.state.now();
    let cases = [
        (
            json!({"from": "明天", "to": (now + Duration::days(1)).to_rfc3339(), "deputy_id": deputy_id, "reason": "病假"}),
            "from",
        ),
        (
            json!({"from": now.to_rfc3339(), "to": (now - Duration::hours(2)).to_rfc3339(), "deputy_id": deputy_id, "reason": "病假"}),
            "to",
        ),
        (
            json!({"from": (now - Duration::days(3)).to_rfc3339(), "to": (now - Duration::days(1)).to_rfc3339(), "deputy_id": deputy_id, "reason": "病假"}),
            "to",
        ),
        (
            json!({"from": now.to_rfc3339(), "to": (now + Duration::days(200)).to_rfc3339(), "deputy_id": deputy_id, "reason": "病假"}),
            "to",
        ),
        (
            json!({"from": now.to_rfc3339(), "to": (now + Duration::days(1)).to_rfc3339(), "deputy_id": cadre, "reason": "病假"}),
            "deputy_id",
        ),
        (
            json!({"from": now.to_rfc3339(), "to": (now + Duration::days(1)).to_rfc3339(), "reason": "病假"}),
            "deputy_id",
        ),
        (
            json!({"from": now.to_rfc3339(), "to": (now + Duration::days(1)).to_rfc3339(), "deputy_id": deputy_id, "reason": " "}),
            "reason",
        ),
    ];
    for (body, field) in cases {
        let e = error_of(record(&app, &admin, cadre, &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    // A deputy from another unit (王家湾村's cadre) is refused.
    let other = repo::staff::by_username(&app.state.db.conn, "wangjiawan").await.unwrap().unwrap().id;
    let mut b = leave_body(&app, other, 1);
    let e = error_of(record(&app, &admin, cadre, &b).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "deputy_id");
    assert_eq!((app.count(rows).await, app.count(audits).await), (0, 0));

    // An admin of 西河乡 cannot record leave for a cadre of 东坝镇.
    let xihe = app.add_staff("xihe-admin", "西河乡管理员", "admin", "西河乡").await;
    b = leave_body(&app, deputy_id, 1);
    error_of(record(&app, &xihe, cadre, &b).await, StatusCode::FORBIDDEN).await;
    let r = app.get(&format!("/api/v1/staff/{cadre}/leaves"), Some(&xihe)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Neither can a dispatcher.
    let di = app.token("dispatcher").await;
    error_of(record(&app, &di, cadre, &b).await, StatusCode::FORBIDDEN).await;
    assert_eq!(app.count(rows).await, 0);

    // Overlap with a recorded leave: 409.
    assert_eq!(record(&app, &admin, cadre, &leave_body(&app, deputy_id, 3)).await.status(), StatusCode::CREATED);
    let e = error_of(record(&app, &admin, cadre, &leave_body(&app, deputy_id, 1)).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "duplicate");
    assert_eq!(app.count(rows).await, 1);
}
