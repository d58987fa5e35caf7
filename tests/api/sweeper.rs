//! The SLA sweeper at chosen times: a reminder at 80 %, an urge at breach to the assignee and the
//! supervising unit, automatic escalation of a missed response — each exactly once, also with two
//! sweepers at once.
use crate::helpers::{TestApp, spawn_app};
use chrono::Duration;
use minsheng::workers::sla_sweeper::{SweepReport, run_once};
use serde_json::{Value, json};

async fn dispatched(app: &TestApp, village: &str, phone: &str) -> String {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id(&format!("{village}村民委员会")).await})).await;
    no
}

async fn sms(app: &TestApp, kind: &str, phone: &str) -> i64 {
    app.count(&format!("SELECT COUNT(*) FROM outbox WHERE kind = '{kind}' AND recipient = '{phone}'")).await
}

async fn sweep(app: &TestApp) -> SweepReport {
    run_once(&app.state, app.state.now()).await.expect("sweep")
}

#[tokio::test]
async fn a_missed_response_is_reminded_urged_and_escalated_exactly_once() {
    let app = spawn_app().await;
    let no = dispatched(&app, "李家庄村", "13812345678").await;
    let village_cadre = "13900000301";
    let township_cadre = "13900000201";
    let county_cadre = "13900000101";
    app.state.time.advance(Duration::minutes(90));
    assert_eq!(sweep(&app).await.reminders, 0, "80 % of 2 h is 96 min");
    app.state.time.advance(Duration::minutes(7));
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges, r.escalations), (1, 0, 0));
    assert_eq!(sms(&app, "reminder", village_cadre).await, 1);
    assert_eq!(sweep(&app).await, SweepReport::default(), "nothing twice");

    // Breach: urged, and escalated to the township office (which is also the supervisor, so it gets
    // the escalated order rather than a supervision notice).
    app.state.time.advance(Duration::minutes(24));
    let r = sweep(&app).await;
    assert_eq!((r.urges, r.escalations), (1, 1));
    assert_eq!(sms(&app, "urge", village_cadre).await, 1);
    assert_eq!(sms(&app, "urge", township_cadre).await, 0);
    assert_eq!(sms(&app, "escalation", township_cadre).await, 1);
    assert_eq!(sweep(&app).await, SweepReport::default());
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府");
    let events: Vec<&Value> = t["events"].as_array().unwrap().iter().collect();
    let (urge, escalate) = (events[events.len() - 2], events[events.len() - 1]);
    assert_eq!((urge["action"].as_str(), urge["actor_kind"].as_str()), (Some("urge"), Some("system")));
    assert_eq!(urge["data"]["steps"], json!(["respond"]));
    assert_eq!((escalate["action"].as_str(), escalate["actor"].as_str()), (Some("escalate"), Some("系统")));
    assert_eq!(escalate["data"]["auto"], true);

    // The township misses it too: on to the county centre. The county centre is the top: urged only.
    app.state.time.advance(Duration::minutes(121));
    let r = sweep(&app).await;
    assert_eq!((r.urges, r.escalations), (1, 1), "{r:?}");
    assert_eq!(sms(&app, "escalation", county_cadre).await, 1);
    app.state.time.advance(Duration::minutes(121));
    let r = sweep(&app).await;
    assert_eq!((r.urges, r.escalations), (1, 0));
    assert_eq!(sms(&app, "urge", county_cadre).await, 1);
    // Every notice once: reminders of the township and county orders were skipped (their breach
    // came in the same pass as the reminder would have).
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'urge'").await, 3);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'").await, 2);
    let inspector = app.token("inspector").await;
    let url = format!("/api/v1/tickets/{no}/ledger/verify");
    let v: Value = app.get(&url, Some(&inspector)).await.json().await.unwrap();
    assert_eq!(v["ok"], true);
    // The system's acts are in the same chain: passing the automatic urge off as a person's is caught.
    let seq = urge["seq"].as_i64().unwrap();
    let db = &app.state.db.conn;
    let disable = if app.state.db.is_postgres() {
        "ALTER TABLE events DISABLE TRIGGER events_append_only"
    } else {
        "DROP TRIGGER events_no_update"
    };
    sea_orm::ConnectionTrait::execute_unprepared(db, disable).await.unwrap();
    let forge = format!("UPDATE events SET actor_kind = 'staff', actor_name = '李长河' WHERE seq = {seq}");
    sea_orm::ConnectionTrait::execute_unprepared(db, &forge).await.unwrap();
    let v: Value = app.get(&url, Some(&inspector)).await.json().await.unwrap();
    assert_eq!((v["ok"].as_bool(), v["broken_at"].as_i64()), (Some(false), Some(seq)));
}

