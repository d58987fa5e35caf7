//! Accountability records (追责红线): each rule fires on its breach with the events that prove it and
//! not on a clean ticket; one record per breach however often and however concurrently the worker
//! runs; the inspectors' list, detail, decisions and counts, within their role and region.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::Duration;
use minsheng::workers::accountability::run_once;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn run(app: &TestApp) -> usize {
    run_once(&app.state, app.state.now()).await.expect("accountability pass")
}

async fn dispatched(app: &TestApp, village: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id(&format!("{village}村民委员会")).await})).await;
    no
}

/// The records about ticket `no`, as the county inspector lists them.
async fn records_of(app: &TestApp, no: &str) -> Vec<Value> {
    let inspector = app.token("inspector").await;
    let v: Value = app.get("/api/v1/accountability?per_page=100", Some(&inspector)).await.json().await.unwrap();
    v["items"].as_array().unwrap().iter().filter(|r| r["ticket_no"] == no).cloned().collect()
}

fn actions(record: &Value) -> Vec<String> {
    record["evidence"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

async fn visit(app: &TestApp, no: &str, satisfaction: &str) {
    let cl = app.token("caller").await;
    let body = json!({"reached": true, "solved": "yes", "satisfaction": satisfaction, "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn a_missed_response_is_recorded_once_with_its_dispatch_and_a_clean_ticket_is_not() {
    let app = spawn_app().await;
    let late = dispatched(&app, "李家庄村", "13812345601").await;
    let clean = app.to_resolved("王家湾村", "wangjiawan", "13812345602").await;
    app.state.time.advance(Duration::hours(1));
    assert_eq!(run(&app).await, 0, "the response deadline (2 h) has not passed");
    app.state.time.advance(Duration::hours(2));
    assert_eq!(run(&app).await, 1);
    let recs = records_of(&app, &late).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["rule"], "response_missed");
    assert_eq!(recs[0]["status"], "open");
    assert_eq!(recs[0]["unit_name"], "李家庄村村民委员会");
    assert_eq!(actions(&recs[0]), vec!["dispatch"]);
    assert!(records_of(&app, &clean).await.is_empty());
    // Again, and two passes at once: still one record.
    assert_eq!(run(&app).await, 0);
    let (a, b) = tokio::join!(run(&app), run(&app));
    assert_eq!(a + b, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM accountability_records").await, 1);
    // The ticket's ledger is the inspector's evidence, not changed by it.
    let events_before = app.count("SELECT COUNT(*) FROM events").await;
    run(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events_before);
}

#[tokio::test]
async fn two_workers_at_once_write_one_record_per_breach() {
    let app = spawn_app().await;
    let mut nos = vec![];
    for (i, v) in ["李家庄村", "石桥村", "柳树沟村"].iter().enumerate() {
        nos.push(dispatched(&app, v, &format!("1381234570{i}")).await);
    }
    app.state.time.advance(Duration::hours(3));
    let (a, b) = tokio::join!(run(&app), run(&app));
    assert_eq!(a + b, 3, "each breach written by exactly one of the two passes");
    assert_eq!(app.count("SELECT COUNT(*) FROM accountability_records").await, 3);
    assert_eq!(app.count("SELECT COUNT(DISTINCT breach_key) FROM accountability_records").await, 3);
}

#[tokio::test]
async fn a_result_more_than_three_days_late_is_recorded_and_one_in_time_is_not() {
    let app = spawn_app().await;
    let held = app.to_accepted("李家庄村", "lijiazhuang", "13812345611").await;
    let done = app.to_resolved("石桥村", "shiqiao", "13812345612").await;
    let resolve_by: Value = app.ticket(&app.token("dispatcher").await, &held).await["assignment"]["resolve_by"].clone();
    let resolve_by: chrono::DateTime<chrono::Utc> = serde_json::from_value(resolve_by).expect("resolve_by");
    app.set_time(resolve_by + Duration::days(3) - Duration::minutes(1));
    assert_eq!(run(&app).await, 0, "not yet more than three days late");
    app.set_time(resolve_by + Duration::days(3) + Duration::minutes(1));
    assert_eq!(run(&app).await, 1);
    let recs = records_of(&app, &held).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["rule"], "result_overdue");
    assert_eq!(actions(&recs[0]), vec!["dispatch", "accept"]);
    assert!(records_of(&app, &done).await.is_empty());
    assert_eq!(run(&app).await, 0);
}

#[tokio::test]
async fn the_same_unit_returning_a_ticket_twice_is_recorded_with_both_returns() {
    let app = spawn_app().await;
    let no = dispatched(&app, "李家庄村", "13812345621").await;
    let di = app.token("dispatcher").await;
    let ca = app.token("lijiazhuang").await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&ca, &no, "return", json!({"reason": "不属于本村"})).await;
    assert_eq!(run(&app).await, 0, "one return is no red line");
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    app.act_ok(&ca, &no, "return", json!({"reason": "还是不属于本村"})).await;
    assert_eq!(run(&app).await, 1);
    let recs = records_of(&app, &no).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["rule"], "returned_twice");
    assert_eq!(recs[0]["unit_id"], unit);
    assert_eq!(actions(&recs[0]), vec!["return", "return"]);
    // The detail resolves the evidence to who did it and why.
    let inspector = app.token("inspector").await;
    let d: Value =
        app.get(&format!("/api/v1/accountability/{}", recs[0]["id"]), Some(&inspector)).await.json().await.unwrap();
    assert_eq!(d["evidence"][0]["note"], "不属于本村");
    assert_eq!(d["evidence"][1]["note"], "还是不属于本村");
    assert_eq!(d["evidence"][1]["actor_name"], "李长河");
    assert_eq!(d["evidence"][1]["action_label"], "退单");
    assert_eq!(run(&app).await, 0);
}

#[tokio::test]
async fn a_ticket_reopened_twice_by_dissatisfied_visits_is_recorded_once() {
    let app = spawn_app().await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13812345631").await;
    let ca = app.token("lijiazhuang").await;
    visit(&app, &no, "dissatisfied").await;
    assert_eq!(run(&app).await, 0, "one dissatisfied visit is no red line");
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "重新处理完毕"})).await;
    visit(&app, &no, "dissatisfied").await;
    assert_eq!(run(&app).await, 1);
    let recs = records_of(&app, &no).await;
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["rule"], "reopened_twice");
    assert_eq!(recs[0]["unit_name"], "李家庄村村民委员会");
    assert_eq!(actions(&recs[0]), vec!["resolve", "return_visit", "resolve", "return_visit"]);
    // A satisfied ticket is clean.
    let fine = app.to_resolved("石桥村", "shiqiao", "13812345632").await;
    visit(&app, &fine, "satisfied").await;
    assert_eq!(run(&app).await, 0);
    assert!(records_of(&app, &fine).await.is_empty());
}

