//! Privacy (issue 20 point 8): phones and ID numbers typed into free text are masked wherever the
//! requester's phone is; the retention job removes requesters' personal data from tickets that
//! ended more than `retention.days` ago, and every rate and ranking stays exactly as it was.
use crate::helpers::{TestApp, spawn_app_with, visited_order};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};

const SECRET_TEXT: &str = "路灯坏了，请联系13812345678或138-1234-5678，身份证11010519491231002X，同工单20261122-000123";

/// A request from `village` with `description`, and a photo the villager sent with it (no login).
async fn file_with_photo(app: &TestApp, village: &str, phone: &str, description: &str) -> (String, String) {
    let mut png = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(4, 4, image::Rgb([9, 9, 9])))
        .write_to(&mut png, image::ImageFormat::Png)
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(png.into_inner()).file_name("photo.png"));
    let r = app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let upload = r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_string();
    let mut body = app.intake_body(village, phone);
    body["description"] = json!(description);
    body["name"] = json!("张三");
    body["address"] = json!("李家庄村东头3号");
    body["upload_ids"] = json!([upload]);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    let v: Value = r.json().await.unwrap();
    (v["ticket_no"].as_str().unwrap_or_else(|| panic!("{v}")).to_string(), upload)
}

/// Runs a filed request through dispatch, acceptance, a result and a visit (`satisfied` closes it).
async fn handle(app: &TestApp, no: &str, (village, cadre): (&str, &str), late: Option<Duration>, satisfaction: &str) {
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let ca = app.token(cadre).await;
    app.act_ok(&op, no, "register", json!({})).await;
    app.act_ok(&di, no, "dispatch", json!({"unit_id": app.unit_id(&format!("{village}村民委员会")).await})).await;
    app.act_ok(&ca, no, "accept", json!({})).await;
    if let Some(d) = late {
        app.set_time(app.state.now() + d);
    }
    app.act_ok(&ca, no, "resolve", json!({"result": "已修好，有事打13900001111"})).await;
    let cl = app.token("caller").await;
    let solved = match satisfaction {
        "satisfied" => "yes",
        "basically_satisfied" => "partly",
        _ => "no",
    };
    let body = json!({"reached": true, "solved": solved, "satisfaction": satisfaction, "channel": "phone",
                      "comment": "满意，我电话13812345678"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
}

/// Every statistics answer over the seeded period, as bytes.
async fn stats(app: &TestApp, from: &str, to: &str) -> Vec<(String, String)> {
    let leader = app.token("leader").await;
    let period = format!("from={from}&to={to}");
    let mut out = vec![];
    for path in [
        format!("/api/v1/stats/summary?{period}"),
        format!("/api/v1/stats/units?{period}&per_page=100"),
        format!("/api/v1/stats/hotspots?{period}&min=1"),
        format!("/api/v1/stats/hotspots?{period}&min=1&level=township"),
        "/api/v1/stats/overdue".to_string(),
        "/api/v1/stats/redblack".to_string(),
    ] {
        let r = app.get(&path, Some(&leader)).await;
        let status = r.status();
        let mut body = r.text().await.unwrap();
        // The overdue list says when it was read and how long each order has been late: the clock
        // runs on between two reads, so those two fields go; everything else is compared as sent.
        if path.contains("overdue") {
            let mut v: Value = serde_json::from_str(&body).unwrap();
            v.as_object_mut().unwrap().remove("now");
            for item in v["items"].as_array_mut().unwrap() {
                item.as_object_mut().unwrap().remove("overdue_seconds");
            }
            body = v.to_string();
        }
        out.push((path, format!("{status} {body}")));
    }
    let weekly = minsheng::services::weekly_report::for_week(&app.state, None).await;
    out.push((
        "weekly report".into(),
        weekly.map(|r| format!("{}\n{}", r.subject, r.text)).unwrap_or_else(|e| e.message),
    ));
    out
}

fn col(no: &str, condition: &str) -> String {
    format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND {condition}")
}

async fn row_dump(app: &TestApp) -> Vec<String> {
    let sql = "SELECT no, status, requester_phone, COALESCE(requester_name, ''), COALESCE(address, ''), \
               COALESCE(requester_openid, ''), description, updated_at, closed_at, anonymized_at FROM tickets ORDER BY id";
    use sea_orm::ConnectionTrait;
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    app.state
        .db
        .conn
        .query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let s = |i: usize| r.try_get_by_index::<String>(i).unwrap();
            let t = |i: usize| r.try_get_by_index::<Option<chrono::DateTime<chrono::Utc>>>(i).unwrap();
            format!("{} {} {} {} {} {} {} {:?} {:?} {:?}", s(0), s(1), s(2), s(3), s(4), s(5), s(6), t(7), t(8), t(9))
        })
        .collect()
}

