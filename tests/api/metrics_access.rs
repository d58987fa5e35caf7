//! `/metrics` answers a direct loopback connection, or the configured bearer token from anywhere;
//! a request through a proxy (even one on this host) or from another address is refused.
use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use reqwest::{RequestBuilder, Response, StatusCode};
use secrecy::SecretString;

const TOKEN: &str = "scrape-me-0123456789abcdef";

async fn assert_metrics(r: Response) {
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = r.text().await.unwrap();
    assert!(text.contains("minsheng_http_requests_total"), "Prometheus text: {text}");
}

/// Refused with this status and code, and not a line of the metrics.
async fn assert_refused(r: Response, status: StatusCode, code: &str) {
    let www = r.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string());
    assert_eq!(www.as_deref(), (status == StatusCode::UNAUTHORIZED).then_some("Bearer"));
    let e = error_of(r, status).await;
    assert_eq!(e["code"], code, "{e}");
    assert!(!e.to_string().contains("minsheng_http"), "{e}");
}

fn metrics(app: &TestApp) -> RequestBuilder {
    app.client.get(app.url("/metrics"))
}

async fn with_token() -> TestApp {
    spawn_app_with(|s| s.observability.metrics_token = Some(SecretString::from(TOKEN))).await
}

#[tokio::test]
async fn a_plain_loopback_request_reads_the_metrics() {
    let app = spawn_app().await;
    app.get("/healthz", None).await;
    assert_metrics(metrics(&app).send().await.unwrap()).await;
}

#[tokio::test]
async fn a_loopback_request_through_a_proxy_is_refused_without_a_token() {
    let app = spawn_app().await;
    for (name, value) in
        [("x-forwarded-for", "203.0.113.7"), ("forwarded", "for=203.0.113.7;proto=https"), ("x-real-ip", "203.0.113.7")]
    {
        let r = metrics(&app).header(name, value).send().await.unwrap();
        assert_refused(r, StatusCode::FORBIDDEN, "forbidden").await;
    }
    // X-Forwarded-For naming loopback is not believed either.
    let r = metrics(&app).header("x-forwarded-for", "127.0.0.1").send().await.unwrap();
    assert_refused(r, StatusCode::FORBIDDEN, "forbidden").await;
    // Without a token configured, no token opens it.
    let r = metrics(&app).header("x-forwarded-for", "203.0.113.7").bearer_auth("anything").send().await.unwrap();
    assert_refused(r, StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
}

#[tokio::test]
async fn with_a_token_configured_only_the_right_token_opens_it_through_a_proxy() {
    let app = with_token().await;
    let proxied = || metrics(&app).header("x-forwarded-for", "203.0.113.7");
    assert_metrics(proxied().bearer_auth(TOKEN).send().await.unwrap()).await;
    assert_metrics(proxied().header("authorization", format!("bearer {TOKEN}")).send().await.unwrap()).await;
    assert_refused(proxied().send().await.unwrap(), StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
    let wrong = proxied().bearer_auth(format!("{TOKEN}x")).send().await.unwrap();
    assert_refused(wrong, StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
    let basic = proxied().basic_auth("metrics", Some(TOKEN)).send().await.unwrap();
    assert_refused(basic, StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
    // A direct loopback scraper needs no token, but a wrong one is still refused.
    assert_metrics(metrics(&app).send().await.unwrap()).await;
    let wrong = metrics(&app).bearer_auth("stale").send().await.unwrap();
    assert_refused(wrong, StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
}

/// This machine's first non-loopback IPv4 address (`hostname -I`), if it has one.
fn outside_address() -> Option<String> {
    let out = std::process::Command::new("hostname").arg("-I").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<std::net::IpAddr>().ok())
        .find(|ip| ip.is_ipv4() && !ip.is_loopback())
        .map(|ip| ip.to_string())
}

#[tokio::test]
async fn a_request_from_another_address_needs_the_token() {
    let Some(ip) = outside_address() else {
        println!("SKIPPED a_request_from_another_address_needs_the_token: `hostname -I` lists no non-loopback IPv4");
        return;
    };
    for configured in [false, true] {
        let host = ip.clone();
        let app = spawn_app_with(move |s| {
            s.application.host = host;
            if configured {
                s.observability.metrics_token = Some(SecretString::from(TOKEN));
            }
        })
        .await;
        let port = app.addr.rsplit(':').next().unwrap();
        // The server listens on the outside address only: the peer it sees is that address.
        let url = format!("http://{ip}:{port}/metrics");
        let plain = app.client.get(&url).send().await.unwrap();
        if configured {
            assert_refused(plain, StatusCode::UNAUTHORIZED, "invalid_metrics_token").await;
            assert_metrics(app.client.get(&url).bearer_auth(TOKEN).send().await.unwrap()).await;
        } else {
            assert_refused(plain, StatusCode::FORBIDDEN, "forbidden").await;
        }
        let healthz = app.client.get(format!("http://{ip}:{port}/healthz")).send().await.unwrap();
        assert_eq!(healthz.status(), StatusCode::OK, "the rest of the server answers from there");
    }
}
