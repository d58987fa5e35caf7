//! The staff list at county scale (issue 21): `overdue` and `late` read the deadlines kept on the
//! ticket row, which every change keeps right; `q` reads a text index of character pairs, which
//! finds two-character Chinese words and ticket numbers and forgets text that was replaced; a large
//! result's `total` is counted up to a cap and says so.
use crate::helpers::*;
use chrono::{DateTime, Duration, Utc};
use minsheng::repo::Page;
use minsheng::repo::tickets::{ListFilter, Visibility};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}"))).unwrap().with_timezone(&Utc)
}

/// Whether ticket `no` is in the staff list with `query`.
async fn listed(app: &TestApp, token: &str, query: &str, no: &str) -> bool {
    let r = app.get(&format!("/api/v1/tickets?per_page=100&{query}"), Some(token)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total_capped"], false, "{v}");
    v["items"].as_array().unwrap().iter().any(|i| i["no"] == no)
}

/// The list's `query` holds `no` from `deadline` on and not a minute before (the clock is put back).
async fn flips_at(app: &TestApp, token: &str, query: &str, no: &str, deadline: DateTime<Utc>) {
    let now = app.state.now();
    app.set_time(deadline - Duration::minutes(1));
    assert!(!listed(app, token, query, no).await, "{query}: listed a minute before {deadline}");
    app.set_time(deadline + Duration::minutes(1));
    assert!(listed(app, token, query, no).await, "{query}: not listed a minute after {deadline}");
    app.set_time(now);
}

/// Never in the list's `query` in the next 30 days.
async fn never(app: &TestApp, token: &str, query: &str, no: &str) {
    let now = app.state.now();
    app.set_time(now + Duration::days(30));
    assert!(!listed(app, token, query, no).await, "{query}: listed, should not be");
    app.set_time(now);
}

#[tokio::test]
async fn overdue_and_late_follow_the_order_through_dispatch_accept_progress_pause_resume_escalation_and_resolution() {
    let app = spawn_app().await;
    let (op, di, leader) = (app.token("operator").await, app.token("dispatcher").await, app.token("leader").await);
    let ca = app.token("lijiazhuang").await;
    let no = app.file("李家庄村", "13812340001").await;

    // Filed: late once the registration deadline passes; no unit holds it, never overdue.
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["deadline"]["step"], "register");
    flips_at(&app, &di, "late=true", &no, at(&t["deadline"]["at"])).await;
    never(&app, &di, "overdue=true", &no).await;
    // Registered: the dispatch deadline.
    let t = app.act_ok(&op, &no, "register", json!({})).await;
    assert_eq!(t["deadline"]["step"], "dispatch");
    flips_at(&app, &di, "late=true", &no, at(&t["deadline"]["at"])).await;
    never(&app, &di, "overdue=true", &no).await;
    // Dispatched: the response deadline makes it both late and overdue.
    let unit = app.unit_id("李家庄村村民委员会").await;
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    let respond_by = at(&t["assignment"]["respond_by"]);
    flips_at(&app, &di, "late=true", &no, respond_by).await;
    flips_at(&app, &di, "overdue=true", &no, respond_by).await;
    // Accepted: late at the first-feedback deadline, overdue only at the result deadline.
    let t = app.act_ok(&ca, &no, "accept", json!({})).await;
    let (progress_by, resolve_by) = (at(&t["assignment"]["progress_by"]), at(&t["assignment"]["resolve_by"]));
    assert!(progress_by < resolve_by);
    flips_at(&app, &di, "late=true", &no, progress_by).await;
    flips_at(&app, &di, "overdue=true", &no, resolve_by).await;
    // Progress reported: late only at the result deadline.
    let t = app.act_ok(&ca, &no, "progress", json!({"note": "已联系施工队"})).await;
    assert_eq!(t["deadline"]["step"], "resolve");
    flips_at(&app, &di, "late=true", &no, resolve_by).await;
    flips_at(&app, &di, "overdue=true", &no, resolve_by).await;
    // Paused: neither late nor overdue while the clock stands still …
    let day = (app.state.now() + Duration::days(10)).date_naive();
    app.act_ok(&ca, &no, "pause_request", json!({"reason": "等秋收后机械进场施工", "resume_on": day.to_string()}))
        .await;
    let t = app.act_ok(&leader, &no, "pause_approve", json!({})).await;
    assert_eq!(t["status"], "paused");
    let app_now = app.state.now();
    app.set_time(resolve_by + Duration::minutes(1));
    assert!(!listed(&app, &di, "late=true", &no).await && !listed(&app, &di, "overdue=true", &no).await);
    app.set_time(app_now);
    // … resumed two days later: the paused time is given back to the result deadline.
    app.state.time.advance(Duration::days(2));
    let t = app.act_ok(&ca, &no, "resume", json!({"note": "恢复施工"})).await;
    let moved = at(&t["assignment"]["resolve_by"]);
    assert!(moved > resolve_by + Duration::days(1), "{moved} vs {resolve_by}");
    flips_at(&app, &di, "late=true", &no, moved).await;
    flips_at(&app, &di, "overdue=true", &no, moved).await;
    // Escalated to the township: the new unit's response deadline counts, the old one's not.
    let t = app.act_ok(&di, &no, "escalate", json!({"reason": "需镇里协调"})).await;
    assert_eq!(t["status"], "dispatched");
    let respond_by = at(&t["assignment"]["respond_by"]);
    assert_ne!(respond_by, moved);
    flips_at(&app, &di, "late=true", &no, respond_by).await;
    flips_at(&app, &di, "overdue=true", &no, respond_by).await;

    // Resolved (another order): the return visit's deadline, never overdue.
    let no = app.to_resolved("李家庄村", "lijiazhuang", "13812340002").await;
    let t = app.ticket(&di, &no).await;
    assert_eq!(t["deadline"]["step"], "visit");
    flips_at(&app, &di, "late=true", &no, at(&t["deadline"]["at"])).await;
    never(&app, &di, "overdue=true", &no).await;
    // The counts read the same columns.
    let counts: Value = app.get("/api/v1/tickets/counts", Some(&di)).await.json().await.unwrap();
    assert_eq!(counts["overdue"], 0, "{counts}");
}

