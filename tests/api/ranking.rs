//! Fair rankings (issue 17 point 2): units are ranked within their tier (village committees,
//! township offices, county departments), only with the minimum number of visits, never in a period
//! that began before they existed, ties broken the same way every time, each row with its
//! numerators and denominators, and the formula and rules in the answer.
use crate::helpers::{PASSWORD, TestApp, spawn_app_with};
use minsheng::auth::password::HashParams;
use minsheng::repo;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn visited(app: &TestApp, village: &str, unit: &str, cadre: &str, phone: &str, solved: &str, satisfaction: &str) {
    crate::helpers::visited_order(app, (village, unit, cadre), phone, solved, satisfaction).await
}

/// A village service station set up today, with its own cadre.
async fn new_unit(app: &TestApp) {
    let db = &app.state.db.conn;
    let region_id = app.region_id("杏花村").await;
    let u = repo::regions::NewUnit {
        name: "杏花村便民服务站",
        level: minsheng::domain::values::HandlingLevel::Village,
        kind: minsheng::domain::values::UnitKind::Committee,
        region_id,
        is_lead: false,
        phone: None,
    };
    let unit = repo::regions::create_unit(db, u, app.state.now()).await.unwrap();
    let hash =
        minsheng::auth::password::hash(PASSWORD.to_string().into(), HashParams { memory_kib: 1024, iterations: 1 })
            .await
            .unwrap();
    let s = repo::staff::NewStaff {
        username: "xinghua-station",
        name: "杜小站",
        password_hash: &hash,
        roles: "cadre",
        region_id,
        unit_id: Some(unit.id),
        phone: Some("13900000398"),
        post: None,
        must_change_password: false,
    };
    repo::staff::create(db, s, app.state.now()).await.unwrap();
}

fn row<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["items"].as_array().unwrap().iter().find(|u| u["unit"]["name"] == name).unwrap_or_else(|| panic!("{name}"))
}

#[tokio::test]
async fn units_are_ranked_within_their_tier_with_a_minimum_sample_and_one_tie_break() {
    let app = spawn_app_with(|s| s.ranking.min_visits = 2).await;
    new_unit(&app).await;
    let mut phone = 13800005000u64;
    let mut next = || {
        phone += 1;
        phone.to_string()
    };
    // Village committees: 李家庄 and 柳树沟 tie exactly (55: one satisfied and solved, one not);
    // 王家湾 scores 46 (two basically satisfied, partly solved); 石桥 has one visit only.
    for (village, cadre) in [("李家庄村", "lijiazhuang"), ("柳树沟村", "liushugou")] {
        let unit = format!("{village}村民委员会");
        visited(&app, village, &unit, cadre, &next(), "yes", "satisfied").await;
        visited(&app, village, &unit, cadre, &next(), "no", "dissatisfied").await;
    }
    for _ in 0..2 {
        visited(&app, "王家湾村", "王家湾村村民委员会", "wangjiawan", &next(), "partly", "basically_satisfied").await;
    }
    visited(&app, "石桥村", "石桥村村民委员会", "shiqiao", &next(), "yes", "satisfied").await;
    // A township office with a perfect score ranks first among townships, not among villages.
    for _ in 0..2 {
        visited(&app, "石桥村", "东坝镇人民政府", "dongba", &next(), "yes", "satisfied").await;
    }
    // The station set up today is perfect too, but new: not ranked this period.
    for _ in 0..2 {
        visited(&app, "杏花村", "杏花村便民服务站", "xinghua-station", &next(), "yes", "satisfied").await;
    }

    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["min_visits"], 2);
    assert!(v["formula"].as_str().unwrap().contains("10×响应率 + 45×解决率 + 45×满意率"), "{}", v["formula"]);
    assert_eq!(v["rules"].as_array().unwrap().len(), 4);
    let (li, liu, wang) = (row(&v, "李家庄村村民委员会"), row(&v, "柳树沟村村民委员会"), row(&v, "王家湾村村民委员会"));
    assert_eq!((li["tier"].as_str(), li["tier_label"].as_str()), (Some("village"), Some("村委会")));
    assert_eq!(li["composite_score"], liu["composite_score"], "an exact tie");
    assert_eq!((li["rank"].as_u64(), liu["rank"].as_u64(), wang["rank"].as_u64()), (Some(1), Some(2), Some(3)));
    let shiqiao = row(&v, "石桥村村民委员会");
    assert!(shiqiao["rank"].is_null() && shiqiao["unranked_reason"] == "too_few_visits", "{shiqiao}");
    let station = row(&v, "杏花村便民服务站");
    assert_eq!(station["composite_score"], 100.0);
    assert!(station["rank"].is_null() && station["unranked_reason"] == "new_unit", "{station}");
    let dongba = row(&v, "东坝镇人民政府");
    assert_eq!((dongba["tier"].as_str(), dongba["rank"].as_u64()), (Some("township"), Some(1)), "{dongba}");
    let county = row(&v, "县水利局");
    assert!(county["rank"].is_null() && county["unranked_reason"] == "no_data", "{county}");
    // Numerators and denominators: 李家庄 — 1 solved of 2 visits, satisfaction (1 + 0.8·0) of 2.
    assert_eq!(li["fractions"]["resolution"], json!({"numerator": 1.0, "denominator": 2}));
    assert_eq!(li["fractions"]["satisfaction"], json!({"numerator": 1.0, "denominator": 2}));
    assert_eq!(li["fractions"]["response"]["denominator"], 2);
    let w = &wang["fractions"]["satisfaction"];
    assert!((w["numerator"].as_f64().unwrap() - 1.6).abs() < 1e-9 && w["denominator"] == 2, "{w}");
    // Rows come tier by tier, ranked first in rank order; the order is the same on every call.
    let names = |v: &Value| -> Vec<String> {
        v["items"].as_array().unwrap().iter().map(|u| u["unit"]["name"].as_str().unwrap().to_string()).collect()
    };
    let order = names(&v);
    assert_eq!(&order[..3], ["李家庄村村民委员会", "柳树沟村村民委员会", "王家湾村村民委员会"]);
    let tiers: Vec<&str> = v["items"].as_array().unwrap().iter().map(|u| u["tier"].as_str().unwrap()).collect();
    let first_township = tiers.iter().position(|t| *t == "township").unwrap();
    assert!(
        tiers[..first_township].iter().all(|t| *t == "village")
            && tiers[first_township..].iter().all(|t| *t != "village")
    );
    let again: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    assert_eq!(names(&again), order);
}

