//! Cross-scope probes over every staff route the OpenAPI document lists (issue 21, point 5): staff of
//! one township (a village cadre, a grid cadre, the township's cadre and a person holding every
//! region role there) aim each route at the other township's ticket, upload, village, unit, staff,
//! council member, card and messages. Every answer is a refusal (403/404, or 422 for a body that is
//! refused before anything is looked up), carries no mark of the other township's request, and
//! nothing changes. Routes added later are probed too: a route the probe cannot place fails it.
use crate::helpers::{TestApp, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The other township's request: its text and phone must never reach a prober.
const SECRET: &str = "河口村探针机密：桥下暗管漏水";
const PHONE: &str = "13900007777";
const MASKED: &str = "139****7777";

/// What each kind of path parameter becomes: an object of 西河乡 (the other township).
struct Theirs {
    no: String,
    upload: String,
    village: i64,
    unit: i64,
    staff: i64,
    member: i64,
    card: String,
    outbox: i64,
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

async fn theirs(app: &TestApp) -> Theirs {
    let mut body = app.intake_body("河口村", PHONE);
    body["description"] = json!(SECRET);
    let r = app.intake(&body, Some("cross-scope-probe")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di, ca) = (app.token("operator").await, app.token("dispatcher").await, app.token("hekou").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("河口村村民委员会").await})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let upload = app.upload_png(&ca, (64, 48), [200, 30, 30]).await;
    app.act_ok(&ca, &no, "progress", json!({"note": "已联系施工队", "upload_ids": [upload]})).await;
    let village = app.region_id("河口村").await;
    let member = app.council("河口村").await[0];
    let staff = scalar(app, "SELECT id FROM staff WHERE username = 'hekou'").await;
    let outbox = scalar(
        app,
        &format!("SELECT MAX(o.id) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}'"),
    )
    .await;
    Theirs {
        no,
        upload,
        village,
        unit: app.unit_id("河口村村民委员会").await,
        staff,
        member,
        card: app.card("河口村"),
        outbox,
    }
}

/// The path with each parameter replaced by the other township's object; `None` for routes that are
/// not staff routes (public pages, villager routes, sign-in), which other suites probe.
fn aim(path: &str, t: &Theirs) -> Option<String> {
    const NOT_STAFF: [&str; 9] = [
        "/api/v1/auth/",
        "/api/v1/tickets/{no}/public",
        "/api/v1/tickets/{no}/rating",
        "/api/v1/tickets/{no}/wechat-subscriptions",
        "/api/v1/villages/{id}/notices",
        "/api/v1/me/tickets",
        "/api/v1/stream/",
        "/api/docs",
        "/api/openapi.json",
    ];
    if !path.starts_with("/api/v1/") || NOT_STAFF.iter().any(|p| path.starts_with(p)) {
        return None;
    }
    let id = if path.starts_with("/api/v1/uploads/") {
        t.upload.clone()
    } else if path.starts_with("/api/v1/regions/") || path.starts_with("/api/v1/villages/") {
        t.village.to_string()
    } else if path.starts_with("/api/v1/units/") {
        t.unit.to_string()
    } else if path.starts_with("/api/v1/staff/") {
        t.staff.to_string()
    } else if path.starts_with("/api/v1/outbox/") {
        t.outbox.to_string()
    } else {
        // Objects of the whole county (policies, screens, keys, reviews): theirs as much as anyone's.
        "1".to_string()
    };
    let aimed = path
        .replace("{no}", &t.no)
        .replace("{id}", &id)
        .replace("{code}", if path.starts_with("/api/v1/categories/") { "water" } else { &t.card })
        .replace("{member_id}", &t.member.to_string())
        .replace("{visit_id}", "1")
        .replace("{seq}", "1")
        .replace("{leave_id}", "1")
        .replace("{phone}", PHONE)
        .replace("{kind}", "staff")
        .replace("{year}", "2026")
        .replace("{action}", "progress");
    assert!(!aimed.contains('{'), "the probe does not know a parameter of {path}: add it");
    Some(aimed)
}

/// A body the route would take from someone allowed to (a refusal must come from who asks, not from
/// a malformed body): each edit or creation aimed at the other township.
fn body_for(method: &Method, path: &str, t: &Theirs) -> Value {
    let township = 12; // 西河乡
    match (method.as_str(), path) {
        ("PATCH", "/api/v1/cards/{code}") => json!({"hotline": "0311-87654321"}),
        ("PATCH", "/api/v1/villages/{id}/council/{member_id}") => json!({"active": false}),
        ("PATCH", _) => json!({"name": "越权探针"}),
        ("POST", "/api/v1/staff/{id}/leaves") => {
            json!({"from": "2026-12-20", "to": "2026-12-21", "reason": "越权探针"})
        }
        ("POST", "/api/v1/accountability/{id}/decide") => {
            json!({"status": "closed", "decision": "dismissed", "note": "越权探针"})
        }
        ("POST", "/api/v1/appeals/{id}/decide") => json!({"upheld": true, "note": "越权探针"}),
        ("POST", "/api/v1/categories") => json!({"code": "probe", "name": "越权探针"}),
        ("POST", "/api/v1/regions") => json!({"name": "越权探针村", "level": "village", "parent_id": township}),
        ("POST", "/api/v1/screens") => json!({"name": "越权探针", "region_id": township}),
        ("POST", "/api/v1/staff") => {
            json!({"username": "probe", "name": "越权探针", "roles": ["admin"], "region_id": township})
        }
        ("POST", "/api/v1/units") => json!({"name": "越权探针", "kind": "village", "region_id": t.village}),
        ("POST", "/api/v1/villages/{id}/council") => {
            json!({"name": "越权探针", "title": "老党员", "phone": "13900008888"})
        }
        ("POST", "/api/v1/tickets") => json!({"card_code": t.card, "category": "water.supply", "kind": "help",
            "description": "越权探针代人登记", "phone": "13900008888", "channel": "hotline"}),
        _ => json!({"note": "越权探针", "reason": "越权探针"}),
    }
}

/// Objects every member of staff may read wherever they work: a village's contact card (printed on
/// the village wall: officials' names and phones), the county's holiday calendar and its service
/// deadlines. They are still checked for the other township's request.
const COUNTY_WIDE: [&str; 3] = ["/api/v1/cards/{code}", "/api/v1/calendar/{year}", "/api/v1/sla-policies/{id}"];

/// Everything a refused probe must leave as it was, read as the county admin.
async fn snapshot(app: &TestApp, admin: &str, t: &Theirs) -> String {
    let mut out = String::new();
    for path in [
        format!("/api/v1/tickets/{}", t.no),
        "/api/v1/units".into(),
        "/api/v1/regions".into(),
        "/api/v1/staff?per_page=100".into(),
        "/api/v1/cards?per_page=100".into(),
        format!("/api/v1/villages/{}/council", t.village),
        "/api/v1/sla-policies".into(),
        "/api/v1/categories".into(),
        "/api/v1/screens".into(),
        "/api/v1/open311/keys".into(),
        "/api/v1/sms/opt-outs".into(),
    ] {
        let r = app.get(&path, Some(admin)).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        out.push_str(&r.text().await.unwrap());
    }
    for table in ["tickets", "events", "outbox", "assignments", "uploads", "audit_log", "return_visits", "staff_leaves"]
    {
        out.push_str(&format!("{table}={};", app.count(&format!("SELECT COUNT(*) FROM {table}")).await));
    }
    out
}

fn leaks(body: &str, t: &Theirs) -> Vec<&'static str> {
    let mut found = vec![];
    if body.contains(SECRET) {
        found.push("the request's text");
    }
    if body.contains(PHONE) || body.contains(MASKED) {
        found.push("the requester's phone");
    }
    if body.contains(&t.no) {
        found.push("the ticket number");
    }
    found
}