#[tokio::test]
async fn a_rule_switched_off_in_configuration_does_not_fire() {
    let app = crate::helpers::spawn_app_with(|s| s.accountability.response_missed = false).await;
    dispatched(&app, "李家庄村", "13812345641").await;
    app.state.time.advance(Duration::hours(3));
    assert_eq!(run(&app).await, 0);
}

#[tokio::test]
async fn inspectors_review_and_close_records_with_validation_roles_and_region_scope() {
    let app = spawn_app().await;
    let no = dispatched(&app, "李家庄村", "13812345651").await;
    app.state.time.advance(Duration::hours(3));
    run(&app).await;
    let id = records_of(&app, &no).await[0]["id"].as_i64().unwrap();
    let inspector = app.token("inspector").await;
    let url = format!("/api/v1/accountability/{id}/decide");
    let audits = || app.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'accountability_record'");
    let open_sql = format!(
        "SELECT COUNT(*) FROM accountability_records WHERE id = {id} AND status = 'open' AND decided_at IS NULL"
    );
    let status = || app.count(&open_sql);

    // Validation: nothing written.
    for (body, field) in [
        (json!({"status": "closed"}), "decision"),
        (json!({"status": "done"}), "status"),
        (json!({}), "status"),
        (json!({"status": "closed", "decision": "maybe"}), "decision"),
        (json!({"status": "closed", "decision": "upheld"}), "note"),
        (json!({"status": "reviewing", "decision": "dismissed"}), "decision"),
    ] {
        let e = error_of(app.post(&url, Some(&inspector), &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(e["field"], field, "{body}");
    }
    assert_eq!((audits().await, status().await), (0, 1));

    // Roles: a cadre and a dispatcher may not read; a leader reads but does not decide.
    let cadre = app.token("lijiazhuang").await;
    let di = app.token("dispatcher").await;
    for t in [&cadre, &di] {
        error_of(app.get("/api/v1/accountability", Some(t)).await, StatusCode::FORBIDDEN).await;
        error_of(app.get(&format!("/api/v1/accountability/{id}"), Some(t)).await, StatusCode::FORBIDDEN).await;
        error_of(app.post(&url, Some(t), &json!({"status": "reviewing"})).await, StatusCode::FORBIDDEN).await;
    }
    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/accountability", Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["total"], 1);
    error_of(app.post(&url, Some(&leader), &json!({"status": "reviewing"})).await, StatusCode::FORBIDDEN).await;

    // Region: a 西河乡 inspector does not see a 东坝镇 record.
    let xihe = app.add_staff("xh-inspector", "西河纪检", "inspector", "西河乡").await;
    let v: Value = app.get("/api/v1/accountability", Some(&xihe)).await.json().await.unwrap();
    assert_eq!(v["total"], 0);
    error_of(app.get(&format!("/api/v1/accountability/{id}"), Some(&xihe)).await, StatusCode::NOT_FOUND).await;
    error_of(app.post(&url, Some(&xihe), &json!({"status": "reviewing"})).await, StatusCode::NOT_FOUND).await;
    let dongba = app.add_staff("db-inspector", "东坝纪检", "inspector", "东坝镇").await;
    let v: Value = app.get("/api/v1/accountability", Some(&dongba)).await.json().await.unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!((audits().await, status().await), (0, 1));

    // Review, then close as upheld; each step audited; a closed record is final.
    let r: Value = app.post(&url, Some(&dongba), &json!({"status": "reviewing"})).await.json().await.unwrap();
    assert_eq!((r["status"].as_str(), r["decision"].as_str()), (Some("reviewing"), None));
    let body = json!({"status": "closed", "decision": "upheld", "note": "超时未签收，约谈村委会主任"});
    let r = app.post(&url, Some(&inspector), &body).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r: Value = r.json().await.unwrap();
    assert_eq!((r["status"].as_str(), r["decision"].as_str()), (Some("closed"), Some("upheld")));
    assert_eq!(r["decision_label"], "问责");
    assert_eq!(r["decision_note"], "超时未签收，约谈村委会主任");
    assert_eq!(audits().await, 2);
    let e =
        error_of(app.post(&url, Some(&inspector), &json!({"status": "reviewing"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "already_decided");
    assert_eq!(audits().await, 2);

    // Filters.
    let v: Value = app
        .get("/api/v1/accountability?status=closed&rule=response_missed", Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
    let v: Value = app.get("/api/v1/accountability?status=open", Some(&inspector)).await.json().await.unwrap();
    assert_eq!(v["total"], 0);
    let e =
        error_of(app.get("/api/v1/accountability?rule=late", Some(&inspector)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "rule");
    let e =
        error_of(app.get("/api/v1/accountability?from=2026-13-01", Some(&inspector)).await, StatusCode::BAD_REQUEST)
            .await;
    assert_eq!(e["field"], "from");
}

#[tokio::test]
async fn counts_are_per_unit_and_rule_within_the_period_and_region() {
    let app = spawn_app().await;
    dispatched(&app, "李家庄村", "13812345661").await;
    dispatched(&app, "李家庄村", "13812345662").await;
    dispatched(&app, "柳树沟村", "13812345663").await;
    app.state.time.advance(Duration::hours(3));
    assert_eq!(run(&app).await, 3);
    let today = app.state.now().with_timezone(&app.state.tz()).date_naive();
    let (from, to) = (today - Duration::days(1), today + Duration::days(1));
    let inspector = app.token("inspector").await;
    let v: Value = app
        .get(&format!("/api/v1/accountability/counts?from={from}&to={to}"), Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{v}");
    assert_eq!(items[0]["unit_name"], "李家庄村村民委员会");
    assert_eq!(items[0]["total"], 2);
    assert_eq!(items[0]["by_rule"]["response_missed"], 2);
    assert_eq!(items[1]["unit_name"], "柳树沟村村民委员会");
    assert_eq!(items[1]["total"], 1);
    // Another period: none.
    let (from, to) = (today - Duration::days(40), today - Duration::days(30));
    let v: Value = app
        .get(&format!("/api/v1/accountability/counts?from={from}&to={to}"), Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"], json!([]));
    // One township: its own units only; a township inspector cannot ask for the other.
    let xihe = app.region_id("西河乡").await;
    let v: Value = app
        .get(&format!("/api/v1/accountability/counts?from={from}&to={to}&region_id={xihe}"), Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["region"]["name"], "西河乡");
    let (from, to) = (today - Duration::days(1), today + Duration::days(1));
    let v: Value = app
        .get(&format!("/api/v1/accountability/counts?from={from}&to={to}&region_id={xihe}"), Some(&inspector))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert_eq!(v["items"][0]["unit_name"], "柳树沟村村民委员会");
    let dongba = app.add_staff("db-inspector", "东坝纪检", "inspector", "东坝镇").await;
    let url = format!("/api/v1/accountability/counts?region_id={xihe}");
    error_of(app.get(&url, Some(&dongba)).await, StatusCode::FORBIDDEN).await;
    let cadre = app.token("lijiazhuang").await;
    error_of(app.get("/api/v1/accountability/counts", Some(&cadre)).await, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn the_demo_history_gives_the_inspector_an_open_record_and_one_closed_as_upheld() {
    let app = spawn_app().await;
    // As `minsheng demo` does: twelve weeks of past (some sign-ins late), then the last four days.
    minsheng::demo::seed_past(&app.state).await.unwrap();
    minsheng::demo::seed_orders(&app.state).await.unwrap();
    let (written, closed) = minsheng::demo::seed_accountability(&app.state).await.unwrap();
    assert!(written >= 2, "{written}");
    assert_eq!(closed, 1);
    let q = "SELECT COUNT(*) FROM accountability_records WHERE status = 'closed' AND decision = 'upheld'";
    assert_eq!(app.count(q).await, 1);
    let q = "SELECT COUNT(*) FROM accountability_records WHERE status = 'open'";
    assert_eq!(app.count(q).await, written as i64 - 1);
}