#[tokio::test]
async fn with_the_default_minimum_of_ten_visits_a_few_visits_rank_nobody() {
    let app = spawn_app_with(|_| {}).await;
    visited(&app, "李家庄村", "李家庄村村民委员会", "lijiazhuang", "13800006001", "yes", "satisfied").await;
    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    assert_eq!(v["min_visits"], 10);
    assert!(v["rules"][1].as_str().unwrap().contains("不少于10件"), "{}", v["rules"]);
    let li = row(&v, "李家庄村村民委员会");
    assert_eq!(li["composite_score"], 100.0);
    assert!(li["rank"].is_null() && li["unranked_reason"] == "too_few_visits", "{li}");
    assert!(v["items"].as_array().unwrap().iter().all(|u| u["rank"].is_null()));
}

#[tokio::test]
async fn the_four_scores_are_averaged_per_unit_and_for_the_county() {
    let app = spawn_app_with(|_| {}).await;
    let cl = app.token("caller").await;
    let scored = [
        json!({"attitude": 5, "capability": 4, "convenience": 3, "efficiency": 5}),
        json!({"attitude": 4, "capability": 2, "convenience": 1, "efficiency": 4}),
    ];
    for (i, scores) in scored.iter().enumerate() {
        let no = app.to_resolved("李家庄村", "lijiazhuang", &format!("1380000660{i}")).await;
        let body = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone", "scores": scores});
        let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    }
    // A visit without scores counts for the rates, not for the means.
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13800006609").await;
    let body = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"});
    assert_eq!(
        app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await.status(),
        StatusCode::CREATED
    );
    let leader = app.token("leader").await;
    let v: Value = app.get("/api/v1/stats/units?per_page=100", Some(&leader)).await.json().await.unwrap();
    let d = &row(&v, "李家庄村村民委员会")["dimensions"];
    assert_eq!(d["attitude"], json!({"mean": 4.5, "count": 2}), "{d}");
    assert_eq!(d["capability"], json!({"mean": 3.0, "count": 2}), "{d}");
    assert_eq!(d["convenience"], json!({"mean": 2.0, "count": 2}), "{d}");
    assert_eq!(d["efficiency"], json!({"mean": 4.5, "count": 2}), "{d}");
    assert_eq!(row(&v, "李家庄村村民委员会")["counts"]["visited"], 3, "the unscored visit counts for the rates only");
    let other = &row(&v, "王家湾村村民委员会")["dimensions"];
    assert_eq!(other["attitude"], json!({"mean": null, "count": 0}), "no visits, no mean: {other}");
    let s: Value = app.get("/api/v1/stats/summary", Some(&leader)).await.json().await.unwrap();
    assert_eq!(s["dimensions"]["attitude"], json!({"mean": 4.5, "count": 2}), "{}", s["dimensions"]);
}

#[tokio::test]
async fn the_rankings_export_holds_every_unit_with_its_fractions_and_the_rules() {
    let app = spawn_app_with(|s| s.ranking.min_visits = 2).await;
    for (i, satisfaction) in ["satisfied", "dissatisfied"].iter().enumerate() {
        let solved = if i == 0 { "yes" } else { "no" };
        visited(&app, "李家庄村", "李家庄村村民委员会", "lijiazhuang", &format!("1380000670{i}"), solved, satisfaction)
            .await;
    }
    let leader = app.token("leader").await;
    let r = app.get("/api/v1/exports/units.xlsx", Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.contains("units-") && disposition.ends_with(".xlsx"), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    use calamine::Reader;
    let range = book.worksheet_range("单位排名").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert!(rows[0][0].contains("单位排名"), "{:?}", rows[0]);
    assert_eq!(rows[2][0], "层级");
    assert_eq!(rows[2][2], "单位");
    let li = rows.iter().find(|r| r.get(2).is_some_and(|c| c == "李家庄村村民委员会")).unwrap();
    assert_eq!((li[0].as_str(), li[1].as_str(), li[3].as_str()), ("村委会", "1", "55"), "{li:?}");
    assert_eq!((li[9].as_str(), li[10].as_str()), ("1", "2"), "solved of visited: {li:?}");
    let units =
        rows.iter().filter(|r| r.first().is_some_and(|c| ["村委会", "乡镇", "县直部门"].contains(&c.as_str()))).count();
    assert_eq!(units, 15, "every unit of the county");
    let water = rows.iter().find(|r| r.get(2).is_some_and(|c| c == "县水利局")).unwrap();
    assert_eq!(water[4], "本期无数据");
    let text: String = rows.iter().flatten().cloned().collect::<Vec<_>>().join("|");
    assert!(text.contains("45×满意率") && text.contains("不少于2件"), "formula and rules under the table");
}
