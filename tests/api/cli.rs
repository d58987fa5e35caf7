//! The command line: migrate, admin create-region / create-staff, and the demo seed being reusable.
use crate::helpers::{fresh_database_url, spawn_app};
use minsheng::auth::password::HashParams;
use minsheng::db::Db;
use sea_orm::ConnectionTrait;
use std::process::Command;

pub(crate) fn minsheng(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_minsheng"));
    cmd.args(args).env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024").env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run minsheng");
    assert!(out.status.success(), "minsheng {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[tokio::test]
async fn the_first_admin_is_made_from_the_command_line_and_can_log_in() {
    let url = fresh_database_url().await;
    minsheng(&["migrate", "--database", &url], &[]);
    let out = minsheng(&["admin", "create-region", "--name", "测试县", "--level", "county", "--database", &url], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("region 1 created"));
    let out = minsheng(
        &[
            "admin",
            "create-staff",
            "--username",
            "chief",
            "--name",
            "王主任",
            "--roles",
            "admin",
            "--region-id",
            "1",
            "--database",
            &url,
        ],
        &[("MINSHENG_STAFF_PASSWORD", "a-long-secret-passphrase")],
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("chief"));
    // The server on that database accepts the new admin.
    let db = Db::connect(&url, 2).await.unwrap();
    let settings = {
        let mut s = minsheng::configuration::load(minsheng::configuration::AppEnvironment::Local).unwrap();
        s.application.port = 0;
        s.application.workers_enabled = false;
        s
    };
    let state = minsheng::startup::build_state(settings, db).await.unwrap();
    let app = minsheng::startup::Application::with_state(state).unwrap();
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    let r = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "chief", "password": "a-long-secret-passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
}

/// `minsheng admin create-staff` for user "x" in region 1, with `roles` and `password`.
fn create_staff(url: &str, roles: &str, password: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args(["admin", "create-staff", "--username", "x", "--name", "x", "--roles", roles, "--region-id", "1"])
        .args(["--database", url])
        .env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1")
        .env("MINSHENG_STAFF_PASSWORD", password)
        .output()
        .unwrap()
}

async fn staff_rows(url: &str) -> i64 {
    let db = Db::connect(url, 1).await.unwrap();
    let stmt = sea_orm::Statement::from_string(db.backend(), "SELECT COUNT(*) FROM staff");
    let row = db.conn.query_one_raw(stmt).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn a_short_password_or_unknown_role_is_refused() {
    let url = fresh_database_url().await;
    minsheng(&["migrate", "--database", &url], &[]);
    // The region exists, so each refusal below can only be for the reason it names.
    minsheng(&["admin", "create-region", "--name", "测试县", "--level", "county", "--database", &url], &[]);
    let before = staff_rows(&url).await;
    let bad = create_staff(&url, "admin,root", "a-long-secret-passphrase");
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(stderr.contains("unknown role in \"admin,root\""), "{stderr}");
    let short = create_staff(&url, "admin", "short");
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(stderr.contains("the password must have at least 10 characters"), "{stderr}");
    assert_eq!(staff_rows(&url).await, before, "nothing was written");
    // With both put right, the same command succeeds: nothing else was wrong.
    let good = create_staff(&url, "admin", "a-long-secret-passphrase");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert_eq!(staff_rows(&url).await, before + 1);
}

#[tokio::test]
async fn seeding_the_demo_again_reuses_the_data() {
    let app = spawn_app().await;
    let before = app.count("SELECT COUNT(*) FROM staff").await + app.count("SELECT COUNT(*) FROM cards").await;
    let again = minsheng::demo::seed(
        &app.state.db,
        HashParams { memory_kib: 1024, iterations: 1 },
        "12345",
        "清河县",
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert!(!again.seeded_now);
    assert_eq!(again.cards.len(), 6);
    let after = app.count("SELECT COUNT(*) FROM staff").await + app.count("SELECT COUNT(*) FROM cards").await;
    assert_eq!(before, after);
    assert_eq!(app.count("SELECT COUNT(*) FROM regions WHERE level = 'village'").await, 6);
    assert_eq!(app.count("SELECT COUNT(*) FROM regions WHERE level = 'grid'").await, 12);
}

/// Starts `minsheng demo` in `dir` on `port` and reads what it prints up to the serving line's
/// block: (card links, login names, whether it seeded now).
async fn start_demo(dir: &std::path::Path, port: u16) -> (tokio::process::Child, Vec<String>, Vec<String>, bool) {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir)
        .env("MINSHENG__AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("MINSHENG__AUTH__ARGON2_ITERATIONS", "1")
        // An instance without the shared workers still writes its card scans.
        .env("MINSHENG__APPLICATION__WORKERS_ENABLED", "false")
        .env("MINSHENG__APPLICATION__SCAN_FLUSH_SECONDS", "1")
        .env_remove("MINSHENG__DATABASE__URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start minsheng demo");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut cards, mut logins, mut seeded, mut in_logins) = (vec![], vec![], None, false);
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("demo county seeded") {
                seeded = Some(true);
            } else if line.contains("reusing existing data") {
                seeded = Some(false);
            } else if let Some(i) = line.find(&format!("http://127.0.0.1:{port}/c/")) {
                cards.push(line[i..].trim().to_string());
            } else if line.starts_with("Staff logins") {
                in_logins = true;
            } else if in_logins && line.trim().is_empty() {
                break;
            } else if in_logins {
                logins.push(line.split_whitespace().next().unwrap().to_string());
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), read).await.expect("demo prints its links");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, cards, logins, seeded.expect("demo says whether it seeded"))
}

