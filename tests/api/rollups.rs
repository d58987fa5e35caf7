//! The statistics roll-ups against a recount: after a random walk of real actions (intake,
//! registration with a new category, dispatch, redirect, withdrawal, acceptance, return, progress,
//! resolution, visits, appeals, reopening, closing, merging, invalidation) and of the clock, every
//! region's and every unit's counts read from the roll-ups equal those counted from the tickets,
//! assignments, visits and ledger by `repo::stats` (the definition of every rate), for every day
//! and for the whole span; and the day rows maintained change by change (fine and per region or
//! unit) equal a rebuild from scratch.
use crate::helpers::{TestApp, spawn_app_with};
use chrono::{Duration, NaiveDate};
use minsheng::kv::limiter::Limit;
use minsheng::repo::{rollups, stats};
use minsheng::services::tickets::{local_day_end, local_day_start};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::collections::HashMap;

/// The demo's villages: (village, its committee, the committee's cadre).
const VILLAGES: [(&str, &str); 6] = [
    ("李家庄村", "lijiazhuang"),
    ("王家湾村", "wangjiawan"),
    ("石桥村", "shiqiao"),
    ("柳树沟村", "liushugou"),
    ("杏花村", "xinghua"),
    ("河口村", "hekou"),
];

/// A small deterministic generator (xorshift64*), so that a failing walk can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n
    }
}

struct Walk<'a> {
    app: &'a TestApp,
    rng: Rng,
    tokens: HashMap<String, String>,
    categories: Vec<String>,
    /// Ticket number → the cadre of the unit that holds it.
    tickets: Vec<(String, Option<&'static str>)>,
    ok: usize,
}

