//! The cadre's order page from the SMS link: a signed, expiring link that lets its cadre sign for
//! the order, report progress and resolve it with photos, and nothing more.
use crate::helpers::{TestApp, spawn_app_with};
use chrono::Duration;
use reqwest::StatusCode;
use serde_json::json;

/// A 1×1 PNG.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

async fn app() -> TestApp {
    let dir = std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    spawn_app_with(move |s| s.application.upload_dir = dir.to_string_lossy().into_owned()).await
}

/// A multipart body by hand: text fields, then files as (field, filename, bytes).
fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----minsheng-test-boundary";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").bytes());
    }
    for (k, name, bytes) in files {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n")
                .bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &[u8])],
) -> reqwest::Response {
    let (ctype, body) = multipart(fields, files);
    app.client.post(app.url(path)).header("content-type", ctype).body(body).send().await.unwrap()
}

/// Dispatches a ticket to 李家庄村 and returns (ticket no, the link path from the cadre's SMS).
pub async fn dispatched_with_link(app: &TestApp) -> (String, String) {
    let no = app.file("李家庄村", "13812345678").await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let body = app.sent_body(&no, "assignment").await;
    let start = body.find("http://minsheng.test/w/").expect("link in the SMS");
    let link: String = body[start..].split_whitespace().next().unwrap().to_string();
    assert!(body.chars().count() < 140, "two SMS segments at most: {body}");
    (no, link.trim_start_matches("http://minsheng.test").to_string())
}

#[tokio::test]
async fn the_sms_link_opens_the_order_and_the_cadre_signs_reports_and_resolves_with_photos() {
    let app = app().await;
    let (no, link) = dispatched_with_link(&app).await;
    let page = app.get(&link, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains(&no) && html.contains("签收") && html.contains("138****5678"), "{html}");
    assert!(!html.contains("13812345678"), "the order page itself shows the number masked");
    // The cadre opens the number to call: shown in full, and the view is logged.
    let call = app.get(&format!("{link}/call"), None).await;
    assert_eq!(call.status(), StatusCode::OK);
    assert!(call.text().await.unwrap().contains("href=\"tel:13812345678\""));
    let logged = "SELECT COUNT(*) FROM phone_access_log p JOIN staff s ON s.id = p.staff_id \
                  WHERE p.purpose = 'handling' AND s.username = 'lijiazhuang'";
    assert_eq!(app.count(logged).await, 1);
    let r = post_form(&app, &format!("{link}/accept"), &[("note", "已电话联系")], &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"].to_str().unwrap(), format!("{link}?done=accept"));
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "accepted");
    assert_eq!(t["events"].as_array().unwrap().last().unwrap()["actor"], "李长河");
    // Progress with a photo: stored as an upload and attached to the event.
    let r = post_form(&app, &format!("{link}/progress"), &[("note", "水管已挖开")], &[("photos", "a.png", PNG)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = app.ticket(&di, &no).await;
    let ev = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(ev["action"], "progress");
    let id = ev["data"]["upload_ids"][0].as_str().unwrap().to_string();
    let file = app.get(&format!("/api/v1/tickets/{no}/uploads/{id}"), Some(&di)).await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "image/png");
    let served = file.bytes().await.unwrap();
    let img = image::load_from_memory(&served).expect("a decodable PNG");
    assert_eq!((img.width(), img.height()), image::load_from_memory(PNG).map(|i| (i.width(), i.height())).unwrap());
    // Not an image: refused on the page, nothing written.
    let events = app.count("SELECT COUNT(*) FROM events").await;
    let r =
        post_form(&app, &format!("{link}/resolve"), &[("result", "修好了")], &[("photos", "x.png", b"not an image")])
            .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("照片只支持"));
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events);
    // A missing result is named on the page.
    let r = post_form(&app, &format!("{link}/resolve"), &[("result", " ")], &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("请填写办理结果"));
    // A phone photo with its GPS position: stored like every upload, without the metadata.
    let gps = crate::uploads::jpeg_with_gps();
    let r =
        post_form(&app, &format!("{link}/resolve"), &[("result", "已修复通水")], &[("photos", "b.jpg", &gps)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "resolved");
    let id = t["events"].as_array().unwrap().last().unwrap()["data"]["upload_ids"][0].as_str().unwrap().to_string();
    let served = app.get(&format!("/api/v1/tickets/{no}/uploads/{id}"), Some(&di)).await.bytes().await.unwrap();
    assert!(served.starts_with(&[0xFF, 0xD8]), "a JPEG");
    assert!(!served.windows(4).any(|w| w == b"Exif"), "EXIF and GPS removed from the cadre's photo");
    // The page now only shows the order; it cannot close or dispatch anything.
    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("已办结") && !html.contains("id=\"form-resolve\""));
    let r = post_form(&app, &format!("{link}/close"), &[], &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forged_expired_and_ended_links_do_not_act() {
    let app = app().await;
    let (no, link) = dispatched_with_link(&app).await;
    // Altered by one character: unknown.
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(app.get(&forged, None).await.status(), StatusCode::NOT_FOUND);
    // Once the order is escalated away, the old link only shows it.
    let di = app.token("dispatcher").await;
    app.act_ok(&di, &no, "escalate", json!({"reason": "需镇里统筹"})).await;
    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("已不在您处办理"), "{html}");
    assert!(!html.contains("13812345678") && !html.contains("/call\""), "the number is for the handling cadre only");
    assert_eq!(app.get(&format!("{link}/call"), None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM phone_access_log WHERE purpose = 'handling'").await, 0);
    let r = post_form(&app, &format!("{link}/accept"), &[], &[]).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(app.ticket(&di, &no).await["status"], "dispatched");
    // A week after the result deadline the link expires.
    app.state.time.advance(Duration::days(11));
    assert_eq!(app.get(&link, None).await.status(), StatusCode::GONE);
}