#[tokio::test]
async fn the_retention_job_removes_personal_data_and_no_rate_or_ranking_moves() {
    let app = spawn_app_with(|s| s.retention.days = 90).await;
    let start = app.state.now();
    let from = (start - Duration::days(1)).format("%Y-%m-%d").to_string();
    let lj = ("李家庄村", "lijiazhuang");
    let wj = ("王家湾村", "wangjiawan");

    // Months ago: closed requests (satisfied, one resolved late), one reopened after a dissatisfied
    // visit (not closed: kept), one declared invalid, one from a phone that asks twice.
    let (old, upload) = file_with_photo(&app, "李家庄村", "13812345678", SECRET_TEXT).await;
    handle(&app, &old, lj, None, "satisfied").await;
    let twice = app.file("李家庄村", "13812345678").await;
    handle(&app, &twice, lj, None, "satisfied").await;
    let late = app.file("王家湾村", "13800002002").await;
    handle(&app, &late, wj, Some(Duration::days(20)), "basically_satisfied").await;
    let reopened = app.file("王家湾村", "13800002003").await;
    handle(&app, &reopened, wj, None, "dissatisfied").await;
    let invalid = app.file("王家湾村", "13800002004").await;
    let op = app.token("operator").await;
    app.act_ok(&op, &invalid, "invalid", json!({"reason": "重复的测试信息"})).await;
    // Two more closed requests from other villages.
    visited_order(&app, ("石桥村", "石桥村村民委员会", "shiqiao"), "13800002101", "yes", "satisfied").await;
    visited_order(&app, ("石桥村", "东坝镇人民政府", "dongba"), "13800002102", "partly", "basically_satisfied").await;
    // Later: one closed too recently, and one open order that is overdue.
    app.set_time(start + Duration::days(100));
    let recent = app.file("李家庄村", "13800002005").await;
    handle(&app, &recent, lj, None, "satisfied").await;
    let open = app.file("李家庄村", "13800002006").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &open, "register", json!({})).await;
    app.act_ok(&di, &open, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    for (no, status) in [(&old, "closed"), (&late, "closed"), (&reopened, "reopened"), (&invalid, "invalid")] {
        assert_eq!(app.ticket(&op, no).await["status"], status, "{no}");
    }

    // 150 days on: what ended before day 60 is past retention.
    app.set_time(start + Duration::days(150));
    let to = app.state.now().format("%Y-%m-%d").to_string();
    let before = stats(&app, &from, &to).await;
    let summary = &before[0].1;
    assert!(
        summary.starts_with("200") && summary.contains("\"received\":9,"),
        "the period holds the history: {summary}"
    );
    assert!(before.iter().any(|(p, b)| p.contains("overdue") && b.contains(&open)), "the open order is overdue");
    let dry = minsheng::services::retention::run(&app.state, app.state.now(), true).await.unwrap();
    // Closed: old, twice, late and the two visited orders; invalid: one. A dry run only counts.
    assert_eq!((dry.due, dry.anonymized), (6, 0));
    let untouched = row_dump(&app).await;
    let report = minsheng::workers::retention::run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!(report.anonymized, dry.due, "{report:?}");
    assert_eq!(report.uploads_removed, 1);
    assert_ne!(row_dump(&app).await, untouched);

    let after = stats(&app, &from, &to).await;
    for ((path, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(b, a, "{path} changed");
    }

    // The ended tickets hold no phone, name, address, openid or photo; the others are as they were.
    for no in [&old, &twice, &late, &invalid] {
        let gone = col(no, "requester_phone LIKE 'anon:%' AND anonymized_at IS NOT NULL");
        assert_eq!(app.count(&gone).await, 1, "{no}");
        let cleared = col(no, "requester_name IS NULL AND address IS NULL AND requester_openid IS NULL");
        assert_eq!(app.count(&cleared).await, 1, "{no}");
    }
    let same_phone = "SELECT COUNT(DISTINCT requester_phone) FROM tickets WHERE no IN ('{a}', '{b}')";
    assert_eq!(
        app.count(&same_phone.replace("{a}", &old).replace("{b}", &twice)).await,
        1,
        "one phone, one placeholder"
    );
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM uploads WHERE id = '{upload}'")).await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 0, "the photo's row is gone");
    let dir = std::path::Path::new(&app.state.settings.application.upload_dir);
    assert_eq!(files_under(dir), 0, "and its file");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'anonymize' AND entity = 'ticket'").await, 6);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE action = 'anonymize' AND entity_id = '{old}'")).await,
        1
    );
    for no in [&reopened, &recent, &open] {
        assert_eq!(app.count(&col(no, "anonymized_at IS NULL AND requester_phone LIKE '138%'")).await, 1, "{no}");
    }
    // The staff view: nothing of the requester, the description and notes masked, the ledger whole.
    let t = app.ticket(&op, &old).await;
    assert_eq!(t["requester"], json!({"name": null, "phone": ""}));
    assert_eq!(t["address"], Value::Null);
    let text = t.to_string();
    for secret in ["13812345678", "1234-5678", "张三", "11010519491231002X", "13900001111"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("20261122-000123"), "ticket numbers survive");
    let ledger: Value = app.get(&format!("/api/v1/tickets/{old}/ledger/verify"), Some(&op)).await.json().await.unwrap();
    assert_eq!(ledger["ok"], true, "{ledger}");
    // The requester's tracking page no longer opens it.
    let r = app.get(&format!("/api/v1/tickets/{old}/public?phone_tail=5678"), None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // A second run changes nothing.
    let settled = row_dump(&app).await;
    let again = minsheng::workers::retention::run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!((again.due, again.anonymized, again.uploads_removed), (0, 0, 0));
    assert_eq!(row_dump(&app).await, settled);
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'anonymize'").await, 6);
    assert_eq!(stats(&app, &from, &to).await, after);

    // A new request from the same phone is not linked to the anonymised ones.
    let new = app.file("李家庄村", "13812345678").await;
    assert_eq!(app.ticket(&op, &new).await["repeat_of"], Value::Null);
}

