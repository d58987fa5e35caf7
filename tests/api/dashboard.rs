//! The console dashboard's overdue orders: `GET /api/v1/stats/overdue`.
use crate::helpers::{TestApp, error_of, spawn_app};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Files a request from `village`, registers it and gives it to `unit`: (ticket no).
async fn dispatched(app: &TestApp, village: &str, unit: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id(unit).await})).await;
    no
}

async fn overdue(app: &TestApp, token: &str, query: &str) -> Value {
    let r = app.get(&format!("/api/v1/stats/overdue{query}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

fn nos(v: &Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["ticket_no"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn overdue_orders_name_their_holder_and_how_long_longest_first() {
    let app = spawn_app().await;
    let leader = app.token("leader").await;
    let start = app.state.now();
    // A: given to 李家庄村 and never signed for. B: accepted by 柳树沟村's cadre. C: registered only
    // (the dispatcher's to give, not a unit's overdue order).
    let a = dispatched(&app, "李家庄村", "李家庄村村民委员会", "13800000001").await;
    let b = app.to_accepted("柳树沟村", "liushugou", "13800000002").await;
    let c = app.file("杏花村", "13800000003").await;
    app.act_ok(&app.token("operator").await, &c, "register", json!({})).await;
    let v = overdue(&app, &leader, "").await;
    assert_eq!(v["total"], 0, "{v}");
    assert_eq!(v["items"], json!([]));

    // Three hours later A missed its response deadline; B is within its result deadline.
    app.set_time(start + Duration::hours(3));
    let v = overdue(&app, &leader, "").await;
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["limit"], 100);
    let row = &v["items"][0];
    assert_eq!(row["ticket_no"], a.as_str());
    assert_eq!(row["deadline"], "respond");
    assert_eq!(row["deadline_label"], "响应");
    assert_eq!(row["holder"]["kind"], "unit");
    assert_eq!(row["holder"]["name"], "李家庄村村民委员会");
    assert_eq!(row["region"]["name"], "李家庄村");
    assert!(row["category"]["name"].as_str().is_some_and(|n| !n.is_empty()), "{row}");
    let ticket = app.ticket(&leader, &a).await;
    let seconds = row["overdue_seconds"].as_i64().unwrap();
    assert!(seconds > 0 && seconds < 3 * 3600, "{row} {ticket}");
    let since = chrono::DateTime::parse_from_rfc3339(row["overdue_since"].as_str().unwrap()).unwrap();
    assert_eq!((app.state.now() - since.with_timezone(&chrono::Utc)).num_seconds(), seconds);
    // Never a phone or a requester's name.
    let text = v.to_string();
    assert!(!text.contains("13800000001") && !text.contains("phone") && !text.contains("requester"), "{text}");

    // Sixty days on, B missed its result deadline too; A (overdue since earlier) stays first. B's holder
    // is the cadre who signed for it. The ticket list's overdue filter finds the same orders.
    app.set_time(start + Duration::days(60));
    let v = overdue(&app, &leader, "").await;
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(nos(&v), vec![a.clone(), b.clone()]);
    let rb = &v["items"][1];
    assert_eq!(rb["deadline"], "resolve");
    assert_eq!(rb["deadline_label"], "办理");
    assert_eq!(rb["holder"]["kind"], "assignee");
    assert_eq!(rb["holder"]["name"], "刘树林");
    assert_eq!(rb["holder"]["unit"], "柳树沟村村民委员会");
    assert!(v["items"][0]["overdue_seconds"].as_i64() > rb["overdue_seconds"].as_i64());
    let list: Value = app.get("/api/v1/tickets?overdue=true", Some(&leader)).await.json().await.unwrap();
    assert_eq!(list["total"], 2);

    // A township's leader sees only the township's orders and cannot ask for another township.
    let xihe = app.add_staff("xihe-leader", "西河乡领导", "leader", "西河乡").await;
    let v = overdue(&app, &xihe, "").await;
    assert_eq!(nos(&v), vec![b.clone()]);
    assert_eq!(v["total"], 1);
    assert_eq!(v["region"]["name"], "西河乡");
    let dongba = app.region_id("东坝镇").await;
    error_of(app.get(&format!("/api/v1/stats/overdue?region_id={dongba}"), Some(&xihe)).await, StatusCode::FORBIDDEN)
        .await;
    // The county leader may narrow to a township.
    let v = overdue(&app, &leader, &format!("?region_id={dongba}")).await;
    assert_eq!(nos(&v), vec![a.clone()]);
    let list: Value =
        app.get(&format!("/api/v1/tickets?overdue=true&region_id={dongba}"), Some(&leader)).await.json().await.unwrap();
    assert_eq!(list["total"], 1);

    // A role without statistics (a cadre) is refused; so is an anonymous caller.
    let cadre = app.token("lijiazhuang").await;
    error_of(app.get("/api/v1/stats/overdue", Some(&cadre)).await, StatusCode::FORBIDDEN).await;
    assert_eq!(app.get("/api/v1/stats/overdue", None).await.status(), StatusCode::UNAUTHORIZED);
    for role in ["inspector", "dispatcher"] {
        let t = app.token(role).await;
        assert_eq!(overdue(&app, &t, "").await["total"], 2, "{role}");
    }
}

#[tokio::test]
async fn overdue_orders_are_bounded_and_counted_in_full() {
    let app = spawn_app().await;
    let start = app.state.now();
    let mut filed = vec![];
    for (i, village) in ["李家庄村", "王家湾村", "石桥村", "柳树沟村"].iter().enumerate() {
        let unit = format!("{village}村民委员会");
        filed.push(dispatched(&app, village, &unit, &format!("1380000001{i}")).await);
        app.set_time(start + Duration::minutes(10 * (i as i64 + 1)));
    }
    app.set_time(start + Duration::hours(5));
    let county = app.region_id("清河县").await;
    let path = minsheng::repo::regions::get(&app.state.db.conn, county).await.unwrap().unwrap().path;
    let (rows, total) =
        minsheng::repo::stats::overdue_orders(&app.state.db.conn, &path, app.state.now(), 3).await.unwrap();
    assert_eq!(total, 4);
    // The three that have been overdue longest, in that order.
    let got: Vec<String> = rows.iter().map(|r| r.no.clone()).collect();
    assert_eq!(got, filed[..3].to_vec());
    // The endpoint lists at most its limit and says how many there are.
    let v = overdue(&app, &app.token("leader").await, "").await;
    assert_eq!(v["total"], 4);
    assert_eq!(nos(&v), filed);
    assert_eq!(v["limit"], minsheng::services::stats::OVERDUE_LIMIT);
    assert_eq!(v["order"], "longest_overdue_first");
}
