//! 挂起 in the console (issue 20 point 1): asked on a phone, approved by a leader on an office
//! screen, resumed — checked against the ledger and the deadlines afterwards.
use crate::helpers::spawn_app;
use crate::run_spec;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cadre_asks_a_leader_approves_and_the_cadre_resumes_a_pause_in_the_console() {
    let app = spawn_app().await;
    let no = app.to_accepted("李家庄村", "lijiazhuang", "13812340001").await;
    let leader = app.token("leader").await;
    let before = app.ticket(&leader, &no).await["assignment"]["resolve_by"].clone();
    let base = app.addr.clone();
    let env = vec![("TICKET_NO", no.clone())];
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "console_pause", &env)).await.unwrap();
    println!("console_pause: {}s in the browser", result["seconds"]);
    let t = app.ticket(&leader, &no).await;
    assert_eq!(t["status"], "in_progress");
    let since: Vec<(String, String)> = t["events"].as_array().unwrap()[4..]
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> =
        [("pause_request", "李长河"), ("pause_approve", "孙伟"), ("resume", "李长河")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(since, expected, "one event per step, by the right people");
    let events = t["events"].as_array().unwrap();
    assert_eq!(events[4]["note"], "需等秋收后大型机械进场施工");
    assert_eq!(events[5]["data"]["remark"], "同意挂起");
    // Resumed within the minute: the deadline moved by the (short) pause only.
    let at = |v: &Value| v.as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let moved = at(&t["assignment"]["resolve_by"]) - at(&before);
    assert!(moved >= chrono::Duration::zero() && moved < chrono::Duration::minutes(5), "{moved}");
    assert_eq!(t["assignment"]["pause"]["decision"], json!("approved"));
}
