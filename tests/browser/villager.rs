//! The villager's pages (issue 15, points 4–10): finding a request again, the card page on narrow
//! phones and without JavaScript, errors next to their fields, the result and the tracking page.
use crate::helpers::{TestApp, spawn_app};
use crate::spec;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A small photo, uploaded as a villager's phone would.
async fn upload_photo(app: &TestApp) -> String {
    let img = image::ImageBuffer::from_fn(64, 48, |x, y| image::Rgb([(x * 4) as u8, (y * 5) as u8, 120]));
    let mut bytes = std::io::Cursor::new(vec![]);
    image::DynamicImage::ImageRgb8(img).write_to(&mut bytes, image::ImageFormat::Jpeg).unwrap();
    let part = reqwest::multipart::Part::bytes(bytes.into_inner()).file_name("p.jpg").mime_str("image/jpeg").unwrap();
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_string()
}

/// Files a request with a photo from the village's card; returns its number.
async fn file_with_photo(app: &TestApp, village: &str, phone: &str, description: &str) -> String {
    let upload = upload_photo(app).await;
    let mut body = app.intake_body(village, phone);
    body["description"] = json!(description);
    body["upload_ids"] = json!([upload]);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_villager_finds_a_request_again_by_number_or_by_an_sms_code_and_unknown_pages_are_chinese() {
    let app = spawn_app().await;
    let no = app.file("石桥村", "13812345678").await;
    app.file("李家庄村", "13812345678").await;
    let code_file = std::env::temp_dir().join(format!("ms-otp-{}", uuid::Uuid::new_v4().simple()));
    let run = tokio::spawn({
        let env = vec![
            ("CARD_CODE", app.card("石桥村")),
            ("TICKET_NO", no.clone()),
            ("CODE_FILE", code_file.display().to_string()),
        ];
        let base = app.addr.clone();
        async move { spec(&base, "villager_lookup", env).await }
    });
    // The SMS code, as the phone receives it, handed to the spec once it is sent.
    let sql = "SELECT COUNT(*) FROM outbox WHERE kind = 'otp' AND recipient = '13812345678'";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while app.count(sql).await == 0 && !run.is_finished() {
        assert!(std::time::Instant::now() < deadline, "no SMS code was requested");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    if !run.is_finished() {
        let stmt = sea_orm::Statement::from_string(
            app.state.db.backend(),
            "SELECT body FROM outbox WHERE kind = 'otp' ORDER BY id DESC LIMIT 1".to_string(),
        );
        use sea_orm::ConnectionTrait;
        let row = app.state.db.conn.query_one_raw(stmt).await.unwrap().unwrap();
        let body: String = row.try_get_by_index(0).unwrap();
        let code: String = body.chars().filter(|c| c.is_ascii_digit()).take(6).collect();
        std::fs::write(&code_file, code).unwrap();
    }
    let result = run.await.unwrap();
    assert_eq!(result["items"], 2, "both of the phone's requests listed: {result}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 2, "looking up wrote nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_card_page_keeps_two_tiles_a_row_at_320_px_and_44_px_touch_targets() {
    let app = spawn_app().await;
    let result = spec(&app.addr, "villager_layout", vec![("CARD_CODE", app.card("石桥村"))]).await;
    println!("touch targets: {}", result["sizes"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_going_back_and_sending_again_shows_the_first_ticket() {
    let app = spawn_app().await;
    let result = spec(&app.addr, "villager_back", vec![("CARD_CODE", app.card("杏花村"))]).await;
    let no = result["ticket_no"].as_str().unwrap();
    let other = result["other"].as_str().unwrap();
    // The first request once, however often it was sent; the different one after it, once.
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 2, "{result}");
    let like = |d: &str| format!("SELECT COUNT(*) FROM tickets WHERE description LIKE '{d}%'");
    assert_eq!(app.count(&like("桥头的护栏")).await, 1, "the first request filed once");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{other}'")).await, 1);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND description LIKE '桥头%'")).await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'confirmation'").await,
        2,
        "one confirmation SMS each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_wrong_field_is_shown_next_to_its_field_with_and_without_javascript() {
    let app = spawn_app().await;
    spec(&app.addr, "villager_errors", vec![("CARD_CODE", app.card("河口村"))]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0, "nothing filed");
    assert_eq!(app.count("SELECT COUNT(*) FROM idempotency_keys").await, 0, "no key used up by a refused form");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_says_the_same_with_and_without_javascript_and_leads_to_tracking() {
    let app = spawn_app().await;
    let result = spec(&app.addr, "villager_result", vec![("CARD_CODE", app.card("王家湾村"))]).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 2, "{result}");
    for (key, phone) in [("js", "13687654321"), ("nojs", "13612345678")] {
        let no = result[key]["no"].as_str().unwrap();
        let sql = format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND requester_phone = '{phone}'");
        assert_eq!(app.count(&sql).await, 1, "{key}: {result}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tracking_page_shows_the_villagers_own_words_photo_and_rating() {
    let app = spawn_app().await;
    let no = file_with_photo(&app, "柳树沟村", "13812345678", "村西头的井盖丢了，晚上很危险").await;
    let other = file_with_photo(&app, "柳树沟村", "13900001111", "另一户的问题，照片不能给别人看").await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let ca = app.token("liushugou").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("柳树沟村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已补装新井盖"})).await;
    let sms = app.sent_body(&no, "rating_request").await;
    let token = sms.split("/r/").nth(1).unwrap().split(|c: char| c.is_whitespace() || c == '，').next().unwrap();
    let result = spec(
        &app.addr,
        "villager_tracking",
        vec![("TICKET_NO", no.clone()), ("OTHER_NO", other), ("RATE_PATH", format!("/r/{token}"))],
    )
    .await;
    println!("photo link: {}", result["src"]);
    let rated = format!(
        "SELECT COUNT(*) FROM return_visits rv JOIN tickets t ON t.id = rv.ticket_id \
         WHERE t.no = '{no}' AND rv.satisfaction = 'satisfied' AND rv.channel = 'sms'"
    );
    assert_eq!(app.count(&rated).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn villager_pages_at_three_window_sizes() {
    let app = spawn_app().await;
    let no = file_with_photo(&app, "石桥村", "13812345678", "村里小桥的栏杆松了，过桥的老人很害怕").await;
    let result = spec(&app.addr, "villager_shots", vec![("CARD_CODE", app.card("石桥村")), ("TICKET_NO", no)]).await;
    assert!(result["pages"].as_i64().unwrap() >= 20, "{result}");
}
