//! The one door, as a property: random sequences of changes made through the service layer — staff
//! intake that registers at once, public intake, every desk and handling action, return visits
//! (satisfied, unreached, and dissatisfied ones that send the order back to its unit), the SLA
//! sweeper's urges and escalations — and after every step, on every ticket: each ledger event moved
//! the ticket exactly as `transition()` says from where the previous one left it, the stored status
//! is where the ledger ends, a refused change wrote nothing, and the hash chain verifies.
use crate::helpers::{TestApp, spawn_app};
use minsheng::auth::{Caller, StaffUser};
use minsheng::domain::ticket::{Action, Status, VisitOutcome, transition};
use minsheng::repo;
use minsheng::services::actions::{ActionBody, act};
use minsheng::services::return_visits::VisitRequest;
use proptest::prelude::*;
use serde_json::json;

/// One change, chosen by the property.
#[derive(Clone, Copy, Debug)]
enum Step {
    Act(usize, Action),
    Visit(usize, VisitOutcome),
    /// Three hours pass and the SLA sweeper runs.
    Sweep,
}

/// The actions of `POST /tickets/{no}/{action}`.
const ACTIONS: &[Action] = &minsheng::domain::ticket::PATH_ACTIONS;

const TICKETS: usize = 3;

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..TICKETS, 0..ACTIONS.len()).prop_map(|(t, a)| Step::Act(t, ACTIONS[a])),
        2 => (0..TICKETS, 0..3usize).prop_map(|(t, o)| {
            Step::Visit(t, [VisitOutcome::Satisfied, VisitOutcome::Unsatisfied, VisitOutcome::Unreached][o])
        }),
        1 => Just(Step::Sweep),
    ]
}

/// The action a ledger entry records, for replaying it through the state machine.
fn recorded(name: &str, to: Status) -> Option<Action> {
    if name == "return_visit" {
        return Some(Action::ReturnVisit(match to {
            Status::Visited => VisitOutcome::Satisfied,
            Status::Reopened => VisitOutcome::Unsatisfied,
            _ => VisitOutcome::Unreached,
        }));
    }
    let all = ACTIONS.iter().copied().chain([
        Action::EscalateRequest,
        Action::Appeal,
        Action::AppealDecision,
        Action::SmsReply,
    ]);
    all.into_iter().find(|a| a.as_str() == name)
}

async fn staff(app: &TestApp, username: &str) -> StaffUser {
    let s = repo::staff::by_username(&app.state.db.conn, username).await.unwrap().unwrap();
    let path = repo::regions::get(&app.state.db.conn, s.region_id).await.unwrap().unwrap().path;
    StaffUser::from_record(&s, &path)
}

fn body(action: Action, units: [i64; 2], other: &str, party: usize) -> ActionBody {
    let text = |s: &str| Some(s.to_string());
    match action {
        Action::Dispatch => ActionBody { unit_id: Some(units[0]), ..Default::default() },
        // To the village committee or the township office: the same unit again is refused.
        Action::Redirect => {
            ActionBody { unit_id: Some(units[party % 2]), reason: text("改派"), ..Default::default() }
        }
        Action::Progress => ActionBody { note: text("正在处理"), ..Default::default() },
        Action::Resolve => ActionBody { result: text("已修复"), ..Default::default() },
        Action::CouncilDecision => {
            ActionBody { decision: text("议事会决定由村里出资修复"), ..Default::default() }
        }
        Action::Merge => ActionBody { into: text(other), ..Default::default() },
        Action::Signoff => {
            let p = ["requester", "handler", "leader", "principal"][party % 4];
            ActionBody { party: text(p), ..Default::default() }
        }
        _ => ActionBody { reason: text("按规定处理"), note: text("备注"), ..Default::default() },
    }
}

