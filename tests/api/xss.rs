//! User text on the pages stays text: a script element or an attribute breakout typed into any
//! free-text field a page shows (the request's description, name and address, the cadre's notes and
//! results, the council's decision, the rating comment, a card's contact names and posts) is shown
//! on every page that shows it, escaped, and never becomes markup.
use crate::helpers::{TestApp, spawn_app};
use regex::Regex;
use reqwest::StatusCode;
use reqwest::multipart::Form;
use serde_json::json;

const SCRIPT: &str = "<script>alert(1)</script>";
const BREAKOUT: &str = "\"><img src=x onerror=alert(1)>";
/// Card contacts are short (a name of at most 8 characters, a post of 12): the same two attacks, cut.
const CONTACT_NAME: &str = "<script>";
const CONTACT_POST: &str = "\"><img src=x";

/// The page as a browser reads its text: character references decoded.
fn decoded(html: &str) -> String {
    let entity = Regex::new(r"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|quot|apos|amp);").unwrap();
    entity
        .replace_all(html, |c: &regex::Captures| {
            let e = &c[1];
            let ch = match e {
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "amp" => '&',
                _ if e.starts_with("#x") => char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap(),
                _ => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            };
            ch.to_string()
        })
        .into_owned()
}

/// Asserts that `page` shows `text` at least `times` times, escaped, and that no user text became
/// an element: no `<script>` without `src`, no `<img>` (no page has one of its own).
fn assert_inert(what: &str, page: &str, text: &str, times: usize) {
    assert!(!page.contains(text), "{what}: the text is in the page unescaped\n{page}");
    let inline_script = Regex::new(r"(?i)<script\b[^>]*>").unwrap();
    for tag in inline_script.find_iter(page) {
        assert!(
            tag.as_str().contains(" src=\"/assets/js/"),
            "{what}: a script element from user text: {}",
            tag.as_str()
        );
    }
    assert!(!Regex::new(r"(?i)<img\b").unwrap().is_match(page), "{what}: an <img> element from user text\n{page}");
    let shown = decoded(page).matches(text).count();
    assert!(shown >= times, "{what}: shows the text {shown} times, expected at least {times}\n{page}");
}

async fn text_of(r: reqwest::Response, status: StatusCode) -> String {
    let path = r.url().path().to_string();
    assert_eq!(r.status(), status, "{path}");
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"), "{path}");
    r.text().await.unwrap()
}

async fn page(app: &TestApp, path: &str) -> String {
    text_of(app.get(path, None).await, StatusCode::OK).await
}

/// The link at `prefix` in the latest SMS of `kind` about `no`, as a path.
async fn link_in_sms(app: &TestApp, no: &str, kind: &str, prefix: &str) -> String {
    let body = app.sent_body(no, kind).await;
    let start = body.find(prefix).unwrap_or_else(|| panic!("{prefix} in {body}"));
    body[start..].split_whitespace().next().unwrap().trim_start_matches("http://minsheng.test").to_string()
}