#[tokio::test]
async fn the_sweepers_escalation_moves_the_overdue_state_to_the_new_unit() {
    let app = spawn_app().await;
    let di = app.token("dispatcher").await;
    let op = app.token("operator").await;
    let no = app.file("李家庄村", "13812340003").await;
    app.act_ok(&op, &no, "register", json!({})).await;
    let unit = app.unit_id("李家庄村村民委员会").await;
    let t = app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    let respond_by = at(&t["assignment"]["respond_by"]);
    app.set_time(respond_by + Duration::minutes(1));
    assert!(listed(&app, &di, "overdue=true", &no).await);
    let r = minsheng::workers::sla_sweeper::run_once(&app.state, app.state.now()).await.unwrap();
    assert_eq!(r.escalations, 1, "{r:?}");
    let t = app.ticket(&di, &no).await;
    assert_ne!(t["assignment"]["unit"]["name"], "李家庄村村民委员会");
    assert!(!listed(&app, &di, "overdue=true", &no).await, "the new unit's clock has just started");
    assert!(!listed(&app, &di, "late=true", &no).await);
    flips_at(&app, &di, "overdue=true", &no, at(&t["assignment"]["respond_by"])).await;
}

async fn file_text(app: &TestApp, op: &str, description: &str) -> String {
    let region = app.region_id("杏花村").await;
    let body = json!({"region_id": region, "channel": "hotline", "category": "water.supply", "kind": "help",
                      "description": description, "phone": "13812345678", "address": "杏花村三组"});
    let r = app.post("/api/v1/tickets", Some(op), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["ticket_no"].as_str().unwrap().to_string()
}

async fn found(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let path = format!("/api/v1/tickets?per_page=100&q={}", urlencoding(q));
    let v: Value = app.get(&path, Some(token)).await.json().await.unwrap();
    let mut nos: Vec<String> =
        v["items"].as_array().unwrap().iter().map(|i| i["no"].as_str().unwrap().into()).collect();
    nos.sort();
    assert_eq!(v["total"], nos.len(), "{v}");
    nos
}

fn urlencoding(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn q_finds_two_character_words_ticket_numbers_and_addresses_and_nothing_else() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let leak = file_text(&app, &op, "厨房水管漏水，地面全湿了").await;
    let other = file_text(&app, &op, "水漏到楼下了（水和漏不相连）").await;
    let lights = file_text(&app, &op, "村口路灯不亮，WiFi 也断了").await;
    let one = |no: &str| vec![no.to_string()];
    assert_eq!(found(&app, &op, "漏水").await, one(&leak));
    assert_eq!(found(&app, &op, "路灯").await, one(&lights));
    assert_eq!(found(&app, &op, "停电").await, Vec::<String>::new());
    // Latin letters and spaces are characters like any other (the index folds case; the substring
    // test decides as before: SQLite's LIKE ignores ASCII case, PostgreSQL's does not).
    assert_eq!(found(&app, &op, "WiFi 也").await, one(&lights));
    // A ticket number, whole or in part, and the address.
    assert_eq!(found(&app, &op, &other).await, one(&other));
    let tail = &leak[leak.len() - 4..];
    assert!(found(&app, &op, tail).await.contains(&leak));
    let mut all = vec![leak.clone(), other.clone(), lights.clone()];
    all.sort();
    assert_eq!(found(&app, &op, "三组").await, all);
    // One character: no pair to look up, still found by the substring test.
    let mut water = vec![leak.clone(), other.clone()];
    water.sort();
    assert_eq!(found(&app, &op, "漏").await, water);
}

#[tokio::test]
async fn anonymised_text_is_no_longer_found() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    let no = file_text(&app, &op, "张三家门口漏水").await;
    assert_eq!(found(&app, &op, "张三").await, vec![no.clone()]);
    let t = minsheng::repo::tickets::by_no(&app.state.db.conn, &no).await.unwrap().unwrap();
    let a = minsheng::repo::retention::Anonymized {
        phone_placeholder: "00000000000",
        description: "（已按保存期限删除）",
    };
    assert!(minsheng::repo::retention::anonymize_ticket(&app.state.db.conn, &t, a, app.state.now()).await.unwrap());
    assert!(found(&app, &op, "张三").await.is_empty(), "the old text is not found");
    assert!(found(&app, &op, "三组").await.is_empty(), "nor the cleared address");
    assert_eq!(found(&app, &op, "保存期限").await, vec![no.clone()], "the new text is");
    assert_eq!(found(&app, &op, &no).await, vec![no]);
}

