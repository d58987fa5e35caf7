//! The cadre's order page from the SMS link on a phone (issue 15, points 1–3): a photo attached
//! by a real tap, what was reported and asked shown, empty fields named next to them. Checked
//! against the database afterwards.
use crate::helpers::{TestApp, spawn_app_with};
use crate::run_spec;
use serde_json::{Value, json};

async fn spec(app: &TestApp, name: &'static str, env: Vec<(&'static str, String)>) -> Value {
    let base = app.addr.clone();
    tokio::task::spawn_blocking(move || run_spec(&base, name, &env)).await.unwrap()
}

/// The app with uploads in a directory of its own.
async fn app() -> TestApp {
    let dir = std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    let upload_dir = dir.to_string_lossy().into_owned();
    spawn_app_with(move |s| s.application.upload_dir = upload_dir).await
}

/// A 1200×900 JPEG from a phone camera, in a temporary file.
fn camera_photo() -> String {
    let img = image::ImageBuffer::from_fn(1200, 900, |x, y| image::Rgb([(x / 5 % 256) as u8, (y / 4 % 256) as u8, 60]));
    let path = std::env::temp_dir().join(format!("ms-cadre-{}.jpg", uuid::Uuid::new_v4().simple()));
    image::DynamicImage::ImageRgb8(img).save(&path).unwrap();
    path.to_string_lossy().into_owned()
}

/// The link's path from the newest assignment SMS of a ticket.
async fn link_of(app: &TestApp, no: &str) -> String {
    let body = app.sent_body(no, "assignment").await;
    let start = body.find("http://minsheng.test/w/").expect("link in the SMS");
    body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_attaches_a_photo_by_tapping_the_picker_on_a_360px_phone() {
    let app = app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let link = link_of(&app, &no).await;
    let photo = camera_photo();
    spec(&app, "cadre_photo_tap", vec![("LINK", link), ("PHOTO", photo.clone())]).await;
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((ev["action"].as_str(), ev["note"].as_str()), (Some("progress"), Some("已到现场查看，照片如下")));
    let ids = ev["data"]["upload_ids"].as_array().expect("the event names its photo").clone();
    assert_eq!(ids.len(), 1, "{ev}");
    let id = ids[0].as_str().unwrap();
    let q = format!(
        "SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id \
         WHERE t.no = '{no}' AND u.id = '{id}' AND u.kind = 'image' AND u.uploader_kind = 'staff'"
    );
    assert_eq!(app.count(&q).await, 1, "the photo is attached to the ticket");
    let _ = std::fs::remove_file(photo);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_page_shows_the_villagers_photo_voice_position_and_the_dispatchers_note() {
    let app = app().await;
    let photo = std::fs::read(camera_photo()).unwrap();
    let voice = include_bytes!("../fixtures/voice.ogg").to_vec();
    let mut ids = vec![];
    for (bytes, name) in [(photo, "p.jpg"), (voice, "v.ogg")] {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name));
        let r = app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        ids.push(r.json::<Value>().await.unwrap()["upload_id"].as_str().unwrap().to_string());
    }
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["upload_ids"] = json!(ids);
    body["location"] = json!({"lat": 36.123456, "lng": 115.654321});
    body["address"] = json!("李家庄村东头，老槐树往北50米的垃圾点");
    let r = app.intake(&body, Some("cadre-brief")).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    let note = "请村委会今天内清运";
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "note": note})).await;
    let link = link_of(&app, &no).await;
    let result = spec(&app, "cadre_brief", vec![("LINK", link), ("NOTE", note.to_string())]).await;
    assert!(result["audio"]["duration"].as_f64().is_some_and(|d| d > 0.0), "the voice note loads: {result}");
    // The console plays it too (issue 20 point 9).
    let result = spec(&app, "console_voice", vec![("TICKET_NO", no.clone())]).await;
    assert!(result["audio"]["duration"].as_f64().is_some_and(|d| d > 0.0), "the console plays it: {result}");
    // Looking changed nothing.
    assert_eq!(app.ticket(&di, &no).await["status"], "dispatched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_required_fields_are_named_in_chinese_next_to_them_not_by_the_browser() {
    let app = app().await;
    let no = app.to_accepted("王家湾村", "wangjiawan", "13812345679").await;
    let link = link_of(&app, &no).await;
    let result = spec(&app, "cadre_required_fields", vec![("LINK", link)]).await;
    assert_eq!(result["posts"], 1);
    let q = format!("SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}'");
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    let events = t["events"].as_array().unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.iter().filter(|a| **a == "progress").count(), 1, "one report: {actions:?}");
    assert!(!actions.contains(&"escalate_request") && !actions.contains(&"resolve"), "{actions:?}");
    assert_eq!(events.last().unwrap()["note"], "已联系施工队");
    assert_eq!(app.count(&q).await as usize, events.len());
    assert_eq!(t["status"], "in_progress");
}
