//! Fault drill (issue 21, point 4): Redis stopped and started again under a running minsheng. The
//! drill runs a Redis server of its own (a child process on a free port), so the shared one is never
//! touched. While it is down every intake is still taken (the limits allow, as documented) and
//! `/readyz` says 503; once it is back, the limits count in Redis again without a restart.
use crate::helpers::{TestApp, spawn_app_with};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn redis_server(port: u16) -> std::process::Child {
    std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server")
}

fn ping(port: u16) -> bool {
    std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string(), "ping"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "PONG")
}

fn keys(port: u16) -> usize {
    let o = std::process::Command::new("redis-cli").args(["-p", &port.to_string(), "--scan"]).output().unwrap();
    String::from_utf8_lossy(&o.stdout).lines().count()
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn file(app: &TestApp, phone: &str) -> (StatusCode, Duration) {
    let t = Instant::now();
    let r = app.intake(&app.intake_body("李家庄村", phone), Some(&uuid::Uuid::new_v4().to_string())).await;
    (r.status(), t.elapsed())
}

#[tokio::test]
async fn intake_goes_on_while_redis_is_down_and_limits_count_in_redis_again_when_it_is_back() {
    let port = free_port();
    let mut redis = redis_server(port);
    wait_for("redis-server up", || ping(port)).await;
    let app = spawn_app_with(move |s| {
        s.redis.url = Some(format!("redis://127.0.0.1:{port}").into());
        s.limits.intake_per_phone = minsheng::kv::limiter::Limit { max: 2, window_seconds: 600 };
    })
    .await;

    // Up: the third intake from one phone is over its limit, counted in Redis.
    assert_eq!(file(&app, "13700000001").await.0, StatusCode::CREATED);
    assert_eq!(file(&app, "13700000001").await.0, StatusCode::CREATED);
    assert_eq!(file(&app, "13700000001").await.0, StatusCode::TOO_MANY_REQUESTS);
    assert!(keys(port) > 0, "the counts are in Redis");
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);

    // Down: every intake is taken (a villager is never refused because of Redis), readiness says so.
    redis.kill().unwrap();
    redis.wait().unwrap();
    let tickets = app.count("SELECT COUNT(*) FROM tickets").await;
    let mut times = vec![];
    for _ in 0..8 {
        let (status, took) = file(&app, "13700000002").await;
        assert_eq!(status, StatusCode::CREATED, "taken while Redis is down");
        times.push(took.as_millis());
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM tickets").await, tickets + 8);
    let t = Instant::now();
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::SERVICE_UNAVAILABLE);
    let readyz_down = t.elapsed().as_millis();

    // Back: without restarting minsheng, limits count in Redis again once the breaker has probed.
    let mut redis = redis_server(port);
    wait_for("redis-server back", || ping(port)).await;
    let back = Instant::now();
    let mut phone = 3;
    loop {
        let p = format!("137000000{phone:02}");
        let statuses = [file(&app, &p).await.0, file(&app, &p).await.0, file(&app, &p).await.0];
        if statuses[2] == StatusCode::TOO_MANY_REQUESTS && keys(port) > 0 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "limits never counted in Redis again: {statuses:?}");
        phone += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recovered = back.elapsed();
    assert_eq!(app.get("/readyz", None).await.status(), StatusCode::OK);
    redis.kill().unwrap();
    let _ = redis.wait();
    eprintln!(
        "Redis drill: intakes while down took {times:?} ms; /readyz answered 503 in {readyz_down} ms; \
         limits counted in Redis again {:.2} s after it was back",
        recovered.as_secs_f64()
    );
}