/// Every page that shows user text, with `p` typed into every free-text field.
async fn every_page_keeps_it_inert(app: &TestApp, p: &str, phone: &str) {
    let code = app.card("李家庄村");
    let tail = &phone[7..];
    // The card page's form sent back with an error keeps what was typed: in the textarea and in
    // attribute values.
    let form = Form::new()
        .text("idempotency_key", uuid::Uuid::new_v4().to_string())
        .text("category", "water")
        .text("description", p.to_string())
        .text("phone", "123")
        .text("name", p.to_string())
        .text("address", p.to_string());
    let r = app.client.post(app.url(&format!("/c/{code}"))).multipart(form).send().await.unwrap();
    assert_inert("the card page with a field error", &text_of(r, StatusCode::UNPROCESSABLE_ENTITY).await, p, 3);

    // Filed with the text in description, name and address; worked on with it in every note.
    let mut body = app.intake_body("李家庄村", phone);
    body["description"] = json!(p);
    body["name"] = json!(p);
    body["address"] = json!(p);
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<serde_json::Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di, ca) = (app.token("operator").await, app.token("dispatcher").await, app.token("lijiazhuang").await);
    app.act_ok(&op, &no, "register", json!({"note": p})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit, "note": p})).await;
    let work = link_in_sms(app, &no, "assignment", "http://minsheng.test/w/").await;
    app.act_ok(&ca, &no, "accept", json!({"note": p})).await;
    app.act_ok(&ca, &no, "progress", json!({"note": p})).await;
    app.act_ok(&di, &no, "urge", json!({"note": p})).await;
    // The cadre's order page: description, name, address and the progress note on the timeline.
    assert_inert("the cadre's order page", &page(app, &work).await, p, 4);
    assert_inert("the cadre's call page", &page(app, &format!("{work}/call")).await, p, 1);
    // Asking to escalate from the page (a reason the page does not show).
    let escalate = Form::new().text("reason", p.to_string());
    let r = app.client.post(app.url(&format!("{work}/escalate"))).multipart(escalate).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_inert("the order page after an escalation request", &page(app, &work).await, p, 4);
    app.act_ok(&ca, &no, "resolve", json!({"result": p})).await;
    // Tracking: the progress note and the result.
    assert_inert("the tracking page", &page(app, &format!("/t/{no}?phone_tail={tail}")).await, p, 2);
    assert_inert("the resolved order page", &page(app, &work).await, p, 5);
    // Rating: the result on the page, then a comment.
    let rate = link_in_sms(app, &no, "rating_request", "http://minsheng.test/r/").await;
    assert_inert("the rating page", &page(app, &rate).await, p, 1);
    let form = format!(
        "satisfaction=dissatisfied&comment={}",
        percent_encoding::utf8_percent_encode(p, percent_encoding::NON_ALPHANUMERIC)
    );
    let r = app
        .client
        .post(app.url(&rate))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_inert("the rating's thank-you page", &text_of(r, StatusCode::CREATED).await, p, 0);
    assert_inert("the tracking page after the rating", &page(app, &format!("/t/{no}?phone_tail={tail}")).await, p, 2);

    // A repeated request goes to the village council, whose decision is public.
    let again = app.file("李家庄村", phone).await;
    app.refer(&again, p).await;
    app.council_signs(&again, "李家庄村").await;
    app.act_ok(&di, &again, "council_decision", json!({"decision": p})).await;
    assert_inert(
        "the tracking page of a council decision",
        &page(app, &format!("/t/{again}?phone_tail={tail}")).await,
        p,
        1,
    );
    let rate = link_in_sms(app, &again, "rating_request", "http://minsheng.test/r/").await;
    assert_inert("the rating page of a council decision", &page(app, &rate).await, p, 1);

    // Not accepted: the reason is shown to the requester.
    let refused = app.file("李家庄村", phone).await;
    app.act_ok(&op, &refused, "invalid", json!({"reason": p})).await;
    assert_inert(
        "the tracking page of a refused request",
        &page(app, &format!("/t/{refused}?phone_tail={tail}")).await,
        p,
        1,
    );
}

#[tokio::test]
async fn markup_typed_into_any_field_is_shown_escaped_on_every_page() {
    let app = spawn_app().await;
    // The card's contacts, edited by an admin, on the card page.
    let admin = app.token("admin").await;
    let code = app.card("李家庄村");
    let contacts = json!([{"post": CONTACT_POST, "name": CONTACT_NAME, "phone": "13900000301"}]);
    let r = app
        .client
        .patch(app.url(&format!("/api/v1/cards/{code}")))
        .bearer_auth(&admin)
        .json(&json!({"contacts": contacts}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let card = page(&app, &format!("/c/{code}")).await;
    assert_inert("the card page (contact name)", &card, CONTACT_NAME, 1);
    assert_inert("the card page (contact post)", &card, CONTACT_POST, 1);

    every_page_keeps_it_inert(&app, SCRIPT, "13812340001").await;
    every_page_keeps_it_inert(&app, BREAKOUT, "13812340002").await;
}
