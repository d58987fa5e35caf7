//! Illegal transitions are 409 with a Chinese message and change nothing; concurrent actions race safely.
use crate::helpers::{error_of, spawn_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn illegal_actions_are_409_and_write_nothing() {
    let app = spawn_app().await;
    let no = app.file("杏花村", "13812345678").await;
    let di = app.token("dispatcher").await;
    let ca = app.token("xinghua").await;
    let unit = app.unit_id("杏花村村民委员会").await;
    // Not registered yet: cannot be dispatched.
    let e = error_of(app.act(&di, &no, "dispatch", json!({"unit_id": unit})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "illegal_transition");
    assert_eq!(e["message"], "工单当前状态为「已提交」，不能派单");
    let op = app.token("operator").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    // Cannot resolve before accepting; cannot close what is not visited.
    let e = error_of(app.act(&ca, &no, "resolve", json!({"result": "好了"})).await, StatusCode::CONFLICT).await;
    assert!(e["message"].as_str().unwrap().contains("已派单"));
    let e = error_of(app.act(&di, &no, "close", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "illegal_transition");
    let events = app.count("SELECT COUNT(*) FROM events").await;
    assert_eq!(events, 3);
    assert_eq!(app.ticket(&di, &no).await["status"], "dispatched");
    // Unknown action names are 404, required fields are named.
    assert_eq!(app.act(&di, &no, "explode", json!({})).await.status(), StatusCode::NOT_FOUND);
    app.act_ok(&ca, &no, "accept", json!({})).await;
    let e = error_of(app.act(&ca, &no, "resolve", json!({})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "result");
    let e = error_of(app.act(&ca, &no, "return", json!({"reason": " "})).await, StatusCode::BAD_REQUEST).await;
    assert_eq!(e["field"], "reason");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_at_once_one_wins_the_other_gets_409() {
    let app = std::sync::Arc::new(spawn_app().await);
    let second = app.add_staff("dispatcher2", "郑凯", "dispatcher", "清河县").await;
    let op = app.token("operator").await;
    let tokens = [app.token("dispatcher").await, second];
    let units = [app.unit_id("河口村村民委员会").await, app.unit_id("西河乡人民政府").await];
    // Several rounds, each a fresh ticket both dispatchers send at the same moment.
    for round in 0..5 {
        let no = app.file("河口村", &format!("1381234567{round}")).await;
        app.act_ok(&op, &no, "register", json!({})).await;
        let start = std::sync::Arc::new(tokio::sync::Barrier::new(2));
        let mut handles = vec![];
        for (token, unit) in tokens.iter().cloned().zip(units) {
            let (app, no, start) = (app.clone(), no.clone(), start.clone());
            handles.push(tokio::spawn(async move {
                start.wait().await;
                app.act(&token, &no, "dispatch", json!({"unit_id": unit})).await
            }));
        }
        let mut statuses = vec![];
        for h in handles {
            let r = h.await.unwrap();
            let status = r.status();
            if status == StatusCode::CONFLICT {
                let e: serde_json::Value = r.json().await.unwrap();
                assert!(e["error"]["message"].as_str().unwrap().contains("工单"), "a Chinese message: {e}");
            }
            statuses.push(status);
        }
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "round {round}");
        let t = format!("(SELECT id FROM tickets WHERE no = '{no}')");
        assert_eq!(app.count(&format!("SELECT COUNT(*) FROM assignments WHERE ticket_id = {t}")).await, 1);
        let dispatches = format!("SELECT COUNT(*) FROM events WHERE action = 'dispatch' AND ticket_id = {t}");
        assert_eq!(app.count(&dispatches).await, 1);
        let sms = format!("SELECT COUNT(*) FROM outbox WHERE kind = 'assignment' AND ticket_id = {t}");
        assert_eq!(app.count(&sms).await, 1, "the loser's SMS was rolled back with it");
    }
}

#[tokio::test]
async fn return_escalate_urge_and_the_other_actions_work() {
    let app = spawn_app().await;
    let no = app.to_accepted("柳树沟村", "liushugou", "13812345678").await;
    let ca = app.token("liushugou").await;
    let di = app.token("dispatcher").await;
    let leader = app.token("leader").await;
    // 退单: back to the dispatcher.
    let t = app.act_ok(&ca, &no, "return", json!({"reason": "不属于本村职责，涉及乡道"})).await;
    assert_eq!(t["status"], "registered");
    assert!(t["assignment"].is_null());
    // Dispatch again; the cadre asks to escalate and the dispatcher approves: it goes to the
    // township's lead unit.
    let unit = app.unit_id("柳树沟村村民委员会").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    let t = app.act_ok(&ca, &no, "escalate", json!({"reason": "需乡里协调资金"})).await;
    assert_eq!(t["assignment"]["unit"]["name"], "柳树沟村村民委员会");
    assert_eq!(t["assignment"]["escalation_request"]["pending"], true);
    let t = app.act_ok(&di, &no, "escalate", json!({})).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "西河乡人民政府");
    // The village cadre no longer holds it; the township cadre does. The leader urges.
    assert_eq!(app.act(&ca, &no, "accept", json!({})).await.status(), StatusCode::FORBIDDEN);
    let t = app.act_ok(&leader, &no, "urge", json!({"note": "群众反映强烈"})).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'urge'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'").await, 1);
    let township = app.token("xihe").await;
    app.act_ok(&township, &no, "accept", json!({})).await;
    // From the township office the next level is the county centre, and the county is the top.
    app.act_ok(&township, &no, "escalate", json!({"reason": "需县里统筹"})).await;
    let t = app.act_ok(&di, &no, "escalate", json!({})).await;
    assert_eq!(t["assignment"]["unit"]["name"], "县民生服务中心");
    let county = app.token("minsheng").await;
    let e = error_of(app.act(&county, &no, "escalate", json!({"reason": "再提"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "cannot_escalate");
    // Refer to the village council (it is a repeated request) and record its decision.
    app.file("柳树沟村", "13812345678").await;
    app.refer(&no, "重复诉求，提交三老合议").await;
    app.council_signs(&no, "柳树沟村").await;
    let t = app.act_ok(&di, &no, "council_decision", json!({"decision": "合议决定：由村集体出资修复"})).await;
    assert_eq!(t["status"], "resolved");
}

#[tokio::test]
async fn merge_invalid_signoff_and_reopen() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let a = app.file("李家庄村", "13812345678").await;
    let b = app.file("李家庄村", "13812345679").await;
    let c = app.file("李家庄村", "13812345670").await;
    let t = app.act_ok(&op, &b, "merge", json!({"into": a})).await;
    assert_eq!(t["status"], "merged");
    assert_eq!(t["merged_into"], a.as_str());
    let e = error_of(app.act(&op, &c, "merge", json!({"into": c})).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(e["field"], "into");
    let t = app.act_ok(&op, &c, "invalid", json!({"reason": "测试信息"})).await;
    assert_eq!(t["status"], "invalid");

    // A land dispute needs four-party sign-off before it can be closed.
    let land = json!({"card_code": app.card("李家庄村"), "category": "land", "description": "宅基地边界与邻居有争议", "phone": "13812340009"});
    let no = app.intake(&land, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    app.act_ok(&op, &no, "register", json!({})).await;
    let di = app.token("dispatcher").await;
    let ca = app.token("lijiazhuang").await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id("李家庄村村民委员会").await})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "双方已达成协议"})).await;
    let cl = app.token("caller").await;
    let v: Value = app
        .post(
            &format!("/api/v1/tickets/{no}/return-visits"),
            Some(&cl),
            &json!({"reached": true, "solved": "yes", "satisfaction": "basically_satisfied", "channel": "visit"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["ticket"]["status"], "visited", "sign-off needed, so not closed yet");
    let e = error_of(app.act(&di, &no, "close", json!({})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "signoff_missing");
    let leader = app.token("leader").await;
    app.act_ok(&cl, &no, "signoff", json!({"party": "requester"})).await;
    app.act_ok(&ca, &no, "signoff", json!({"party": "handler"})).await;
    app.act_ok(&leader, &no, "signoff", json!({"party": "leader"})).await;
    assert_eq!(
        error_of(app.act(&leader, &no, "signoff", json!({"party": "leader"})).await, StatusCode::CONFLICT).await["code"],
        "already_signed"
    );
    assert_eq!(app.act(&ca, &no, "signoff", json!({"party": "principal"})).await.status(), StatusCode::FORBIDDEN);
    let e = error_of(app.act(&leader, &no, "signoff", json!({"party": "principal"})).await, StatusCode::CONFLICT).await;
    assert_eq!(e["code"], "signer_already_signed");
    let principal = app.token("principal").await;
    app.act_ok(&principal, &no, "signoff", json!({"party": "principal"})).await;
    assert_eq!(app.act_ok(&di, &no, "close", json!({})).await["status"], "closed");
    // Closed is left only by reopening.
    assert_eq!(app.act_ok(&leader, &no, "reopen", json!({"reason": "群众再次反映"})).await["status"], "reopened");
}
