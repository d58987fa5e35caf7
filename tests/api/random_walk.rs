//! Random action sequences over HTTP against the real application: whatever is tried, by whoever,
//! every accepted action moves the ticket exactly as the state machine says and writes exactly one
//! ledger event (two for a satisfied visit that also closes), a refused one writes nothing, closed
//! is left only by reopening, at most one assignment is active, stored deadlines are monotonic and
//! the ledger verifies. Seeded, so a failure can be replayed.
use crate::helpers::{TestApp, spawn_app};
use minsheng::domain::ticket::{Action, Status, VisitOutcome, transition};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const STAFF: [&str; 7] = ["operator", "dispatcher", "xinghua", "caller", "leader", "principal", "admin"];
const ACTIONS: [&str; 22] = [
    "register",
    "dispatch",
    "redirect",
    "withdraw",
    "accept",
    "return",
    "progress",
    "resolve",
    "escalate",
    "escalate_refuse",
    "urge",
    "reopen",
    "close",
    "signoff",
    "refer",
    "refer_approve",
    "refer_refuse",
    "council_sign",
    "council_decision",
    "merge",
    "invalid",
    "return_visit",
];

/// Staff whose role lets them take `action` (the walk picks them most of the time, anyone otherwise).
fn plausible(action: &str) -> &'static [&'static str] {
    match action {
        "register" | "merge" | "invalid" | "council_sign" | "council_decision" => &["operator", "dispatcher"],
        "refer_approve" | "refer_refuse" => &["leader"],
        "dispatch" | "redirect" | "withdraw" | "refer" | "escalate_refuse" | "close" => &["dispatcher"],
        "accept" | "return" | "progress" | "resolve" | "escalate" => &["xinghua", "dispatcher"],
        "urge" => &["leader", "dispatcher"],
        "reopen" => &["caller", "leader"],
        "signoff" => &["caller", "xinghua", "leader", "principal"],
        "return_visit" => &["caller"],
        _ => &STAFF,
    }
}

fn body(action: &str, rng: &mut StdRng, units: [i64; 2], other: &str, holder: Option<i64>, members: &[i64]) -> Value {
    match action {
        "council_sign" => json!({"member_id": members[rng.gen_range(0..members.len())]}),
        "refer_approve" => json!({}),
        "dispatch" => json!({"unit_id": units[0]}),
        // Mostly to the unit not holding the order; now and then to the same one (refused).
        "redirect" => {
            let elsewhere = if holder == Some(units[0]) { units[1] } else { units[0] };
            let unit = if rng.gen_bool(0.85) { elsewhere } else { holder.unwrap_or(elsewhere) };
            json!({"unit_id": unit, "reason": "改派到更合适的单位"})
        }
        "progress" => json!({"note": "处理中"}),
        "resolve" => json!({"result": "已处理"}),
        "council_decision" => json!({"decision": "合议决定"}),
        "merge" => json!({"into": other}),
        "signoff" => {
            let party = ["requester", "handler", "leader", "principal"][rng.gen_range(0..4)];
            json!({"party": party})
        }
        "return_visit" => {
            let (solved, satisfaction) =
                [("yes", "satisfied"), ("no", "dissatisfied"), ("partly", "basically_satisfied")][rng.gen_range(0..3)];
            json!({"reached": rng.gen_bool(0.85), "solved": solved, "satisfaction": satisfaction, "channel": "phone"})
        }
        "escalate" if rng.gen_bool(0.3) => json!({}),
        _ => json!({"reason": "随机测试理由"}),
    }
}

/// The action the state machine is asked for, as the service maps it.
fn domain_action(action: &str, who: &str, body: &Value) -> Option<Action> {
    Some(match action {
        "return_visit" => {
            let reached = body["reached"].as_bool().unwrap_or(false);
            let ok = body["solved"] != "no" && body["satisfaction"] != "dissatisfied";
            Action::ReturnVisit(match (reached, ok) {
                (false, _) => VisitOutcome::Unreached,
                (true, true) => VisitOutcome::Satisfied,
                (true, false) => VisitOutcome::Unsatisfied,
            })
        }
        "escalate" if who == "xinghua" => Action::EscalateRequest,
        other => Action::from_path(other)?,
    })
}

async fn state_of(app: &TestApp, token: &str, no: &str) -> Value {
    app.get(&format!("/api/v1/tickets/{no}"), Some(token)).await.json().await.unwrap()
}

fn check_assignments(t: &Value) {
    let list = t["assignments"].as_array().unwrap();
    assert!(list.iter().filter(|a| a["status"] == "active").count() <= 1, "{t}");
    for a in list {
        let (r, p, s) =
            (a["respond_by"].as_str().unwrap(), a["progress_by"].as_str().unwrap(), a["resolve_by"].as_str().unwrap());
        let parse = |x: &str| chrono::DateTime::parse_from_rfc3339(x).unwrap();
        assert!(parse(r) <= parse(p) && parse(p) <= parse(s), "deadlines monotonic: {a}");
    }
    let status = Status::parse(t["status"].as_str().unwrap()).unwrap();
    let active = t["assignment"]["status"] == "active";
    // A reopened order is held only when a dissatisfied visit gave it straight back to its unit (重办).
    if status == Status::Reopened {
        let redo = t["events"].as_array().unwrap().last().is_some_and(|e| e["data"]["redo"].is_object());
        assert_eq!(active, redo, "a reopened order is held exactly when it was redone: {t}");
    } else {
        assert_eq!(status.is_assigned(), active, "an active assignment exactly when a unit holds the order: {t}");
    }
}

