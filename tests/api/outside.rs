//! Units outside government (公共服务企业: the power supply station, the water company, a carrier):
//! no console accounts, orders by SMS link to the duty phone with their own clock and reminders, and
//! a ranking line of their own (issue 20 point 4).
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::Duration;
use minsheng::workers::sla_sweeper::run_once;
use reqwest::StatusCode;
use serde_json::{Value, json};

const DUTY: &str = "13900000501";

async fn audit_rows(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM units").await,
        app.count("SELECT COUNT(*) FROM staff").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
    )
}

/// Creates 东坝镇供电所 as an admin would: (unit id).
async fn power_station(app: &TestApp) -> i64 {
    let admin = app.token("admin").await;
    let township = app.region_id("东坝镇").await;
    let before = audit_rows(app).await;
    // No duty phone: refused, nothing written.
    let e = error_of(
        app.post(
            "/api/v1/units",
            Some(&admin),
            &json!({"name": "东坝镇供电所", "region_id": township, "level": "township", "kind": "outside"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "phone", "{e}");
    assert!(e["message"].as_str().unwrap().contains("值班电话"), "{e}");
    assert_eq!(audit_rows(app).await, before);
    let r = app
        .post(
            "/api/v1/units",
            Some(&admin),
            &json!({"name": "东坝镇供电所", "region_id": township, "level": "township", "kind": "outside", "phone": DUTY}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let u: Value = r.json().await.unwrap();
    assert_eq!(u["kind"], "outside");
    u["id"].as_i64().unwrap()
}

#[tokio::test]
async fn an_outside_unit_has_no_console_account_and_works_its_order_by_the_sms_link() {
    let app = spawn_app().await;
    let unit = power_station(&app).await;
    let admin = app.token("admin").await;

    // No console account in it: neither created nor moved there, and the unit cannot become one
    // while someone works in it.
    let before = audit_rows(&app).await;
    let e = error_of(
        app.post(
            "/api/v1/staff",
            Some(&admin),
            &json!({"username": "gongdian", "name": "供电所值班员", "roles": ["cadre"],
                    "region_id": app.region_id("东坝镇").await, "unit_id": unit}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("outside_unit"), Some("unit_id")), "{e}");
    assert_eq!(audit_rows(&app).await, before, "nothing written");
    let office = app.unit_id("东坝镇人民政府").await;
    let e = error_of(
        app.patch(&format!("/api/v1/units/{office}"), &admin, &json!({"kind": "outside", "phone": DUTY})).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "kind", "{e}");

    // The dispatcher gives it a power cut: the order goes to the duty phone with its link.
    let no = app.file("王家湾村", "13812340031").await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇供电所");
    let q = format!("SELECT COUNT(*) FROM outbox WHERE kind = 'assignment' AND recipient = '{DUTY}'");
    assert_eq!(app.count(&q).await, 1);
    let body = app.sent_body(&no, "assignment").await;
    let start = body.find("http://minsheng.test/w/").expect("link in the SMS");
    let link = body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string();

    // Its own clock: the reminder at 80 % of the response time goes to the duty phone.
    app.state.time.advance(Duration::minutes(97));
    let r = run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!(r.reminders, 1, "{r:?}");
    let q = format!("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder' AND recipient = '{DUTY}'");
    assert_eq!(app.count(&q).await, 1);

    // The duty phone signs for it on the order page, as the unit (no person behind the link).
    let page = app.get(&link, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains(&no));
    let r = crate::worklink::post_form(&app, &format!("{link}/accept"), &[("note", "已派抢修班")], &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "accepted");
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ev["action"], "accept");
    assert!(ev["actor"].as_str().unwrap().contains("东坝镇供电所"), "{ev}");
}

#[tokio::test]
async fn outside_units_are_ranked_on_a_line_of_their_own() {
    let app = spawn_app().await;
    let unit = power_station(&app).await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    let no = app.file("石桥村", "13812340032").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    let leader = app.token("leader").await;
    let today = app.state.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    let v: Value = app
        .get(&format!("/api/v1/stats/units?from={today}&to={today}&per_page=100"), Some(&leader))
        .await
        .json()
        .await
        .unwrap();
    let items = v["items"].as_array().unwrap();
    let tiers: Vec<&str> = items.iter().map(|i| i["tier"].as_str().unwrap()).collect();
    let row = items.iter().find(|i| i["unit"]["id"] == unit).unwrap();
    assert_eq!((row["tier"].as_str(), row["tier_label"].as_str()), (Some("outside"), Some("公共服务企业")), "{row}");
    assert_eq!(row["level"], "township", "its level is kept, its line is its own");
    assert_eq!(row["counts"]["received"], 1);
    // Government lines first (village, township, county), the companies last; the township line
    // holds the township offices only.
    assert_eq!(tiers.last(), Some(&"outside"), "{tiers:?}");
    let mut seen = tiers.clone();
    seen.dedup();
    assert_eq!(seen, ["village", "township", "county", "outside"]);
    let township: Vec<&str> =
        items.iter().filter(|i| i["tier"] == "township").map(|i| i["unit"]["name"].as_str().unwrap()).collect();
    assert!(township.contains(&"东坝镇人民政府") && !township.contains(&"东坝镇供电所"), "{township:?}");
}
