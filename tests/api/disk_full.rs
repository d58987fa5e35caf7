//! Fault drill (issue 21, point 4): the upload disk is full. A real full file system (a 512 KB
//! tmpfs mounted as `upload_dir`, filled by a file). An upload then gets a 507 in the contract saying
//! so in Chinese, leaves no row and no partial file; a cadre's report with a photo is refused on its
//! page and writes no event; a request without photos is still taken (the database is elsewhere); once
//! space is freed, uploads work again without a restart. Needs root to mount (CI runs as root).
use crate::helpers::{TestApp, Tmpfs, spawn_app_with};
use crate::uploads::files::files_under;
use crate::worklink::{dispatched_with_link, post_form};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;

fn png(side: u32, seed: u8) -> Vec<u8> {
    // Noise does not compress: the photo keeps its size after re-encoding.
    let mut img = image::RgbImage::new(side, side);
    let mut x: u32 = 0x9e37_79b9 ^ seed as u32;
    for p in img.pixels_mut() {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        *p = image::Rgb([x as u8, (x >> 8) as u8, (x >> 16) as u8]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

async fn upload(app: &TestApp, bytes: Vec<u8>) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name("photo.png"));
    app.client.post(app.url("/api/v1/uploads")).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn a_full_upload_disk_is_a_clear_507_with_nothing_half_made_and_recovers_when_freed() {
    let disk = Tmpfs::new(512);
    let dir = disk.path();
    let app = spawn_app_with({
        let dir = dir.clone();
        move |s| s.application.upload_dir = dir
    })
    .await;
    let photo = png(320, 1);
    assert!(photo.len() > 200_000, "{} bytes", photo.len());
    // The disk is nearly full: less room than one photo.
    let room = disk.fill(4096);
    let filler = disk.filler();
    let files = files_under(&dir);
    let uploads = app.count("SELECT COUNT(*) FROM uploads").await;

    // 1. A villager's upload: 507 in the contract, named, in Chinese; no row, no partial file.
    let r = upload(&app, photo.clone()).await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "storage_full", "{v}");
    assert_eq!(v["error"]["field"], "file");
    assert!(v["error"]["message"].as_str().unwrap().contains("存储空间已满"), "{v}");
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, uploads, "no upload row");
    assert_eq!(files_under(&dir), files, "no partial file left");

    // 2. A cadre's report with a photo from the work link: refused on its page, no event written.
    let (no, link) = dispatched_with_link(&app).await;
    let accepted = post_form(&app, &format!("{link}/accept"), &[("note", "已电话联系")], &[]).await;
    assert!(accepted.status().is_success() || accepted.status().is_redirection(), "{}", accepted.status());
    let events = app.count("SELECT COUNT(*) FROM events").await;
    let r =
        post_form(&app, &format!("{link}/progress"), &[("note", "水管已挖开")], &[("photos", "a.png", &photo)]).await;
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let page = r.text().await.unwrap();
    assert!(page.contains("存储空间已满"), "the page says why: {page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events, "no progress event");
    let admin = app.token("admin").await;
    assert_eq!(app.ticket(&admin, &no).await["status"], "accepted");
    assert_eq!(files_under(&dir), files, "no partial file left");

    // 3. The villager's card form with a photo: the form again, with what was typed and the reason,
    //    no ticket; the same form without the photo is taken.
    let code = app.card("石桥村");
    let html = app.get(&format!("/c/{code}"), None).await.text().await.unwrap();
    let key = html.split("name=\"idempotency_key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let form = |with_photo: bool| {
        let f = Form::new()
            .text("idempotency_key", key.clone())
            .text("category", "roads")
            .text("description", "村里小学门口的路灯坏了一个月")
            .text("phone", "13812345676")
            .text("address", "小学门口");
        let part = if with_photo {
            Part::bytes(photo.clone()).file_name("IMG_1.png")
        } else {
            Part::bytes(vec![]).file_name("")
        };
        f.part("photo", part)
    };
    let tickets = app.count("SELECT COUNT(*) FROM tickets").await;
    let r = app.client.post(app.url(&format!("/c/{code}"))).multipart(form(true)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::INSUFFICIENT_STORAGE);
    let page = r.text().await.unwrap();
    assert!(page.contains("存储空间已满") && page.contains("小学门口"), "the form again, with the reason: {page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, tickets, "no ticket from the refused form");
    assert_eq!(files_under(&dir), files, "no partial file left");
    let r = app.client.post(app.url(&format!("/c/{code}"))).multipart(form(false)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, tickets + 1);

    // 4. A request without photos is still taken: the database is not on that disk.
    let filed = app.file("李家庄村", "13812345677").await;
    assert_eq!(app.ticket(&admin, &filed).await["status"], "submitted");

    // 5. Space freed: uploads work again, no restart.
    std::fs::remove_file(&filler).unwrap();
    let r = upload(&app, photo).await;
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads").await, uploads + 1);
    assert_eq!(files_under(&dir), 1, "the photo, whole");
    eprintln!("disk-full drill: 512 KB tmpfs, {room} bytes free before filling; 507 storage_full, no row, no file");
}
