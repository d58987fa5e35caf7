//! WeChat mini-program login: `jscode2session` turns the code from `wx.login` into an openid. The
//! base URL is configurable so tests run it against a local fake. `session_key` never leaves here.
use crate::configuration::WechatSettings;
use secrecy::ExposeSecret;
use serde::Deserialize;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub openid: String,
    pub unionid: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat login is not configured")]
    NotConfigured,
    /// 40029: the code is invalid, used or older than five minutes.
    #[error("invalid code")]
    InvalidCode,
    /// 45011: too many logins for this user.
    #[error("rate limited")]
    RateLimited,
    /// 40226: WeChat blocks this high-risk user.
    #[error("user blocked")]
    Blocked,
    /// -1: WeChat is busy (after one retry).
    #[error("busy")]
    Busy,
    #[error("errcode {0}: {1}")]
    Other(i64, String),
    #[error("transport: {0}")]
    Transport(String),
}

#[derive(Deserialize)]
struct Code2SessionAnswer {
    openid: Option<String>,
    unionid: Option<String>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

async fn call(http: &reqwest::Client, s: &WechatSettings, code: &str) -> Result<Session, WechatError> {
    let url = format!("{}/sns/jscode2session", s.base_url.trim_end_matches('/'));
    let resp = http
        .get(url)
        .query(&[
            ("appid", s.appid.as_str()),
            ("secret", s.secret.expose_secret()),
            ("js_code", code),
            ("grant_type", "authorization_code"),
        ])
        .timeout(Duration::from_millis(s.timeout_ms))
        .send()
        .await
        .map_err(|e| WechatError::Transport(e.without_url().to_string()))?;
    if !resp.status().is_success() {
        return Err(WechatError::Transport(format!("HTTP {}", resp.status())));
    }
    let a: Code2SessionAnswer = resp.json().await.map_err(|e| WechatError::Transport(e.to_string()))?;
    match a.errcode {
        0 => a
            .openid
            .filter(|o| !o.is_empty())
            .map(|openid| Session { openid, unionid: a.unionid })
            .ok_or_else(|| WechatError::Other(0, "no openid".into())),
        40029 => Err(WechatError::InvalidCode),
        45011 => Err(WechatError::RateLimited),
        40226 => Err(WechatError::Blocked),
        -1 => Err(WechatError::Busy),
        other => Err(WechatError::Other(other, a.errmsg)),
    }
}

/// Whether this county has a mini-program configured (appid and secret).
pub fn is_configured(s: &WechatSettings) -> bool {
    !s.appid.is_empty() && !s.secret.expose_secret().is_empty()
}

/// Exchanges a login code for the user's openid; a busy answer is retried once.
pub async fn code2session(http: &reqwest::Client, s: &WechatSettings, code: &str) -> Result<Session, WechatError> {
    if !is_configured(s) {
        return Err(WechatError::NotConfigured);
    }
    match call(http, s, code).await {
        Err(WechatError::Busy) => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            call(http, s, code).await
        }
        other => other,
    }
}

// ---------------------------------------------------------------------------------------------
// Subscribe messages: the access token (`cgi-bin/token`) and `message/subscribe/send`.

/// The access token lives in the key-value store (Redis when configured, shared by the instances)
/// as its expiry (unix seconds), a `|` and the token; the expiry is decided from `now`, not a TTL.
const TOKEN_KEY: &str = "wechat:access_token";

/// What one `subscribe/send` came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    /// WeChat took it (`msgid` when it says one).
    Sent(Option<String>),
    /// It will never go as it is: the villager refused or is not subscribed (43101), a bad openid
    /// (40003), template (40037), data (47003) or page (41030), or another error not known to pass.
    Refused(i64, String),
    /// Try again later: transport, HTTP 5xx, busy (-1), quota, or no usable access token.
    Retry(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    expires_in: Option<i64>,
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    msgid: Option<serde_json::Value>,
}

