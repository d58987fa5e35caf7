//! The staff console and the cadre's order page in headless Chromium (issue 7), checked against the
//! database afterwards.
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::run_spec;
use chrono::Duration;
use serde_json::{Value, json};

async fn spec(app: &TestApp, name: &'static str, env: Vec<(&'static str, String)>) -> Value {
    let base = app.addr.clone();
    tokio::task::spawn_blocking(move || run_spec(&base, name, &env)).await.unwrap()
}

async fn registered(app: &TestApp, village: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    no
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_works_the_list_and_a_cadre_signs_on_a_phone() {
    let app = spawn_app().await;
    // One order whose response deadline has passed, one waiting for dispatch.
    let late = registered(&app, "王家湾村", "13812340001").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&di, &late, "dispatch", json!({"unit_id": app.unit_id("王家湾村村民委员会").await})).await;
    app.state.time.advance(Duration::hours(3));
    let fresh = registered(&app, "李家庄村", "13812340002").await;
    let env = vec![
        ("NO_OVERDUE", late.clone()),
        ("NO_REGISTERED", fresh.clone()),
        ("UNIT_NAME", "李家庄村村民委员会".into()),
    ];
    spec(&app, "console_orders", env).await;
    let t = app.ticket(&di, &fresh).await;
    assert_eq!(t["status"], "accepted");
    let actions: Vec<(&str, &str)> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions[2..],
        [("dispatch", "陈刚"), ("accept", "李长河"), ("escalate_request", "李长河")],
        "one event per action, by the right people"
    );
    assert_eq!(t["assignment"]["escalation_request"]["pending"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_registers_a_call_and_reads_the_deadlines() {
    let app = spawn_app().await;
    let result = spec(&app, "console_register", vec![]).await;
    let no = result["ticket_no"].as_str().unwrap();
    let q = format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND channel = 'hotline' AND status = 'registered'");
    assert_eq!(app.count(&q).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_resolves_from_the_sms_link_with_photos() {
    let dir = std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    let upload_dir = dir.to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.application.upload_dir = upload_dir).await;
    let no = registered(&app, "李家庄村", "13812345678").await;
    let (di, admin) = (app.token("dispatcher").await, app.token("admin").await);
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let sms: Value =
        app.get(&format!("/api/v1/outbox?ticket_no={no}&kind=assignment"), Some(&admin)).await.json().await.unwrap();
    let body = sms["items"][0]["body"].as_str().unwrap();
    let link = body[body.find("/w/").unwrap()..].split_whitespace().next().unwrap().to_string();
    let photo = std::env::temp_dir().join(format!("minsheng-photo-{}.png", uuid::Uuid::new_v4().simple()));
    std::fs::write(&photo, PNG).unwrap();
    spec(&app, "cadre_order_page", vec![("LINK", link), ("PHOTO", photo.to_string_lossy().into_owned())]).await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["uploads"].as_array().unwrap().len(), 2);
    let q = format!("SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id WHERE t.no = '{no}'");
    assert_eq!(app.count(&q).await, 2);
    let _ = std::fs::remove_file(photo);
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];
