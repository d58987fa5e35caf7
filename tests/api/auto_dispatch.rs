//! 自动派单 (issue 16 point 5): a card intake in a category marked `auto_dispatch` is registered and
//! dispatched by the system, in the intake's transaction, to the unit routing suggests, and the
//! cadre's SMS with the order link is queued with it. Other categories, other channels and the
//! category's flag turned off leave the order to the dispatcher.
use crate::helpers::{TestApp, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

async fn card_intake(app: &TestApp, village: &str, category: &str, phone: &str) -> Value {
    let body = json!({"card_code": app.card(village), "category": category, "kind": "help",
                      "description": "村口垃圾池满了好几天没人清运", "phone": phone});
    let r = app.intake(&body, Some(&Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json().await.unwrap()
}

/// (action, actor kind, actor name) of each ledger event of ticket `no`, in order.
async fn ledger(app: &TestApp, no: &str) -> Vec<(String, String, String)> {
    use sea_orm::ConnectionTrait;
    let sql = format!(
        "SELECT e.action, e.actor_kind, e.actor_name FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' ORDER BY e.seq"
    );
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    let rows = app.state.db.conn.query_all_raw(stmt).await.unwrap();
    rows.into_iter()
        .map(|r| (r.try_get_by_index(0).unwrap(), r.try_get_by_index(1).unwrap(), r.try_get_by_index(2).unwrap()))
        .collect()
}

fn events(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, k)| (a.to_string(), k.to_string())).collect()
}

fn actions(l: &[(String, String, String)]) -> Vec<(String, String)> {
    l.iter().map(|(a, k, _)| (a.clone(), k.clone())).collect()
}

#[tokio::test]
async fn a_card_request_in_an_auto_dispatch_category_goes_straight_to_the_village_committee_with_its_sms() {
    let app = spawn_app().await;
    let answer = card_intake(&app, "李家庄村", "sanitation", "13800002001").await;
    assert_eq!(answer["status"], "dispatched", "{answer}");
    let no = answer["ticket_no"].as_str().unwrap();
    let l = ledger(&app, no).await;
    assert_eq!(
        actions(&l),
        events(&[("submit", "villager"), ("register", "system"), ("dispatch", "system")]),
        "registered and dispatched by the system"
    );
    assert_eq!(l[2].2, "系统");
    let q = format!(
        "SELECT COUNT(*) FROM tickets t JOIN assignments a ON a.id = t.current_assignment_id JOIN units u ON u.id = a.unit_id \
         WHERE t.no = '{no}' AND t.status = 'dispatched' AND u.name = '李家庄村村民委员会' AND a.dispatched_by IS NULL \
         AND t.registered_at IS NOT NULL AND t.first_dispatched_at IS NOT NULL AND t.dispatch_by IS NULL"
    );
    assert_eq!(app.count(&q).await, 1, "the suggested unit holds it, dispatched by nobody in person");
    // The committee's cadre gets the assignment SMS with the order link, queued with the ticket.
    let sms = app.sent_body(no, "assignment").await;
    assert!(sms.contains(no) && sms.contains("/w/"), "{sms}");
    let q = format!(
        "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id JOIN staff s ON s.phone = o.recipient \
         WHERE t.no = '{no}' AND o.kind = 'assignment' AND s.username = 'lijiazhuang'"
    );
    assert_eq!(app.count(&q).await, 1);
    // The dispatch event says it was automatic; the ledger still verifies.
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, no).await;
    let ev = t["events"].as_array().unwrap().iter().find(|e| e["action"] == "dispatch").unwrap().clone();
    assert_eq!(ev["data"]["auto"], true, "{ev}");
    assert_eq!(ev["data"]["unit_name"], "李家庄村村民委员会");
    let r = app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&di)).await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["ok"], true, "{v}");
    // The cadre can sign for it at once.
    let cadre = app.token("lijiazhuang").await;
    let t = app.act_ok(&cadre, no, "accept", json!({})).await;
    assert_eq!(t["status"], "accepted");
}

