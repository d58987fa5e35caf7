//! The staff console and the cadre's order page in headless Chromium (issue 7), checked against the
//! database afterwards.
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::run_spec;
use chrono::Duration;
use serde_json::{Value, json};

async fn spec(app: &TestApp, name: &'static str, env: Vec<(&'static str, String)>) -> Value {
    let base = app.addr.clone();
    tokio::task::spawn_blocking(move || run_spec(&base, name, &env)).await.unwrap()
}

async fn registered(app: &TestApp, village: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    no
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_works_the_list_and_a_cadre_signs_on_a_phone() {
    let app = spawn_app().await;
    // One order whose response deadline has passed, one waiting for dispatch.
    let late = registered(&app, "王家湾村", "13812340001").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&di, &late, "dispatch", json!({"unit_id": app.unit_id("王家湾村村民委员会").await})).await;
    app.state.time.advance(Duration::hours(3));
    let fresh = registered(&app, "李家庄村", "13812340002").await;
    let env = vec![
        ("NO_OVERDUE", late.clone()),
        ("NO_REGISTERED", fresh.clone()),
        ("UNIT_NAME", "李家庄村村民委员会".into()),
    ];
    spec(&app, "console_orders", env).await;
    let t = app.ticket(&di, &fresh).await;
    assert_eq!(t["status"], "accepted");
    let actions: Vec<(&str, &str)> = t["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions[2..],
        [("dispatch", "陈刚"), ("accept", "李长河"), ("escalate_request", "李长河")],
        "one event per action, by the right people"
    );
    assert_eq!(t["assignment"]["escalation_request"]["pending"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_a_call_starts_empty_finds_the_callers_earlier_requests_and_errs_inline() {
    let app = spawn_app().await;
    let phone = "13812345678";
    let earlier = app.file("石桥村", phone).await;
    let env = vec![("PHONE", phone.to_string()), ("EARLIER_NO", earlier.clone())];
    let result = spec(&app, "console_register", env).await;
    let no = result["ticket_no"].as_str().unwrap();
    let q = format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND channel = 'hotline' AND status = 'registered'");
    assert_eq!(app.count(&q).await, 1);
    let q = format!("SELECT COUNT(*) FROM tickets WHERE requester_phone = '{phone}'");
    assert_eq!(app.count(&q).await, 2, "the earlier request and this one: the refused try wrote nothing");
    let q = format!(
        "SELECT COUNT(*) FROM tickets t JOIN regions r ON r.id = t.region_id WHERE t.no = '{no}' AND r.name = '石桥村' AND t.category_code = 'roads.lights'"
    );
    assert_eq!(app.count(&q).await, 1, "the village and category the operator chose");
}

/// The work list's tabs as the console should show them, from the API's counts.
async fn expected_tabs(app: &TestApp, token: &str) -> Value {
    let c: Value = app.get("/api/v1/tickets/counts", Some(token)).await.json().await.unwrap();
    let n = |k: &str| c[k].as_i64().unwrap();
    let first_page: Value =
        app.get("/api/v1/tickets?sort=-created_at&page=1&per_page=20", Some(token)).await.json().await.unwrap();
    json!({
        "tabs": {
            "all": n("total"), "submitted": n("submitted"), "registered": n("registered"),
            "handling": n("dispatched") + n("accepted") + n("in_progress") + n("reopened"),
            "late": n("late"), "resolved": n("resolved"), "paused": n("paused"), "pause_pending": n("pause_pending"),
            "refer_pending": n("refer_pending"),
        },
        "overdue": n("overdue"),
        // The work list opens on its first page (20 rows, newest first): the overdue rows it shows.
        "overdue_on_first_page": first_page["items"].as_array().unwrap().iter().filter(|r| r["overdue"] == true).count(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_work_list_has_tabs_with_counts_overdue_rows_sorting_and_a_chinese_date_picker() {
    let app = spawn_app().await;
    minsheng::demo::seed_orders(&app.state).await.unwrap();
    let di = app.token("dispatcher").await;
    let expected = expected_tabs(&app, &di).await;
    assert!(
        expected["overdue"].as_i64().unwrap() >= 2 && expected["tabs"]["late"].as_i64().unwrap() >= 5,
        "{expected}"
    );
    let result = spec(&app, "console_worklist", vec![("EXPECTED", expected.to_string())]).await;
    assert_eq!(result["tabs"]["all"], "24");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatch_form_suggests_the_unit_and_orders_are_redirected_or_withdrawn_before_acceptance() {
    let app = spawn_app().await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    let body = json!({"region_id": app.region_id("杏花村").await, "channel": "hotline", "category": "wages",
                      "kind": "help", "description": "在县城工地干了半年活，老板拖欠工资", "phone": "13812340021"});
    let r: Value = app.post("/api/v1/tickets", Some(&op), &body).await.json().await.unwrap();
    let wages = r["ticket_no"].as_str().unwrap().to_string();
    let redirect = registered(&app, "李家庄村", "13812340022").await;
    app.act_ok(&di, &redirect, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let withdraw = registered(&app, "王家湾村", "13812340023").await;
    app.act_ok(&di, &withdraw, "dispatch", json!({"unit_id": app.unit_id("王家湾村村民委员会").await})).await;
    let env = vec![("NO_WAGES", wages.clone()), ("NO_REDIRECT", redirect.clone()), ("NO_WITHDRAW", withdraw.clone())];
    spec(&app, "console_dispatch", env).await;

    let t = app.ticket(&di, &wages).await;
    assert_eq!(t["assignment"]["unit"]["name"], "县人力资源和社会保障局");
    assert_eq!(since(&t, 2), pairs(&[("dispatch", "陈刚")]));
    let t = app.ticket(&di, &redirect).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    assert_eq!(since(&t, 3), pairs(&[("redirect", "陈刚")]), "one event, by the dispatcher");
    assert_eq!(events(&t).last().unwrap()["note"], "该路段属镇里管护，应由镇政府办理");
    let t = app.ticket(&di, &withdraw).await;
    assert_eq!(t["status"], "registered");
    assert_eq!(since(&t, 3), pairs(&[("withdraw", "陈刚")]));
    for (no, phone) in [(&redirect, "13900000301"), (&withdraw, "13900000302")] {
        let q = format!(
            "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'recall' AND o.recipient = '{phone}'"
        );
        assert_eq!(app.count(&q).await, 1, "{no}: the village cadre told by SMS");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM assignments WHERE status = 'superseded'").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_link_the_staff_pages_show_opens_a_built_page() {
    let app = spawn_app().await;
    let result = spec(&app, "console_links", vec![]).await;
    let links: Vec<&str> = result["links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    for expected in ["/console/#/", "/console/#/new", "/console/visits", "/console/#/unreachable", "/console/#/sla"] {
        assert!(links.contains(&expected), "{expected} in {links:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_resolves_from_the_sms_link_with_photos() {
    let dir = std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    let upload_dir = dir.to_string_lossy().into_owned();
    let app = spawn_app_with(move |s| s.application.upload_dir = upload_dir).await;
    let no = registered(&app, "李家庄村", "13812345678").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    let body = app.sent_body(&no, "assignment").await;
    let link = body[body.find("/w/").unwrap()..].split_whitespace().next().unwrap().to_string();
    let photo = std::env::temp_dir().join(format!("minsheng-photo-{}.png", uuid::Uuid::new_v4().simple()));
    std::fs::write(&photo, PNG).unwrap();
    spec(&app, "cadre_order_page", vec![("LINK", link), ("PHOTO", photo.to_string_lossy().into_owned())]).await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["uploads"].as_array().unwrap().len(), 2);
    let q = format!("SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id WHERE t.no = '{no}'");
    assert_eq!(app.count(&q).await, 2);
    let _ = std::fs::remove_file(photo);
}

/// The app with uploads in a directory of its own (removed with the test's temp files).
async fn app_with_uploads() -> TestApp {
    let dir = std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    let upload_dir = dir.to_string_lossy().into_owned();
    spawn_app_with(move |s| s.application.upload_dir = upload_dir).await
}

/// A 640×480 JPEG, as a cadre's phone would send after shrinking.
fn site_photo() -> String {
    let img = image::ImageBuffer::from_fn(640, 480, |x, y| image::Rgb([(x / 3 % 256) as u8, (y / 2 % 256) as u8, 140]));
    let path = std::env::temp_dir().join(format!("ms-site-{}.jpg", uuid::Uuid::new_v4().simple()));
    image::DynamicImage::ImageRgb8(img).save(&path).unwrap();
    path.to_string_lossy().into_owned()
}

fn events(t: &Value) -> Vec<Value> {
    t["events"].as_array().unwrap().clone()
}

/// The (action, actor) of the events after the first `before`.
fn since(t: &Value, before: usize) -> Vec<(String, String)> {
    events(t)[before..]
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// Upload ids an event carries as evidence.
fn evidence(e: &Value) -> Vec<String> {
    e["data"]["upload_ids"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_desk_and_handling_action_is_taken_in_the_console_by_the_right_people() {
    let app = app_with_uploads().await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    // 退单: an order dispatched to the village, not yet signed for.
    let ret = registered(&app, "李家庄村", "13812340001").await;
    app.act_ok(&di, &ret, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    // 催办 and the escalation request: an order the village cadre holds.
    let esc = app.to_accepted("王家湾村", "wangjiawan", "13812340002").await;
    // Progress and result with photos, then 重办.
    let res = app.to_accepted("石桥村", "shiqiao", "13812340003").await;
    // 下交: the same phone, village and category twice within 30 days; the second is registered and
    // merged into the first.
    let first = registered(&app, "河口村", "13812340004").await;
    let second = app.file("河口村", "13812340004").await;
    // 作废: a call that is no request.
    let junk = app.file("柳树沟村", "13812340005").await;
    // 河口村's council (三老合议), whose members sign the referral.
    let village = app.region_id("河口村").await;
    let admin = app.token("admin").await;
    for (name, title) in [("赵德胜", "老党员"), ("赵月英", "老教师"), ("孙河清", "老干部")] {
        let r = app
            .post(&format!("/api/v1/villages/{village}/council"), Some(&admin), &json!({"name": name, "title": title}))
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    let mut before = std::collections::HashMap::new();
    for no in [&ret, &esc, &res, &first, &second, &junk] {
        before.insert(no.clone(), events(&app.ticket(&di, no).await).len());
    }
    let photo = site_photo();
    let env = vec![
        ("NO_RETURN", ret.clone()),
        ("NO_ESCALATE", esc.clone()),
        ("NO_RESOLVE", res.clone()),
        ("NO_REPEAT_FIRST", first.clone()),
        ("NO_REPEAT_SECOND", second.clone()),
        ("NO_JUNK", junk.clone()),
        ("PHOTO", photo.clone()),
    ];
    let result = spec(&app, "console_actions", env).await;
    println!("console_actions: {}s in the browser", result["seconds"]);
    let _ = std::fs::remove_file(photo);

    let t = app.ticket(&di, &ret).await;
    assert_eq!(t["status"], "registered");
    assert_eq!(since(&t, before[&ret]), pairs(&[("return", "李长河")]), "one event, by the cadre");
    assert_eq!(events(&t).last().unwrap()["note"], "该路段属县道，不属于村委会管护范围，请改派县交通运输局");
    assert!(t["assignment"].is_null(), "the assignment ended");
    assert_eq!(evidence(events(&t).last().unwrap()).len(), 1, "the return carries its photo");

    let t = app.ticket(&di, &esc).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(
        since(&t, before[&esc]),
        pairs(&[
            ("urge", "孙伟"),
            ("escalate_request", "王秀英"),
            ("escalate_refuse", "陈刚"),
            ("escalate_request", "王秀英"),
            ("escalate", "陈刚"),
        ])
    );
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    assert_eq!(
        events(&t).last().unwrap()["note"],
        "已与上游村协商三次未果，需镇里协调",
        "the request's reason is used"
    );
    let q = format!(
        "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{esc}' AND o.kind = 'urge'"
    );
    assert_eq!(app.count(&q).await, 1, "the urge went out by SMS");

    let t = app.ticket(&di, &res).await;
    assert_eq!(t["status"], "reopened");
    assert_eq!(since(&t, before[&res]), pairs(&[("progress", "张德顺"), ("resolve", "张德顺"), ("reopen", "陈刚")]));
    let new = &events(&t)[before[&res]..];
    let (p, r) = (evidence(&new[0]), evidence(&new[1]));
    assert_eq!((p.len(), r.len()), (1, 1), "one photo with the progress, one with the result");
    assert!(evidence(&new[2]).is_empty());
    let listed: Vec<&str> = t["uploads"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(listed, [p[0].as_str(), r[0].as_str()], "the detail lists both photos");
    let q = format!("SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id WHERE t.no = '{res}'");
    assert_eq!(app.count(&q).await, 2, "both uploads linked to the ticket");

    let t = app.ticket(&di, &first).await;
    assert_eq!(t["status"], "resolved");
    assert_eq!(
        since(&t, before[&first]),
        pairs(&[
            ("refer", "陈刚"),
            ("refer_approve", "孙伟"),
            ("council_sign", "刘敏"),
            ("council_sign", "刘敏"),
            ("council_sign", "刘敏"),
            ("council_decision", "刘敏")
        ])
    );
    assert_eq!(events(&t)[before[&first] + 1]["data"]["council"], "河口村村民议事会");
    assert_eq!(events(&t).last().unwrap()["data"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(evidence(events(&t).last().unwrap()).len(), 1, "the council's minutes attached");
    assert_eq!(t["uploads"].as_array().unwrap().len(), 1);
    assert_eq!(t["merged_from"], json!([second.clone()]));

    let t = app.ticket(&op, &second).await;
    assert_eq!(t["status"], "merged");
    assert_eq!(
        since(&t, before[&second]),
        pairs(&[("register", "刘敏"), ("merge", "刘敏")]),
        "refused numbers leave no event"
    );
    assert_eq!(t["priority"], "urgent");
    assert_eq!(events(&t).last().unwrap()["data"]["into"], first.as_str());

    let t = app.ticket(&op, &junk).await;
    assert_eq!(t["status"], "invalid");
    assert_eq!(since(&t, before[&junk]), pairs(&[("invalid", "刘敏")]));
    assert_eq!(events(&t).last().unwrap()["note"], "来电内容与本县无关，经核实为误拨");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_parties_sign_off_in_the_console_before_the_dispatcher_closes() {
    let app = app_with_uploads().await;
    // Land disputes need four-party sign-off in the demo's policies.
    let mut body = app.intake_body("杏花村", "13812340006");
    body["category"] = json!("land");
    body["description"] = json!("与邻居宅基地界址有争议，希望村里调解");
    let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
    let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di, ca) = (app.token("operator").await, app.token("dispatcher").await, app.token("xinghua").await);
    let t = app.act_ok(&op, &no, "register", json!({})).await;
    assert_eq!(t["signoff_required"], true);
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("杏花村村民委员会").await})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let t = app.act_ok(&ca, &no, "resolve", json!({"result": "村委会组织双方调解，达成协议"})).await;
    let before = events(&t).len();
    let photo = site_photo();
    let result = spec(&app, "console_signoff", vec![("TICKET_NO", no.clone()), ("PHOTO", photo.clone())]).await;
    println!("console_signoff: {}s in the browser", result["seconds"]);
    let _ = std::fs::remove_file(photo);

    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "closed");
    assert_eq!(
        since(&t, before),
        pairs(&[
            ("return_visit", "赵丽"),
            ("signoff", "赵丽"),
            ("signoff", "孙伟"),
            ("signoff", "吴国强"),
            ("signoff", "杜春花"),
            ("close", "陈刚"),
        ]),
        "one event per action, by the right people"
    );
    let new = &events(&t)[before..];
    let parties: Vec<&str> = new[1..5].iter().map(|e| e["data"]["party"].as_str().unwrap()).collect();
    assert_eq!(parties, ["requester", "leader", "principal", "handler"]);
    assert_eq!(evidence(&new[2]).len(), 1, "the leader's sign-off carries the photo");
    assert!(t["signoffs"].as_array().unwrap().iter().all(|s| s["signed"] == true));
    assert_eq!(t["uploads"][0]["id"].as_str().unwrap(), evidence(&new[2])[0]);
    let q = format!("SELECT COUNT(*) FROM uploads u JOIN tickets t ON t.id = u.ticket_id WHERE t.no = '{no}'");
    assert_eq!(app.count(&q).await, 1);
    assert_eq!(t["return_visits"][0]["satisfaction"], "satisfied");
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0D, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0xF8, 0xCF, 0xC0, 0xF0, 0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x89, 0x99, 0x3D,
    0x1D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_once_and_the_rotated_refresh_token_kept() {
    let app = spawn_app().await;
    let no = registered(&app, "杏花村", "13812340011").await;
    let families =
        "SELECT COUNT(*) FROM refresh_families f JOIN staff s ON s.id = f.staff_id WHERE s.username = 'dispatcher'";
    let before = app.count(families).await;
    let result = spec(&app, "console_refresh", vec![("TICKET_NO", no)]).await;
    assert_eq!(result["refreshes"], 2);
    // One login, never revoked: parallel refreshes with one token would have ended it.
    assert_eq!(app.count(families).await, before + 1);
    let revoked = format!("{families} AND f.revoked_at IS NOT NULL");
    assert_eq!(app.count(&revoked).await, 0);
}
