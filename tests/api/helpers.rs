//! `spawn_app()`: the real application on a random port with a fresh database — a new SQLite file or
//! a new PostgreSQL database — seeded with the demo county. `MINSHENG_TEST_DB=sqlite|postgres`
//! selects the backend (default sqlite); `MINSHENG_TEST_PG` the PostgreSQL server.
use minsheng::auth::password::HashParams;
use minsheng::configuration::{AppEnvironment, load};
use minsheng::db::Db;
use minsheng::startup::{Application, build_state};
use minsheng::state::AppState;
use minsheng::{demo, repo};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};

pub const PASSWORD: &str = demo::DEMO_PASSWORD;

pub struct TestApp {
    pub addr: String,
    pub client: reqwest::Client,
    pub state: AppState,
    /// (village name, card code) of the demo county.
    pub cards: Vec<(String, String)>,
}

pub fn backend() -> String {
    std::env::var("MINSHENG_TEST_DB").unwrap_or_else(|_| "sqlite".into())
}

pub fn pg_server() -> String {
    std::env::var("MINSHENG_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A database URL nobody else uses.
pub async fn fresh_database_url() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    match backend().as_str() {
        "postgres" => {
            let admin = Database::connect(format!("{}/test", pg_server()))
                .await
                .expect("connect to PostgreSQL (is it running?)");
            admin.execute_unprepared(&format!("CREATE DATABASE ms_test_{id}")).await.expect("create test database");
            admin.close().await.ok();
            format!("{}/ms_test_{id}", pg_server())
        }
        _ => {
            let dir = std::env::temp_dir().join("minsheng-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}?mode=rwc", dir.join(format!("{id}.sqlite")).display())
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut minsheng::configuration::Settings)) -> TestApp {
    spawn_app_with_routes(adjust, None).await
}

/// The application with `extra` routes under its real middleware (e.g. a route that panics).
pub async fn spawn_app_with_routes(
    adjust: impl FnOnce(&mut minsheng::configuration::Settings),
    extra: Option<minsheng::startup::ExtraRoutes>,
) -> TestApp {
    let mut settings = test_settings(fresh_database_url().await);
    adjust(&mut settings);
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&settings.database.url), 5).await.expect("db");
    db.migrate().await.expect("migrate");
    let params = HashParams { memory_kib: 1024, iterations: 1 };
    let summary = demo::seed(&db, params, "12345", "清河县", chrono::Utc::now()).await.expect("seed");
    start(settings, db, summary.cards, extra).await
}

/// The application on an existing database that is not seeded (a county set up by the command line).
pub async fn serve_database(url: String) -> TestApp {
    let settings = test_settings(url);
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&settings.database.url), 5).await.expect("db");
    start(settings, db, vec![], None).await
}

/// The same, with settings adjusted (a second instance of a running test app: its database URL, the
/// same Redis).
pub async fn serve_database_with(url: String, adjust: impl FnOnce(&mut minsheng::configuration::Settings)) -> TestApp {
    let mut settings = test_settings(url);
    adjust(&mut settings);
    let db = Db::connect(secrecy::ExposeSecret::expose_secret(&settings.database.url), 5).await.expect("db");
    start(settings, db, vec![], None).await
}

fn test_settings(url: String) -> minsheng::configuration::Settings {
    let mut settings = load(AppEnvironment::Local).expect("configuration");
    settings.application.port = 0;
    settings.application.workers_enabled = false;
    settings.application.public_url = "http://minsheng.test".into();
    let uploads =
        std::env::temp_dir().join("minsheng-tests").join(format!("uploads-{}", uuid::Uuid::new_v4().simple()));
    settings.application.upload_dir = uploads.to_string_lossy().into_owned();
    settings.database.url = SecretString::from(url);
    settings.database.max_connections = 5;
    settings.auth.argon2_memory_kib = 1024;
    settings.auth.argon2_iterations = 1;
    settings.redis.url = None;
    // Tests choose their clock; quiet hours would hold villager messages back at night.
    settings.sms.quiet_hours.enabled = false;
    settings
}