impl Walk<'_> {
    async fn token(&mut self, user: &str) -> String {
        if !self.tokens.contains_key(user) {
            let t = self.app.token(user).await;
            self.tokens.insert(user.to_string(), t);
        }
        self.tokens[user].clone()
    }

    /// Runs an action; refused ones (illegal in the ticket's state) are part of the walk, errors
    /// of the server are not.
    async fn act(&mut self, user: &str, no: &str, action: &str, body: Value) -> bool {
        let t = self.token(user).await;
        let r = self.app.act(&t, no, action, body).await;
        assert!(r.status().as_u16() < 500, "{action} on {no}: {}", r.text().await.unwrap_or_default());
        let done = r.status().is_success();
        if !done && std::env::var("WALK_DEBUG").is_ok() {
            eprintln!("{action} {no} by {user}: {}", r.text().await.unwrap_or_default());
        }
        self.ok += usize::from(done);
        done
    }

    async fn post(&mut self, user: &str, path: &str, body: Value) -> Option<Value> {
        let t = self.token(user).await;
        let r = self.app.post(path, Some(&t), &body).await;
        assert!(r.status().as_u16() < 500, "{path}: {}", r.text().await.unwrap_or_default());
        if !r.status().is_success() {
            return None;
        }
        self.ok += 1;
        r.json().await.ok()
    }

    async fn step(&mut self) {
        let roll = self.rng.below(100);
        if self.tickets.is_empty() || roll < 14 {
            let (village, _) = VILLAGES[self.rng.below(VILLAGES.len())];
            let phone = format!("1380000{:04}", self.rng.below(40));
            let no = self.app.file(village, &phone).await;
            self.tickets.push((no, None));
            return;
        }
        if roll < 20 {
            let hours = self.rng.below(30) as i64;
            self.app.set_time(self.app.state.now() + Duration::hours(hours) + Duration::minutes(17));
            return;
        }
        let i = self.rng.below(self.tickets.len());
        let no = self.tickets[i].0.clone();
        let cadre = self.tickets[i].1;
        let (village, to) = VILLAGES[self.rng.below(VILLAGES.len())];
        let status = self.status(&no).await;
        // Mostly what the ticket's state allows, sometimes anything (refused, and must write nothing).
        let choice = if self.rng.below(8) == 0 {
            self.rng.below(14)
        } else {
            let options: &[usize] = match status.as_str() {
                "submitted" => &[0, 0, 0, 0, 0, 0, 0, 0, 11, 12],
                "registered" | "reopened" => &[1, 1, 1, 1, 11],
                "dispatched" => &[5, 5, 5, 3, 4, 7],
                "accepted" | "in_progress" => &[8, 8, 8, 3],
                "resolved" => &[9, 9, 9, 10, 11],
                "visited" | "closed" => &[11],
                _ => &[13],
            };
            options[self.rng.below(options.len())]
        };
        match choice {
            0 => {
                let category = self.categories[self.rng.below(self.categories.len())].clone();
                self.act("operator", &no, "register", json!({"category": category})).await;
            }
            1 | 2 => {
                let unit = self.app.unit_id(&format!("{village}村民委员会")).await;
                if self.act("dispatcher", &no, "dispatch", json!({"unit_id": unit})).await {
                    self.tickets[i].1 = Some(to);
                }
            }
            3 => {
                let unit = self.app.unit_id(&format!("{village}村民委员会")).await;
                if self.act("dispatcher", &no, "redirect", json!({"unit_id": unit, "reason": "改派"})).await {
                    self.tickets[i].1 = Some(to);
                }
            }
            4 => {
                self.act("dispatcher", &no, "withdraw", json!({"reason": "撤回重派"})).await;
            }
            5 | 6 => {
                if let Some(c) = cadre {
                    self.act(c, &no, "accept", json!({})).await;
                }
            }
            7 => {
                if let Some(c) = cadre {
                    self.act(c, &no, "return", json!({"reason": "不属于本村"})).await;
                }
            }
            8 => {
                if let Some(c) = cadre {
                    self.act(c, &no, "progress", json!({"note": "已到现场查看"})).await;
                    self.act(c, &no, "resolve", json!({"result": "已修复"})).await;
                }
            }
            9 | 10 => self.visit(&no, cadre).await,
            11 => {
                let action = ["close", "reopen", "close", "reopen", "invalid"][self.rng.below(5)];
                self.act("dispatcher", &no, action, json!({"reason": "核实处理", "note": "核实处理"})).await;
            }
            12 => {
                let other = self.tickets[self.rng.below(self.tickets.len())].0.clone();
                self.act("operator", &no, "merge", json!({"into": other, "reason": "重复诉求"})).await;
            }
            _ => {
                let action = ["accept", "resolve", "dispatch", "close"][self.rng.below(4)];
                self.act("dispatcher", &no, action, json!({"result": "x"})).await;
            }
        }
    }

    async fn status(&self, no: &str) -> String {
        let sql = format!("SELECT status FROM tickets WHERE no = '{no}'");
        let stmt = Statement::from_string(self.app.state.db.backend(), sql);
        let row = self.app.state.db.conn.query_one_raw(stmt).await.unwrap().unwrap();
        row.try_get("", "status").unwrap()
    }

    /// A return visit with random answers and scores; an unfavourable one is sometimes appealed by
    /// the unit and upheld by a leader, which un-counts it.
    async fn visit(&mut self, no: &str, cadre: Option<&'static str>) {
        let solved = ["yes", "partly", "no"][self.rng.below(3)];
        let satisfaction = ["satisfied", "basically_satisfied", "dissatisfied"][self.rng.below(3)];
        let reached = self.rng.below(10) > 0;
        let mut body = json!({"reached": reached, "channel": "phone"});
        if reached {
            body["solved"] = json!(solved);
            body["satisfaction"] = json!(satisfaction);
            if self.rng.below(2) == 0 {
                body["scores"] = json!({"attitude": 1 + self.rng.below(5), "capability": 1 + self.rng.below(5),
                                        "convenience": 1 + self.rng.below(5), "efficiency": 1 + self.rng.below(5)});
            }
        }
        let visit = self.post("caller", &format!("/api/v1/tickets/{no}/return-visits"), body).await;
        if let (Some(v), Some(c)) = (visit, cadre)
            && self.rng.below(2) == 0
        {
            let path = format!("/api/v1/return-visits/{}/appeals", v["visit_id"]);
            if let Some(a) = self.post(c, &path, json!({"reason": "村民反映的问题已解决，回访结论有误"})).await
            {
                let upheld = self.rng.below(3) > 0;
                let body = json!({"upheld": upheld, "note": "经核实"});
                self.post("leader", &format!("/api/v1/appeals/{}/decide", a["id"]), body).await;
            }
        }
    }
}

