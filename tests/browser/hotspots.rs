//! 热点 → 未诉先办 (issue 17 point 4) in headless Chromium: the dispatcher goes from a hotspot to a
//! proactive ticket with the hotspot's requests linked; checked against the database afterwards.
use crate::helpers::spawn_app;
use crate::spec;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_turns_a_hotspot_into_a_proactive_ticket_with_its_requests_linked() {
    let app = spawn_app().await;
    let mut water = vec![];
    for phone in ["13800005001", "13800005002", "13800005003"] {
        water.push(app.file("李家庄村", phone).await);
    }
    // Another village's water request is not part of this hotspot.
    let elsewhere = app.file("王家湾村", "13800005004").await;
    let result = spec(&app.addr, "console_hotspots", vec![("EXPECTED_LINKS", water.len().to_string())]).await;
    let no = result["ticket_no"].as_str().unwrap();
    let mut linked: Vec<String> =
        result["linked"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    linked.sort();
    assert_eq!(linked, water);
    let q =
        format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND channel = 'proactive' AND requester_phone = ''");
    assert_eq!(app.count(&q).await, 1);
    let q = format!(
        "SELECT COUNT(*) FROM ticket_links l JOIN tickets p ON p.id = l.proactive_ticket_id WHERE p.no = '{no}'"
    );
    assert_eq!(app.count(&q).await, 3);
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, no).await;
    assert_eq!(t["status"], "registered");
    let mut first = t["events"][0]["data"]["linked_tickets"].as_array().unwrap().clone();
    first.sort_by_key(|v| v.as_str().unwrap().to_string());
    assert_eq!(json!(first), json!(water));
    assert!(app.ticket(&di, &elsewhere).await["proactive_ticket"].is_null());
    for w in &water {
        assert_eq!(app.ticket(&di, w).await["proactive_ticket"]["no"], no);
    }
}