fn base(s: &WechatSettings) -> &str {
    s.base_url.trim_end_matches('/')
}

fn read_cached(raw: Option<String>, now: chrono::DateTime<chrono::Utc>, margin: i64) -> Option<String> {
    let raw = raw?;
    let (exp, token) = raw.split_once('|')?;
    let exp: i64 = exp.parse().ok()?;
    (now.timestamp() + margin < exp && !token.is_empty()).then(|| token.to_string())
}

/// A valid access token: the cached one, unless it is about to expire or is `stale` (WeChat just
/// called it invalid), else a fresh one. One refresh at a time per process (a second caller waits
/// and takes the token the first fetched): each `cgi-bin/token` call invalidates the previous token
/// after five minutes, so needless refreshes would cost other instances their token.
pub async fn access_token(
    http: &reqwest::Client,
    kv: &dyn crate::kv::KvStore,
    refresh: &tokio::sync::Mutex<()>,
    s: &WechatSettings,
    now: chrono::DateTime<chrono::Utc>,
    stale: Option<&str>,
) -> Result<String, String> {
    let margin = s.subscribe.token_margin_seconds.max(0);
    let cached = |raw| read_cached(raw, now, margin).filter(|t| Some(t.as_str()) != stale);
    if let Some(t) = cached(kv.get(TOKEN_KEY).await.ok().flatten()) {
        return Ok(t);
    }
    let _one = refresh.lock().await;
    if let Some(t) = cached(kv.get(TOKEN_KEY).await.ok().flatten()) {
        return Ok(t);
    }
    let resp = http
        .get(format!("{}/cgi-bin/token", base(s)))
        .query(&[
            ("grant_type", "client_credential"),
            ("appid", s.appid.as_str()),
            ("secret", s.secret.expose_secret()),
        ])
        .timeout(Duration::from_millis(s.timeout_ms))
        .send()
        .await
        .map_err(|e| format!("token: transport: {}", e.without_url()))?;
    if !resp.status().is_success() {
        return Err(format!("token: HTTP {}", resp.status()));
    }
    let a: TokenAnswer = resp.json().await.map_err(|e| format!("token: {e}"))?;
    match (a.errcode, a.access_token) {
        (0, Some(token)) if !token.is_empty() => {
            let expires_in = a.expires_in.unwrap_or(7200).max(1);
            let value = format!("{}|{token}", now.timestamp() + expires_in);
            if let Err(e) = kv.set(TOKEN_KEY, &value, Duration::from_secs(expires_in as u64)).await {
                // Still usable for this send; the next one fetches again.
                tracing::warn!(error = %e, "wechat access token not cached");
            }
            tracing::info!(expires_in, "wechat access token fetched");
            Ok(token)
        }
        (code, _) => Err(format!("token: errcode {code}: {}", a.errmsg)),
    }
}

/// Error codes that mean "this access token is no good": invalid (40001), not the latest (40014),
/// expired (42001). The send is retried once with a fresh token.
fn token_rejected(code: i64) -> bool {
    matches!(code, 40001 | 40014 | 42001)
}

/// One send: its outcome, or `Err` when WeChat refused the access token.
async fn post_once(
    http: &reqwest::Client,
    s: &WechatSettings,
    token: &str,
    body: &serde_json::Value,
) -> Result<SendOutcome, String> {
    let resp = http
        .post(format!("{}/cgi-bin/message/subscribe/send", base(s)))
        .query(&[("access_token", token)])
        .json(body)
        .timeout(Duration::from_millis(s.timeout_ms))
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) => return Ok(SendOutcome::Retry(format!("transport: {}", e.without_url()))),
    };
    if !resp.status().is_success() {
        return Ok(SendOutcome::Retry(format!("HTTP {}", resp.status())));
    }
    let a: SendAnswer = match resp.json().await {
        Ok(a) => a,
        Err(e) => return Ok(SendOutcome::Retry(format!("unreadable answer: {e}"))),
    };
    Ok(match a.errcode {
        0 => SendOutcome::Sent(a.msgid.map(|m| m.as_str().map(str::to_string).unwrap_or_else(|| m.to_string()))),
        // Busy, quota (45009 daily limit, 45047 frequency): another time.
        -1 | 45009 | 45047 => SendOutcome::Retry(format!("errcode {}: {}", a.errcode, a.errmsg)),
        code if token_rejected(code) => return Err(format!("errcode {code}: {}", a.errmsg)),
        code => SendOutcome::Refused(code, a.errmsg),
    })
}

