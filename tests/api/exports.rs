//! Ticket exports (issue 17 point 6): CSV and XLSX of the work list with its filters, inside the
//! caller's scope, Chinese headers, phones masked, formulas defused, read in keyset batches, and
//! bounded in size.
use crate::helpers::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The app with batches of two rows, so that five tickets take three queries.
async fn app() -> TestApp {
    spawn_app_with(|s| s.application.export_batch_rows = 2).await
}

async fn file_with(app: &TestApp, village: &str, phone: &str, description: &str) -> String {
    let mut body = app.intake_body(village, phone);
    body["description"] = json!(description);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    v["ticket_no"].as_str().unwrap().to_string()
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark for Excel");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_string).collect()).collect()
}

async fn list_total(app: &TestApp, token: &str, query: &str) -> u64 {
    let v: Value = app.get(&format!("/api/v1/tickets?{query}"), Some(token)).await.json().await.unwrap();
    v["total"].as_u64().unwrap()
}

#[tokio::test]
async fn the_csv_holds_the_filtered_list_in_scope_with_masked_phones_and_defused_formulas() {
    let app = app().await;
    let mut filed = vec![];
    for (i, village) in ["李家庄村", "王家湾村", "石桥村", "李家庄村"].iter().enumerate() {
        filed.push(file_with(&app, village, &format!("1380000{:04}", 7000 + i), "村东头自来水停了三天了").await);
    }
    let formula = file_with(&app, "李家庄村", "13800007009", "=HYPERLINK(\"http://evil.example\",\"点我\")").await;
    let di = app.token("dispatcher").await;
    let query = "category=water.supply&status=submitted";
    let r = app.get(&format!("/api/v1/exports/tickets.csv?{query}"), Some(&di)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment") && disposition.contains(".csv"), "{disposition}");
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.bytes().await.unwrap();
    let rows = parse_csv(&body);
    assert_eq!(rows[0][0], "工单编号");
    assert_eq!(rows[0].len(), 18);
    assert_eq!(rows.len() as u64 - 1, list_total(&app, &di, query).await, "every listed ticket, once");
    let nos: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    for no in filed.iter().chain([&formula]) {
        assert_eq!(nos.iter().filter(|n| **n == no.as_str()).count(), 1, "{no} once in {nos:?}");
    }
    let mut sorted = nos.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(nos, sorted, "newest first across batches");
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("13800007000") && text.contains("138****7000"), "phones are masked");
    let row = rows.iter().find(|r| r[0] == formula).unwrap();
    assert!(row[12].starts_with("'=HYPERLINK"), "a formula is text: {:?}", row[12]);
    let first = rows.iter().find(|r| r[0] == filed[1]).unwrap();
    assert_eq!((first[2].as_str(), first[4].as_str(), first[6].as_str()), ("扫码", "饮水安全/停水断水", "已提交"));
    assert_eq!((first[7].as_str(), first[8].as_str()), ("东坝镇", "王家湾村"));

    // A cadre's export holds only what was given to their unit.
    let op = app.token("operator").await;
    app.act_ok(&op, &filed[0], "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &filed[0], "dispatch", json!({"unit_id": unit})).await;
    let cadre = app.token("lijiazhuang").await;
    let r = app.get("/api/v1/exports/tickets.csv", Some(&cadre)).await;
    let rows = parse_csv(&r.bytes().await.unwrap());
    assert_eq!(rows.len() as u64 - 1, list_total(&app, &cadre, "").await);
    assert!(rows[1..].iter().any(|r| r[0] == filed[0]) && !rows[1..].iter().any(|r| r[0] == filed[1]));
    assert!(rows[1..].iter().all(|r| r[9] == "李家庄村村民委员会"), "{rows:?}");
}

#[tokio::test]
async fn the_xlsx_has_the_same_rows_under_chinese_headers() {
    let app = app().await;
    for i in 0..5 {
        file_with(&app, "石桥村", &format!("1390000{:04}", 8000 + i), "村里的路灯坏了好几天了").await;
    }
    let leader = app.token("leader").await;
    let query = "status=submitted";
    let r = app.get(&format!("/api/v1/exports/tickets.xlsx?{query}"), Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let bytes = r.bytes().await.unwrap();
    let table = minsheng::sheet::read(&bytes).unwrap();
    assert_eq!(table.header, minsheng::services::exports::HEADER.map(String::from).to_vec());
    assert_eq!(table.rows.len() as u64, list_total(&app, &leader, query).await);
    let phones: Vec<&String> = table.rows.iter().map(|r| &r[11]).collect();
    assert!(phones.iter().any(|p| p.as_str() == "139****8004"), "{phones:?}");
    assert!(phones.iter().all(|p| p.contains("****")), "{phones:?}");
}

#[tokio::test]
async fn an_export_too_large_or_badly_filtered_is_refused_and_a_stranger_gets_nothing() {
    let app = spawn_app_with(|s| s.application.export_max_rows = 2).await;
    for i in 0..3 {
        file_with(&app, "杏花村", &format!("1370000{:04}", 9000 + i), "垃圾池满了好几天没人清运").await;
    }
    let di = app.token("dispatcher").await;
    for ext in ["csv", "xlsx"] {
        let r = app.get(&format!("/api/v1/exports/tickets.{ext}?status=submitted"), Some(&di)).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "export_too_large", "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("请缩小"), "{v}");
    }
    let r = app.get("/api/v1/exports/tickets.csv?from=2026-13-01", Some(&di)).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["field"], "from");
    let r = app.get("/api/v1/exports/tickets.csv", None).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}