#[tokio::test]
async fn random_action_sequences_keep_the_invariants() {
    let app = spawn_app().await;
    let seed: u64 = std::env::var("MINSHENG_WALK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(20261123);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut tokens = std::collections::HashMap::new();
    for s in STAFF {
        tokens.insert(s, app.token(s).await);
    }
    let admin = tokens["admin"].clone();
    let units = [app.unit_id("杏花村村民委员会").await, app.unit_id("西河乡人民政府").await];
    // 杏花村's council, so that referred walks can be signed and decided (三老合议).
    let village = app.region_id("杏花村").await;
    let mut members = vec![];
    for (name, title) in [("王德厚", "老党员"), ("李春华", "老干部"), ("赵文清", "老教师"), ("孙有田", "村民代表")]
    {
        let r = app
            .post(&format!("/api/v1/villages/{village}/council"), Some(&admin), &json!({"name": name, "title": title}))
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        members.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
    }
    let mut accepted_total = 0;
    for walk in 0..8 {
        // Every other walk is a land dispute (four-party sign-off before close) and a repeat.
        let phone = format!("1381234{walk:04}");
        let mut b = app.intake_body("杏花村", &phone);
        if walk % 2 == 1 {
            b["category"] = json!("land");
        }
        let no = app.intake(&b, None).await.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
        let other = app.file("杏花村", &phone).await; // a repeat of `no`, and a merge target
        for step in 0..40 {
            let before = state_of(&app, &admin, &no).await;
            let from = Status::parse(before["status"].as_str().unwrap()).unwrap();
            let n_before = before["events"].as_array().unwrap().len();
            // Prefer actions that are legal now, so walks get deep; still try illegal ones.
            let action = if rng.gen_bool(0.8) {
                // Ending a walk early (merge, invalid) is rare, so that walks get deep.
                let legal: Vec<&str> = ACTIONS
                    .iter()
                    .copied()
                    .filter(|a| {
                        Action::from_path(a).is_some_and(|x| transition(from, x).is_ok())
                            || (*a == "return_visit" && from == Status::Resolved)
                    })
                    // Refer's decisions are legal in every open state but mostly refused (no request
                    // pending): rarer, so that walks get deep.
                    .filter(|a| match *a {
                        "merge" | "invalid" => rng.gen_bool(0.05),
                        "refer_approve" | "refer_refuse" => rng.gen_bool(0.3),
                        _ => true,
                    })
                    .collect();
                if legal.is_empty() {
                    ACTIONS[rng.gen_range(0..ACTIONS.len())]
                } else {
                    legal[rng.gen_range(0..legal.len())]
                }
            } else {
                ACTIONS[rng.gen_range(0..ACTIONS.len())]
            };
            let who = if rng.gen_bool(0.75) {
                let p = plausible(action);
                p[rng.gen_range(0..p.len())]
            } else {
                STAFF[rng.gen_range(0..STAFF.len())]
            };
            let holder = before["assignment"]["unit"]["id"].as_i64();
            let body = body(action, &mut rng, units, &other, holder, &members);
            let path = if action == "return_visit" {
                format!("/api/v1/tickets/{no}/return-visits")
            } else {
                format!("/api/v1/tickets/{no}/{action}")
            };
            let r = app.post(&path, Some(&tokens[who]), &body).await;
            let code = r.status();
            let after = state_of(&app, &admin, &no).await;
            let to = Status::parse(after["status"].as_str().unwrap()).unwrap();
            let n_after = after["events"].as_array().unwrap().len();
            let ctx = format!("seed {seed} walk {walk} step {step}: {who} {action} {body} from {from:?} → {code}");
            if code.is_success() {
                accepted_total += 1;
                let expected = transition(from, domain_action(action, who, &body).unwrap()).expect(&ctx);
                let auto_closed = expected == Status::Visited && to == Status::Closed;
                assert!(to == expected || auto_closed, "{ctx}: expected {expected:?}, got {to:?}");
                assert_eq!(n_after, n_before + if auto_closed { 2 } else { 1 }, "{ctx}: one event per transition");
                if from == Status::Closed {
                    assert_eq!(action, "reopen", "{ctx}: closed is left only by reopening");
                }
            } else {
                assert!(code.is_client_error(), "{ctx}");
                assert_eq!((to, n_after), (from, n_before), "{ctx}: a refused action writes nothing");
            }
            check_assignments(&after);
            assert_eq!(after["events"].as_array().unwrap().last().unwrap()["seq"], n_after, "{ctx}");
            if matches!(to, Status::Merged | Status::Invalid) {
                break;
            }
        }
        let v: Value =
            app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&admin)).await.json().await.unwrap();
        assert_eq!(v["ok"], true, "seed {seed} walk {walk}: {v}");
    }
    assert!(accepted_total > 60, "the walks went somewhere ({accepted_total} accepted actions)");
    // Every ticket's derived deadlines are what its assignments give now, and every assignment
    // carries its ticket's, whatever the walks did to them.
    assert_eq!(app.stale_deadlines().await, 0, "derived deadlines that differ from a recomputation");
    let copies = app.count("SELECT COUNT(*) FROM assignments WHERE ticket_late_from IS NOT NULL").await;
    assert!(copies > 0, "some assignment has a deadline copy to compare");
    eprintln!("random walks (seed {seed}): {accepted_total} accepted actions");
}
