//! Uploads: type by content (voice notes by a walk of their container), metadata stripped, image
//! bombs refused before decoding, decoding slots, size limits, and who may read them.
pub mod files;

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use files::{files_under, flat_jpeg, png_bomb, png_with_icc_bomb, restart_peak, status_kb};
use image::{ImageBuffer, Rgb};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

/// Real recordings (tests/fixtures/README.md says how they were made) and the mime they are stored as.
const VOICE: [(&str, &[u8], &str); 8] = [
    ("voice.webm", include_bytes!("../fixtures/voice.webm"), "audio/webm"),
    ("voice-chromium.webm", include_bytes!("../fixtures/voice-chromium.webm"), "audio/webm"),
    ("voice-chromium-onestop.webm", include_bytes!("../fixtures/voice-chromium-onestop.webm"), "audio/webm"),
    ("voice.ogg", include_bytes!("../fixtures/voice.ogg"), "audio/ogg"),
    ("voice-vorbis.ogg", include_bytes!("../fixtures/voice-vorbis.ogg"), "audio/ogg"),
    ("voice.m4a", include_bytes!("../fixtures/voice.m4a"), "audio/mp4"),
    ("voice-chromium.m4a", include_bytes!("../fixtures/voice-chromium.m4a"), "audio/mp4"),
    ("voice.amr", include_bytes!("../fixtures/voice.amr"), "audio/amr"),
];
const VOICE_OGG: &[u8] = include_bytes!("../fixtures/voice.ogg");