/// Day rows that are not all zero, as comparable lines.
async fn day_rows(app: &TestApp) -> Vec<String> {
    let zero = "CAST(0 AS BIGINT)";
    let tables = [
        ("stats_ticket_days", zero, "region_id", "category_code"),
        ("stats_order_days", "unit_id", "region_id", "category_code"),
        ("stats_region_days", zero, "region_id", "''"),
        ("stats_unit_days", "unit_id", zero, "''"),
    ];
    let mut out = vec![];
    for (table, unit, region, category) in tables {
        let sql = format!(
            "SELECT day, {unit} AS unit, {region} AS region, {category} AS category, {} FROM {table} \
             ORDER BY day, unit, region, category",
            rollups::COLUMNS.join(", ")
        );
        let stmt = Statement::from_string(app.state.db.backend(), sql);
        for r in app.state.db.conn.query_all_raw(stmt).await.unwrap() {
            let counts: Vec<i64> = rollups::COLUMNS.iter().map(|c| r.try_get::<i64>("", c).unwrap()).collect();
            if counts.iter().any(|c| *c != 0) {
                let key = (
                    r.try_get::<i64>("", "day").unwrap(),
                    r.try_get::<i64>("", "unit").unwrap(),
                    r.try_get::<i64>("", "region").unwrap(),
                    r.try_get::<String>("", "category").unwrap(),
                );
                out.push(format!("{table} {key:?} {counts:?}"));
            }
        }
    }
    out
}

/// Roll-ups and recount agree for every region and unit over every day of `[first, last]` and
/// over the whole span; returns how many comparisons were made.
async fn compare(app: &TestApp, first: NaiveDate, last: NaiveDate) -> usize {
    let state = &app.state;
    let db = &state.db.conn;
    let now = state.now();
    rollups::catch_up(&state.db, state.rollup_offset(), now).await.unwrap();
    let stmt = Statement::from_string(state.db.backend(), "SELECT path FROM regions ORDER BY path".to_string());
    let paths: Vec<String> =
        db.query_all_raw(stmt).await.unwrap().iter().map(|r| r.try_get::<String>("", "path").unwrap()).collect();
    let mut periods = vec![(first, last)];
    let mut d = first;
    while d <= last {
        periods.push((d, d));
        d = d.succ_opt().unwrap();
    }
    let mut n = 0;
    for (from, to) in periods {
        let (start, end) = (local_day_start(state, from), local_day_end(state, to));
        for path in &paths {
            let rolled = rollups::region_counts(db, path, from, to).await.unwrap();
            let counted = stats::counts(db, &stats::Population::Region(path.clone()), start, end, now).await.unwrap();
            assert_eq!(rolled, counted, "region {path}, {from} to {to}");
            n += 1;
        }
        let nonzero = |m: HashMap<i64, minsheng::domain::metrics::Counts>| {
            m.into_iter().filter(|(_, c)| *c != Default::default()).collect::<HashMap<_, _>>()
        };
        let rolled = nonzero(rollups::unit_counts(db, &paths[0], from, to).await.unwrap());
        let counted = nonzero(stats::unit_counts(db, &paths[0], start, end, now).await.unwrap());
        assert_eq!(rolled, counted, "units, {from} to {to}");
        n += rolled.len();
    }
    n
}