#[tokio::test]
async fn the_demo_command_serves_the_links_and_logins_it_prints_and_reuses_its_data() {
    let dir = std::env::temp_dir().join(format!("minsheng-tests/demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (mut child, cards, logins, seeded) = start_demo(&dir, port).await;
    assert!(seeded);
    assert!(dir.join("data/minsheng.sqlite").exists(), "the embedded database is created under ./data");
    assert_eq!(cards.len(), 6, "one card per village: {cards:?}");
    for who in ["admin", "operator", "dispatcher", "caller", "leader"] {
        assert!(logins.iter().any(|l| l == who), "{who} in {logins:?}");
    }
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Twelve weeks of past work with their published red/black lists: the public page shows the
    // latest with units on it, and the weeks before it.
    let page = http.get(format!("{base}/redblack")).send().await.unwrap();
    assert_eq!(page.status(), reqwest::StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("红榜") && page.contains("村民委员会") && page.contains("查看其他周"),
        "the demo's red/black list"
    );
    // Every printed card link opens its village's intake page.
    for link in &cards {
        let r = http.get(link).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{link}");
        let html = r.text().await.unwrap();
        assert!(html.contains("村") && html.contains("<form"), "{link} is an intake page");
    }
    // Every printed login works with the demo password.
    let mut admin = String::new();
    for who in &logins {
        let r = http
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": who, "password": minsheng::demo::DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "login {who}");
        if who == "admin" {
            admin = r.json::<serde_json::Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        }
    }
    // The scans of those opens reach the database within the flush interval.
    let code = cards[0].rsplit('/').next().unwrap().to_string();
    let mut scans = 0;
    for _ in 0..50 {
        let d: serde_json::Value = http
            .get(format!("{base}/api/v1/cards/{code}/details"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        scans = d["scans_total"].as_i64().unwrap_or(0);
        if scans >= 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(scans, 1, "the scan is written without the shared workers running");
    // The demo signs with a secret of its own: the admin's claims signed with the development key
    // this project once published are refused.
    let forged = published_key_twin(&admin);
    let r = http.get(format!("{base}/api/v1/tickets")).bearer_auth(&forged).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNAUTHORIZED, "a token signed with the published key");
    let r = http.get(format!("{base}/api/v1/tickets")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // The demo's few days of work: overdue and late orders are there to see at once.
    let counts: serde_json::Value = http
        .get(format!("{base}/api/v1/tickets/counts"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Twelve past weeks (288 requests, all closed) and the last days (24: twelve, three more
    // requests of one village and the proactive ticket raised from them, a paused order and one
    // waiting for a leader's approval of its pause, a power cut for the power supply station, two
    // repeated requests, one decided by its village council, one waiting for a leader's 下交签批, and
    // a joint order with two assisting bureaus).
    assert_eq!(counts["total"], 312, "{counts}");
    assert_eq!(counts["refer_pending"], 1, "{counts}");
    assert_eq!((counts["paused"].as_i64(), counts["pause_pending"].as_i64()), (Some(1), Some(1)), "{counts}");
    assert!(counts["closed"].as_i64().unwrap() >= 288, "{counts}");
    assert!(counts["overdue"].as_i64().unwrap() >= 2 && counts["late"].as_i64().unwrap() >= 5, "{counts}");
    // The leaders' numbers over the past are there on first start, read from the roll-ups the
    // seeding kept: visits with their four scores, ranked units in every village and township tier.
    let login: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "leader", "password": "minsheng-demo"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let leader = login["access_token"].as_str().unwrap().to_string();
    let today = chrono::Utc::now().date_naive();
    let q = format!("{base}/api/v1/stats/units?from={}&to={today}", today - chrono::Duration::days(90));
    let units: serde_json::Value = http.get(q).bearer_auth(&leader).send().await.unwrap().json().await.unwrap();
    let ranked = |tier: &str| {
        units["items"].as_array().unwrap().iter().filter(|u| u["tier"] == tier && u["rank"].is_number()).count()
    };
    assert!(ranked("village") >= 3 && ranked("township") >= 2, "{units}");
    let q = format!("{base}/api/v1/stats/summary?from={}&to={today}", today - chrono::Duration::days(90));
    let s: serde_json::Value = http.get(q).bearer_auth(&leader).send().await.unwrap().json().await.unwrap();
    assert!(s["counts"]["visited"].as_i64().unwrap() >= 250, "{s}");
    assert!(s["dimensions"]["attitude"]["count"].as_i64().unwrap() >= 250, "{s}");
    assert!(s["dimensions"]["efficiency"]["mean"].as_f64().unwrap() > 3.0, "{s}");
    child.kill().await.unwrap();
    // Again in the same folder: the same county, nothing seeded twice, the same secret (the
    // admin's token from the first run still works).
    let (mut again, cards_again, _, seeded) = start_demo(&dir, port).await;
    assert!(!seeded);
    assert_eq!(cards_again, cards);
    for _ in 0..100 {
        if http.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = http.get(format!("{base}/api/v1/tickets")).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::OK, "the generated secret is kept in the database");
    let list: serde_json::Value = r.json().await.unwrap();
    assert_eq!(list["total"], 312, "the history is not filed twice");
    again.kill().await.unwrap();
}

/// The same claims as `token`, signed with the development key once published in base.yaml.
fn published_key_twin(token: &str) -> String {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let claims: minsheng::auth::jwt::StaffClaims =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    let keys =
        minsheng::auth::jwt::Keys::new(&secrecy::SecretString::from(minsheng::auth::keys::PUBLISHED_DEVELOPMENT_KEY));
    keys.sign(&claims).unwrap()
}

#[tokio::test]
async fn the_standard_catalogue_loads_into_an_empty_county_once() {
    let url = fresh_database_url().await;
    minsheng(&["migrate", "--database", &url], &[]);
    let out = minsheng(&["admin", "catalogue", "load", "standard", "--database", &url], &[]);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(said.contains("17 categories with 28 items"), "{said}");
    let db = Db::connect(&url, 2).await.unwrap();
    let count = |sql: &'static str| count_in(&db, sql);
    assert_eq!(count("SELECT COUNT(*) FROM categories WHERE parent_code IS NULL").await, 17);
    assert_eq!(count("SELECT COUNT(*) FROM categories WHERE parent_code IS NOT NULL").await, 28);
    assert_eq!(count("SELECT COUNT(*) FROM sla_policies WHERE category_code IS NULL").await, 2, "the county defaults");
    assert_eq!(count("SELECT COUNT(*) FROM sla_policies WHERE category_code = 'land' AND signoff_required").await, 1);
    // A second load is refused and changes nothing.
    let again = Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args(["admin", "catalogue", "load", "standard", "--database", &url])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already has categories"));
    assert_eq!(count("SELECT COUNT(*) FROM categories").await, 45);
}

#[tokio::test]
async fn the_demo_county_is_seeded_from_the_standard_catalogue() {
    let app = spawn_app().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM categories").await, 45);
    // Departments named in the file are linked to the county's units of that name.
    let housing = app.unit_id("县住房和城乡建设局").await;
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM categories WHERE code = 'housing' AND unit_id = {housing}")).await,
        1
    );
}

#[tokio::test]
async fn a_county_is_imported_from_spreadsheets_on_the_command_line_with_dry_runs_first() {
    let url = fresh_database_url().await;
    minsheng(&["migrate", "--database", &url], &[]);
    minsheng(&["admin", "create-region", "--name", "测试县", "--level", "county", "--database", &url], &[]);
    let dir = std::env::temp_dir().join(format!("ms-import-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let regions = dir.join("regions.csv");
    std::fs::write(&regions, "名称,层级,上级\n青山镇,乡镇,测试县\n青山村,村,青山镇\n一组,网格,青山村\n").unwrap();
    let units = dir.join("units.csv");
    std::fs::write(&units, "单位名称,所属区域,层级,类型,电话\n青山村村民委员会,青山村,村级,村民委员会,\n").unwrap();
    let staff = dir.join("staff.csv");
    std::fs::write(&staff, "用户名,姓名,手机号,角色,单位\nqingshan,青山干部,13900009999,承办干部,青山村村民委员会\n")
        .unwrap();
    let path = |p: &std::path::PathBuf| p.display().to_string();

    // Units before their regions exist: the dry run names the row and column, and writes nothing.
    let early = Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args(["admin", "import", &path(&units), "--kind", "units", "--dry-run", "--database", &url])
        .output()
        .unwrap();
    assert!(!early.status.success());
    let said = String::from_utf8_lossy(&early.stdout);
    assert!(said.contains("row 2 [所属区域]") && said.contains("找不到区域"), "{said}");

    let out =
        minsheng(&["admin", "import", &path(&regions), "--kind", "regions", "--dry-run", "--database", &url], &[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 rows checked"));
    for (file, kind) in [(&regions, "regions"), (&units, "units"), (&staff, "staff")] {
        let out = minsheng(&["admin", "import", &path(file), "--kind", kind, "--database", &url], &[]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("rows imported"), "{kind}");
    }
    let db = Db::connect(&url, 2).await.unwrap();
    let count = |sql: &'static str| count_in(&db, sql);
    assert_eq!(count("SELECT COUNT(*) FROM regions").await, 4);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM staff s JOIN units u ON u.id = s.unit_id WHERE s.username = 'qingshan' AND u.name = '青山村村民委员会'"
        )
        .await,
        1
    );
    assert_eq!(count("SELECT COUNT(*) FROM audit_log WHERE actor_name = '命令行导入'").await, 5);
}

/// One number from the database a command wrote to.
async fn count_in(db: &Db, sql: &str) -> i64 {
    let row = db.conn.query_one_raw(sea_orm::Statement::from_string(db.backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}
