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
