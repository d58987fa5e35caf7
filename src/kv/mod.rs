//! A small key-value store for short-lived state: rate-limit counters and one-time codes. Redis when
//! configured (shared by every instance), otherwise in process (a single instance). Both pass the same
//! contract tests. Expiry here only reclaims memory: anything time-dependent is decided from `now`
//! passed in by the caller (bucketed keys, timestamps in values), so tests never wait for a TTL.
pub mod breaker;
pub mod limiter;
pub mod memory;
pub mod redis_store;

use async_trait::async_trait;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[error("key-value store unavailable: {0}")]
pub struct KvError(pub String);

#[async_trait]
pub trait KvStore: Send + Sync {
    /// Adds one to a counter, creating it (expiring after `ttl`) if absent; returns the new value.
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, KvError>;
    /// `incr` of several counters, in order; a store that can sends them together (Redis: one
    /// round trip for all the limits of a request).
    async fn incr_many(&self, keys: &[(String, Duration)]) -> Result<Vec<u64>, KvError> {
        let mut out = Vec::with_capacity(keys.len());
        for (key, ttl) in keys {
            out.push(self.incr(key, *ttl).await?);
        }
        Ok(out)
    }
    async fn get(&self, key: &str) -> Result<Option<String>, KvError>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError>;
    async fn del(&self, key: &str) -> Result<(), KvError>;
    fn name(&self) -> &'static str;
}

/// A store that is always down: what an outage looks like to its users (the tests of "a store
/// outage never refuses a villager" and of the SMS rate counting for itself use it).
pub struct Unavailable;

#[async_trait]
impl KvStore for Unavailable {
    async fn incr(&self, _: &str, _: Duration) -> Result<u64, KvError> {
        Err(KvError("down".into()))
    }
    async fn get(&self, _: &str) -> Result<Option<String>, KvError> {
        Err(KvError("down".into()))
    }
    async fn set(&self, _: &str, _: &str, _: Duration) -> Result<(), KvError> {
        Err(KvError("down".into()))
    }
    async fn del(&self, _: &str) -> Result<(), KvError> {
        Err(KvError("down".into()))
    }
    fn name(&self) -> &'static str {
        "down"
    }
}
