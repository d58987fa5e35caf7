//! Uploads: type by content, metadata stripped, size limits, and who may read them.
use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use image::{ImageBuffer, Rgb};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// A 40×20 JPEG carrying EXIF with orientation 6 (rotate 90°) and a GPS block.
pub fn jpeg_with_gps() -> Vec<u8> {
    let img = ImageBuffer::from_fn(40, 20, |x, _| Rgb([(x * 6) as u8, 80, 160]));
    let mut plain = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    // TIFF (little endian): IFD0 = {Orientation=6, GPSInfo→IFD at 38}; GPS IFD = {GPSLatitudeRef="N"}.
    let mut tiff: Vec<u8> = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend([0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend([0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(1u16.to_le_bytes());
    tiff.extend([0x01, 0x00, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend(0u32.to_le_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    let mut out = vec![0xFF, 0xD8, 0xFF, 0xE1];
    out.extend(((app1.len() + 2) as u16).to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

async fn upload(app: &TestApp, bytes: Vec<u8>, name: &str, token: Option<&str>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
    let mut rb = app.client.post(app.url("/api/v1/uploads")).multipart(form);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    rb.send().await.unwrap()
}

#[tokio::test]
async fn a_photo_loses_its_exif_location_and_is_turned_upright() {
    let app = spawn_app().await;
    let original = jpeg_with_gps();
    assert!(original.windows(4).any(|w| w == b"Exif"));
    let r = upload(&app, original, "IMG_0001.jpg", None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["kind"], "image");
    assert_eq!(v["mime"], "image/jpeg");
    let id = v["upload_id"].as_str().unwrap().to_string();
    // Attach it to a ticket and read it back as the dispatcher.
    let mut body = app.intake_body("李家庄村", "13812345678");
    body["upload_ids"] = json!([id]);
    let no = app.intake(&body, Some("with-photo")).await.json::<Value>().await.unwrap()["ticket_no"]
        .as_str()
        .unwrap()
        .to_string();
    let di = app.token("dispatcher").await;
    let r = app.get(&format!("/api/v1/uploads/{id}"), Some(&di)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let stored = r.bytes().await.unwrap().to_vec();
    assert!(!stored.windows(4).any(|w| w == b"Exif"), "EXIF must be gone");
    assert!(!stored.windows(2).any(|w| w == [0xFF, 0xE1]), "no APP1 segment");
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!((img.width(), img.height()), (20, 40), "orientation 6 applied: 40×20 becomes 20×40");
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["events"][0]["data"]["upload_ids"], json!([id]));
    // An attached upload cannot be attached again.
    let mut again = app.intake_body("李家庄村", "13812345679");
    again["upload_ids"] = json!([id]);
    assert_eq!(
        error_of(app.intake(&again, None).await, StatusCode::UNPROCESSABLE_ENTITY).await["code"],
        "unknown_upload"
    );
}

#[tokio::test]
async fn the_type_is_read_from_the_content_not_the_name() {
    let app = spawn_app().await;
    let e = error_of(
        upload(&app, b"<html><script>alert(1)</script>".to_vec(), "photo.jpg", None).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(e["field"], "file");
    let png = {
        let mut c = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(ImageBuffer::from_pixel(8, 8, Rgb([1, 2, 3])))
            .write_to(&mut c, image::ImageFormat::Png)
            .unwrap();
        c.into_inner()
    };
    let v: Value = upload(&app, png, "notes.txt", None).await.json().await.unwrap();
    assert_eq!(v["mime"], "image/png");
    let webp = {
        let mut c = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgba8(ImageBuffer::from_pixel(8, 8, image::Rgba([9, 9, 9, 255])))
            .write_to(&mut c, image::ImageFormat::WebP)
            .unwrap();
        c.into_inner()
    };
    let v: Value = upload(&app, webp, "x.webp", None).await.json().await.unwrap();
    assert_eq!(v["mime"], "image/jpeg", "WebP photos are re-encoded");
    for (bytes, mime) in [
        (b"OggS\0\x02\0\0\0\0\0\0\0\0voice".to_vec(), "audio/ogg"),
        (vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81], "audio/webm"),
        (b"\0\0\0\x1cftypM4A \0\0\0\0M4A mp42isom".to_vec(), "audio/mp4"),
        (b"#!AMR\n\x3c\x48\xf5\x1f".to_vec(), "audio/amr"),
    ] {
        let r = upload(&app, bytes, "voice.bin", None).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["kind"].as_str().unwrap(), v["mime"].as_str().unwrap()), ("audio", mime));
    }
    let e = error_of(
        upload(&app, vec![0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3], "broken.jpg", None).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(e["code"], "image_unreadable");
    let e = error_of(
        app.client.post(app.url("/api/v1/uploads")).multipart(Form::new().text("other", "x")).send().await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(e["field"], "file");
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 6);
}

#[tokio::test]
async fn size_and_rate_limits_apply() {
    let app = spawn_app_with(|s| {
        s.uploads.max_audio_bytes = 1024;
        s.limits.upload_per_ip.max = 3;
    })
    .await;
    let e = error_of(
        upload(&app, [b"OggS".to_vec(), vec![0; 2000]].concat(), "v.ogg", None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(e["code"], "payload_too_large");
    assert_eq!(upload(&app, b"OggS small".to_vec(), "v.ogg", None).await.status(), StatusCode::CREATED);
    assert_eq!(upload(&app, b"OggS small".to_vec(), "v.ogg", None).await.status(), StatusCode::CREATED);
    let r = upload(&app, b"OggS small".to_vec(), "v.ogg", None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Staff are not limited.
    let op = app.token("operator").await;
    assert_eq!(upload(&app, b"OggS staff".to_vec(), "v.ogg", Some(&op)).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn only_staff_who_see_the_ticket_and_the_requester_may_read_an_upload() {
    let app = spawn_app().await;
    let id = upload(&app, b"OggS voice".to_vec(), "v.ogg", None).await.json::<Value>().await.unwrap()["upload_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = app.intake_body("石桥村", "13812345678");
    body["upload_ids"] = json!([id]);
    assert_eq!(app.intake(&body, None).await.status(), StatusCode::CREATED);
    let url = format!("/api/v1/uploads/{id}");
    assert_eq!(app.get(&url, None).await.status(), StatusCode::UNAUTHORIZED);
    let other_cadre = app.token("hekou").await;
    assert_eq!(app.get(&url, Some(&other_cadre)).await.status(), StatusCode::FORBIDDEN);
    let operator = app.token("operator").await;
    let r = app.get(&url, Some(&operator)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"OggS voice");
    // The requester, signed in by SMS code; someone else's phone is refused.
    for (phone, status) in [("13812345678", StatusCode::OK), ("13812349999", StatusCode::FORBIDDEN)] {
        app.post("/api/v1/auth/otp", None, &json!({"phone": phone})).await;
        let stmt = sea_orm::Statement::from_string(
            app.state.db.backend(),
            format!("SELECT body FROM outbox WHERE kind = 'otp' AND recipient = '{phone}'"),
        );
        use sea_orm::ConnectionTrait;
        let body: String = app.state.db.conn.query_one_raw(stmt).await.unwrap().unwrap().try_get_by_index(0).unwrap();
        let code: String = body.chars().filter(|c| c.is_ascii_digit()).take(6).collect();
        let token: Value = app
            .post("/api/v1/auth/otp/verify", None, &json!({"phone": phone, "code": code}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(app.get(&url, token["access_token"].as_str()).await.status(), status, "{phone}");
    }
    assert_eq!(app.get("/api/v1/uploads/nope", Some(&operator)).await.status(), StatusCode::NOT_FOUND);
}