#[tokio::test]
async fn every_staff_route_refuses_the_other_townships_objects_and_leaks_nothing() {
    let app = spawn_app().await;
    let t = theirs(&app).await;
    let admin = app.token("admin").await;
    let doc: Value = app.get("/api/openapi.json", None).await.json().await.unwrap();
    let probers = [
        ("李家庄村 cadre", app.token("lijiazhuang").await),
        ("李家庄村 grid cadre", app.token("wg-lijiazhuang").await),
        ("东坝镇 cadre", app.token("dongba").await),
        (
            "东坝镇 every region role",
            app.add_staff("dongba-all", "东坝镇工作人员", "operator,dispatcher,caller,leader,inspector", "东坝镇")
                .await,
        ),
    ];
    let before = snapshot(&app, &admin, &t).await;
    assert_eq!(snapshot(&app, &admin, &t).await, before, "the snapshot is stable");
    let mut table: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = vec![];
    let mut probed = 0;
    for (path, ops) in doc["paths"].as_object().unwrap() {
        let Some(aimed) = aim(path, &t) else { continue };
        for method in ops.as_object().unwrap().keys() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            for (who, token) in &probers {
                // Lists take the other township as their region: refused, or nothing of it shown.
                let url = if aimed.contains(&t.no) || method != Method::GET {
                    aimed.clone()
                } else {
                    format!("{aimed}?region_id={}", t.village)
                };
                let mut rb = app.client.request(method.clone(), app.url(&url)).bearer_auth(token);
                if method != Method::GET && method != Method::DELETE {
                    rb = rb.json(&body_for(&method, path, &t));
                }
                let r = rb.send().await.unwrap();
                let status = r.status();
                let body = String::from_utf8_lossy(&r.bytes().await.unwrap()).to_string();
                probed += 1;
                table.entry(format!("{method} {path}")).or_default().push(format!("{who}: {}", status.as_u16()));
                let names_theirs = path.contains('{') && !COUNTY_WIDE.contains(&path.as_str());
                let refused =
                    matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::UNPROCESSABLE_ENTITY);
                if status.is_server_error() || (names_theirs && !refused) {
                    failures.push(format!("{who} {method} {url} → {status}: {body:.200}"));
                }
                let leaked = leaks(&body, &t);
                if !leaked.is_empty() {
                    failures.push(format!("{who} {method} {url} → {status} shows {leaked:?}"));
                }
                if status.is_client_error() && !body.is_empty() {
                    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                    if !v["error"]["code"].is_string() || !v["error"]["message"].is_string() {
                        failures
                            .push(format!("{who} {method} {url} → {status} without the error envelope: {body:.200}"));
                    }
                }
            }
        }
    }
    for (route, answers) in &table {
        eprintln!("{route}: {}", answers.join(", "));
    }
    eprintln!("cross-scope probes: {probed} requests over {} staff routes", table.len());
    assert!(failures.is_empty(), "{} probes got through:\n{}", failures.len(), failures.join("\n"));
    assert!(table.len() >= 80, "only {} staff routes probed", table.len());
    assert_eq!(snapshot(&app, &admin, &t).await, before, "a refused probe changed something");
    // The other township's own cadre still sees everything (the objects were real).
    let theirs_view = app.ticket(&app.token("hekou").await, &t.no).await;
    assert_eq!(theirs_view["description"], SECRET);
}