#[tokio::test]
async fn a_large_total_is_counted_up_to_the_cap_and_says_so() {
    let app = spawn_app().await;
    let op = app.token("operator").await;
    for i in 0..5 {
        file_text(&app, &op, &format!("第{i}件测试诉求")).await;
    }
    let v: Value = app.get("/api/v1/tickets?per_page=2", Some(&op)).await.json().await.unwrap();
    assert_eq!((v["total"].as_u64(), v["total_capped"].as_bool()), (Some(5), Some(false)), "{v}");
    let db = &app.state.db.conn;
    let all = Visibility { region_paths: vec!["/".into()], unit_id: None };
    let f = ListFilter::default();
    let l = minsheng::repo::tickets::list_capped(db, &all, &f, Page { page: 1, per_page: 2 }, 3).await.unwrap();
    assert_eq!((l.items.len(), l.total, l.capped), (2, 3, true));
    // Deeper than the cap: the total reaches at least the end of the page.
    let l = minsheng::repo::tickets::list_capped(db, &all, &f, Page { page: 2, per_page: 2 }, 3).await.unwrap();
    assert_eq!((l.items.len(), l.total, l.capped), (2, 4, true));
    let l = minsheng::repo::tickets::list_capped(db, &all, &f, Page { page: 1, per_page: 2 }, 5).await.unwrap();
    assert_eq!((l.total, l.capped), (5, false));
}

/// Ticket numbers of a list's items.
fn nos(items: &[minsheng::repo::tickets::Ticket]) -> Vec<String> {
    items.iter().map(|t| t.no.clone()).collect()
}

/// Every page of the list, `per_page` at a time, its total counted up to `cap`: the numbers in the
/// order the pages give them, and each page's (total, capped).
async fn all_pages(
    app: &TestApp,
    vis: &Visibility,
    f: &ListFilter,
    cap: u64,
    per_page: u64,
) -> (Vec<String>, Vec<(u64, bool)>) {
    let (mut out, mut totals) = (vec![], vec![]);
    for page in 1..=50 {
        let l = minsheng::repo::tickets::list_capped(&app.state.db.conn, vis, f, Page { page, per_page }, cap)
            .await
            .unwrap();
        out.extend(nos(&l.items));
        totals.push((l.total, l.capped));
        if (l.items.len() as u64) < per_page {
            break;
        }
    }
    (out, totals)
}