/// Sends one subscribe message (`body`: touser, template_id, page, data, …). An answer that the
/// token is no good refreshes it and sends once more.
pub async fn send_subscribe(
    http: &reqwest::Client,
    kv: &dyn crate::kv::KvStore,
    refresh: &tokio::sync::Mutex<()>,
    s: &WechatSettings,
    now: chrono::DateTime<chrono::Utc>,
    body: &serde_json::Value,
) -> SendOutcome {
    if !is_configured(s) {
        return SendOutcome::Retry("WeChat is not configured".into());
    }
    let token = match access_token(http, kv, refresh, s, now, None).await {
        Ok(t) => t,
        Err(e) => return SendOutcome::Retry(e),
    };
    match post_once(http, s, &token, body).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::info!(error = %e, "wechat access token rejected: refreshing once");
            match access_token(http, kv, refresh, s, now, Some(&token)).await {
                Ok(fresh) => match post_once(http, s, &fresh, body).await {
                    Ok(outcome) => outcome,
                    Err(e) => SendOutcome::Retry(format!("fresh token rejected too: {e}")),
                },
                Err(e) => SendOutcome::Retry(e),
            }
        }
    }
}

/// The key types of subscribe-message data and their limits (characters): values are cut to fit,
/// so a long request summary never makes WeChat refuse the message (47003).
pub fn fit_value(key: &str, value: &str) -> String {
    let kind = key.trim_end_matches(|c: char| c.is_ascii_digit());
    let max = match kind {
        "thing" => 20,
        "phrase" => 5,
        "name" => 10,
        "car_number" => 8,
        "symbol" => 5,
        "phone_number" => 17,
        "character_string" | "letter" | "number" => 32,
        _ => return value.to_string(),
    };
    let clean: String = value.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    if kind == "thing" {
        let mut cut: String = clean.chars().take(max - 1).collect();
        cut.push('…');
        cut
    } else {
        clean.chars().take(max).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cut_to_the_limit_of_their_key_type() {
        let long = "自来水有很重的异味已经持续了整整三天没有人管一下";
        let thing = fit_value("thing2", long);
        assert_eq!(thing.chars().count(), 20);
        assert!(thing.ends_with('…'));
        assert_eq!(fit_value("thing2", "二十个字以内不变"), "二十个字以内不变");
        assert_eq!(fit_value("phrase3", "已办结"), "已办结");
        assert_eq!(fit_value("phrase3", "配送中配送中"), "配送中配送");
        assert_eq!(fit_value("character_string1", "20261206-000001"), "20261206-000001");
        assert_eq!(fit_value("time4", "2026年12月6日 18:20"), "2026年12月6日 18:20");
        assert_eq!(fit_value("thing1", "换\n行"), "换行");
    }

    #[test]
    fn a_cached_token_is_used_until_the_margin_before_it_expires() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let raw = |exp: i64| Some(format!("{exp}|tok"));
        assert_eq!(read_cached(raw(1_800_000_000 + 7200), now, 300).as_deref(), Some("tok"));
        assert_eq!(read_cached(raw(1_800_000_000 + 300), now, 300), None);
        assert_eq!(read_cached(Some("garbage".into()), now, 0), None);
        assert!(token_rejected(40001) && token_rejected(42001) && !token_rejected(43101));
    }
}
