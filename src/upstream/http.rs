//! The platform over HTTPS with signed requests (`sign`). Endpoints, relative to `base_url`:
//!
//! - `GET  /api/v1/orders?county={code}&limit={n}[&cursor={c}]` → `OrderPage`
//! - `POST /api/v1/orders/{id}/status` with the JSON of a status change → any 2xx
//!
//! A timeout, a connection error, 5xx, 408 and 429 are transient; any other 4xx is permanent.
use super::sign::{self, Request};
use super::{Failure, OrderPage, Upstream, UpstreamSettings};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

pub struct HttpUpstream {
    client: reqwest::Client,
    /// Without a trailing slash.
    base: String,
    /// The base URL's path (signed with the rest of the path), without a trailing slash.
    base_path: String,
    app_key: String,
    secret: SecretString,
    county: String,
}

impl HttpUpstream {
    pub fn new(s: &UpstreamSettings) -> anyhow::Result<HttpUpstream> {
        let base = s.base_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base).map_err(|e| anyhow::anyhow!("upstream.base_url {base:?}: {e}"))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(s.timeout_ms))
            .connect_timeout(Duration::from_millis(s.timeout_ms))
            .build()?;
        Ok(HttpUpstream {
            client,
            base_path: parsed.path().trim_end_matches('/').to_string(),
            base,
            app_key: s.app_key.clone(),
            secret: s.app_secret.clone(),
            county: s.county_code.clone(),
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, &str)],
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<String, Failure> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let full_path = format!("{}{path}", self.base_path);
        let req = Request {
            method: method.as_str(),
            path: &full_path,
            query,
            app_key: &self.app_key,
            timestamp: now.timestamp(),
            nonce: &nonce,
            body: body.as_bytes(),
        };
        let signature = sign::signature(self.secret.expose_secret().as_bytes(), &sign::canonical(&req));
        let q = sign::canonical_query(query);
        let url = if q.is_empty() { format!("{}{path}", self.base) } else { format!("{}{path}?{q}", self.base) };
        let mut rb = self
            .client
            .request(method, url)
            .header(sign::APP_KEY, &self.app_key)
            .header(sign::TIMESTAMP, now.timestamp().to_string())
            .header(sign::NONCE, &nonce)
            .header(sign::SIGNATURE, signature);
        if !body.is_empty() {
            rb = rb.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let resp = rb.send().await.map_err(|e| Failure::Transient(format!("{e}")))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| Failure::Transient(format!("reading the answer: {e}")))?;
        if status.is_success() {
            return Ok(text);
        }
        let excerpt: String = text.chars().take(300).collect();
        let what = format!("HTTP {}: {excerpt}", status.as_u16());
        if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::TOO_MANY_REQUESTS
        {
            Err(Failure::Transient(what))
        } else {
            Err(Failure::Permanent(what))
        }
    }
}

#[async_trait::async_trait]
impl Upstream for HttpUpstream {
    async fn fetch_orders(&self, cursor: Option<&str>, limit: u32, now: DateTime<Utc>) -> Result<OrderPage, Failure> {
        let limit = limit.to_string();
        let mut query = vec![("county", self.county.as_str()), ("limit", limit.as_str())];
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        let text = self.send(reqwest::Method::GET, "/api/v1/orders", &query, "", now).await?;
        serde_json::from_str(&text).map_err(|e| Failure::Permanent(format!("the order page does not read: {e}")))
    }

    async fn push_status(&self, order_id: &str, body: &str, now: DateTime<Utc>) -> Result<(), Failure> {
        let path = format!("/api/v1/orders/{}/status", sign::encode(order_id));
        self.send(reqwest::Method::POST, &path, &[], body, now).await.map(|_| ())
    }
}
