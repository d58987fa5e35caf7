//! Role and scope checks for every action of API.md: for each, a ticket in a state where it is
//! legal, staff whose role may not take it (403, nothing written), staff of another township with
//! the right role (403 out of scope), and the right person (200, one event).
use crate::helpers::{TestApp, error_of, spawn_app};
use minsheng::domain::ticket::Action;
use reqwest::StatusCode;
use serde_json::{Value, json};

const VILLAGE: &str = "李家庄村";
const CADRE: &str = "lijiazhuang";

async fn outsider(app: &TestApp) -> String {
    // Every region role, but for the other township.
    app.add_staff("xihe-all", "西河乡工作人员", "operator,dispatcher,caller,leader,inspector", "西河乡").await
}

/// A ticket of the demo village in the named state.
async fn ticket_in(app: &TestApp, state: &str, phone: &str) -> String {
    let (op, di, ca) = (app.token("operator").await, app.token("dispatcher").await, app.token(CADRE).await);
    let land = matches!(state, "visited" | "signed");
    let no = if land || matches!(state, "referred" | "repeat" | "refer_requested") {
        let mut body = app.intake_body(VILLAGE, phone);
        if land {
            body["category"] = json!("land");
            body["description"] = json!("宅基地边界与邻居有争议");
        }
        let no =
            app.intake(&body, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
        if !land {
            app.file(VILLAGE, phone).await; // the same request again: a repeat
        }
        no
    } else {
        app.file(VILLAGE, phone).await
    };
    if state == "submitted" {
        return no;
    }
    app.act_ok(&op, &no, "register", json!({})).await;
    if state == "registered" || state == "repeat" {
        return no;
    }
    if state == "refer_requested" {
        app.act_ok(&di, &no, "refer", json!({"reason": "重复诉求"})).await;
        return no;
    }
    if state == "referred" {
        app.refer(&no, "重复诉求").await;
        app.council_signs(&no, VILLAGE).await;
        return no;
    }
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id(&format!("{VILLAGE}村民委员会")).await})).await;
    if state == "dispatched" {
        return no;
    }
    app.act_ok(&ca, &no, "accept", json!({})).await;
    if state == "accepted" {
        return no;
    }
    if state == "requested" {
        app.act_ok(&ca, &no, "escalate", json!({"reason": "需镇里协调"})).await;
        return no;
    }
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理"})).await;
    if state == "resolved" {
        return no;
    }
    let caller = app.token("caller").await;
    let visit = json!({"reached": true, "solved": "yes", "satisfaction": "satisfied", "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&caller), &visit).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    if state == "signed" {
        let (leader, principal) = (app.token("leader").await, app.token("principal").await);
        app.act_ok(&caller, &no, "signoff", json!({"party": "requester"})).await;
        app.act_ok(&ca, &no, "signoff", json!({"party": "handler"})).await;
        app.act_ok(&leader, &no, "signoff", json!({"party": "leader"})).await;
        app.act_ok(&principal, &no, "signoff", json!({"party": "principal"})).await;
    }
    no
}

async fn events_of(app: &TestApp, no: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM events e JOIN tickets t ON t.id = e.ticket_id WHERE t.no = '{no}'")).await
}

#[tokio::test]
async fn every_action_checks_role_and_scope() {
    let app = spawn_app().await;
    let other = outsider(&app).await;
    let other_cadre = app.token("wangjiawan").await;
    let unit = app.unit_id(&format!("{VILLAGE}村民委员会")).await;
    let target = app.file(VILLAGE, "13800009999").await;
    // (action, state, body, who may, who may not by role)
    let cases: Vec<(&str, &str, Value, &str, Vec<&str>)> = vec![
        ("register", "submitted", json!({}), "operator", vec!["caller", "leader", "inspector"]),
        ("dispatch", "registered", json!({"unit_id": unit}), "dispatcher", vec!["operator", "caller", "leader"]),
        ("accept", "dispatched", json!({}), CADRE, vec!["dispatcher", "leader", "operator"]),
        ("return", "dispatched", json!({"reason": "不属本村"}), CADRE, vec!["dispatcher", "leader"]),
        ("progress", "accepted", json!({"note": "处理中"}), CADRE, vec!["dispatcher", "leader"]),
        ("resolve", "accepted", json!({"result": "已处理"}), CADRE, vec!["dispatcher", "caller"]),
        ("escalate", "accepted", json!({"reason": "需镇里协调"}), "dispatcher", vec!["leader", "operator", "caller"]),
        (
            "escalate_refuse",
            "requested",
            json!({"reason": "村里能办"}),
            "dispatcher",
            vec!["leader", "operator", CADRE],
        ),
        ("urge", "dispatched", json!({"note": "抓紧"}), "leader", vec!["operator", "caller", "inspector", CADRE]),
        ("reopen", "resolved", json!({"reason": "群众反映未修好"}), "caller", vec!["operator", "inspector", CADRE]),
        ("close", "signed", json!({}), "dispatcher", vec!["operator", "leader", "inspector"]),
        ("signoff", "visited", json!({"party": "leader"}), "leader", vec!["dispatcher", "caller", "inspector", CADRE]),
        ("refer", "repeat", json!({"reason": "重复诉求"}), "dispatcher", vec!["operator", "leader", "caller"]),
        ("refer_approve", "refer_requested", json!({}), "leader", vec!["dispatcher", "operator", "caller"]),
        (
            "refer_refuse",
            "refer_requested",
            json!({"reason": "先由村委会调解"}),
            "leader",
            vec!["dispatcher", "operator"],
        ),
        ("council_decision", "referred", json!({"decision": "合议决定"}), "operator", vec!["leader", "caller"]),
        ("merge", "submitted", json!({"into": target}), "operator", vec!["leader", "caller", "inspector"]),
        ("invalid", "submitted", json!({"reason": "恶意骚扰"}), "dispatcher", vec!["leader", "caller", "inspector"]),
    ];
    for (i, (action, state, body, who, denied)) in cases.into_iter().enumerate() {
        let no = ticket_in(&app, state, &format!("138100000{i:02}")).await;
        let before = events_of(&app, &no).await;
        let written = app.written().await;
        let label = Action::from_path(action).expect("an action of API.md").label();
        for d in denied {
            let tok = app.token(d).await;
            let r = app.act(&tok, &no, action, body.clone()).await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action} by {d}");
            let e: Value = r.json().await.unwrap();
            assert_eq!(e["error"]["code"], "forbidden", "{action} by {d}");
            assert_eq!(e["error"]["message"], format!("您无权对该工单执行「{label}」"), "{action} by {d}");
        }
        let e = error_of(app.act(&other, &no, action, body.clone()).await, StatusCode::FORBIDDEN).await;
        assert_eq!(e["code"], "out_of_scope", "{action} by another township");
        assert_eq!(e["message"], "该工单不在您的管辖范围内", "{action} by another township");
        let r = app.act(&other_cadre, &no, action, body.clone()).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{action} by another village's cadre");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "out_of_scope", "{action} by another village's cadre");
        assert_eq!(events_of(&app, &no).await, before, "{action}: refused attempts write nothing");
        assert_eq!(app.written().await, written, "{action}: no ticket, event or message from the refusals");
        let tok = app.token(who).await;
        app.act_ok(&tok, &no, action, body).await;
        assert_eq!(events_of(&app, &no).await, before + 1, "{action}: one event");
    }
}
