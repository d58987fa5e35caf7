//! The command line: migrate, admin create-region / create-staff, and the demo seed being reusable.
use crate::helpers::{fresh_database_url, spawn_app};
use minsheng::auth::password::HashParams;
use minsheng::db::Db;
use std::process::Command;

fn minsheng(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
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

#[tokio::test]
async fn a_short_password_or_unknown_role_is_refused() {
    let url = fresh_database_url().await;
    minsheng(&["migrate", "--database", &url], &[]);
    let bad = Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args([
            "admin",
            "create-staff",
            "--username",
            "x",
            "--name",
            "x",
            "--roles",
            "admin,root",
            "--region-id",
            "1",
            "--database",
            &url,
        ])
        .env("MINSHENG_STAFF_PASSWORD", "a-long-secret-passphrase")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let short = Command::new(env!("CARGO_BIN_EXE_minsheng"))
        .args([
            "admin",
            "create-staff",
            "--username",
            "x",
            "--name",
            "x",
            "--roles",
            "admin",
            "--region-id",
            "1",
            "--database",
            &url,
        ])
        .env("MINSHENG_STAFF_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!short.status.success());
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
