//! 下交签批 and 三老合议 in the console (issue 20 point 7): the dispatcher asks, the leader approves on
//! an office screen, the operator records three signatures and the decision; the public notice page
//! on a phone. Checked against the ledger, the notice row and the cadres' messages afterwards.
use crate::helpers::spawn_app;
use crate::run_spec;
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_approves_the_refer_and_the_councils_decision_reaches_the_notice_page() {
    let app = spawn_app().await;
    let mut body = app.intake_body("河口村", "13812340001");
    body["name"] = json!("张三丰");
    let no = app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let (op, di, ca) = (app.token("operator").await, app.token("dispatcher").await, app.token("hekou").await);
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("河口村村民委员会").await})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.file("河口村", "13812340001").await; // the same request again: a repeat
    let village = app.region_id("河口村").await;
    let admin = app.token("admin").await;
    for (name, title) in [("赵德胜", "老党员"), ("赵月英", "老教师"), ("孙河清", "老干部")] {
        let r = app
            .post(&format!("/api/v1/villages/{village}/council"), Some(&admin), &json!({"name": name, "title": title}))
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    let base = app.addr.clone();
    let env = vec![("TICKET_NO", no.clone()), ("VILLAGE_ID", village.to_string())];
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "console_council", &env)).await.unwrap();
    println!("console_council: {}s in the browser", result["seconds"]);

    let leader = app.token("leader").await;
    let t = app.ticket(&leader, &no).await;
    assert_eq!(t["status"], "resolved");
    let since: Vec<(String, String)> = t["events"].as_array().unwrap()[4..]
        .iter()
        .map(|e| (e["action"].as_str().unwrap().to_string(), e["actor"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> = [
        ("refer", "陈刚"),
        ("refer_approve", "孙伟"),
        ("council_sign", "刘敏"),
        ("council_sign", "刘敏"),
        ("council_sign", "刘敏"),
        ("council_decision", "刘敏"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(since, expected, "one event per step, by the right people");
    let decision = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(decision["data"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(
        (decision["data"]["published"].as_bool(), decision["data"]["notify_cadres"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM council_notices").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM refer_requests WHERE decision = 'approved'").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'council_notice' AND recipient = '13900000306'").await,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_and_retires_council_members_and_a_leader_reads_them_masked() {
    let app = spawn_app().await;
    let base = app.addr.clone();
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "console_council_members", &[])).await.unwrap();
    println!("console_council_members: {}s in the browser", result["seconds"]);
    let village = app.region_id("河口村").await;
    let admin = app.token("admin").await;
    let v: Value = app.get(&format!("/api/v1/villages/{village}/council"), Some(&admin)).await.json().await.unwrap();
    let members: Vec<(String, String, Option<String>, bool)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_string(),
                m["title"].as_str().unwrap().to_string(),
                m["phone"].as_str().map(str::to_string),
                m["active"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        members,
        [
            ("赵月英".to_string(), "老教师".to_string(), None, true),
            ("赵德胜".to_string(), "老党员".to_string(), Some("13900001111".to_string()), false),
        ],
        "the serving members first, the retired one kept with its phone"
    );
}
