//! Page tests in headless Chromium. Each test starts the application (SQLite, demo county), runs a
//! spec from `e2e/specs/` with Node + playwright-core against it, and checks the database after.
//! Screenshots land in `e2e/screenshots/`.
#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod console;

use helpers::spawn_app;
use serde_json::Value;
use std::process::Command;

/// Runs `e2e/specs/{spec}.mjs` against the app with extra environment; returns its JSON result line.
pub fn run_spec(base_url: &str, spec: &str, env: &[(&str, String)]) -> Value {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut cmd = Command::new("node");
    cmd.arg(format!("{root}/e2e/specs/{spec}.mjs")).env("BASE_URL", base_url);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("node (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "spec {spec} failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or("{}");
    serde_json::from_str(last).expect("spec result JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_villager_files_from_the_card_page_on_a_phone() {
    let app = spawn_app().await;
    let env = vec![("CARD_CODE", app.card("石桥村"))];
    let base = app.addr.clone();
    let result = tokio::task::spawn_blocking(move || run_spec(&base, "intake_basic", &env)).await.unwrap();
    let no = result["ticket_no"].as_str().unwrap();
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM tickets WHERE no = '{no}' AND channel = 'qr'")).await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, 1);
}
