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

pub async fn post_form(
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

/// An upload from the card page (no sign-in), as the villager's phone sends it; its id.
async fn villager_upload(app: &TestApp, bytes: &[u8], name: &str) -> String {
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    let r = app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<serde_json::Value>().await.unwrap()["upload_id"].as_str().unwrap().to_string()
}

/// The link's path from the newest assignment SMS of a ticket.
async fn link_of(app: &TestApp, no: &str) -> String {
    let body = app.sent_body(no, "assignment").await;
    let start = body.find("http://minsheng.test/w/").expect("link in the SMS");
    body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string()
}

const VOICE_OGG: &[u8] = include_bytes!("../fixtures/voice.ogg");

/// Issue 15.2: the page shows the villager's photos, voice note and position and what the
/// dispatcher asked; the files come through the page's own link, for that ticket's request only,
/// and no longer once the order has left the cadre.
#[tokio::test]
async fn the_order_page_shows_what_was_reported_and_what_was_asked() {
    let app = app().await;
    let photo = villager_upload(&app, PNG, "a.png").await;
    let voice = villager_upload(&app, VOICE_OGG, "v.ogg").await;
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["upload_ids"] = json!([photo, voice]);
    body["location"] = json!({"lat": 39.912345, "lng": 116.401234});
    body["address"] = json!("村东头老槐树旁");
    let r = app.intake(&body, Some("brief-1")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<serde_json::Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    // Another request with a photo of its own: never shown through this link.
    let other_photo = villager_upload(&app, PNG, "b.png").await;
    let mut other = app.intake_body("李家庄村", "13812340000");
    other["upload_ids"] = json!([other_photo]);
    assert_eq!(app.intake(&other, Some("brief-2")).await.status(), StatusCode::CREATED);
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "note": "请村委会今天内清运"})).await;
    app.act_ok(&di, &no, "urge", json!({"note": "群众又打电话了，抓紧"})).await;
    let link = link_of(&app, &no).await;

    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("派单要求") && html.contains("请村委会今天内清运"), "the dispatcher's note: {html}");
    assert!(html.contains("催办") && html.contains("群众又打电话了，抓紧"), "the urge's note: {html}");
    assert!(html.contains(&format!("<img src=\"{link}/files/{photo}\"")), "the villager's photo: {html}");
    assert!(html.contains(&format!("<audio controls preload=\"none\" src=\"{link}/files/{voice}\"")), "{html}");
    assert!(html.contains("村东头老槐树旁") && html.contains("北纬39.91235°，东经116.40123°"), "position: {html}");
    assert!(html.contains("href=\"geo:39.912345,116.401234?q=39.912345,116.401234\""), "{html}");
    assert!(!html.contains(&other_photo) && !html.contains("https://"), "nothing else, nothing from outside");

    // The photo as staff get it, with the headers of a file behind a link token.
    let staff_copy = app.get(&format!("/api/v1/uploads/{photo}"), Some(&di)).await.bytes().await.unwrap();
    let r = app.get(&format!("{link}/files/{photo}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "private, no-cache");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let etag = h["etag"].to_str().unwrap().to_string();
    assert_eq!(r.bytes().await.unwrap(), staff_copy);
    let again = app.client.get(app.url(&format!("{link}/files/{photo}"))).header("if-none-match", &etag).send().await;
    let again = again.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
    let r = app.get(&format!("{link}/files/{voice}"), None).await;
    assert_eq!((r.status(), r.headers()["content-type"].to_str().unwrap()), (StatusCode::OK, "audio/ogg"));
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    let whole = r.bytes().await.unwrap();
    assert_eq!(whole.len(), VOICE_OGG.len());
    // A player asks for parts.
    let part = app.client.get(app.url(&format!("{link}/files/{voice}"))).header("range", "bytes=100-199").send();
    let part = part.await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.headers()["content-range"].to_str().unwrap(), format!("bytes 100-199/{}", whole.len()));
    assert_eq!(part.bytes().await.unwrap(), whole.slice(100..200));

    // Another ticket's upload, the cadre's own photo, a forged link: not found.
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let r = post_form(&app, &format!("{link}/progress"), &[("note", "已到现场")], &[("photos", "c.png", PNG)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let own = app.ticket(&di, &no).await["events"].as_array().unwrap().last().unwrap()["data"]["upload_ids"][0]
        .as_str()
        .unwrap()
        .to_string();
    let mut forged = link.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for path in
        [format!("{link}/files/{other_photo}"), format!("{link}/files/{own}"), format!("{forged}/files/{photo}")]
    {
        let r = app.get(&path, None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
    }

    // The cadre's account deactivated: the link shows no more than it did before either.
    let deactivate = |on: bool| format!("UPDATE staff SET active = {on} WHERE username = 'lijiazhuang'");
    use sea_orm::ConnectionTrait;
    app.state.db.conn.execute_unprepared(&deactivate(false)).await.unwrap();
    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("仅供查看") && !html.contains("请村委会今天内清运") && !html.contains("/files/"), "{html}");
    assert_eq!(app.get(&format!("{link}/files/{photo}"), None).await.status(), StatusCode::NOT_FOUND);
    app.state.db.conn.execute_unprepared(&deactivate(true)).await.unwrap();
    assert_eq!(app.get(&format!("{link}/files/{photo}"), None).await.status(), StatusCode::OK);

    // Escalated away: the old link shows what it showed before, and its files are gone.
    app.act_ok(&di, &no, "escalate", json!({"reason": "需镇里统筹"})).await;
    let html = app.get(&link, None).await.text().await.unwrap();
    assert!(html.contains("已不在您处办理"), "{html}");
    for hidden in ["请村委会今天内清运", "/files/", "<audio", "北纬", "geo:"] {
        assert!(!html.contains(hidden), "an ended assignment shows no {hidden}: {html}");
    }
    for id in [&photo, &voice] {
        assert_eq!(app.get(&format!("{link}/files/{id}"), None).await.status(), StatusCode::NOT_FOUND);
    }
    let r = app.client.get(app.url(&format!("{link}/files/{photo}"))).header("if-none-match", &etag).send().await;
    assert_eq!(r.unwrap().status(), StatusCode::NOT_FOUND, "a cached copy is not confirmed either");
}

/// Issue 15.3 without JavaScript: an empty required field comes back from the server with its
/// message next to the field of the form that was sent (and at the top, linking to it), the text
/// typed elsewhere kept; nothing is written.
#[tokio::test]
async fn a_refused_form_names_the_field_next_to_it_and_keeps_the_text() {
    let app = app().await;
    let (no, link) = dispatched_with_link(&app).await;
    let r = post_form(&app, &format!("{link}/accept"), &[], &[]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let events = app.count("SELECT COUNT(*) FROM events").await;
    let r = post_form(&app, &format!("{link}/progress"), &[("note", "  ")], &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    let form = &html[html.find("id=\"form-progress\"").unwrap()..];
    let form = &form[..form.find("</form>").unwrap()];
    assert!(
        form.contains("class=\"bad\" aria-invalid=\"true\"")
            && form.contains("<p class=\"field-msg\" id=\"progress-note-msg\">请填写办理进展</p>"),
        "the message next to the field: {form}"
    );
    assert!(html.contains("请填写办理进展 <a href=\"#form-progress\">去修改</a>"), "{html}");
    let resolve = &html[html.find("id=\"form-resolve\"").unwrap()..];
    assert!(resolve[..resolve.find("</form>").unwrap()].contains("id=\"resolve-result-msg\" hidden>"), "{resolve}");
    // A form behind 退单: opened, the message under its field, the reason typed kept.
    let long = "不".repeat(2001);
    let r = post_form(&app, &format!("{link}/return"), &[("reason", &long)], &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let html = r.text().await.unwrap();
    let form = &html[html.find("<details open><summary>退单").expect("the 退单 form open")..];
    assert!(form.contains(&format!(">{long}</textarea>")), "the reason kept");
    assert!(form.contains("<p class=\"field-msg\" id=\"return-reason-msg\">退单理由不能超过2000个字</p>"), "{form}");
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events, "nothing written");
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &no).await["status"], "accepted");
}