#[tokio::test]
async fn late_feedback_and_results_are_urged_to_the_cadre_and_the_supervising_unit() {
    let app = spawn_app().await;
    let no = app.to_accepted("王家湾村", "wangjiawan", "13812345678").await;
    let cadre = "13900000302";
    let supervisor = "13900000201";
    // Accepted in time: no respond notices at all.
    app.state.time.advance(Duration::hours(3));
    assert_eq!(sweep(&app).await.reminders, 0);
    // First progress: 24 h → reminder after 19 h 12 min, urge after 24 h.
    app.state.time.advance(Duration::hours(17));
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges), (1, 0));
    app.state.time.advance(Duration::hours(5));
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges, r.escalations), (0, 1, 0));
    assert_eq!(sms(&app, "urge", cadre).await, 1);
    assert_eq!(sms(&app, "urge", supervisor).await, 1, "督办 to the township office");
    let di = app.token("dispatcher").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "accepted", "an urge does not move the order");
    assert_eq!(t["events"].as_array().unwrap().last().unwrap()["data"]["steps"], json!(["progress"]));
    // Progress is reported; the result deadline (72 h) is reminded and urged in its turn.
    let ca = app.token("wangjiawan").await;
    app.act_ok(&ca, &no, "progress", json!({"note": "已联系施工队"})).await;
    app.state.time.advance(Duration::hours(33)); // 58 h after dispatch: 80 % is 57 h 36 min
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges), (1, 0));
    app.state.time.advance(Duration::hours(15));
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges), (0, 1));
    assert_eq!(sms(&app, "urge", cadre).await, 2);
    assert_eq!(sms(&app, "urge", supervisor).await, 2);
    assert_eq!(sweep(&app).await, SweepReport::default());
    // A resolved order owes nothing more.
    app.act_ok(&ca, &no, "resolve", json!({"result": "已修复"})).await;
    app.state.time.advance(Duration::days(30));
    assert_eq!(sweep(&app).await, SweepReport::default());
}

#[tokio::test]
async fn a_reminder_missed_while_no_sweeper_ran_is_not_sent_late() {
    let app = spawn_app().await;
    dispatched(&app, "石桥村", "13812345678").await;
    app.state.time.advance(Duration::hours(3));
    let r = sweep(&app).await;
    assert_eq!((r.reminders, r.urges, r.escalations), (0, 1, 1));
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'reminder'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sweepers_at_once_send_each_notice_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let villages = ["李家庄村", "王家湾村", "石桥村", "柳树沟村", "杏花村", "河口村"];
    let mut nos = vec![];
    for i in 0..12 {
        nos.push(dispatched(&app, villages[i % 6], &format!("138000000{i:02}")).await);
    }
    app.state.time.advance(Duration::minutes(121));
    let now = app.state.now();
    let (a, b) = (app.clone(), app.clone());
    let (ra, rb) = tokio::join!(
        tokio::spawn(async move { run_once(&a.state, now).await.unwrap() }),
        tokio::spawn(async move { run_once(&b.state, now).await.unwrap() })
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.escalations + rb.escalations, 12, "{ra:?} {rb:?}");
    assert_eq!(ra.urges + rb.urges, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'urge'").await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'").await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM events WHERE action = 'escalate'").await, 12);
    assert_eq!(app.count("SELECT COUNT(*) FROM assignments WHERE status = 'active'").await, 12);
    assert_eq!(run_once(&app.state, now).await.unwrap(), SweepReport::default());
}

