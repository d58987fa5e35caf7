//! 一案一档 (issue 17 point 6): the case file PDF of one ticket — the request, every ledger event
//! with its hash, the evidence as a thumbnail, the chain verified — read back with poppler's
//! `pdftotext` and `pdfimages`; only for staff who may read the ticket; a tampered ledger shows.
use crate::helpers::{TestApp, spawn_app, tool};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A 600×400 photo of the site, as the villager's phone would send it.
fn photo() -> Vec<u8> {
    let img =
        image::ImageBuffer::from_fn(600, 400, |x, y| image::Rgb([(x % 200) as u8 + 40, (y % 150) as u8 + 60, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn case_pdf(app: &TestApp, no: &str, token: &str) -> std::path::PathBuf {
    let r = app.get(&format!("/api/v1/tickets/{no}/case.pdf"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment") && disposition.contains(no), "{disposition}");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    let path = std::env::temp_dir().join(format!("minsheng-tests/case-{}.pdf", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    path
}

fn hashes(app_events: &Value) -> Vec<String> {
    app_events.as_array().unwrap().iter().map(|e| e["hash"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_case_file_holds_the_request_every_event_with_its_hash_and_the_photo() {
    let app = spawn_app().await;
    let form = Form::new().part("file", Part::bytes(photo()).file_name("site.jpg"));
    let r = app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let mut body = app.intake_body("李家庄村", "13812349876");
    body["upload_ids"] = json!([v["upload_id"]]);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let no = v["ticket_no"].as_str().unwrap().to_string();
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "note": "请今天内到现场查看"})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "已更换破裂的水管，恢复供水"})).await;

    let path = case_pdf(&app, &no, &di).await;
    let p = path.to_str().unwrap();
    let text = tool("pdftotext", &["-layout", p, "-"]);
    assert!(text.contains("一案一档") && text.contains(&no), "{text}");
    assert!(text.contains("村东头自来水停了三天了") && text.contains("李家庄村村民委员会"), "{text}");
    assert!(text.contains("已更换破裂的水管") && text.contains("请今天内到现场查看"), "notes are in");
    assert!(text.contains("138****9876") && !text.contains("13812349876"), "the phone is masked");
    let events = hashes(&t["events"]);
    assert_eq!(events.len(), 5, "submit, register, dispatch, accept, resolve");
    for h in &events {
        assert!(text.contains(h.as_str()), "event hash {h} printed");
    }
    assert!(text.contains("校验通过") && !text.contains("未通过"), "{text}");
    assert!(text.contains("附件1"), "the photo is listed");
    let images = tool("pdfimages", &["-list", p]);
    assert!(images.lines().count() >= 3, "a thumbnail is embedded: {images}");

    // Someone who may not read the ticket gets no file; nobody signed in gets nothing.
    let other = app.token("wangjiawan").await;
    let r = app.get(&format!("/api/v1/tickets/{no}/case.pdf"), Some(&other)).await;
    assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", r.status());
    assert_eq!(app.get(&format!("/api/v1/tickets/{no}/case.pdf"), None).await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_rewritten_event_shows_as_a_failed_check_in_the_case_file() {
    let app = spawn_app().await;
    let no = app.file("王家湾村", "13812340077").await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({"note": "原始登记说明"})).await;
    use sea_orm::ConnectionTrait;
    // Someone with database access bypasses the append-only guard.
    let disable = if app.state.db.is_postgres() {
        "ALTER TABLE events DISABLE TRIGGER events_append_only"
    } else {
        "DROP TRIGGER events_no_update"
    };
    app.state.db.conn.execute_unprepared(disable).await.unwrap();
    let sql = format!(
        "UPDATE events SET note = '被改过的说明' WHERE action = 'register' AND ticket_id = (SELECT id FROM tickets WHERE no = '{no}')"
    );
    app.state.db.conn.execute_unprepared(&sql).await.unwrap();
    let di = app.token("dispatcher").await;
    let path = case_pdf(&app, &no, &di).await;
    let text = tool("pdftotext", &["-layout", path.to_str().unwrap(), "-"]);
    assert!(text.contains("校验未通过"), "{text}");
}
