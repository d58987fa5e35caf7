//! Fixed-window rate limits over the key-value store. The window is chosen from `now`, so the same
//! counts come out whatever the store and whenever the test runs; `Retry-After` is the time left in
//! the window. If the store is down the limiter lets the request through (and logs): a villager is
//! never refused because Redis is.
use super::{KvError, KvStore};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// A limit: at most `max` hits per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Limit {
    pub max: u64,
    pub window_seconds: u64,
}

#[derive(Clone)]
pub struct Limiter {
    store: Arc<dyn KvStore>,
}

/// A refusal: try again after this many seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after: u64,
}

impl Limiter {
    pub fn new(store: Arc<dyn KvStore>) -> Self {
        Self { store }
    }

    /// A limiter counting in this process only (tests, and callers that need a local fallback).
    pub fn in_process() -> Self {
        Self::new(Arc::new(super::memory::MemoryStore::new()))
    }

    pub fn store(&self) -> &Arc<dyn KvStore> {
        &self.store
    }

    /// Counts one hit of `subject` (e.g. "intake:ip:1.2.3.4") against `limit` at `now`.
    pub async fn hit(&self, subject: &str, limit: Limit, now: DateTime<Utc>) -> Result<(), Exceeded> {
        self.try_hit(subject, limit, now).await.unwrap_or_else(|e| {
            tracing::warn!(error = %e, store = self.store.name(), "rate limiter store unavailable; allowing");
            Ok(())
        })
    }

    /// Counts one hit like `hit`, but answers a store failure instead of allowing, for a caller
    /// that decides for itself what an unavailable store means.
    pub async fn try_hit(
        &self,
        subject: &str,
        limit: Limit,
        now: DateTime<Utc>,
    ) -> Result<Result<(), Exceeded>, KvError> {
        let (key, retry_after) = Self::bucket(subject, limit, now);
        let n = self.store.incr(&key, Self::ttl(limit)).await?;
        Ok(if n > limit.max { Err(Exceeded { retry_after }) } else { Ok(()) })
    }

    /// Whether `subject` is already over `limit` at `now`, without counting a hit.
    pub async fn peek(&self, subject: &str, limit: Limit, now: DateTime<Utc>) -> Result<(), Exceeded> {
        let (key, retry_after) = Self::bucket(subject, limit, now);
        match self.store.get(&key).await {
            Ok(Some(n)) if n.parse::<u64>().unwrap_or(0) >= limit.max => Err(Exceeded { retry_after }),
            _ => Ok(()),
        }
    }

    /// How long a window's counter is kept: the window and a little more.
    fn ttl(limit: Limit) -> Duration {
        Duration::from_secs(limit.window_seconds.max(1) + 5)
    }

    /// The counter key of the window containing `now`, and the seconds left in that window.
    fn bucket(subject: &str, limit: Limit, now: DateTime<Utc>) -> (String, u64) {
        let window = limit.window_seconds.max(1) as i64;
        let t = now.timestamp();
        let bucket = t.div_euclid(window);
        (format!("rl:{subject}:{window}:{bucket}"), ((bucket + 1) * window - t).max(1) as u64)
    }

    /// Checks several limits; the first refusal wins (all are counted, as a client retrying hits all).
    /// Counted in one call to the store (one Redis round trip); a store failure allows, as `hit`.
    pub async fn hit_all(&self, checks: &[(String, Limit)], now: DateTime<Utc>) -> Result<(), Exceeded> {
        let buckets: Vec<(String, u64)> =
            checks.iter().map(|(subject, limit)| Self::bucket(subject, *limit, now)).collect();
        let keys: Vec<(String, Duration)> =
            buckets.iter().zip(checks).map(|((key, _), (_, limit))| (key.clone(), Self::ttl(*limit))).collect();
        let counts = match self.store.incr_many(&keys).await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::warn!(error = %e, store = self.store.name(), "rate limiter store unavailable; allowing");
                return Ok(());
            }
        };
        let mut refused: Option<Exceeded> = None;
        for ((n, (_, retry_after)), (_, limit)) in counts.iter().zip(&buckets).zip(checks) {
            if *n > limit.max {
                let e = Exceeded { retry_after: *retry_after };
                refused = Some(refused.map_or(e, |r| Exceeded { retry_after: r.retry_after.max(e.retry_after) }));
            }
        }
        refused.map_or(Ok(()), Err)
    }
}
