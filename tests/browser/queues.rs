//! The console's daily queues (issue 16 point 7) in headless Chromium: the SMS outbox (resend a
//! dead message), appeals (decide with a reason), free-text SMS replies (link to a ticket, file a
//! new one) and contact cards (batch PDF, revoke, issue), checked against the database afterwards.
use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::run_spec;
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

async fn spec(app: &TestApp, name: &'static str, env: Vec<(&'static str, String)>) -> Value {
    let base = app.addr.clone();
    tokio::task::spawn_blocking(move || run_spec(&base, name, &env)).await.unwrap()
}

async fn sql(app: &TestApp, statement: &str) {
    app.state.db.conn.execute_unprepared(statement).await.unwrap();
}

/// Pages of a PDF, as poppler's `pdfinfo` counts them.
fn pdf_pages(path: &str) -> i64 {
    let out = std::process::Command::new("pdfinfo").arg(path).output().expect("pdfinfo (poppler-utils)");
    assert!(out.status.success(), "pdfinfo {path}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text.lines().find(|l| l.starts_with("Pages:")).expect("a page count");
    line["Pages:".len()..].trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_resends_a_dead_message_from_the_outbox_page() {
    let app = spawn_app().await;
    // Two confirmations; one was given up after five tries.
    let no = app.file("石桥村", "13812345678").await;
    app.file("杏花村", "13812349999").await;
    let id = app
        .count(&format!(
            "SELECT o.id FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = 'confirmation'"
        ))
        .await;
    sql(
        &app,
        &format!(
            "UPDATE outbox SET status = 'dead', attempts = 5, provider = 'console', last_error = '网关超时（已重试5次）' WHERE id = {id}"
        ),
    )
    .await;
    let result = spec(&app, "console_outbox", vec![]).await;
    assert_eq!(result["resent"], id);
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM outbox WHERE id = {id} AND status = 'pending' AND attempts = 0"))
            .await,
        1
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE status = 'dead'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_decides_an_appeal_with_a_reason_and_the_inspector_only_reads() {
    let app = spawn_app().await;
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13800000008").await;
    let caller = app.token("caller").await;
    let v: Value = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&caller),
            &json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone", "comment": "水还是浑的"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let ca = app.token("lijiazhuang").await;
    let upload = app.upload_png(&ca, (64, 48), [30, 90, 200]).await;
    let r = app
        .post(
            &format!("/api/v1/return-visits/{}/appeals", v["visit_id"]),
            Some(&ca),
            &json!({"reason": "停水是县水厂检修造成的，已提供停水通知", "upload_ids": [upload]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let result = spec(&app, "console_appeals", vec![("TICKET_NO", no.clone())]).await;
    let reason = result["reason"].as_str().unwrap();
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM appeals WHERE status = 'rejected' AND decision_note = '{reason}' AND decided_by = (SELECT id FROM staff WHERE username = 'leader')"
        ))
        .await,
        1
    );
    let q = format!(
        "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}' AND e.action = 'appeal_decision' AND e.note = '{reason}'"
    );
    assert_eq!(app.count(&q).await, 1, "the decision and its reason are in the ledger");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM return_visits WHERE counted = TRUE").await,
        1,
        "a rejected appeal leaves the visit counted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_links_one_sms_reply_to_a_ticket_and_files_a_new_ticket_from_another() {
    let app = spawn_app_with(|s| s.sms.console.callback_secret = secrecy::SecretString::from("cb-token")).await;
    let linked_to = app.file("李家庄村", "13812340000").await;
    app.state.time.advance(chrono::Duration::minutes(5));
    for (phone, text) in
        // Neither names a village and neither phone filed before: the desk registers them (a text that
        // names one is filed by itself, see tests/api/sms_only.rs).
        [("13700001111", "村口的垃圾还没人清，我是昨天打电话的老李"), ("13700002222", "桥头路灯坏了一个星期")]
    {
        let r = app
            .client
            .post(app.url("/hooks/sms/console/inbound?token=cb-token"))
            .json(&json!({"phone": phone, "text": text}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["outcomes"], json!(["queued"]));
    }
    let result = spec(&app, "console_replies", vec![("TICKET_NO", linked_to.clone())]).await;
    let filed = result["filed"].as_str().unwrap();
    let q = format!(
        "SELECT COUNT(*) FROM sms_replies r JOIN tickets t ON t.id = r.handled_ticket_id WHERE r.phone = '13700001111' AND r.queue_status = 'done' AND r.handled_as = 'linked' AND t.no = '{linked_to}'"
    );
    assert_eq!(app.count(&q).await, 1, "the first reply is linked to the ticket");
    let q = format!(
        "SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{linked_to}' AND e.action = 'sms_reply' AND e.note = '村口的垃圾还没人清，我是昨天打电话的老李'"
    );
    assert_eq!(app.count(&q).await, 1, "and noted in its ledger");
    let q = format!(
        "SELECT COUNT(*) FROM sms_replies r JOIN tickets t ON t.id = r.handled_ticket_id WHERE r.phone = '13700002222' AND r.handled_as = 'filed' AND t.no = '{filed}' AND t.requester_phone = '13700002222' AND t.channel = 'sms' AND t.description = '桥头路灯坏了一个星期'"
    );
    assert_eq!(app.count(&q).await, 1, "the second reply records the ticket filed from it");
    assert_eq!(app.count("SELECT COUNT(*) FROM sms_replies WHERE queue_status = 'open'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_prints_the_county_and_a_township_revokes_and_issues_cards() {
    let app = spawn_app().await;
    let dir = std::env::temp_dir().join(format!("ms-cards-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let result = spec(&app, "console_cards", vec![("DOWNLOAD_DIR", dir.to_string_lossy().into_owned())]).await;
    // The county sheet holds every village's card, the township's only its own: the same pages as
    // the API gives for those regions, and more than one page for the county's 60 cards.
    let admin = app.token("admin").await;
    // (The county sheet was printed with 10 copies of each village's card: 60 cards.)
    for (file, region, copies) in [("county", "清河县", 10), ("township", "东坝镇", 1)] {
        let path = result[file].as_str().unwrap();
        let id = app.region_id(region).await;
        let url = format!("/api/v1/regions/{id}/cards.pdf?copies={copies}");
        let api = app.get(&url, Some(&admin)).await.bytes().await.unwrap();
        let direct = dir.join(format!("{file}-api.pdf"));
        std::fs::write(&direct, &api).unwrap();
        assert_eq!(pdf_pages(path), pdf_pages(&direct.to_string_lossy()), "{file}");
        println!("{file} sheet: {} pages, {} bytes", pdf_pages(path), std::fs::metadata(path).unwrap().len());
    }
    assert!(pdf_pages(result["county"].as_str().unwrap()) > pdf_pages(result["township"].as_str().unwrap()));
    let village = |status: &str| {
        format!(
            "SELECT COUNT(*) FROM cards c JOIN regions r ON r.id = c.region_id WHERE r.name = '河口村' AND c.status = '{status}'"
        )
    };
    assert_eq!(app.count(&village("revoked")).await, 1, "the old card was revoked");
    assert_eq!(app.count(&village("active")).await, 1, "and a new one issued");
    let q = "SELECT COUNT(*) FROM cards c JOIN regions r ON r.id = c.region_id WHERE r.name = '河口村' AND c.status = 'active' AND c.version = 2";
    assert_eq!(app.count(q).await, 1);
    std::fs::remove_dir_all(&dir).ok();
}