/// The overdue and late lists, a cadre's own orders and the work list's counts hold exactly what a
/// plain recount over every ticket finds, in the list's order, whichever way they are answered: a
/// deadline list with more matches than the cap walks the newest-first order and checks the deadline
/// on each row, one with fewer takes them from the deadline's index; each count stops at its cap
/// and says so.
#[tokio::test]
async fn deadline_lists_a_cadres_orders_and_capped_counts_match_a_plain_recount() {
    let app = spawn_app().await;
    let (op, di) = (app.token("operator").await, app.token("dispatcher").await);
    let (li, xh) = (app.unit_id("李家庄村村民委员会").await, app.unit_id("杏花村村民委员会").await);
    // Three days ago: one left submitted, one registered, three sent to 李家庄 and never accepted
    // (overdue by now), one accepted by 杏花村 (its result deadline passed too by now).
    let phone = |i: u32| format!("1381235{i:04}");
    let submitted = app.file("李家庄村", &phone(1)).await;
    let registered = app.file("李家庄村", &phone(2)).await;
    app.act_ok(&op, &registered, "register", json!({})).await;
    let mut missed = vec![];
    for i in 3..6 {
        let no = app.file("李家庄村", &phone(i)).await;
        app.act_ok(&op, &no, "register", json!({})).await;
        app.act_ok(&di, &no, "dispatch", json!({"unit_id": li})).await;
        missed.push(no);
    }
    let accepted = app.file("杏花村", &phone(6)).await;
    app.act_ok(&op, &accepted, "register", json!({})).await;
    app.act_ok(&di, &accepted, "dispatch", json!({"unit_id": xh})).await;
    app.act_ok(&app.token("xinghua").await, &accepted, "accept", json!({})).await;
    app.state.time.advance(Duration::days(3));
    // Now: fresh orders on both units, a new request, and one resolved by 李家庄.
    for (i, unit) in [(7, li), (8, li), (9, xh)] {
        let no = app.file(if unit == li { "李家庄村" } else { "杏花村" }, &phone(i)).await;
        app.act_ok(&op, &no, "register", json!({})).await;
        app.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
    }
    app.file("杏花村", &phone(10)).await;
    app.to_resolved("李家庄村", "lijiazhuang", &phone(11)).await;

    let db = &app.state.db.conn;
    let now = app.state.now();
    let all = Visibility { region_paths: vec!["/".into()], unit_id: None };
    let everything =
        minsheng::repo::tickets::list_capped(db, &all, &ListFilter::default(), Page { page: 1, per_page: 100 }, 1000)
            .await
            .unwrap()
            .items;
    assert_eq!(everything.len(), 11);
    // The plain recount: each row's own overdue flag and current deadline, from its assignment.
    let rows = minsheng::services::order_view::rows(db, &everything, now).await.unwrap();
    let having = |test: &dyn Fn(&Value) -> bool| -> Vec<String> {
        rows.iter().filter(|r| test(r)).map(|r| r["no"].as_str().unwrap().to_string()).collect()
    };
    let overdue = having(&|r| r["overdue"] == true);
    let late = having(&|r| r["deadline"]["late"] == true);
    let mut want = missed.clone();
    want.push(accepted.clone());
    want.sort();
    let mut got = overdue.clone();
    got.sort();
    assert_eq!(got, want, "the three missed responses and the accepted order");
    assert!(late.contains(&submitted) && late.contains(&registered), "{late:?}");
    assert!(late.len() < everything.len(), "some deadlines still run: {late:?}");

    for (name, f, expected) in [
        ("overdue", ListFilter { overdue_at: Some(now), ..Default::default() }, &overdue),
        ("late", ListFilter { late_at: Some(now), ..Default::default() }, &late),
    ] {
        let n = expected.len() as u64;
        // Caps below the number of matches walk the order; the last one reads the index.
        for cap in [1, n - 1, 1000] {
            for per_page in [1, 2, 100] {
                let (listed, totals) = all_pages(&app, &all, &f, cap, per_page).await;
                assert_eq!(&listed, expected, "{name}, cap {cap}, {per_page} per page");
                let (total, capped) = totals[0];
                if cap < n {
                    assert!(capped && total >= cap, "{name}, cap {cap}: {totals:?}");
                } else {
                    assert_eq!((total, capped), (n, false), "{name}, cap {cap}");
                }
            }
        }
    }

    // A cadre's own orders: every ticket ever given to the unit, newest first.
    let given = format!(
        "SELECT t.no FROM tickets t WHERE EXISTS (SELECT 1 FROM assignments a WHERE a.ticket_id = t.id \
         AND a.unit_id = {li}) ORDER BY t.created_at DESC, t.id DESC"
    );
    let given: Vec<String> = db
        .query_all_raw(sea_orm::Statement::from_string(app.state.db.backend(), given))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    assert_eq!(given.len(), 6, "{given:?}");
    let cadre = Visibility { region_paths: vec![], unit_id: Some(li) };
    for cap in [2, 1000] {
        let (listed, _) = all_pages(&app, &cadre, &ListFilter::default(), cap, 4).await;
        assert_eq!(listed, given, "cap {cap}");
    }
    let f = ListFilter { overdue_at: Some(now), ..Default::default() };
    let own_overdue: Vec<String> = overdue.iter().filter(|no| given.contains(no)).cloned().collect();
    assert_eq!(own_overdue.len(), 3);
    assert_eq!(all_pages(&app, &cadre, &f, 1, 1).await.0, own_overdue, "the cadre's overdue orders");

    // The counts: exact under the cap, the cap and a mark over it.
    let by_status = |scope: &[minsheng::repo::tickets::Ticket]| {
        let mut m = std::collections::BTreeMap::new();
        for t in scope {
            *m.entry(t.status.as_str()).or_insert(0u64) += 1;
        }
        m
    };
    let recount = by_status(&everything);
    use minsheng::repo::tickets::counts_capped;
    let exact = counts_capped(db, &all, &ListFilter::default(), now, 1000).await.unwrap();
    let shown: std::collections::BTreeMap<&str, u64> = exact.by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    assert_eq!(shown, recount);
    assert_eq!((exact.total, exact.overdue, exact.late), (11, overdue.len() as u64, late.len() as u64));
    assert!(exact.capped.is_empty(), "{exact:?}");
    let capped = counts_capped(db, &all, &ListFilter::default(), now, 2).await.unwrap();
    for (status, n) in &recount {
        let got = capped.by_status.iter().find(|(s, _)| s.as_str() == *status).map(|(_, n)| *n);
        assert_eq!(got, Some((*n).min(2)), "{status}");
        assert_eq!(capped.capped.iter().any(|c| c == status), *n > 2, "{status}: {capped:?}");
    }
    assert_eq!((capped.overdue, capped.late), (2, 2));
    for key in ["total", "overdue", "late"] {
        assert!(capped.capped.iter().any(|c| c == key), "{key}: {capped:?}");
    }
    // The cadre's counts recount the cadre's list.
    let cadre_tickets: Vec<_> = everything.iter().filter(|t| given.contains(&t.no)).cloned().collect();
    let mine = counts_capped(db, &cadre, &ListFilter::default(), now, 1000).await.unwrap();
    let shown: std::collections::BTreeMap<&str, u64> = mine.by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect();
    assert_eq!(shown, by_status(&cadre_tickets));
    let own_late = late.iter().filter(|no| given.contains(no)).count() as u64;
    assert_eq!((mine.total, mine.overdue, mine.late), (6, 3, own_late));
    assert!(own_late > 0, "{late:?}");
    // Capped, the cadre's status counts stop at the cap and say so.
    let few = counts_capped(db, &cadre, &ListFilter::default(), now, 2).await.unwrap();
    for (status, n) in by_status(&cadre_tickets) {
        let got = few.by_status.iter().find(|(s, _)| s.as_str() == status).map(|(_, n)| *n);
        assert_eq!(got, Some(n.min(2)), "{status}: {few:?}");
        assert_eq!(few.capped.iter().any(|c| c == status), n > 2, "{status}: {few:?}");
    }
    // A unit's counts read the copies of the ticket's deadlines and status on its assignments:
    // with them cleared, the cadre has no orders to count (the county's counts, read from the
    // tickets, still have them all).
    let clear = "UPDATE assignments SET ticket_overdue_from = NULL, ticket_late_from = NULL, ticket_status = NULL";
    sea_orm::ConnectionTrait::execute_unprepared(db, clear).await.unwrap();
    let mine = counts_capped(db, &cadre, &ListFilter::default(), now, 1000).await.unwrap();
    assert_eq!((mine.total, mine.overdue, mine.late), (0, 0, 0), "{mine:?}");
    let county = counts_capped(db, &all, &ListFilter::default(), now, 1000).await.unwrap();
    assert_eq!((county.total, county.overdue), (11, overdue.len() as u64));
    // Any change of an order writes its copies again (here a dispatcher's urge of a missed one).
    app.act_ok(&app.token("leader").await, &missed[0], "urge", json!({"note": "请尽快签收"})).await;
    let mine = counts_capped(db, &cadre, &ListFilter::default(), now, 1000).await.unwrap();
    assert_eq!((mine.total, mine.overdue), (1, 1), "{mine:?}");
    // Over HTTP: every status by name, and which counts stopped (none here).
    let v: Value = app.get("/api/v1/tickets/counts", Some(&di)).await.json().await.unwrap();
    assert_eq!((v["total"].as_u64(), v["dispatched"].as_u64()), (Some(11), Some(recount["dispatched"])), "{v}");
    assert_eq!(v["capped"], json!([]), "{v}");
}