async fn start(
    settings: minsheng::configuration::Settings,
    db: Db,
    cards: Vec<(String, String)>,
    extra: Option<minsheng::startup::ExtraRoutes>,
) -> TestApp {
    let state = build_state(settings, db).await.expect("state");
    let app = Application::with_state_and_routes(state.clone(), extra).expect("build app");
    let addr = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        addr,
        // A pooled connection idle for longer than the server's keep-alive (actix: 5 s, e.g. while a
        // page spec runs) may be closed by the server just as a request goes out on it
        // (`IncompleteMessage`): idle connections are dropped well before that.
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(2))
            .build()
            .unwrap(),
        state,
        cards,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut rb = self.client.get(self.url(path));
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send().await.expect("request")
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut rb = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            rb = rb.bearer_auth(t);
        }
        rb.send().await.expect("request")
    }

    /// `PATCH` with a JSON body as a signed-in staff member.
    pub async fn patch(&self, path: &str, token: &str, body: &Value) -> Response {
        self.client.patch(self.url(path)).bearer_auth(token).json(body).send().await.expect("request")
    }

    /// `DELETE` as a signed-in staff member.
    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.client.delete(self.url(path)).bearer_auth(token).send().await.expect("request")
    }

    /// Uploads a plain `w`×`h` PNG of one colour as a staff member (evidence for an action or an
    /// appeal); answers its upload id.
    pub async fn upload_png(&self, token: &str, (w, h): (u32, u32), rgb: [u8; 3]) -> String {
        let mut png = std::io::Cursor::new(Vec::new());
        image::DynamicImage::ImageRgb8(image::ImageBuffer::from_pixel(w, h, image::Rgb(rgb)))
            .write_to(&mut png, image::ImageFormat::Png)
            .unwrap();
        let form = reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(png.into_inner()).file_name("notice.png"));
        let r = self.client.post(self.url("/api/v1/uploads")).bearer_auth(token).multipart(form).send().await;
        let up: Value = r.expect("request").json().await.unwrap();
        up["upload_id"].as_str().expect("upload id").to_string()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.post("/api/v1/auth/login", None, &json!({"username": username, "password": password})).await
    }

    /// An access token for a demo user.
    pub async fn token(&self, username: &str) -> String {
        let r = self.login(username, PASSWORD).await;
        assert_eq!(r.status(), StatusCode::OK, "login {username}");
        let v: Value = r.json().await.unwrap();
        v["access_token"].as_str().unwrap().to_string()
    }

    pub fn card(&self, village: &str) -> String {
        self.cards.iter().find(|(v, _)| v == village).map(|(_, c)| c.clone()).expect("demo card")
    }

    pub fn intake_body(&self, village: &str, phone: &str) -> Value {
        json!({"card_code": self.card(village), "category": "water.supply", "kind": "help",
               "description": "村东头自来水停了三天了，请尽快处理", "phone": phone})
    }

    pub async fn intake(&self, body: &Value, key: Option<&str>) -> Response {
        let mut rb = self.client.post(self.url("/api/v1/tickets")).json(body);
        if let Some(k) = key {
            rb = rb.header("Idempotency-Key", k);
        }
        rb.send().await.expect("request")
    }

    /// Files a ticket from a village's card and returns its number.
    pub async fn file(&self, village: &str, phone: &str) -> String {
        let r = self.intake(&self.intake_body(village, phone), Some(&uuid::Uuid::new_v4().to_string())).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        v["ticket_no"].as_str().unwrap().to_string()
    }

    pub async fn act(&self, token: &str, no: &str, action: &str, body: Value) -> Response {
        self.post(&format!("/api/v1/tickets/{no}/{action}"), Some(token), &body).await
    }

    /// Runs an action that must succeed; returns the ticket JSON.
    pub async fn act_ok(&self, token: &str, no: &str, action: &str, body: Value) -> Value {
        let r = self.act(token, no, action, body).await;
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{action} on {no}: {v}");
        v
    }

    pub async fn ticket(&self, token: &str, no: &str) -> Value {
        let r = self.get(&format!("/api/v1/tickets/{no}"), Some(token)).await;
        assert_eq!(r.status(), StatusCode::OK);
        r.json().await.unwrap()
    }

    pub async fn unit_id(&self, name: &str) -> i64 {
        let units =
            repo::regions::list_units(&self.state.db.conn, "/", None, None, repo::Page { page: 1, per_page: 100 })
                .await
                .unwrap()
                .0;
        units.into_iter().find(|(u, _)| u.name == name).map(|(u, _)| u.id).expect("unit")
    }

    pub async fn region_id(&self, name: &str) -> i64 {
        let rs = repo::regions::list(&self.state.db.conn, "/", None, None, None, repo::Page { page: 1, per_page: 100 })
            .await
            .unwrap()
            .0;
        rs.into_iter().find(|r| r.name == name).map(|r| r.id).expect("region")
    }

    /// Adds a staff member with the demo password, scoped to the named region (no unit, no phone), and
    /// returns a token for them.
    pub async fn add_staff(&self, username: &str, name: &str, roles: &str, region: &str) -> String {
        let region_id = self.region_id(region).await;
        let hash =
            minsheng::auth::password::hash(PASSWORD.to_string().into(), HashParams { memory_kib: 1024, iterations: 1 })
                .await
                .unwrap();
        let s = repo::staff::NewStaff {
            username,
            name,
            password_hash: &hash,
            roles,
            region_id,
            unit_id: None,
            phone: None,
            post: None,
            must_change_password: false,
        };
        repo::staff::create(&self.state.db.conn, s, chrono::Utc::now()).await.unwrap();
        self.token(username).await
    }

    /// Register, dispatch to the village committee and accept: the ticket is with the cadre.
    pub async fn to_accepted(&self, village: &str, cadre: &str, phone: &str) -> String {
        let no = self.file(village, phone).await;
        let op = self.token("operator").await;
        let di = self.token("dispatcher").await;
        let ca = self.token(cadre).await;
        self.act_ok(&op, &no, "register", json!({})).await;
        let unit = self.unit_id(&format!("{village}村民委员会")).await;
        self.act_ok(&di, &no, "dispatch", json!({"unit_id": unit})).await;
        self.act_ok(&ca, &no, "accept", json!({})).await;
        no
    }

    /// 下交: the dispatcher asks to refer the (repeated) ticket and the leader approves it (签批).
    pub async fn refer(&self, no: &str, reason: &str) -> Value {
        let di = self.token("dispatcher").await;
        let leader = self.token("leader").await;
        let t = self.act_ok(&di, no, "refer", json!({"reason": reason})).await;
        assert_ne!(t["status"], "referred", "a request alone does not refer: {t}");
        self.act_ok(&leader, no, "refer_approve", json!({})).await
    }

    /// The village's active council members (三老合议), three added by the admin if it has fewer.
    pub async fn council(&self, village: &str) -> Vec<i64> {
        let id = self.region_id(village).await;
        let admin = self.token("admin").await;
        let path = format!("/api/v1/villages/{id}/council");
        let list: Value = self.get(&path, Some(&admin)).await.json().await.unwrap();
        let mut ids: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["active"] == true)
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        for (name, title) in
            [("王德厚", "老党员"), ("李春华", "老干部"), ("赵文清", "老教师")].into_iter().skip(ids.len())
        {
            let r = self.post(&path, Some(&admin), &json!({"name": name, "title": title})).await;
            assert_eq!(r.status(), StatusCode::CREATED);
            ids.push(r.json::<Value>().await.unwrap()["id"].as_i64().unwrap());
        }
        ids
    }

    /// Three council members of the village sign the referred ticket (recorded by the operator).
    pub async fn council_signs(&self, no: &str, village: &str) -> Vec<i64> {
        let op = self.token("operator").await;
        let ids: Vec<i64> = self.council(village).await.into_iter().take(3).collect();
        for id in &ids {
            self.act_ok(&op, no, "council_sign", json!({"member_id": id})).await;
        }
        ids
    }

    /// … then resolved by the cadre.
    pub async fn to_resolved(&self, village: &str, cadre: &str, phone: &str) -> String {
        let no = self.to_accepted(village, cadre, phone).await;
        let ca = self.token(cadre).await;
        self.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
        no
    }

    /// Moves the application's clock to the next UTC midnight, where every rate-limit window starts
    /// (they are fixed windows of a minute, ten minutes, an hour or a day): a test that counts hits
    /// against a limit cannot straddle two windows, whatever the wall clock says.
    pub fn at_window_start(&self) {
        let next_day = (self.state.now().timestamp() / 86_400 + 1) * 86_400;
        self.set_time(chrono::DateTime::from_timestamp(next_day, 0).unwrap());
    }

    /// Moves the application's clock to `at` (forwards or backwards).
    pub fn set_time(&self, at: chrono::DateTime<chrono::Utc>) {
        self.state.time.advance(at - self.state.now());
    }

    /// The text of the latest SMS of `kind` about ticket `no`, as stored (the outbox listing masks
    /// link tokens; the phone receives them whole).
    pub async fn sent_body(&self, no: &str, kind: &str) -> String {
        let sql = format!(
            "SELECT o.body FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.no = '{no}' AND o.kind = '{kind}' ORDER BY o.id DESC LIMIT 1"
        );
        let stmt = sea_orm::Statement::from_string(self.state.db.backend(), sql);
        let row = self.state.db.conn.query_one_raw(stmt).await.unwrap().expect("a message of that kind");
        row.try_get_by_index::<String>(0).unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let stmt = sea_orm::Statement::from_string(self.state.db.backend(), sql.to_string());
        let row = self.state.db.conn.query_one_raw(stmt).await.unwrap().unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Rows whose derived deadlines differ from a recomputation: tickets whose `overdue_from` or
    /// `late_from` is not what `migration::derived` computes from their assignments now, plus
    /// assignments whose copies (status, deadlines) differ from their ticket's columns. 0 after
    /// every change.
    pub async fn stale_deadlines(&self) -> i64 {
        use migration::derived::{LATE_FROM_SQL, OVERDUE_FROM_SQL};
        let tickets = self
            .count(&format!(
                "SELECT COUNT(*) FROM tickets WHERE overdue_from IS DISTINCT FROM {OVERDUE_FROM_SQL} \
                 OR late_from IS DISTINCT FROM {LATE_FROM_SQL}"
            ))
            .await;
        let copies = self
            .count(
                "SELECT COUNT(*) FROM assignments a JOIN tickets t ON t.id = a.ticket_id \
                 WHERE a.ticket_overdue_from IS DISTINCT FROM t.overdue_from \
                 OR a.ticket_late_from IS DISTINCT FROM t.late_from OR a.ticket_status IS DISTINCT FROM t.status",
            )
            .await;
        tickets + copies
    }

    /// (tickets, events, outbox messages): what a refused request must leave as it was.
    pub async fn written(&self) -> (i64, i64, i64) {
        (
            self.count("SELECT COUNT(*) FROM tickets").await,
            self.count("SELECT COUNT(*) FROM events").await,
            self.count("SELECT COUNT(*) FROM outbox").await,
        )
    }
}