#[tokio::test]
async fn a_redo_nobody_signs_for_is_escalated_too() {
    let app = spawn_app().await;
    let no = app.to_resolved("河口村", "hekou", "13812345670").await;
    // Dissatisfied: the order goes back to the same unit with a fresh response deadline.
    let c = app.token("caller").await;
    let body = json!({"reached": true, "solved": "no", "satisfaction": "dissatisfied", "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&c), &body).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let di = app.token("dispatcher").await;
    assert_eq!(app.ticket(&di, &no).await["status"], "reopened");
    app.state.time.advance(Duration::hours(3));
    let r = sweep(&app).await;
    assert_eq!((r.urges, r.escalations), (1, 1), "{r:?}");
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["status"], "dispatched");
    assert_ne!(t["assignment"]["unit"]["name"], "河口村村民委员会", "escalated to the township");
    let last = t["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["action"].as_str(), last["from_status"].as_str()), (Some("escalate"), Some("reopened")));
    assert_eq!(sweep(&app).await.escalations, 0, "once");
}

/// Several missed responses escalated in one pass (one batch, which reads policies, the calendar,
/// names and recipients once and writes each change's messages in one statement): every order gets
/// the deadlines its own policy gives at that instant (a consultation's differ from a request for
/// help's), its own urge and escalation events in a chain that verifies, and each message once.
#[tokio::test]
async fn escalations_in_one_batch_each_get_their_own_policy_events_and_messages() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let mut orders = vec![];
    for (village, phone, kind) in [
        ("李家庄村", "13812346601", "help"),
        ("李家庄村", "13812346602", "consultation"),
        ("杏花村", "13812346603", "help"),
        ("杏花村", "13812346604", "consultation"),
    ] {
        let mut body = app.intake_body(village, phone);
        body["kind"] = json!(kind);
        let r = app.intake(&body, Some(&uuid::Uuid::new_v4().to_string())).await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let no = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
        app.act_ok(&op, &no, "register", json!({})).await;
        let unit = app.unit_id(&format!("{village}村民委员会")).await;
        app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
        orders.push(no);
    }
    app.state.time.advance(Duration::days(3));
    let r = sweep(&app).await;
    // Three days on, every step of each order is missed: urged in one event per order, escalated.
    assert_eq!((r.examined, r.escalations, r.failed, r.deferred), (4, 4, 0, 0), "{r:?}");
    let inspector = app.token("inspector").await;
    let mut respond_by = std::collections::BTreeSet::new();
    for no in &orders {
        let t = app.ticket(&di, no).await;
        assert!(t["assignment"]["unit"]["name"].as_str().unwrap().ends_with("人民政府"), "{no}: {}", t["assignment"]);
        let ticket = minsheng::repo::tickets::by_no(&app.state.db.conn, no).await.unwrap().unwrap();
        let events: Vec<&Value> = t["events"].as_array().unwrap().iter().collect();
        let (urge, escalate) = (events[events.len() - 2], events[events.len() - 1]);
        // The deadlines a lone escalation computes at the pass's instant, read afresh.
        let at: chrono::DateTime<chrono::Utc> = serde_json::from_value(escalate["at"].clone()).unwrap();
        let want = minsheng::services::orders::assignment_deadlines(&app.state, &app.state.db.conn, &ticket, at)
            .await
            .unwrap();
        assert_eq!((urge["action"].as_str(), escalate["action"].as_str()), (Some("urge"), Some("escalate")), "{no}");
        let got: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(escalate["data"]["respond_by"].clone()).unwrap();
        assert_eq!(got, want.respond_by, "{no}");
        respond_by.insert(got);
        let v: Value =
            app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.json().await.unwrap();
        assert_eq!(v["ok"], true, "{no}");
        let sent = |kind: &str| {
            format!(
                "SELECT COUNT(*) FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' \
                 AND o.kind = '{kind}'"
            )
        };
        let steps = urge["data"]["steps"].as_array().map_or(0, |s| s.len()) as i64;
        assert!(steps >= 1, "{urge}");
        assert_eq!(app.count(&sent("urge")).await, steps, "{no}: one urge per missed step, once");
        assert_eq!(app.count(&sent("escalation")).await, 1, "{no}");
    }
    assert_eq!(respond_by.len(), 2, "two policies, two response deadlines: {respond_by:?}");
    assert_eq!(sweep(&app).await, SweepReport::default(), "nothing twice");
}

/// The ledger of a ticket as the inspector's verification reads it.
async fn verified(app: &TestApp, no: &str) -> bool {
    let inspector = app.token("inspector").await;
    let v: Value =
        app.get(&format!("/api/v1/tickets/{no}/ledger/verify"), Some(&inspector)).await.json().await.unwrap();
    v["ok"] == true
}

#[tokio::test]
async fn missed_responses_of_one_pass_are_urged_and_escalated_together_and_the_rest_one_by_one() {
    let app = spawn_app().await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    // Three orders go set-wise; a staff-registered hotline order and a second part of one ticket
    // (联合办理: the assisting part breaches with its lead) go one by one, in the same transaction.
    let plain = [
        dispatched(&app, "李家庄村", "13812345601").await,
        dispatched(&app, "王家湾村", "13812345602").await,
        dispatched(&app, "石桥村", "13812345603").await,
    ];
    let region = app.region_id("李家庄村").await;
    let body = json!({"region_id": region, "channel": "hotline", "category": "water.supply",
                      "description": "村里停水两天了", "phone": "13812345604"});
    let r = app.post("/api/v1/tickets", Some(&op), &body).await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let hotline = r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string();
    let village = app.unit_id("李家庄村村民委员会").await;
    app.act_ok(&di, &hotline, "dispatch", json!({"unit_id": village})).await;
    let joint = app.file("王家湾村", "13812345605").await;
    app.act_ok(&op, &joint, "register", json!({})).await;
    let (lead, roads) = (app.unit_id("王家湾村村民委员会").await, app.unit_id("县住房和城乡建设局").await);
    app.act_ok(&di, &joint, "dispatch", json!({"unit_id": lead, "assisting_unit_ids": [roads]})).await;
    let events_before = app.count("SELECT COUNT(*) FROM events").await;

    app.state.time.advance(Duration::hours(3));
    let r = sweep(&app).await;
    // Six assignments breached; five leads escalate (the assisting part never does).
    assert_eq!((r.urges, r.escalations, r.failed, r.deferred), (6, 5, 0, 0), "{r:?}");
    assert_eq!(r.batched, 4, "the three plain orders and the joint order's lead: {r:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events_before + 11, "5 × (urge, escalate) + 1 urge");
    for no in plain.iter().chain([&hotline, &joint]) {
        assert!(verified(&app, no).await, "{no}: the chain holds");
        let t = app.ticket(&di, no).await;
        let events = t["events"].as_array().unwrap();
        let n = events.len();
        let (urge, escalate) = (&events[n - 2], &events[n - 1]);
        let tail: Vec<&str> = events[n - 3..].iter().map(|e| e["action"].as_str().unwrap()).collect();
        if no == &joint {
            // Lead urged and escalated together, then the part's urge on top, in sequence.
            assert_eq!(tail, ["urge", "escalate", "urge"], "{no}");
            assert_eq!(events[n - 1]["data"]["unit_name"], "县住房和城乡建设局");
            continue;
        }
        assert_eq!((urge["action"].as_str(), escalate["action"].as_str()), (Some("urge"), Some("escalate")), "{no}");
        assert_eq!(escalate["seq"].as_i64(), urge["seq"].as_i64().map(|s| s + 1));
        // The ticket points at the new assignment the escalation event names, with the township.
        assert_eq!(t["status"], "dispatched");
        assert_eq!(t["assignment"]["id"], escalate["data"]["assignment_id"], "{no}: {t}");
        assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府", "{no}");
        // Its order link for the township names that new assignment.
        let id = escalate["data"]["assignment_id"].as_i64().unwrap();
        let owner = app.count(&format!("SELECT COUNT(*) FROM assignments WHERE id = {id} AND status = 'active'")).await;
        assert_eq!(owner, 1);
    }
    // Each escalated order was announced to the township once, and the old parts ended as escalated.
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'escalation'").await, 5);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM assignments WHERE status = 'escalated' AND ended_at IS NOT NULL").await,
        5
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM assignments WHERE respond_urged_at IS NOT NULL").await, 6);
    // The derived deadlines follow the new assignments: nothing is overdue right after escalation.
    let overdue =
        app.count("SELECT COUNT(*) FROM tickets WHERE overdue_from IS NOT NULL AND overdue_from <= updated_at").await;
    assert_eq!(overdue, 0);
    // And they are what a recomputation from the assignments gives, copies included.
    assert_eq!(app.stale_deadlines().await, 0);
    assert_eq!(sweep(&app).await, SweepReport::default(), "nothing twice");
}

#[tokio::test]
async fn a_batch_of_changes_on_a_ticket_changed_since_it_was_read_writes_nothing() {
    use minsheng::domain::ticket::Action;
    use minsheng::repo::tickets::Actor;
    use minsheng::services::change::{Batch, Effects};
    let app = spawn_app().await;
    let (a, b) = (dispatched(&app, "李家庄村", "13812345611").await, dispatched(&app, "石桥村", "13812345612").await);
    let db = &app.state.db.conn;
    let read = |no: String| async move { minsheng::repo::tickets::by_no(db, &no).await.unwrap().unwrap() };
    let (ta, tb) = (read(a.clone()).await, read(b.clone()).await);
    // Someone acts on the second order after the batch read it.
    let leader = app.token("leader").await;
    app.act_ok(&leader, &b, "urge", json!({"note": "请尽快签收"})).await;
    let events = app.count("SELECT COUNT(*) FROM events").await;
    let outbox = app.count("SELECT COUNT(*) FROM outbox").await;
    let mut batch = Batch::default();
    for t in [ta, tb] {
        let mut fx = Effects::entry(false, Some("测试".into()), json!({}));
        fx.sms.push((minsheng::sms::templates::recall("【民声】", &t.no, "催办"), "13900000301".into()));
        batch.stage(t, vec![(Action::Urge, Actor::system(), fx)]).unwrap();
    }
    let tx = app.state.db.begin().await.unwrap();
    let e = batch.commit(&app.state, &*tx, app.state.now()).await.expect_err("stale");
    assert_eq!((e.status.as_u16(), e.code), (409, "conflict"), "{e:?}");
    drop(tx); // rolled back
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events, "no event of either order");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, outbox, "no message");
    assert!(verified(&app, &a).await && verified(&app, &b).await);
    // Read afresh, the same batch goes through: one event each, chained.
    let mut batch = Batch::default();
    for no in [&a, &b] {
        let t = read(no.to_string()).await;
        batch.stage(t, vec![(Action::Urge, Actor::system(), Effects::entry(false, None, json!({"n": 1})))]).unwrap();
    }
    let tx = app.state.db.begin().await.unwrap();
    batch.commit(&app.state, &*tx, app.state.now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events + 2);
    assert!(verified(&app, &a).await && verified(&app, &b).await);
}