fn files_under(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.map(|e| e.unwrap().path()).map(|p| if p.is_dir() { files_under(&p) } else { 1 }).sum()
}

#[tokio::test]
async fn phones_and_id_numbers_in_free_text_are_masked_in_public_and_shared_views() {
    let app = spawn_app_with(|_| {}).await;
    let (no, _) = file_with_photo(&app, "李家庄村", "13812345678", SECRET_TEXT).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "progress", json!({"note": "已联系，群众另留电话0571-88881234"})).await;
    let hidden = |text: &str| {
        for secret in ["13812345678", "1234-5678", "11010519491231002X", "88881234"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    };

    // Staff ticket view (phone masked there: text masked too), keeping its shape.
    let t = app.ticket(&di, &no).await;
    assert_eq!(
        t["description"],
        "路灯坏了，请联系138****5678或138-****-5678，身份证110105********002X，同工单20261122-000123"
    );
    hidden(&t.to_string());
    // Public tracking, as JSON and as the villager's page.
    let r = app.get(&format!("/api/v1/tickets/{no}/public?phone_tail=5678"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert!(v.to_string().contains("0571-****1234"), "{v}");
    hidden(&v.to_string());
    let page = app.get(&format!("/t/{no}?phone_tail=5678"), None).await.text().await.unwrap();
    assert!(page.contains("138****5678") && page.contains("110105********002X"), "{page}");
    hidden(&page);
    // The export.
    let csv = app.get("/api/v1/exports/tickets.csv", Some(&di)).await.text().await.unwrap();
    assert!(csv.contains("110105********002X") && csv.contains(&no), "{csv}");
    hidden(&csv);
    // The big screen never shows a description at all.
    let leader = app.token("leader").await;
    let screen = app.get("/api/v1/screen/overview", Some(&leader)).await.text().await.unwrap();
    hidden(&screen);
    // Open311.
    let o = app.get(&format!("/open311/v2/requests/{no}.json"), None).await.text().await.unwrap();
    assert!(o.contains("110105********002X"), "{o}");
    hidden(&o);
}

#[tokio::test]
async fn the_demo_shows_a_phone_masked_on_the_tracking_page() {
    let app = crate::helpers::spawn_app().await;
    minsheng::demo::seed_orders(&app.state).await.unwrap();
    let sql = "SELECT no FROM tickets WHERE description LIKE '%137-0000-0001%'";
    let stmt = sea_orm::Statement::from_string(app.state.db.backend(), sql.to_string());
    let row =
        sea_orm::ConnectionTrait::query_one_raw(&app.state.db.conn, stmt).await.unwrap().expect("the demo ticket");
    let no: String = row.try_get_by_index(0).unwrap();
    let page = app.get(&format!("/t/{no}?phone_tail=0001"), None).await.text().await.unwrap();
    assert!(page.contains("有情况请打我电话137-****-0001"), "{page}");
    assert!(!page.contains("137-0000-0001"), "{page}");
}
