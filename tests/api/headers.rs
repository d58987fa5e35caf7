//! Security headers: every HTML page (villager, cadre, staff, error pages) carries the content
//! security policy, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and `nosniff`, and has
//! nothing the policy would block (inline script, style or event handlers, outside resources);
//! every other response carries `nosniff`.
use crate::helpers::{TestApp, spawn_app};
use regex::Regex;
use reqwest::{Response, StatusCode};
use serde_json::json;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
     media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

/// What a page must not contain under the policy; empty when it is clean.
fn inline_problems(html: &str) -> Vec<String> {
    let mut problems = vec![];
    let src = Regex::new(r#"(?is)\bsrc\s*=\s*["']?([^"'\s>]*)"#).unwrap();
    for tag in Regex::new(r"(?is)<script\b[^>]*>").unwrap().find_iter(html) {
        match src.captures(tag.as_str()).map(|c| c[1].to_string()) {
            None => problems.push(format!("inline script: {}", tag.as_str())),
            Some(url) if !url.starts_with('/') || url.starts_with("//") => {
                problems.push(format!("script from elsewhere: {}", tag.as_str()))
            }
            Some(_) => {}
        }
    }
    let checks = [
        (r"(?is)<style\b", "<style> element"),
        (r#"(?is)<[a-z][^>]*\sstyle\s*=\s*["']"#, "style attribute"),
        (r#"(?is)<[a-z][^>]*\son[a-z]+\s*=\s*["']"#, "inline event handler"),
        (r"(?is)javascript:", "javascript: URL"),
        (r#"(?is)<link\b[^>]*\bhref\s*=\s*["'](?:https?:)?//"#, "stylesheet from elsewhere"),
    ];
    problems.extend(
        checks.iter().filter(|(re, _)| Regex::new(re).unwrap().is_match(html)).map(|(_, what)| what.to_string()),
    );
    problems
}

/// Asserts the page's headers and body; returns the body. `status` None: any 4xx (an error page).
async fn assert_page(r: Response, status: impl Into<Option<StatusCode>>) -> String {
    let path = r.url().path().to_string();
    match status.into() {
        Some(status) => assert_eq!(r.status(), status, "{path}"),
        None => assert!(r.status().is_client_error(), "{path}: {}", r.status()),
    }
    let h = r.headers().clone();
    assert!(h["content-type"].to_str().unwrap().starts_with("text/html"), "{path}: {:?}", h["content-type"]);
    assert_eq!(h.get("content-security-policy").map(|v| v.to_str().unwrap()), Some(CSP), "{path}");
    assert_eq!(h.get("x-frame-options").map(|v| v.to_str().unwrap()), Some("DENY"), "{path}");
    assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
    assert_eq!(h.get("referrer-policy").map(|v| v.to_str().unwrap()), Some("no-referrer"), "{path}");
    assert_eq!(h.get_all("content-security-policy").iter().count(), 1, "{path}: one policy");
    let body = r.text().await.unwrap();
    assert!(body.contains("<html"), "{path}: a whole page");
    let problems = inline_problems(&body);
    assert!(problems.is_empty(), "{path}: {problems:?}\n{body}");
    body
}

#[test]
fn the_inline_checker_finds_what_the_policy_blocks() {
    assert!(
        inline_problems(
            "<script src=\"/assets/js/font.js\" defer></script><link rel=stylesheet href=\"/assets/x.css\">"
        )
        .is_empty()
    );
    for bad in [
        "<script>alert(1)</script>",
        "<script type=\"module\">x()</script>",
        "<script src=\"https://cdn.example.com/x.js\"></script>",
        "<style>p{}</style>",
        "<p style=\"color:red\">",
        "<button onclick=\"go()\">",
        "<a href=\"javascript:void(0)\">",
        "<link rel=\"stylesheet\" href=\"//cdn.example.com/x.css\">",
    ] {
        assert!(!inline_problems(bad).is_empty(), "{bad}");
    }
}

/// A ticket accepted by the cadre, and the cadre's order link from the SMS.
async fn accepted_with_link(app: &TestApp) -> (String, String) {
    let (no, work_link) = crate::worklink::dispatched_with_link(app).await;
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    (no, work_link)
}

#[tokio::test]
async fn every_html_page_carries_the_policy_and_nothing_it_would_block() {
    let app = spawn_app().await;
    let code = app.card("石桥村");
    let (no, work) = accepted_with_link(&app).await;
    // The cadre's pages while the order is with them (the number is shown only then).
    for path in [work.clone(), format!("{work}/call")] {
        assert_page(app.get(&path, None).await, StatusCode::OK).await;
    }
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已修好"})).await;
    let rating = crate::visits::rating_token(&app, "13812345678").await;
    let ok = [
        "/".to_string(),
        format!("/c/{code}"),
        format!("/c/{code}?large=1"),
        format!("/t/{no}"),
        format!("/t/{no}?phone_tail=5678"),
        format!("/r/{rating}"),
        work.clone(),
        "/console/".to_string(),
        "/console/visits".to_string(),
        "/screen/".to_string(),
        "/screen/?token=scr_x".to_string(),
    ];
    for path in &ok {
        let body = assert_page(app.get(path, None).await, StatusCode::OK).await;
        assert!(body.contains("/assets/"), "{path} loads its assets from /assets/");
    }
    // The intake page's script is the one the policy allows.
    let body = assert_page(app.get(&format!("/c/{code}"), None).await, StatusCode::OK).await;
    assert!(body.contains("<script src=\"/assets/js/intake.js\" defer></script>"), "{body}");
    // Error pages, from the handlers and from the framework.
    assert_page(app.get("/c/NOTACODE", None).await, StatusCode::NOT_FOUND).await;
    assert_page(app.get("/t/not-a-number", None).await, StatusCode::NOT_FOUND).await;
    assert_page(app.get(&format!("/t/{no}?phone_tail=0000"), None).await, StatusCode::NOT_FOUND).await;
    assert_page(app.get("/r/forged-token", None).await, None).await;
    assert_page(app.get("/w/forged-token", None).await, None).await;
    assert_page(app.get(&format!("{work}/call"), None).await, StatusCode::FORBIDDEN).await;
    assert_page(app.get("/c/one/two", None).await, StatusCode::NOT_FOUND).await;
    let r = app.client.delete(app.url("/console/")).send().await.unwrap();
    assert_page(r, StatusCode::METHOD_NOT_ALLOWED).await;
    // The no-JavaScript form answers with a page too (here: a field missing).
    let form = reqwest::multipart::Form::new().text("description", "路灯坏了").text("phone", "13812345678");
    let r = app.client.post(app.url(&format!("/c/{code}"))).multipart(form).send().await.unwrap();
    assert_page(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    // A rating through the form: the thank-you page.
    let r = app
        .client
        .post(app.url(&format!("/r/{rating}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("satisfaction=satisfied")
        .send()
        .await
        .unwrap();
    assert_page(r, StatusCode::CREATED).await;
}

#[tokio::test]
async fn other_answers_carry_nosniff_and_no_page_policy() {
    let app = spawn_app().await;
    let code = app.card("石桥村");
    for (path, status) in [
        ("/healthz".to_string(), StatusCode::OK),
        (format!("/api/v1/cards/{code}"), StatusCode::OK),
        ("/api/v1/tickets".to_string(), StatusCode::UNAUTHORIZED),
        ("/api/v1/nothing".to_string(), StatusCode::NOT_FOUND),
        ("/assets/css/app.css".to_string(), StatusCode::OK),
        ("/assets/js/intake.js".to_string(), StatusCode::OK),
        ("/assets/js/worklink.js".to_string(), StatusCode::OK),
        ("/assets/js/admin.js".to_string(), StatusCode::OK),
        ("/assets/js/directory.js".to_string(), StatusCode::OK),
        ("/assets/js/queues.js".to_string(), StatusCode::OK),
        ("/assets/js/hotspots.js".to_string(), StatusCode::OK),
        ("/assets/js/dashboard.js".to_string(), StatusCode::OK),
        ("/assets/js/screens.js".to_string(), StatusCode::OK),
        ("/assets/js/screen.js".to_string(), StatusCode::OK),
        ("/assets/css/screen.css".to_string(), StatusCode::OK),
        ("/assets/nothing.js".to_string(), StatusCode::NOT_FOUND),
        ("/metrics".to_string(), StatusCode::OK),
    ] {
        let r = app.get(&path, None).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(r.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"), "{path}");
        assert!(r.headers().get("content-security-policy").is_none(), "{path}: the page policy is for pages");
    }
}
