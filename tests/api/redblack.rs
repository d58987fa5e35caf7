//! The weekly red/black list (issue 17 point 3): published by the worker once Monday 08:00 (county
//! time) has come, for the week before, exactly once even when instances race; best and worst per
//! tier with the formula; stored with its inputs, append-only and hash-chained; read by staff at
//! `/api/v1/stats/redblack` and by anyone at `/redblack` (no phones, works without JavaScript).
use crate::helpers::{TestApp, spawn_app_with};
use chrono::{Datelike, Duration, NaiveDate, TimeZone, Utc};
use minsheng::services::redblack::{Week, publish};
use minsheng::workers::redblack::run_once;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn visited(app: &TestApp, village: &str, unit: &str, cadre: &str, phone: &str, solved: &str, satisfaction: &str) {
    crate::helpers::visited_order(app, (village, unit, cadre), phone, solved, satisfaction).await
}

/// `day` at `h:m` in Asia/Shanghai.
fn local(day: NaiveDate, h: u32, m: u32) -> chrono::DateTime<Utc> {
    chrono_tz::Asia::Shanghai.from_local_datetime(&day.and_hms_opt(h, m, 0).unwrap()).unwrap().with_timezone(&Utc)
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|r| r["unit"]["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn monday_at_eight_the_previous_week_is_published_once_chained_and_shown_to_everyone() {
    let app = spawn_app_with(|s| {
        s.ranking.min_visits = 2;
        s.ranking.redblack_size = 1;
    })
    .await;
    // The week after this one: a Wednesday morning's work.
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let week = Week::of(today + Duration::days(7));
    app.set_time(local(week.monday + Duration::days(2), 9, 0));
    let mut phone = 13800007100u64;
    let mut next = || {
        phone += 1;
        phone.to_string()
    };
    for _ in 0..2 {
        visited(&app, "李家庄村", "李家庄村村民委员会", "lijiazhuang", &next(), "yes", "satisfied").await;
        visited(&app, "王家湾村", "王家湾村村民委员会", "wangjiawan", &next(), "partly", "basically_satisfied").await;
        visited(&app, "石桥村", "东坝镇人民政府", "dongba", &next(), "yes", "satisfied").await;
    }
    visited(&app, "柳树沟村", "柳树沟村村民委员会", "liushugou", &next(), "yes", "satisfied").await;
    visited(&app, "柳树沟村", "柳树沟村村民委员会", "liushugou", &next(), "no", "dissatisfied").await;

    // Sunday night: the week before is due (and empty); this week is not.
    let state = &app.state;
    assert!(run_once(state, local(week.sunday(), 23, 0)).await.unwrap());
    let monday = week.monday + Duration::days(7);
    assert!(!run_once(state, local(monday, 7, 59)).await.unwrap(), "not before 08:00");
    assert_eq!(app.count("SELECT COUNT(*) FROM redblack_lists").await, 1);
    app.set_time(local(monday, 8, 0));
    assert!(run_once(state, local(monday, 8, 0)).await.unwrap(), "published at 08:00");
    assert!(!run_once(state, local(monday, 8, 1)).await.unwrap(), "once");
    assert_eq!(app.count("SELECT COUNT(*) FROM redblack_lists").await, 2);
    let label = week.label();
    assert_eq!(label, format!("{}-W{:02}", week.monday.iso_week().year(), week.monday.iso_week().week()));

    let leader = app.token("leader").await;
    let v: Value = app.get(&format!("/api/v1/stats/redblack?week={label}"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["week"], label.as_str());
    assert_eq!(v["chain_ok"], true);
    assert!(v["formula"].as_str().unwrap().contains("45×满意率"), "{}", v["formula"]);
    let tiers = v["tiers"].as_array().unwrap();
    let village = tiers.iter().find(|t| t["tier"] == "village").unwrap();
    assert_eq!(names(&village["red"]), ["李家庄村村民委员会"], "{village}");
    assert_eq!(names(&village["black"]), ["王家湾村村民委员会"], "{village}");
    let township = tiers.iter().find(|t| t["tier"] == "township").unwrap();
    assert_eq!((names(&township["red"]), names(&township["black"])), (vec!["东坝镇人民政府".to_string()], vec![]));
    assert_eq!(village["red"][0]["fractions"]["satisfaction"], json!({"numerator": 2.0, "denominator": 2}));
    // Chained to the list before; the weeks are listed newest first; the latest is the default.
    let before: Value = app
        .get(&format!("/api/v1/stats/redblack?week={}", week.previous().label()), Some(&leader))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["prev_hash"], before["hash"]);
    assert_eq!(before["prev_hash"], "");
    assert_eq!(v["weeks"], json!([label, week.previous().label()]));
    let latest: Value = app.get("/api/v1/stats/redblack", Some(&leader)).await.json().await.unwrap();
    assert_eq!(latest["week"], label.as_str());
    // Stored with its inputs: every unit of the county with its counts.
    let q = format!(
        "SELECT COUNT(*) FROM redblack_lists WHERE week = '{label}' AND payload LIKE '%\"inputs\"%' AND payload LIKE '%柳树沟村村民委员会%'"
    );
    assert_eq!(app.count(&q).await, 1);

    // Immutable.
    use sea_orm::ConnectionTrait;
    let db = &app.state.db.conn;
    assert!(db.execute_unprepared("UPDATE redblack_lists SET payload = '{}'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM redblack_lists").await.is_err());
    assert_eq!(app.count("SELECT COUNT(*) FROM redblack_lists").await, 2);

    // The public page: no sign-in, the list and the rules in the HTML, no phone number anywhere.
    let r = app.get(&format!("/redblack?week={label}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    for text in [
        "红榜",
        "黑榜",
        "李家庄村村民委员会",
        "王家湾村村民委员会",
        "东坝镇人民政府",
        "45×满意率",
        "不少于2件",
        "100.0%（2/2）",
    ] {
        assert!(html.contains(text), "{text} on the page");
    }
    let digits = regex::Regex::new(r"1[3-9]\d{9}").unwrap();
    assert!(!digits.is_match(&html), "no phone number on the public page");
    assert!(!html.contains("柳树沟村村民委员会"), "a middle unit is on neither list");
    let r = app.get(&format!("/redblack?week={}", week.previous().label()), None).await;
    assert!(r.text().await.unwrap().contains("本周没有达到排名条件的单位"));
    let r = app.get("/redblack?week=2020-W01", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("尚未发布"));
    // Staff API: a bad week names the field; nobody signed in gets nothing.
    let r = app.get("/api/v1/stats/redblack?week=49", Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "week");
    assert_eq!(app.get("/api/v1/stats/redblack", None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_instances_publishing_the_same_week_write_one_list() {
    let app = spawn_app_with(|_| {}).await;
    let week = Week::parse("2026-W40").unwrap();
    let now = Utc::now();
    let (a, b) = tokio::join!(publish(&app.state, week, now), publish(&app.state, week, now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a ^ b, "exactly one wrote it: {a} {b}");
    assert_eq!(app.count("SELECT COUNT(*) FROM redblack_lists WHERE week = '2026-W40'").await, 1);
}
