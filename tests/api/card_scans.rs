//! Scan counting: opening `/c/{code}` counts in memory; the card_scans worker writes per card and
//! local day; staff read the counts per card and per region.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::Duration;
use minsheng::workers::card_scans;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn open(app: &TestApp, code: &str, times: usize) {
    for _ in 0..times {
        let status = app.get(&format!("/c/{code}"), None).await.status();
        assert!(status == StatusCode::OK || status == StatusCode::GONE, "{status}");
    }
}

async fn flush(app: &TestApp) -> i64 {
    card_scans::run_once(&app.state, app.state.now()).await.expect("flush")
}

/// (scans_total, scans_7d) of a card in the staff list.
async fn counts(app: &TestApp, token: &str, code: &str) -> (i64, i64) {
    let list: Value = app.get("/api/v1/cards?per_page=100", Some(token)).await.json().await.unwrap();
    let row = list["items"].as_array().unwrap().iter().find(|c| c["code"] == code).expect("card in list").clone();
    (row["scans_total"].as_i64().unwrap(), row["scans_7d"].as_i64().unwrap())
}

#[tokio::test]
async fn opening_a_card_page_is_counted_per_card_and_day_by_the_worker() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let li = app.card("李家庄村");
    let wang = app.card("王家湾村");
    open(&app, &li, 3).await;
    open(&app, &wang, 1).await;
    // The JSON card and the form post are not scans; unknown codes count for nobody.
    app.get(&format!("/api/v1/cards/{li}"), None).await;
    app.get("/c/ZZZZZZZZZZ", None).await;
    // Nothing is written on the request path.
    assert_eq!(app.count("SELECT COUNT(*) FROM card_scans").await, 0);
    assert_eq!(counts(&app, &admin, &li).await, (0, 0));

    assert_eq!(flush(&app).await, 4);
    assert_eq!(flush(&app).await, 0, "a flush empties the counter");
    assert_eq!(counts(&app, &admin, &li).await, (3, 3));
    assert_eq!(counts(&app, &admin, &wang).await, (1, 1));
    // More scans the same day add to the same row.
    open(&app, &li, 2).await;
    flush(&app).await;
    assert_eq!(counts(&app, &admin, &li).await, (5, 5));
    assert_eq!(app.count("SELECT COUNT(*) FROM card_scans").await, 2);

    // Eight days later the old scans leave the 7-day window but stay in the total.
    app.state.time.advance(Duration::days(8));
    open(&app, &li, 1).await;
    flush(&app).await;
    assert_eq!(counts(&app, &admin, &li).await, (6, 1));
    let d: Value = app.get(&format!("/api/v1/cards/{li}/details"), Some(&admin)).await.json().await.unwrap();
    assert_eq!((d["scans_total"].as_i64(), d["scans_7d"].as_i64()), (Some(6), Some(1)));
    let days = d["scans_by_day"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    assert_eq!(days[29]["scans"], 1, "today");
    assert_eq!(days[21]["scans"], 5, "eight days ago");
    assert_eq!(days.iter().map(|d| d["scans"].as_i64().unwrap()).sum::<i64>(), 6);
}

#[tokio::test]
async fn region_scan_figures_cover_every_village_and_old_cards() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let old = app.card("石桥村");
    open(&app, &old, 2).await;
    let village = app.region_id("石桥村").await;
    let issued: Value =
        app.post(&format!("/api/v1/villages/{village}/cards"), Some(&admin), &json!({})).await.json().await.unwrap();
    // The rotated card still on the wall is still scanned: counted against the old card.
    open(&app, &old, 1).await;
    open(&app, issued["code"].as_str().unwrap(), 4).await;
    open(&app, &app.card("杏花村"), 1).await;
    flush(&app).await;

    let township = app.region_id("东坝镇").await;
    let r: Value = app.get(&format!("/api/v1/regions/{township}/card-scans"), Some(&admin)).await.json().await.unwrap();
    assert_eq!(r["scans_total"], 7);
    let villages = r["villages"].as_array().unwrap();
    assert_eq!(villages.len(), 3, "every village, scanned or not");
    assert_eq!((villages[0]["village"]["name"].as_str(), villages[0]["scans"].as_i64()), (Some("石桥村"), Some(7)));
    assert_eq!(villages[0]["active_code"], issued["code"]);
    assert_eq!(villages[0]["township"]["name"], "东坝镇");
    assert_eq!(villages[2]["scans"], 0);
    assert_eq!(r["scans_by_day"].as_array().unwrap().len(), 30);
    assert_eq!(r["scans_by_day"][29]["scans"], 7);

    let county = app.region_id("清河县").await;
    let today = minsheng::services::card_admin::local_day(&app.state, app.state.now());
    let r: Value = app
        .get(&format!("/api/v1/regions/{county}/card-scans?from={today}&to={today}"), Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["scans_total"], 8);
    assert_eq!(r["villages"].as_array().unwrap().len(), 6);
    assert_eq!(r["scans_by_day"].as_array().unwrap().len(), 1);

    // Bad periods name the field; other townships' staff and county dispatchers are refused.
    let e = error_of(
        app.get(&format!("/api/v1/regions/{county}/card-scans?from=2026-13-01"), Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "from");
    let e = error_of(
        app.get(&format!("/api/v1/regions/{county}/card-scans?from=2026-02-01&to=2026-01-01"), Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "from");
    for who in ["xihe", "dispatcher"] {
        let t = app.token(who).await;
        error_of(app.get(&format!("/api/v1/regions/{township}/card-scans"), Some(&t)).await, StatusCode::FORBIDDEN)
            .await;
    }
}

#[tokio::test]
async fn a_failed_flush_keeps_the_counts_for_the_next_pass() {
    let app = spawn_app().await;
    let admin = app.token("admin").await;
    let code = app.card("河口村");
    open(&app, &code, 3).await;
    // Take the table away: the write fails, the page never noticed, the counts wait in memory.
    let exec = |sql: &str| {
        let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
        let conn = app.state.db.conn.clone();
        async move { sea_orm::ConnectionTrait::execute_raw(&conn, stmt).await.unwrap() }
    };
    exec("ALTER TABLE card_scans RENAME TO card_scans_away").await;
    assert!(card_scans::run_once(&app.state, app.state.now()).await.is_err());
    assert_eq!(app.state.card_scans.pending(), 3);
    open(&app, &code, 1).await;
    exec("ALTER TABLE card_scans_away RENAME TO card_scans").await;
    assert_eq!(flush(&app).await, 4);
    assert_eq!(counts(&app, &admin, &code).await, (4, 4));
}