/// Tests that measure or spend a lot of memory run one at a time: the peak-memory figure is the
/// whole process's.
static MEMORY_HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

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
    for (_, bytes, mime) in
        VOICE.into_iter().filter(|v| ["voice.ogg", "voice.webm", "voice.m4a", "voice.amr"].contains(&v.0))
    {
        let r = upload(&app, bytes.to_vec(), "voice.bin", None).await;
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
        s.uploads.max_audio_bytes = 4096;
        s.limits.upload_per_ip.max = 3;
    })
    .await;
    let e = error_of(
        upload(&app, [b"OggS".to_vec(), vec![0; 5000]].concat(), "v.ogg", None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(e["code"], "payload_too_large");
    assert_eq!(upload(&app, VOICE_OGG.to_vec(), "v.ogg", None).await.status(), StatusCode::CREATED);
    assert_eq!(upload(&app, VOICE_OGG.to_vec(), "v.ogg", None).await.status(), StatusCode::CREATED);
    let r = upload(&app, VOICE_OGG.to_vec(), "v.ogg", None).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Staff are not limited.
    let op = app.token("operator").await;
    assert_eq!(upload(&app, VOICE_OGG.to_vec(), "v.ogg", Some(&op)).await.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn only_staff_who_see_the_ticket_and_the_requester_may_read_an_upload() {
    let app = spawn_app().await;
    let id = upload(&app, VOICE_OGG.to_vec(), "v.ogg", None).await.json::<Value>().await.unwrap()["upload_id"]
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
    assert_eq!(r.bytes().await.unwrap().as_ref(), VOICE_OGG);
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

/// Nothing was written: no row and no file.
async fn nothing_written(app: &TestApp) {
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, 0);
    assert_eq!(files_under(&app.state.settings.application.upload_dir), 0);
}

fn is_chinese(message: &Value) -> bool {
    message.as_str().is_some_and(|m| m.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)))
}

#[tokio::test]
async fn every_real_voice_recording_is_stored_as_audio_of_its_type() {
    let app = spawn_app().await;
    for (name, bytes, mime) in VOICE {
        let r = upload(&app, bytes.to_vec(), name, None).await;
        assert_eq!(r.status(), StatusCode::CREATED, "{name}");
        let v: Value = r.json().await.unwrap();
        assert_eq!((v["kind"].as_str(), v["mime"].as_str()), (Some("audio"), Some(mime)), "{name}");
        assert_eq!(v["size"], bytes.len(), "{name}: stored as recorded");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads WHERE kind = 'audio'").await, VOICE.len() as i64);
    assert_eq!(files_under(&app.state.settings.application.upload_dir), VOICE.len());
}

#[tokio::test]
async fn html_behind_an_ogg_signature_is_refused_and_nothing_is_written() {
    let app = spawn_app().await;
    let fake = [b"OggS".as_slice(), b"<html><body><script>alert(document.cookie)</script></body></html>"].concat();
    // A real recording with a page glued after it is no recording either.
    let glued = [VOICE_OGG, b"<html><script>alert(1)</script></html>"].concat();
    for (bytes, name) in [(fake, "voice.ogg"), (glued, "voice2.ogg")] {
        let e = error_of(upload(&app, bytes, name, None).await, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
        assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("unsupported_media_type"), Some("file")));
        assert!(is_chinese(&e["message"]), "{e}");
    }
    nothing_written(&app).await;
}

#[tokio::test]
async fn an_image_bomb_is_refused_from_its_header_without_decoding_it() {
    let _one_at_a_time = MEMORY_HEAVY.lock().await;
    let app = spawn_app().await;
    let bomb = png_bomb(11_000, 11_000);
    assert!(bomb.len() < 400_000, "{} bytes declare 363 MB of pixels", bomb.len());
    let peak_before = restart_peak();
    let r = upload(&app, bomb, "bomb.png", None).await;
    let peak_after = status_kb("VmHWM");
    let grew_mb = peak_after.saturating_sub(peak_before) / 1024;
    eprintln!("image bomb: peak RSS {peak_before} kB -> {peak_after} kB (+{grew_mb} MB), answer {}", r.status());
    let e = error_of(r, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!((e["code"].as_str(), e["field"].as_str()), (Some("image_too_large"), Some("file")));
    let message = e["message"].as_str().unwrap_or_default();
    assert!(is_chinese(&e["message"]) && message.contains("11000×11000"), "{message}");
    nothing_written(&app).await;
    assert!(grew_mb < 100, "peak memory grew by {grew_mb} MB");
}

#[tokio::test]
async fn an_icc_profile_bomb_is_not_inflated_and_the_photo_is_kept_without_it() {
    let _one_at_a_time = MEMORY_HEAVY.lock().await;
    let app = spawn_app().await;
    let png = png_with_icc_bomb(200 * 1024 * 1024);
    assert!(png.len() < 250_000, "{} bytes", png.len());
    let peak_before = restart_peak();
    let r = upload(&app, png, "icc.png", None).await;
    let grew_mb = status_kb("VmHWM").saturating_sub(peak_before) / 1024;
    eprintln!("ICC bomb: peak RSS +{grew_mb} MB, answer {}", r.status());
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["mime"], "image/png");
    assert!(grew_mb < 50, "peak memory grew by {grew_mb} MB");
}

#[tokio::test]
async fn the_bomb_builder_makes_a_png_the_decoder_reads() {
    // The bomb test is only worth something if the bomb would really decode: a small one does.
    let img = image::load_from_memory(&png_bomb(300, 200)).unwrap();
    assert_eq!((img.width(), img.height()), (300, 200));
    assert!(img.to_rgb8().pixels().all(|p| p.0 == [0, 0, 0]));
}

#[tokio::test]
async fn with_every_decoding_slot_taken_a_photo_is_answered_503_and_nothing_is_written() {
    let app = spawn_app_with(|s| {
        s.uploads.decode_concurrency = 2;
        s.uploads.decode_wait_ms = 50;
    })
    .await;
    let slots = app.state.photo_decodes.clone();
    let held = slots.clone().acquire_many_owned(2).await.unwrap();
    assert_eq!(slots.available_permits(), 0);
    let r = upload(&app, jpeg_with_gps(), "IMG_0002.jpg", None).await;
    let retry_after = r.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "Retry-After: {retry_after:?}");
    let e = error_of(r, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(e["code"], "server_busy");
    assert!(is_chinese(&e["message"]), "{e}");
    nothing_written(&app).await;
    // Voice notes need no decoding slot.
    assert_eq!(upload(&app, VOICE_OGG.to_vec(), "v.ogg", None).await.status(), StatusCode::CREATED);
    drop(held);
    let r = upload(&app, jpeg_with_gps(), "IMG_0002.jpg", None).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads WHERE kind = 'image'").await, 1);
    assert_eq!(slots.available_permits(), 2, "the slot is given back");
}

#[tokio::test]
async fn the_plain_form_with_every_decoding_slot_taken_shows_itself_again_with_503() {
    let app = spawn_app_with(|s| {
        s.uploads.decode_concurrency = 1;
        s.uploads.decode_wait_ms = 50;
    })
    .await;
    let _held = app.state.photo_decodes.clone().acquire_owned().await.unwrap();
    let code = app.card("李家庄村");
    let form = Form::new()
        .text("idempotency_key", uuid::Uuid::new_v4().to_string())
        .text("category", "water.supply")
        .text("description", "村东头自来水停了三天了")
        .text("phone", "13812345678")
        .part("photo", Part::bytes(jpeg_with_gps()).file_name("IMG_1.jpg"));
    let r = app.client.post(app.url(&format!("/c/{code}"))).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.headers().contains_key("retry-after"));
    let page = r.text().await.unwrap();
    assert!(page.contains("正在处理的照片较多") && page.contains("name=\"description\""), "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 0);
    nothing_written(&app).await;
}

#[tokio::test]
async fn a_large_legal_photo_is_accepted_and_scaled_down() {
    let _one_at_a_time = MEMORY_HEAVY.lock().await;
    let app = spawn_app().await;
    let photo = flat_jpeg(6000, 4000);
    let declared = image::ImageReader::new(std::io::Cursor::new(&photo)).with_guessed_format().unwrap();
    assert_eq!(declared.into_dimensions().unwrap(), (6000, 4000), "a 24-megapixel photo");
    let op = app.token("operator").await;
    let r = upload(&app, photo, "IMG_6000x4000.jpg", Some(&op)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["mime"], "image/jpeg");
    let stored = app.get(&format!("/api/v1/uploads/{}", v["upload_id"].as_str().unwrap()), Some(&op)).await;
    assert_eq!(stored.status(), StatusCode::OK);
    let img = image::load_from_memory(&stored.bytes().await.unwrap()).unwrap().to_rgb8();
    assert_eq!(img.width(), 2560, "scaled to max_image_side");
    assert!((1706..=1707).contains(&img.height()), "aspect kept: {}", img.height());
    let centre = img.get_pixel(1280, 853).0;
    assert!(centre.iter().all(|&c| c.abs_diff(128) <= 2), "still the same grey: {centre:?}");
}