/// Events of every ticket, checked against the state machine; returns the event counts.
async fn check(app: &TestApp, admin: &StaffUser, nos: &[String]) -> Vec<usize> {
    let mut counts = vec![];
    for no in nos {
        let t = repo::tickets::by_no(&app.state.db.conn, no).await.unwrap().unwrap();
        let events = repo::tickets::events_of(&app.state.db.conn, t.id).await.unwrap();
        assert_eq!(events[0].from_status, None, "{no} starts from nothing");
        for pair in events.windows(2) {
            let (before, e) = (&pair[0], &pair[1]);
            assert_eq!(e.from_status, Some(before.to_status), "{no} event {} starts where {} ended", e.seq, before.seq);
            let action =
                recorded(&e.action, e.to_status).unwrap_or_else(|| panic!("{no}: unknown action {}", e.action));
            assert_eq!(transition(before.to_status, action), Ok(e.to_status), "{no} event {} ({})", e.seq, e.action);
        }
        assert_eq!(events.last().unwrap().to_status, t.status, "{no}: the stored status is where the ledger ends");
        let v = minsheng::services::ledger::verify_ticket(&app.state, admin, no).await.unwrap();
        assert!(v.ok, "{no}: ledger verifies");
        counts.push(events.len());
    }
    counts
}

async fn walk(steps: Vec<Step>) {
    let app = spawn_app().await;
    let (admin, operator) = (staff(&app, "admin").await, staff(&app, "operator").await);
    let units = [app.unit_id("杏花村村民委员会").await, app.unit_id("西河乡人民政府").await];
    let village = app.region_id("杏花村").await;
    // Two filed by the hotline desk (registered through the door at once), one from the card.
    let mut nos = vec![];
    for i in 0..2 {
        let body = json!({"region_id": village, "channel": "hotline", "category": "water.supply", "kind": "help",
                          "description": "村里自来水停了，请尽快处理", "phone": format!("1381234567{i}")});
        let caller = Caller::Staff(operator.clone());
        let (_, answer) = minsheng::services::intake::file(&app.state, &body, None, &caller, "10.9.0.1").await.unwrap();
        assert_eq!(answer.status, "registered");
        nos.push(answer.ticket_no);
    }
    nos.push(app.file("杏花村", "13812345679").await);
    let mut counts = check(&app, &admin, &nos).await;
    for (i, step) in steps.into_iter().enumerate() {
        let (target, result) = match step {
            Step::Act(t, action) => {
                let other = nos[(t + 1) % TICKETS].clone();
                let r = act(&app.state, &admin, &nos[t], action, &body(action, units, &other, i)).await;
                (Some(t), r.map(|_| ()).map_err(|e| e.code))
            }
            Step::Visit(t, outcome) => {
                let (reached, solved, satisfaction) = match outcome {
                    VisitOutcome::Satisfied => (true, "yes", "satisfied"),
                    VisitOutcome::Unsatisfied => (true, "no", "dissatisfied"),
                    VisitOutcome::Unreached => (false, "no", "dissatisfied"),
                };
                let req = VisitRequest {
                    reached: Some(reached),
                    solved: Some(solved.into()),
                    satisfaction: Some(satisfaction.into()),
                    scores: None,
                    comment: None,
                    channel: Some("phone".into()),
                };
                let r = minsheng::services::return_visits::record(&app.state, &admin, &nos[t], &req).await;
                (Some(t), r.map(|_| ()).map_err(|e| e.code))
            }
            Step::Sweep => {
                app.state.time.advance(chrono::Duration::hours(3));
                minsheng::workers::sla_sweeper::run_once(&app.state, app.state.now()).await.unwrap();
                (None, Ok(()))
            }
        };
        let after = check(&app, &admin, &nos).await;
        if let (Some(t), Err(code)) = (target, &result) {
            assert_eq!(after[t], counts[t], "step {i} {step:?} was refused ({code}) and wrote nothing");
        }
        counts = after;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, max_shrink_iters: 30, ..ProptestConfig::default() })]

    #[test]
    fn random_changes_through_the_services_keep_the_state_machine_and_the_ledger(
        steps in proptest::collection::vec(step(), 20..45)
    ) {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(walk(steps));
    }
}
