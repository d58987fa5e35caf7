//! Hotspots (issue 17 point 4): requests per category and village or township over a period, the
//! change against the period before, and repeat clusters (one category, one place, several phones).
use crate::helpers::{TestApp, spawn_app};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn file(app: &TestApp, village: &str, category: &str, phone: &str) {
    let mut body = app.intake_body(village, phone);
    body["category"] = json!(category);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

fn find<'a>(v: &'a Value, place: &str, category: &str) -> Option<&'a Value> {
    v["items"].as_array().unwrap().iter().find(|i| i["region"]["name"] == place && i["category"]["code"] == category)
}

#[tokio::test]
async fn the_same_problem_from_several_phones_in_one_village_is_a_growing_cluster() {
    let app = spawn_app().await;
    let now = app.state.now();
    // The period before (31–60 days ago): one request about water in 李家庄村.
    app.set_time(now - Duration::days(40));
    file(&app, "李家庄村", "water.supply", "13800008000").await;
    app.set_time(now - Duration::days(3));
    // This period: four about water in 李家庄村 from three phones, two about roads in 王家湾村, one in 石桥村.
    for phone in ["13800008001", "13800008002", "13800008003", "13800008001"] {
        file(&app, "李家庄村", "water.supply", phone).await;
    }
    file(&app, "王家湾村", "roads", "13800008011").await;
    file(&app, "王家湾村", "roads", "13800008012").await;
    file(&app, "石桥村", "water.supply", "13800008021").await;
    app.set_time(now);

    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/hotspots", Some(&leader)).await.json().await.unwrap();
    let water = find(&v, "李家庄村", "water.supply").expect("the water hotspot");
    assert_eq!(
        (water["count"].as_i64(), water["previous"].as_i64(), water["change"].as_i64()),
        (Some(4), Some(1), Some(3))
    );
    assert_eq!((water["phones"].as_i64(), water["cluster"].as_bool()), (Some(3), Some(true)), "{water}");
    assert_eq!(water["township"], "东坝镇");
    assert_eq!(water["category"]["name"], "停水断水");
    let roads = find(&v, "王家湾村", "roads").expect("the roads hotspot");
    assert_eq!((roads["count"].as_i64(), roads["cluster"].as_bool()), (Some(2), Some(false)));
    assert!(find(&v, "石桥村", "water.supply").is_none(), "one request is not a hotspot (min 2)");
    assert_eq!(v["items"][0]["region"]["name"], "李家庄村", "the biggest first");
    // By township: 东坝镇 holds both villages.
    let v: Value = app.get("/api/v1/stats/hotspots?level=township&min=1", Some(&leader)).await.json().await.unwrap();
    let town = find(&v, "东坝镇", "water.supply").unwrap();
    assert_eq!(town["count"], 5, "李家庄村's four and 石桥村's one: {town}");
    // Bad input names the field; a cadre has no statistics.
    let r = app.get("/api/v1/stats/hotspots?level=county", Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["field"], "level");
    let cadre = app.token("lijiazhuang").await;
    assert_eq!(app.get("/api/v1/stats/hotspots", Some(&cadre)).await.status(), StatusCode::FORBIDDEN);
}