#[tokio::test]
async fn an_upload_or_link_of_one_ticket_cannot_open_another_tickets_files() {
    let app = spawn_app().await;
    let t = theirs(&app).await;
    let mine = app.to_accepted("李家庄村", "lijiazhuang", "13812345678").await;
    let cadre = app.token("lijiazhuang").await;
    let my_link = {
        let sms = app.sent_body(&mine, "assignment").await;
        let start = sms.find("/w/").unwrap();
        sms[start..].split_whitespace().next().unwrap().to_string()
    };
    let png_of = |r: reqwest::Response| async move {
        let status = r.status();
        let ct = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        (status, ct)
    };
    // Their upload through my ticket, my link, or directly: not found, and no image served.
    for path in [
        format!("/api/v1/tickets/{mine}/uploads/{}", t.upload),
        format!("/api/v1/uploads/{}", t.upload),
        format!("/api/v1/tickets/{}/uploads/{}", t.no, t.upload),
    ] {
        let (status, ct) = png_of(app.get(&path, Some(&cadre)).await).await;
        assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{path}: {status}");
        assert!(!ct.starts_with("image/"), "{path} served an image");
    }
    let (status, ct) = png_of(app.get(&format!("{my_link}/files/{}", t.upload), None).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "my link, their file");
    assert!(!ct.starts_with("image/"));
    // Their own cadre opens it (the probe used a real upload).
    let owner = app.token("hekou").await;
    let (status, ct) =
        png_of(app.get(&format!("/api/v1/tickets/{}/uploads/{}", t.no, t.upload), Some(&owner)).await).await;
    assert_eq!((status, ct.starts_with("image/")), (StatusCode::OK, true), "their cadre, their file");
    // Villagers' public page of my ticket does not serve their file either.
    let (status, ct) = png_of(app.get(&format!("/t/{mine}/media/{}", t.upload), None).await).await;
    assert!(status.is_client_error(), "/t/ media: {status}");
    assert!(!ct.starts_with("image/"));
    // My link cannot act on their ticket: the link names its order, the path cannot change it.
    let written = app.written().await;
    let r = crate::worklink::post_form(&app, &format!("{my_link}/progress"), &[("note", "越权探针")], &[]).await;
    assert!(r.status().is_success() || r.status().is_redirection(), "my link acts on mine: {}", r.status());
    let sql = format!(
        "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{}' AND e.action = 'progress'",
        t.no
    );
    assert_eq!(app.count(&sql).await, 1, "their ticket has only its own progress report");
    assert_ne!(app.written().await, written, "my own report was written");
}