/// The `error` object of an error response, after checking its status.
pub async fn error_of(r: Response, status: StatusCode) -> Value {
    assert_eq!(r.status(), status);
    let v: Value = r.json().await.expect("JSON error body");
    assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string(), "{v}");
    v["error"].clone()
}

/// An XLSX workbook of one sheet holding `rows` as text (the county's spreadsheets in import tests).
pub fn xlsx(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// `POST /api/v1/imports/{kind}?dry_run=` with `bytes` as the file: (status, answer).
pub async fn import(app: &TestApp, token: &str, kind: &str, bytes: Vec<u8>, dry_run: bool) -> (StatusCode, Value) {
    use reqwest::multipart::{Form, Part};
    let form = Form::new().part("file", Part::bytes(bytes).file_name(format!("{kind}.xlsx")));
    let url = app.url(&format!("/api/v1/imports/{kind}?dry_run={dry_run}"));
    let r = app.client.post(url).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap())
}

/// A request from `village` run to resolved by `unit` (its cadre `cadre`) and visited with the
/// villager's `solved` and `satisfaction`.
pub async fn visited_order(
    app: &TestApp,
    (village, unit, cadre): (&str, &str, &str),
    phone: &str,
    solved: &str,
    satisfaction: &str,
) {
    let no = app.file(village, phone).await;
    let op = app.token("operator").await;
    let di = app.token("dispatcher").await;
    let ca = app.token(cadre).await;
    app.act_ok(&op, &no, "register", json!({})).await;
    app.act_ok(&di, &no, "dispatch", json!({"unit_id": app.unit_id(unit).await})).await;
    app.act_ok(&ca, &no, "accept", json!({})).await;
    app.act_ok(&ca, &no, "resolve", json!({"result": "已处理完毕"})).await;
    let cl = app.token("caller").await;
    let body = json!({"reached": true, "solved": solved, "satisfaction": satisfaction, "channel": "phone"});
    let r = app.post(&format!("/api/v1/tickets/{no}/return-visits"), Some(&cl), &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// Runs a command-line tool (poppler, zbar) and answers its output; the test needs it installed.
pub fn tool(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} is needed for this test (bash .ci/run installs it): {e}"));
    assert!(out.status.success(), "{cmd} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A small tmpfs (a real file system that fills up), unmounted when dropped, also when the test
/// fails. Mounting needs root, which CI has.
pub struct Tmpfs(std::path::PathBuf, usize);

impl Tmpfs {
    pub fn new(kb: u32) -> Tmpfs {
        let dir = std::env::temp_dir().join(format!("minsheng-tests/full-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kb}k"), "tmpfs"])
            .arg(&dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "the disk-full drill mounts a {kb} KB tmpfs and needs root (CI runs as root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(dir, kb as usize * 1024)
    }

    pub fn path(&self) -> String {
        self.0.to_string_lossy().into_owned()
    }

    pub fn filler(&self) -> std::path::PathBuf {
        self.0.join("filler")
    }

    /// Fills the disk up to `left` bytes of room; returns the room there was.
    pub fn fill(&self, left: usize) -> usize {
        let filler = self.filler();
        let mut room = self.1;
        while std::fs::write(&filler, vec![0u8; room]).is_err() {
            room -= 4096;
        }
        let _ = std::fs::remove_file(&filler);
        std::fs::write(&filler, vec![0u8; room - left]).unwrap();
        room
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