#[tokio::test]
async fn other_categories_channels_and_a_flag_turned_off_leave_the_order_to_the_dispatcher() {
    let app = spawn_app().await;
    // A category without the flag: submitted, nothing dispatched, no assignment SMS.
    let answer = card_intake(&app, "李家庄村", "water", "13800002002").await;
    assert_eq!(answer["status"], "submitted");
    let no = answer["ticket_no"].as_str().unwrap().to_string();
    assert_eq!(actions(&ledger(&app, &no).await), events(&[("submit", "villager")]));
    let q = format!("SELECT COUNT(*) FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.no = '{no}'");
    assert_eq!(app.count(&q).await, 0);
    // The hotline desk registers in an auto-dispatch category; the dispatcher still chooses.
    let op = app.token("operator").await;
    let body = json!({"region_id": app.region_id("李家庄村").await, "channel": "hotline", "category": "sanitation",
                      "kind": "help", "description": "垃圾池满了", "phone": "13800002003"});
    let r = app.post("/api/v1/tickets", Some(&op), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "registered", "{v}");
    // The admin turns the flag off (audited, before → after) and the card page's requests wait again.
    let admin = app.token("admin").await;
    let r = app.patch("/api/v1/categories/sanitation", &admin, &json!({"auto_dispatch": false})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["auto_dispatch"], false, "{v}");
    let answer = card_intake(&app, "李家庄村", "sanitation", "13800002004").await;
    assert_eq!(answer["status"], "submitted", "{answer}");
    let r = app.get("/api/v1/audit?entity=category", Some(&admin)).await;
    let v: Value = r.json().await.unwrap();
    let entry =
        v["items"].as_array().unwrap().iter().find(|e| e["entity_id"] == "sanitation").expect("audited").clone();
    assert_eq!(entry["before"]["auto_dispatch"], true, "{entry}");
    assert_eq!(entry["after"]["auto_dispatch"], false, "{entry}");
    // Turned on for 饮水安全, a card request there is dispatched by the system too.
    let r = app.patch("/api/v1/categories/water", &admin, &json!({"auto_dispatch": true})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let answer = card_intake(&app, "李家庄村", "water", "13800002005").await;
    assert_eq!(answer["status"], "dispatched", "{answer}");
}

#[tokio::test]
async fn a_bad_auto_dispatch_value_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let r = app.patch("/api/v1/categories/water", &admin, &json!({"auto_dispatch": "yes"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{v}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM categories WHERE auto_dispatch = TRUE").await,
        2,
        "only the catalogue's two"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'category'").await, 0);
}

#[tokio::test]
async fn a_category_hints_the_kind_of_a_request_that_names_none() {
    let app = spawn_app().await;
    // 政策咨询 is a consultation in the standard catalogue.
    let body = json!({"card_code": app.card("李家庄村"), "category": "consult",
                      "description": "想问一下今年的种粮补贴怎么申请", "phone": "13800002101"});
    let r = app.intake(&body, Some(&Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let no = v["ticket_no"].as_str().unwrap();
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND kind = 'consultation'")).await,
        1
    );
    // A kind given by the villager wins; a category without a hint stays 求助.
    let mut body = body.clone();
    body["kind"] = json!("complaint");
    body["phone"] = json!("13800002102");
    let v: Value = app.intake(&body, Some(&Uuid::new_v4().to_string())).await.json().await.unwrap();
    let q = format!(
        "SELECT COUNT(*) FROM tickets WHERE no = '{}' AND kind = 'complaint'",
        v["ticket_no"].as_str().unwrap()
    );
    assert_eq!(app.count(&q).await, 1);
    // The admin sets and clears a hint; a wrong one is refused at its field and changes nothing.
    let admin = app.token("admin").await;
    let water = "/api/v1/categories/water";
    let r = app.patch(water, &admin, &json!({"default_kind": "grumble"})).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "default_kind");
    assert_eq!(app.count("SELECT COUNT(*) FROM categories WHERE default_kind IS NOT NULL").await, 1);
    let v: Value = app.patch(water, &admin, &json!({"default_kind": "report"})).await.json().await.unwrap();
    assert_eq!(v["default_kind"], "report");
    let body = json!({"card_code": app.card("李家庄村"), "category": "water",
                      "description": "有人往河里倒垃圾，要举报", "phone": "13800002103"});
    let v: Value = app.intake(&body, Some(&Uuid::new_v4().to_string())).await.json().await.unwrap();
    let q =
        format!("SELECT COUNT(*) FROM tickets WHERE no = '{}' AND kind = 'report'", v["ticket_no"].as_str().unwrap());
    assert_eq!(app.count(&q).await, 1);
    let v: Value = app.patch(water, &admin, &json!({"default_kind": null})).await.json().await.unwrap();
    assert!(v["default_kind"].is_null(), "{v}");
}