#[tokio::test]
async fn roll_ups_equal_a_recount_after_a_random_walk_of_actions() {
    let app = spawn_app_with(|s| {
        s.limits.intake_per_ip = Limit { max: 1000, window_seconds: 60 };
        s.limits.intake_per_ip_daily = Limit { max: 1000, window_seconds: 86400 };
        s.limits.intake_per_phone = Limit { max: 1000, window_seconds: 3600 };
        s.limits.intake_per_card = Limit { max: 1000, window_seconds: 60 };
    })
    .await;
    let stmt = Statement::from_string(app.state.db.backend(), "SELECT code FROM categories WHERE active ORDER BY code");
    let categories: Vec<String> = app
        .state
        .db
        .conn
        .query_all_raw(stmt)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<String>("", "code").unwrap())
        .collect();
    assert!(categories.len() >= 3);
    let seed = std::env::var("MINSHENG_WALK_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_2026_u64);
    let mut walk = Walk { app: &app, rng: Rng(seed), tokens: HashMap::new(), categories, tickets: vec![], ok: 0 };
    let first = app.state.now().with_timezone(&app.state.tz()).date_naive();
    let mut compared = 0;
    for round in 0..4 {
        for _ in 0..45 {
            walk.step().await;
        }
        let last = app.state.now().with_timezone(&app.state.tz()).date_naive();
        compared += compare(&app, first - Duration::days(1), last + Duration::days(1)).await;
        assert!(walk.ok > 20 * round, "the walk must change things: {} actions succeeded", walk.ok);
    }
    // The clock alone: deadlines pass with no action, and the catch-up makes the counts follow.
    app.set_time(app.state.now() + Duration::days(4));
    let last = app.state.now().with_timezone(&app.state.tz()).date_naive();
    compared += compare(&app, first - Duration::days(1), last).await;

    // Maintained change by change = rebuilt from scratch.
    let maintained = day_rows(&app).await;
    assert!(maintained.len() > 10, "{maintained:?}");
    let tx = app.state.db.begin().await.unwrap();
    rollups::rebuild(&*tx, app.state.rollup_offset(), app.state.now()).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(maintained, day_rows(&app).await);
    assert!(walk.ok > 60 && compared > 100, "{} actions, {compared} comparisons", walk.ok);
    // The walk reached what the counts are about (fixed seed: these hold for it).
    let covered = [
        ("counted visits", "SELECT COUNT(*) FROM return_visits WHERE reached AND counted"),
        ("un-counted visits", "SELECT COUNT(*) FROM return_visits WHERE reached AND NOT counted"),
        ("reopenings", "SELECT COUNT(*) FROM events WHERE to_status = 'reopened'"),
        ("orders taken back", "SELECT COUNT(*) FROM assignments WHERE status IN ('superseded', 'returned')"),
        ("late acceptances", "SELECT COUNT(*) FROM assignments WHERE accepted_at > respond_by"),
        ("recategorised", "SELECT COUNT(*) FROM tickets WHERE category_code <> 'water.supply'"),
    ];
    for (what, sql) in covered {
        let n = app.count(sql).await;
        eprintln!("  {what}: {n}");
        assert!(n > 0 || seed != 0x5eed_2026, "the walk never produced {what}");
    }
    eprintln!("roll-up walk (seed {seed:#x}): {} accepted actions, {compared} comparisons", walk.ok);

    // And the API reads the roll-ups: the county summary shows the recounted numbers.
    let leader = app.token("leader").await;
    let q = format!("/api/v1/stats/summary?from={}&to={last}", first - Duration::days(1));
    let r = app.get(&q, Some(&leader)).await;
    assert_eq!(r.status(), StatusCode::OK);
    let s: Value = r.json().await.unwrap();
    let state = &app.state;
    let stmt = Statement::from_string(state.db.backend(), "SELECT path FROM regions WHERE level = 'county'");
    let root: String = state.db.conn.query_one_raw(stmt).await.unwrap().unwrap().try_get("", "path").unwrap();
    let (start, end) = (local_day_start(state, first - Duration::days(1)), local_day_end(state, last));
    let counted =
        stats::counts(&state.db.conn, &stats::Population::Region(root), start, end, state.now()).await.unwrap();
    assert_eq!(s["counts"], serde_json::to_value(&counted).unwrap());
    assert_eq!(s["counts"]["received"], app.count("SELECT COUNT(*) FROM tickets").await);
}
