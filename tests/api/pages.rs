//! The villager's pages work without JavaScript: a plain form POST files the request.
use crate::helpers::spawn_app;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

#[tokio::test]
async fn the_card_page_shows_the_village_and_files_by_plain_form_once() {
    let app = spawn_app().await;
    let code = app.card("石桥村");
    let r = app.get(&format!("/c/{code}"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("石桥村") && html.contains("张德顺") && html.contains("tel:13900000303"), "{html}");
    let key = html.split("name=\"idempotency_key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let photo = {
        let mut c = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(16, 12, image::Rgb([200, 30, 30])))
            .write_to(&mut c, image::ImageFormat::Jpeg)
            .unwrap();
        c.into_inner()
    };
    let form = |key: &str, phone: &str, with_photo: bool| {
        let mut f = Form::new()
            .text("idempotency_key", key.to_string())
            .text("category", "roads")
            .text("description", "村里小学门口的路灯坏了一个月")
            .text("phone", phone.to_string())
            .text("name", "")
            .text("address", "小学门口");
        f = f.part(
            "photo",
            if with_photo {
                Part::bytes(photo.clone()).file_name("IMG_1.jpg")
            } else {
                Part::bytes(vec![]).file_name("")
            },
        );
        f.part("voice", Part::bytes(vec![]).file_name(""))
    };
    let post = |f: Form| app.client.post(app.url(&format!("/c/{code}"))).multipart(f).send();
    let r = post(form(&key, "13812345678", true)).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let page = r.text().await.unwrap();
    assert!(page.contains("您的诉求已收到"));
    let no = page.split("id=\"ticket-no\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert_eq!(app.count("SELECT COUNT(*) FROM uploads WHERE ticket_id IS NOT NULL AND mime = 'image/jpeg'").await, 1);
    // Pressing submit twice (or the browser resending) files nothing new.
    let again = post(form(&key, "13812345678", false)).await.unwrap().text().await.unwrap();
    assert!(again.contains(&no));
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    // A form error is shown on the page, in Chinese, keeping what was typed and the photo sent.
    let r = post(form("k2", "123", true)).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("手机号码格式不正确") && page.contains("小学门口") && page.contains("已保存1个附件"),
        "{page}"
    );
    let kept = page.split("name=\"upload_ids\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    let fixed = form("k2", "13812345679", false).text("upload_ids", kept.clone());
    assert_eq!(post(fixed).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM uploads WHERE id = '{kept}' AND ticket_id IS NOT NULL")).await,
        1
    );
    // Tracking with the phone tail.
    let page = app.get(&format!("/t/{no}?phone_tail=5678"), None).await.text().await.unwrap();
    assert!(page.contains("已提交") && page.contains("138****5678"), "{page}");
    let page = app.get(&format!("/t/{no}?phone_tail=1111"), None).await.text().await.unwrap();
    assert!(page.contains("不匹配"));
}

#[tokio::test]
async fn a_rotated_card_opens_a_chinese_page_with_the_hotline() {
    let app = spawn_app().await;
    let code = app.card("河口村");
    let admin = app.token("admin").await;
    app.post(&format!("/api/v1/cards/{code}/revoke"), Some(&admin), &serde_json::json!({})).await;
    let r = app.get(&format!("/c/{code}"), None).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let html = r.text().await.unwrap();
    assert!(html.contains("联系卡") && html.contains("12345") && html.contains("河口村"));
    let r = app.get("/c/NOTACODE", None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert!(r.text().await.unwrap().contains("未找到联系卡"));
}

#[tokio::test]
async fn an_unknown_address_answers_a_browser_with_a_chinese_page_and_an_api_client_with_json() {
    let app = spawn_app().await;
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8";
    for path in ["/no-such-page", "/c/", "/t/a/b/c", "/favicon-x.png"] {
        let r = app.client.get(app.url(path)).header("accept", browser).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
        let html = r.text().await.unwrap();
        assert!(html.contains("页面不存在") && html.contains("href=\"/t/\"") && html.contains("href=\"/\""), "{html}");
    }
    // API paths, and clients that do not prefer HTML, keep the JSON error.
    for (path, accept) in [("/api/v1/nope", browser), ("/no-such-page", "*/*"), ("/no-such-page", "application/json")] {
        let r = app.client.get(app.url(path)).header("accept", accept).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        let body: serde_json::Value = r.json().await.expect("JSON");
        assert_eq!(body["error"]["code"], "not_found", "{path} {accept}");
    }
}

#[tokio::test]
async fn the_lookup_page_finds_a_ticket_by_number_and_phone_tail() {
    let app = spawn_app().await;
    let no = app.file("石桥村", "13812345678").await;
    let r = app.get("/t/", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    assert!(html.contains("查询办理进度") && html.contains("name=\"phone_tail\""), "{html}");
    let r = app.get("/t", None).await;
    assert_eq!((r.status(), r.headers()["location"].to_str().unwrap()), (StatusCode::PERMANENT_REDIRECT, "/t/"));
    let r = app.client.get(app.url(&format!("/t/?no={no}&phone_tail=5678"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], format!("/t/{no}?phone_tail=5678").as_str());
    let r = app.get("/t/?no=12&phone_tail=56", None).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = r.text().await.unwrap();
    assert!(html.contains("工单编号不正确") && html.contains("后四位"), "{html}");
    // The tracking page itself still wants the tail, and counts wrong ones as before.
    let page = app.get(&format!("/t/{no}?phone_tail=1111"), None).await.text().await.unwrap();
    assert!(page.contains("不匹配") && !page.contains("村东头自来水"), "{page}");
    let page = app.get(&format!("/t/{no}?phone_tail=5678"), None).await.text().await.unwrap();
    assert!(page.contains("村东头自来水停了三天了") && page.contains("预计"), "{page}");
}

#[tokio::test]
async fn a_plain_form_sent_again_with_a_new_key_from_the_same_browser_shows_the_first_ticket() {
    let app = spawn_app().await;
    let code = app.card("石桥村");
    let jar = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let form = |key: &str, description: &str| {
        Form::new()
            .text("idempotency_key", key.to_string())
            .text("category", "roads")
            .text("description", description.to_string())
            .text("phone", "138 1234 5678")
    };
    let post = |c: &reqwest::Client, f: Form| c.post(app.url(&format!("/c/{code}"))).multipart(f).send();
    let no_of = |page: &str| page.split("id=\"ticket-no\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let r = post(&jar, form("k-first", "村里小学门口的路灯坏了一个月")).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains(&format!("Path=/c/{code}")), "{cookie}");
    let first = no_of(&r.text().await.unwrap());
    // The back button's fresh page has a new key: the same request is the first ticket.
    let r = post(&jar, form("k-second", " 村里小学门口的路灯坏了一个月 ")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("已经提交过") && no_of(&page) == first, "{page}");
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
    // Another browser, or another request, is filed.
    assert_eq!(
        post(&app.client, form("k-third", "村里小学门口的路灯坏了一个月")).await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(post(&jar, form("k-fourth", "村口的垃圾池满了没人清运")).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 3);
}

/// Every element id of the console's pages is unique: two forms with the same field id (a label
/// that focuses another form's field, a test that fills the hidden one) is a defect that only
/// shows on one page.
#[tokio::test]
async fn the_console_pages_have_no_duplicate_element_ids() {
    let app = spawn_app().await;
    for path in ["/console/", "/console/visits"] {
        let html = app.get(path, None).await.text().await.unwrap();
        let mut seen = std::collections::HashSet::new();
        let mut repeated = vec![];
        for part in html.split(" id=\"").skip(1) {
            let id = part.split('"').next().unwrap_or_default();
            if !seen.insert(id.to_string()) {
                repeated.push(id.to_string());
            }
        }
        assert!(seen.len() > 20, "{path} read: {} ids", seen.len());
        assert!(repeated.is_empty(), "{path} repeats ids: {repeated:?}");
    }
}
