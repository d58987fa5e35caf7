//! Issue 20 points 2 and 5: SLA windows by ticket kind (the most specific policy wins; long
//! working-day windows across the holidays) and typed urges (催办: type and level on the ledger, the
//! printable 催办单 of a written urge, urges counted per unit and period within the caller's scope).
use crate::helpers::{TestApp, error_of, spawn_app, tool};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().with_timezone(&Utc)
}

fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

static PHONE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// (operator, dispatcher) tokens: taken before a test moves the app's clock (they are checked
/// against the real clock).
async fn desk(app: &TestApp) -> (String, String) {
    (app.token("operator").await, app.token("dispatcher").await)
}

/// Files a ticket of `category` and `kind` in 李家庄村 (a new phone each time), registers and
/// dispatches it at `planned`; answers the assignment and how far the app's clock had moved past
/// `planned` when it was dispatched.
async fn dispatched(
    app: &TestApp,
    (op, di): &(String, String),
    category: &str,
    kind: &str,
    planned: DateTime<Utc>,
) -> (Value, chrono::Duration) {
    app.set_time(planned);
    let n = PHONE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut body = app.intake_body("李家庄村", &format!("1381234{:04}", n % 10_000));
    body["category"] = json!(category);
    body["kind"] = json!(kind);
    let r = app.intake(&body, None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    app.act_ok(op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    let t = app.act_ok(di, &no, "dispatch", json!({"unit_id": unit})).await;
    let a = t["assignment"].clone();
    let shift = at(&a["dispatched_at"]) - planned;
    assert!(shift.num_seconds().abs() <= 5, "dispatched at the planned time");
    (a, shift)
}

async fn policies(app: &TestApp, token: &str) -> Vec<Value> {
    let v: Value = app.get("/api/v1/sla-policies", Some(token)).await.json().await.unwrap();
    v["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_consultation_and_a_complaint_of_one_category_get_different_result_deadlines() {
    let app = spawn_app().await;
    let desk = desk(&app).await;
    // Monday 2 November 2026, 09:00: no holiday for the weeks after. Demo seed: 咨询 1 working day,
    // 投诉 15 working days, both on the working-day clock.
    let start = local(2026, 11, 2, 9, 0);
    let (a, shift) = dispatched(&app, &desk, "water.supply", "consultation", start).await;
    // 15 h of Monday + 9 h of Tuesday.
    assert_eq!(at(&a["resolve_by"]) - shift, local(2026, 11, 3, 9, 0));
    let (b, shift) = dispatched(&app, &desk, "water.supply", "complaint", start).await;
    // 15 h of 2 Nov, 14 whole working days (3–6, 9–13, 16–20 Nov), 9 h of Monday 23 Nov.
    assert_eq!(at(&b["resolve_by"]) - shift, local(2026, 11, 23, 9, 0));
    let (c, shift) = dispatched(&app, &desk, "water.supply", "help", start).await;
    assert_eq!(at(&c["resolve_by"]) - shift - start, chrono::Duration::hours(72), "求助 keeps the county default");
}

#[tokio::test]
async fn the_most_specific_policy_wins_category_and_kind_then_category_then_kind_then_default() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let desk = desk(&app).await;
    for (name, kind, resolve) in [("道路·投诉", json!("complaint"), 5000), ("道路", json!(null), 4000)] {
        let body = json!({"name": name, "category_code": "roads", "kind": kind, "priority": "normal",
                          "resolve_minutes": resolve});
        let r = app.post("/api/v1/sla-policies", Some(&admin), &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let p: Value = r.json().await.unwrap();
        assert_eq!(p["kind"], kind);
    }
    // The county's consultation row on the natural clock, so that the minutes read directly.
    let consult = policies(&app, &admin).await.into_iter().find(|p| p["kind"] == "consultation").unwrap();
    let body = json!({"clock": "natural", "progress_minutes": 600, "resolve_minutes": 2000});
    let r = app.client.put(app.url(&format!("/api/v1/sla-policies/{}", consult["id"]))).bearer_auth(&admin);
    assert_eq!(r.json(&body).send().await.unwrap().status(), StatusCode::OK);
    let start = local(2026, 11, 2, 9, 0);
    for (category, kind, minutes, why) in [
        ("roads.damage", "complaint", 5000, "category + kind beats category (the parent's rows)"),
        ("roads.damage", "consultation", 4000, "category beats the county's kind row"),
        ("water.supply", "consultation", 2000, "the county's kind row beats the default"),
        ("water.supply", "suggestion", 72 * 60, "the county default"),
    ] {
        let (a, shift) = dispatched(&app, &desk, category, kind, start).await;
        assert_eq!((at(&a["resolve_by"]) - shift - start).num_minutes(), minutes, "{category} {kind}: {why}");
    }
}

#[tokio::test]
async fn sixty_working_days_for_a_land_complaint_cross_the_national_day_holiday() {
    let app = spawn_app().await;
    // Demo seed: 土地纠纷 × 投诉, 60 working days. Dispatched Wednesday 30 Sep 2026 18:00: 6 h left
    // that day, 1–7 Oct off; then 59 whole working days: 8, 9 Oct, Saturday 10 Oct (make-up day),
    // 12 Oct – 25 Dec (11 weeks × 5 = 55, 58 in all), Monday 28 Dec (59th); 18 h of Tuesday 29 Dec.
    let desk = desk(&app).await;
    let (a, shift) = dispatched(&app, &desk, "land.contract", "complaint", local(2026, 9, 30, 18, 0)).await;
    assert_eq!(at(&a["resolve_by"]) - shift, local(2026, 12, 29, 18, 0));
}

#[tokio::test]
async fn a_policy_kind_is_validated_unique_and_cleared_by_an_empty_string() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let before = app.count("SELECT COUNT(*) FROM sla_policies").await;
    let body = json!({"name": "道路·咨询", "category_code": "roads", "kind": "grumble", "priority": "normal"});
    let e = error_of(app.post("/api/v1/sla-policies", Some(&admin), &body).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "kind");
    assert!(e["message"].as_str().unwrap().contains("诉求类型"), "{e}");
    assert_eq!(app.count("SELECT COUNT(*) FROM sla_policies").await, before, "nothing written");
    // The county already has a consultation row: a second one for the same priority conflicts.
    let twin = json!({"name": "另一个", "kind": "consultation", "priority": "normal"});
    let e = error_of(app.post("/api/v1/sla-policies", Some(&admin), &twin).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "policy_exists");
    let ok = json!({"name": "道路·咨询", "category_code": "roads", "kind": "consultation", "priority": "normal"});
    let r = app.post("/api/v1/sla-policies", Some(&admin), &ok).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let p: Value = r.json().await.unwrap();
    assert_eq!((p["kind"].as_str(), p["kind_label"].as_str()), (Some("consultation"), Some("咨询")));
    let put = |b: Value| {
        app.client.put(app.url(&format!("/api/v1/sla-policies/{}", p["id"]))).bearer_auth(&admin).json(&b).send()
    };
    let e = error_of(put(json!({"kind": "praise!"})).await.unwrap(), StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "kind");
    let v: Value = put(json!({"respond_minutes": 30})).await.unwrap().json().await.unwrap();
    assert_eq!(v["kind"], "consultation", "an absent kind keeps the stored one");
    let v: Value = put(json!({"kind": ""})).await.unwrap().json().await.unwrap();
    assert!(v["kind"].is_null(), "an empty kind means any kind: {v}");
    // The county's kind rows can be deleted (the county default then applies); the default stays.
    let complaint = policies(&app, &admin).await.into_iter().find(|p| p["kind"] == "complaint").unwrap();
    let r = app.client.delete(app.url(&format!("/api/v1/sla-policies/{}", complaint["id"]))).bearer_auth(&admin);
    assert_eq!(r.send().await.unwrap().status(), StatusCode::NO_CONTENT);
}

/// The data of ledger event `seq` of ticket `no`.
async fn event_data(app: &TestApp, no: &str, seq: i64) -> Value {
    let sql = format!(
        "SELECT e.data FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.seq = {seq}"
    );
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql);
    let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().expect("the event");
    serde_json::from_str(&row.try_get_by_index::<String>(0).unwrap()).unwrap()
}

async fn last_seq(app: &TestApp, no: &str) -> i64 {
    app.count(&format!(
        "SELECT CAST(MAX(e.seq) AS BIGINT) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}'"
    ))
    .await
}

#[tokio::test]
async fn a_typed_urge_is_on_the_ledger_and_a_written_one_prints_as_a_notice() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812349876").await;
    let di = app.token("dispatcher").await;
    let events = app.count("SELECT COUNT(*) FROM events").await;
    for (body, field) in [
        (json!({"type": "fax"}), "type"),
        (json!({"type": "written", "level": 0}), "level"),
        (json!({"level": 4}), "level"),
    ] {
        let e = error_of(app.act(&di, &no, "urge", body.clone()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{body}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events, "a refused urge writes nothing");

    app.act_ok(&di, &no, "urge", json!({"type": "written", "level": 3, "note": "群众反映强烈，请限期办结"})).await;
    let seq = last_seq(&app, &no).await;
    let d = event_data(&app, &no, seq).await;
    assert_eq!((d["type"].as_str(), d["level"].as_i64()), (Some("written"), Some(3)), "{d}");
    assert_eq!(d["unit_id"].as_i64(), Some(app.unit_id("李家庄村村民委员会").await));
    assert!(app.sent_body(&no, "urge").await.contains("挂牌督办"), "the SMS names a higher level");
    app.act_ok(&di, &no, "urge", json!({"note": "请今天内回复"})).await;
    let phone_seq = last_seq(&app, &no).await;
    let d = event_data(&app, &no, phone_seq).await;
    assert_eq!((d["type"].as_str(), d["level"].as_i64()), (Some("phone"), Some(1)), "defaults: {d}");

    let r = app.get(&format!("/api/v1/tickets/{no}/urges/{seq}.pdf"), Some(&di)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let path = std::env::temp_dir().join(format!("urge-{}.pdf", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, &pdf).unwrap();
    let text = tool("pdftotext", &["-layout", path.to_str().unwrap(), "-"]);
    let _ = std::fs::remove_file(&path);
    assert!(text.contains("催办单") && text.contains(&no), "{text}");
    assert!(text.contains("李家庄村村民委员会") && text.contains("挂牌督办"), "{text}");
    assert!(text.contains("群众反映强烈") && text.contains("清河县"), "{text}");
    assert!(!text.contains("13812349876"), "no requester phone: {text}");

    let r = app.get(&format!("/api/v1/tickets/{no}/urges/{phone_seq}.pdf"), Some(&di)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "a phone urge has no notice");
    let r = app.get(&format!("/api/v1/tickets/{no}/urges/1.pdf"), Some(&di)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "the first event is no urge");
    let other = app.token("wangjiawan").await;
    let r = app.get(&format!("/api/v1/tickets/{no}/urges/{seq}.pdf"), Some(&other)).await;
    assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status());
}

#[tokio::test]
async fn urges_are_counted_per_unit_by_type_and_level_within_the_callers_region() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812349876").await;
    let di = app.token("dispatcher").await;
    let leader = app.token("leader").await;
    let xihe = app.add_staff("xihe-leader", "西河乡领导", "leader", "西河乡").await;
    for body in [json!({}), json!({"type": "written", "level": 2}), json!({"type": "interview", "level": 3})] {
        app.act_ok(&di, &no, "urge", body).await;
    }
    let v: Value = app.get("/api/v1/stats/urges", Some(&leader)).await.json().await.unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{v}");
    let u = &items[0];
    assert_eq!(u["unit"]["name"], "李家庄村村民委员会");
    assert_eq!(u["by_type"], json!({"phone": 1, "written": 1, "onsite": 0, "interview": 1}));
    assert_eq!(u["by_level"], json!({"1": 1, "2": 1, "3": 1}));
    assert_eq!((u["total"].as_i64(), u["auto"].as_i64()), (Some(3), Some(0)));
    // The unit rankings show the same count beside the rates.
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    let row =
        v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == "李家庄村村民委员会").unwrap().clone();
    assert_eq!((row["urges"].as_i64(), row["auto_urges"].as_i64()), (Some(3), Some(0)), "{row}");
    let other =
        v["items"].as_array().unwrap().iter().find(|i| i["unit"]["name"] == "王家湾村村民委员会").unwrap().clone();
    assert_eq!(other["urges"], 0, "{other}");
    // A period before the urges counts none.
    let v: Value =
        app.get("/api/v1/stats/urges?from=2020-01-01&to=2020-01-31", Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["items"], json!([]));
    // Another township's leader sees nothing of 东坝镇, and may not ask for it.
    let v: Value = app.get("/api/v1/stats/urges", Some(&xihe)).await.json().await.unwrap();
    assert_eq!(v["items"], json!([]), "{v}");
    let dongba = app.region_id("东坝镇").await;
    let r = app.get(&format!("/api/v1/stats/urges?region_id={dongba}"), Some(&xihe)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let e =
        error_of(app.get("/api/v1/stats/urges?from=2026-13-01", Some(&leader)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "from");
}
