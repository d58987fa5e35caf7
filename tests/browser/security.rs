//! Every page under its content security policy in Chromium: each renders with nothing blocked
//! (e2e/lib.mjs fails a spec on any violation, here and in every other spec), and the guard is
//! shown to notice a violation first.
use crate::helpers::{TestApp, spawn_app};
use crate::run_spec;
use serde_json::json;

/// The cadre's link and the villager's rating link of a ticket taken to resolved.
async fn resolved_with_links(app: &TestApp) -> (String, String, String) {
    let no = app.file("李家庄村", "13812345678").await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    // As sent (the outbox listing masks the link tokens).
    let sms = |kind: &'static str| app.sent_body(&no, kind);
    let link = |body: String, prefix: &str| {
        let start = body.find(prefix).unwrap_or_else(|| panic!("{prefix} in {body}"));
        body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string()
    };
    let work = link(sms("assignment").await, "http://minsheng.test/w/");
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "水管已修好，恢复供水"})).await;
    let rate = link(sms("rating_request").await, "http://minsheng.test/r/");
    (no, work, rate)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_renders_with_nothing_blocked_by_its_security_policy() {
    let app = spawn_app().await;
    let (no, work, rate) = resolved_with_links(&app).await;
    let code = app.card("石桥村");
    // An order still being worked: its forms and their script (assets/js/worklink.js).
    let active = app.to_accepted("王家湾村", "wangjiawan", "13812345670").await;
    let body = app.sent_body(&active, "assignment").await;
    let active = body[body.find("/w/").unwrap()..].split_whitespace().next().unwrap().to_string();
    let pages = json!([
        {"path": format!("/c/{code}"), "name": "card"},
        {"path": format!("/c/{code}?large=1"), "name": "card-large"},
        {"path": format!("/t/{no}"), "name": "track"},
        {"path": format!("/t/{no}?phone_tail=5678"), "name": "status"},
        {"path": rate, "name": "rate"},
        {"path": work, "name": "order"},
        {"path": active, "name": "order-active"},
        {"path": "/console/visits", "name": "caller-desk"},
        {"path": "/", "name": "home"},
        {"path": "/c/NOTACODE", "name": "unknown-card", "status": 404},
        {"path": "/c/one/two", "name": "no-such-page", "status": 404},
    ]);
    let base = app.addr.clone();
    let env = vec![("PAGES", pages.to_string())];
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "security_policy", &env)).await.unwrap();
    assert_eq!(result["opened"], 11);
    assert_eq!(result["guard"], json!(["img-src", "script-src-elem", "style-src-elem"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_user_text_stays_text_in_the_browser() {
    let app = spawn_app().await;
    let script = "<script>alert(1)</script>";
    let breakout = "\"><img src=x onerror=alert(1)>";
    let both = format!("{script}{breakout}");
    let mut body = app.intake_body("李家庄村", "13812345678");
    for field in ["description", "address"] {
        body[field] = json!(both);
    }
    body["name"] = json!(breakout);
    let r = app.intake(&body, Some("xss-browser-1")).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let no = r.json::<serde_json::Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let sms = app.sent_body(&no, "assignment").await;
    let start = sms.find("http://minsheng.test/w/").unwrap();
    let work = sms[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string();
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "progress", json!({"note": both})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": both})).await;
    let sms = app.sent_body(&no, "rating_request").await;
    let start = sms.find("http://minsheng.test/r/").unwrap();
    let rate = sms[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string();
    // How often each page shows [the script text, the breakout text].
    let pages = json!([
        {"path": format!("/t/{no}?phone_tail=5678"), "name": "status", "shows": [2, 2]},
        {"path": work, "name": "order", "shows": [4, 5]},
        {"path": rate, "name": "rate", "shows": [1, 1]},
    ]);
    let base = app.addr.clone();
    let env = vec![("PAGES", pages.to_string()), ("TEXTS", json!([script, breakout]).to_string())];
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "xss_inert", &env)).await.unwrap();
    assert_eq!(result["checked"], 3);
}
