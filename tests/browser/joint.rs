//! 联合办理 in the console (issue 20 point 3): dispatched with assisting units on an office screen,
//! a part reported on a phone, a part released, the lead's resolution refused until then — checked
//! against the ledger afterwards.
use crate::helpers::spawn_app;
use crate::run_spec;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_joint_order_is_dispatched_reported_released_and_resolved_in_the_console() {
    let app = spawn_app().await;
    let no = app.file("李家庄村", "13812340061").await;
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let base = app.addr.clone();
    let env = vec![("TICKET_NO", no.clone())];
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "console_joint", &env)).await.unwrap();
    println!("console_joint: {}s in the browser", result["seconds"]);
    let t = app.ticket(&op, &no).await;
    assert_eq!(t["status"], "resolved");
    let steps: Vec<(String, String)> = t["events"].as_array().unwrap()[2..]
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("dispatch", "陈刚"),
        ("accept", "马建国"),
        ("assist_report", "朱安居"),
        ("assist_release", "陈刚"),
        ("resolve", "马建国"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(steps, expected, "one event per step, by the right people; the refused resolve wrote none");
    let parts = t["assisting"].as_array().unwrap();
    let state = |unit: &str| parts.iter().find(|p| p["unit"]["name"] == unit).unwrap()["status"].clone();
    assert_eq!((state("县住房和城乡建设局"), state("县水利局")), (json!("completed"), json!("released")));
    assert_eq!(t["events"].as_array().unwrap()[4]["note"], "已更换两段桥梁护栏");
}