#[tokio::test]
async fn when_the_set_wise_write_fails_the_batch_goes_one_by_one_and_only_the_failing_order_waits() {
    let app = spawn_app().await;
    let orders = [
        dispatched(&app, "李家庄村", "13812345611").await,
        dispatched(&app, "王家湾村", "13812345612").await,
        dispatched(&app, "石桥村", "13812345613").await,
    ];
    // The second order's ledger refuses any new event (a stand-in for a row the database rejects):
    // the batch's one insert of every event fails with it, and so does that order's own insert.
    let poisoned = app.count(&format!("SELECT id FROM tickets WHERE no = '{}'", orders[1])).await;
    let ddl: Vec<String> = if app.state.db.is_postgres() {
        vec![
            format!(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.ticket_id = {poisoned} THEN \
                 RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()".into(),
        ]
    } else {
        vec![format!(
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.ticket_id = {poisoned} \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
        )]
    };
    for sql in &ddl {
        sea_orm::ConnectionTrait::execute_unprepared(&app.state.db.conn, sql).await.unwrap();
    }
    let events_before = app.count("SELECT COUNT(*) FROM events").await;

    app.state.time.advance(Duration::hours(3));
    let r = sweep(&app).await;
    // Nothing went set-wise; one by one, the two healthy orders were urged and escalated.
    assert_eq!((r.batched, r.urges, r.escalations, r.failed), (0, 2, 2, 1), "{r:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM events").await, events_before + 4);
    let di = app.token("dispatcher").await;
    for no in [&orders[0], &orders[2]] {
        let t = app.ticket(&di, no).await;
        let actions: Vec<&str> =
            t["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions[actions.len() - 2..], ["urge", "escalate"], "{no}");
        assert_eq!(t["assignment"]["unit"]["name"], "东坝镇人民政府", "{no}");
        assert!(verified(&app, no).await, "{no}");
    }
    // The failing order kept nothing of its attempt: no mark, no message, no new assignment.
    let t = app.ticket(&di, &orders[1]).await;
    assert_eq!(t["events"].as_array().unwrap().last().unwrap()["action"], "dispatch");
    assert_eq!(t["assignment"]["unit"]["name"], "王家湾村村民委员会");
    let marks =
        format!("SELECT COUNT(*) FROM assignments WHERE ticket_id = {poisoned} AND respond_urged_at IS NOT NULL");
    assert_eq!(app.count(&marks).await, 0);
    let sent = format!("SELECT COUNT(*) FROM outbox WHERE ticket_id = {poisoned} AND kind IN ('urge', 'escalation')");
    assert_eq!(app.count(&sent).await, 0);
    assert_eq!(app.stale_deadlines().await, 0);

    // Once the database takes it again, the next pass urges and escalates it, set-wise.
    let drop = if app.state.db.is_postgres() { "DROP TRIGGER poison ON events" } else { "DROP TRIGGER poison" };
    sea_orm::ConnectionTrait::execute_unprepared(&app.state.db.conn, drop).await.unwrap();
    let r = sweep(&app).await;
    assert_eq!((r.batched, r.urges, r.escalations, r.failed), (1, 1, 1, 0), "{r:?}");
    assert!(verified(&app, &orders[1]).await);
    let healthy = app.count(&format!("SELECT id FROM tickets WHERE no = '{}'", orders[0])).await;
    let sent_healthy = sent.replace(&format!("ticket_id = {poisoned}"), &format!("ticket_id = {healthy}"));
    assert!(app.count(&sent).await >= 2, "an urge and an escalation message");
    assert_eq!(app.count(&sent).await, app.count(&sent_healthy).await, "the same messages as a healthy order");
    assert_eq!(sweep(&app).await, SweepReport::default(), "nothing twice");
}
