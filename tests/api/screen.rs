//! The big screen's numbers: `GET /api/v1/screen/overview` (issue 18 point 1) for a leader or an
//! inspector in scope, or a screen token for its own region; every panel from real data; nothing
//! naming a requester.
use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with, visited_order};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn overview(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/screen/overview{query}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

async fn screen_token(app: &TestApp, region: &str) -> (i64, String) {
    let admin = app.token("admin").await;
    let body = json!({"name": "大厅大屏", "region_id": app.region_id(region).await});
    let r = app.post("/api/v1/screens", Some(&admin), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    (v["id"].as_i64().unwrap(), v["token"].as_str().unwrap().to_string())
}

/// Moves the app's clock to the next 09:00 in the county's zone: a test whose requests span a few
/// hours then stays inside one local day, whatever time of day it runs at.
fn to_next_morning(app: &TestApp) {
    let now = app.state.now();
    let local = now.with_timezone(&app.state.tz());
    let mut day = local.date_naive();
    if local.time() >= chrono::NaiveTime::from_hms_opt(9, 0, 0).unwrap() {
        day = day.succ_opt().unwrap();
    }
    let nine = day.and_hms_opt(9, 0, 0).unwrap().and_local_timezone(app.state.tz()).single().unwrap();
    app.state.time.advance(nine.with_timezone(&chrono::Utc) - now);
}

fn nos(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|t| t["ticket_no"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn every_panel_comes_from_the_tickets_and_names_nobody() {
    let app = spawn_app_with(|s| s.ranking.min_visits = 1).await;
    // The requests below span two and a half hours, all of them counted as today's.
    to_next_morning(&app);
    let leader = app.token("leader").await;
    let empty = overview(&app, &leader, "").await;
    assert_eq!(empty["today_counts"], json!({"received": 0, "resolved": 0, "open": 0, "overdue": 0}));
    assert_eq!(empty["redblack"], Value::Null, "no list published yet");
    assert_eq!(empty["latest"], json!([]));

    let lijiazhuang = ("李家庄村", "李家庄村村民委员会", "lijiazhuang");
    visited_order(&app, lijiazhuang, "13800008001", "yes", "satisfied").await;
    visited_order(&app, lijiazhuang, "13800008002", "no", "dissatisfied").await;
    // Scored at its visit: the four dimensions.
    let scored = app.to_resolved("王家湾村", "wangjiawan", "13800008003").await;
    let cl = app.token("caller").await;
    let visit = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone",
                       "scores": {"attitude": 5, "capability": 4, "convenience": 3, "efficiency": 4}});
    let r = app.post(&format!("/api/v1/tickets/{scored}/return-visits"), Some(&cl), &visit).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // Given to 柳树沟村 and not signed for in three hours: open and overdue, held by the unit.
    let late = app.file("柳树沟村", "13800008004").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &late, "register", json!({})).await;
    app.act_ok(&di, &late, "dispatch", json!({"unit_id": app.unit_id("柳树沟村村民委员会").await})).await;
    app.state.time.advance(Duration::minutes(150));
    // A request by the hotline, just taken down by the operator.
    let body = json!({"region_id": app.region_id("杏花村").await, "channel": "hotline", "category": "water.supply",
                      "kind": "help", "description": "路灯不亮已经三天了", "phone": "13800008005", "name": "张三"});
    let r = app.post("/api/v1/tickets", Some(&op), &body).await;
    let status = r.status();
    let made: Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let hotline = made["ticket_no"].as_str().unwrap().to_string();

    let v = overview(&app, &leader, "").await;
    let text = v.to_string();
    assert_eq!(v["region"]["name"], "清河县");
    for secret in ["13800008001", "8001", "13800008005", "张", "路灯"] {
        assert!(!text.contains(secret), "{secret} shown: {text}");
    }
    // Today: five requests, three resolved; two open and overdue: 柳树沟村's, and 李家庄村's second
    // request, reopened by its dissatisfied visit and not signed for again.
    let received = app.count("SELECT COUNT(*) FROM tickets").await;
    assert_eq!(received, 5);
    let today = &v["today_counts"];
    assert_eq!((today["received"].as_i64(), today["resolved"].as_i64()), (Some(5), Some(3)), "{v}");
    assert_eq!((today["open"].as_i64(), today["overdue"].as_i64()), (Some(2), Some(2)), "{v}");
    let channel =
        |c: &str| v["channels"].as_array().unwrap().iter().find(|x| x["channel"] == c).unwrap()["count"].clone();
    assert_eq!((channel("qr"), channel("hotline"), channel("sms")), (json!(4), json!(1), json!(0)));
    assert_eq!(v["hours"].as_array().unwrap().len(), 24);
    assert_eq!(v["hours"].as_array().unwrap().iter().map(|h| h.as_i64().unwrap()).sum::<i64>(), 5);
    // Per unit: each holds one open order, overdue.
    let unit = |name: &str, id: i64| json!({"unit": {"id": id, "name": name}, "open": 1, "overdue": 1});
    let (lj, ls) = (app.unit_id("李家庄村村民委员会").await, app.unit_id("柳树沟村村民委员会").await);
    assert_eq!(v["units"], json!([unit("李家庄村村民委员会", lj), unit("柳树沟村村民委员会", ls)]));
    assert_eq!(v["overdue"]["total"], 2);
    let late_row = v["overdue"]["items"].as_array().unwrap().iter().find(|o| o["ticket_no"] == late.as_str()).unwrap();
    assert_eq!(late_row["unit"], "柳树沟村村民委员会");
    assert_eq!(late_row["holder"], "", "nobody signed for it");
    assert_eq!(late_row["overdue_seconds"], 30 * 60, "{v}");
    // The five rates over 30 days, with fractions: 2 of 3 visits solved.
    assert_eq!(v["fractions"]["resolution"], json!({"numerator": 2.0, "denominator": 3}));
    assert!((v["rates"]["resolution_rate"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!(
        v["fractions"]["response"],
        json!({"numerator": 3.0, "denominator": 5}),
        "three of five orders signed for in time"
    );
    assert_eq!(v["rates"]["response_rate"], 0.6);
    // Twelve weeks of trend, this week last with today's five requests.
    let trend = v["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    assert_eq!(trend[11]["received"], 5);
    assert_eq!(trend[11]["to"], v["today"]);
    assert!(trend[..11].iter().all(|w| w["received"] == 0 && w["rates"]["response_rate"].is_null()));
    // Four dimensions from the one scored visit.
    assert_eq!(v["dimensions"]["attitude"], json!({"mean": 5.0, "count": 1}));
    assert_eq!(v["dimensions"]["convenience"], json!({"mean": 3.0, "count": 1}));
    // Mean times: signed for at once (no time passed) and resolved at once.
    assert_eq!(v["durations"]["responded"], 3);
    assert_eq!(v["durations"]["resolved"], 3);
    assert!(v["durations"]["respond_seconds"].as_f64().unwrap() < 60.0, "{v}");
    // Village × category: 李家庄村 two, the others one each.
    let rows = v["heat"]["rows"].as_array().unwrap();
    assert_eq!(rows[0]["region"]["name"], "李家庄村", "{v}");
    assert_eq!(rows[0]["total"], 2);
    assert_eq!(rows.len(), 4, "{v}");
    assert_eq!(v["heat"]["max"], 2);
    assert_eq!(rows[0]["counts"].as_array().unwrap().iter().map(|n| n.as_i64().unwrap()).sum::<i64>(), 2);
    // The latest, newest first, with place and state.
    let latest = &v["latest"];
    assert_eq!(nos(latest).first().copied(), Some(hotline.as_str()));
    assert_eq!(nos(latest).len(), 5);
    assert_eq!(latest[0]["place"], "杏花村");
    assert_eq!(latest[1]["ticket_no"], late.as_str());
    assert_eq!(latest[1]["status_label"], "已派单");

    // Published: the red/black list shows.
    let next_monday = redblack_week(&app).await;
    let cached = overview(&app, &leader, "").await;
    assert_eq!(cached["redblack"], Value::Null, "the answer of a moment ago (no event since)");
    app.state.time.advance(Duration::seconds(2));
    let v = overview(&app, &leader, "").await;
    assert_eq!(v["redblack"]["week"], next_monday.as_str(), "{}", v["redblack"]);
    assert!(v["redblack"]["tiers"].as_array().unwrap().iter().any(|t| !t["red"].as_array().unwrap().is_empty()));
}

/// Publishes this week's list (as Monday's worker would next week); answers its label.
async fn redblack_week(app: &TestApp) -> String {
    use minsheng::services::redblack::{Week, publish};
    let today = app.state.now().with_timezone(&app.state.tz()).date_naive();
    let week = Week::of(today);
    assert!(publish(&app.state, week, app.state.now()).await.unwrap());
    week.label()
}

#[tokio::test]
async fn a_new_request_shows_on_the_next_answer_at_once() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    let before = overview(&app, &leader, "").await;
    let no = app.file("石桥村", "13800008101").await;
    // Asked again at once: not the answer of a moment ago.
    let after = overview(&app, &leader, "").await;
    assert_eq!(after["today_counts"]["received"].as_i64(), before["today_counts"]["received"].as_i64().map(|n| n + 1));
    assert_eq!(nos(&after["latest"]), vec![no.as_str()]);
}

#[tokio::test]
async fn a_screen_token_shows_its_own_region_until_revoked() {
    let app = spawn_app().await;
    let (id, token) = screen_token(&app, "东坝镇").await;
    let here = app.file("李家庄村", "13800008201").await;
    let elsewhere = app.file("柳树沟村", "13800008202").await;
    let v = overview(&app, &token, "").await;
    assert_eq!(v["region"]["name"], "东坝镇");
    assert_eq!(v["today_counts"]["received"], 1, "only 东坝镇's: {v}");
    assert_eq!(nos(&v["latest"]), vec![here.as_str()], "not {elsewhere}");
    assert!(v["heat"]["rows"].as_array().unwrap().iter().all(|r| r["region"]["name"] != "柳树沟村"));
    // Another region is not its to show.
    let county = app.region_id("清河县").await;
    error_of(
        app.get(&format!("/api/v1/screen/overview?region_id={county}"), Some(&token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Revoked: refused at once.
    let admin = app.token("admin").await;
    assert_eq!(app.delete(&format!("/api/v1/screens/{id}"), &admin).await.status(), StatusCode::NO_CONTENT);
    let e = error_of(app.get("/api/v1/screen/overview", Some(&token)).await, StatusCode::UNAUTHORIZED).await;
    assert!(e["message"].as_str().unwrap().contains("大屏凭证"), "{e}");
}

#[tokio::test]
async fn leaders_and_inspectors_see_their_scope_and_nobody_else_gets_in() {
    let app = spawn_app().await;
    app.file("李家庄村", "13800008301").await;
    app.file("柳树沟村", "13800008302").await;
    for who in ["leader", "inspector", "admin"] {
        let v = overview(&app, &app.token(who).await, "").await;
        assert_eq!(v["today_counts"]["received"], 2, "{who}");
    }
    // A leader may look at a township under them.
    let dongba = app.region_id("东坝镇").await;
    let v = overview(&app, &app.token("leader").await, &format!("?region_id={dongba}")).await;
    assert_eq!((v["region"]["name"].as_str(), v["today_counts"]["received"].as_i64()), (Some("东坝镇"), Some(1)));
    // A township leader sees their township only, and not the county.
    let xihe_leader = app.add_staff("leader-xihe", "西河乡领导", "leader", "西河乡").await;
    let v = overview(&app, &xihe_leader, "").await;
    assert_eq!((v["region"]["name"].as_str(), v["today_counts"]["received"].as_i64()), (Some("西河乡"), Some(1)));
    let county = app.region_id("清河县").await;
    let r = app.get(&format!("/api/v1/screen/overview?region_id={county}"), Some(&xihe_leader)).await;
    error_of(r, StatusCode::FORBIDDEN).await;
    // Other roles, no token, a forged token, a bad region.
    for who in ["cadre", "operator", "caller", "dispatcher"] {
        let t = app.token(if who == "cadre" { "lijiazhuang" } else { who }).await;
        error_of(app.get("/api/v1/screen/overview", Some(&t)).await, StatusCode::FORBIDDEN).await;
    }
    error_of(app.get("/api/v1/screen/overview", None).await, StatusCode::UNAUTHORIZED).await;
    error_of(app.get("/api/v1/screen/overview", Some("scr_forged")).await, StatusCode::UNAUTHORIZED).await;
    let leader = app.token("leader").await;
    let e =
        error_of(app.get("/api/v1/screen/overview?region_id=abc", Some(&leader)).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "region_id");
}

#[tokio::test]
async fn the_page_is_served_and_keeps_its_token_through_the_redirect() {
    let app = spawn_app().await;
    let r = app.get("/screen/", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("/assets/js/screen.js") && body.contains("/assets/css/screen.css"), "{body}");
    assert_eq!(body.matches("class=\"panel ").count(), 12, "twelve panels");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = client.get(app.url("/screen?token=scr_abc")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], "/screen/?token=scr_abc");
    for asset in ["/assets/js/screen.js", "/assets/css/screen.css"] {
        assert_eq!(app.get(asset, None).await.status(), StatusCode::OK, "{asset}");
    }
}
