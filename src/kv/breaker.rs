//! A circuit breaker in front of the shared store: once Redis has failed `threshold` times in a row
//! (refused, reset or past its 500 ms timeout), calls fail at once for `cooldown` instead of each
//! waiting out the timeout, so a villager's request is not held behind a dead Redis (the limiter
//! then allows, as documented). After the cooldown one call goes through as a probe: its success
//! closes the breaker, its failure opens it again. The state machine is pure (instants passed in).
use super::{KvError, KvStore};
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Calls go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls fail at once until `until`.
    Open { until: Instant },
    /// One probe is on its way; other calls fail at once until it answers.
    Probing,
}

#[derive(Clone, Copy, Debug)]
pub struct Breaker {
    pub state: State,
    pub threshold: u32,
    pub cooldown: Duration,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Breaker { state: State::Closed { failures: 0 }, threshold: threshold.max(1), cooldown }
    }

    /// Whether a call may go to the store at `now` (an open breaker past its cooldown lets one probe
    /// through).
    pub fn allow(&mut self, now: Instant) -> bool {
        match self.state {
            State::Closed { .. } => true,
            State::Open { until } if now >= until => {
                self.state = State::Probing;
                true
            }
            State::Open { .. } | State::Probing => false,
        }
    }

    /// What a call that went through came to.
    pub fn record(&mut self, ok: bool, now: Instant) {
        self.state = match (self.state, ok) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            (_, false) => State::Open { until: now + self.cooldown },
        };
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed { .. })
    }
}

/// Where the breaker reads the time (the monotonic clock; a test moves its own).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// A store behind a breaker.
pub struct BreakerStore {
    inner: Arc<dyn KvStore>,
    breaker: Mutex<Breaker>,
    clock: Clock,
}

impl BreakerStore {
    pub fn new(inner: Arc<dyn KvStore>, threshold: u32, cooldown: Duration) -> Self {
        Self::with_clock(inner, threshold, cooldown, Arc::new(Instant::now))
    }

    pub fn with_clock(inner: Arc<dyn KvStore>, threshold: u32, cooldown: Duration, clock: Clock) -> Self {
        BreakerStore { inner, breaker: Mutex::new(Breaker::new(threshold, cooldown)), clock }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn guarded<T>(&self, call: impl std::future::Future<Output = Result<T, KvError>>) -> Result<T, KvError> {
        if !self.lock().allow((self.clock)()) {
            metrics::counter!("minsheng_kv_breaker_rejected_total").increment(1);
            return Err(KvError("circuit open".into()));
        }
        let result = call.await;
        let was_open = self.lock().is_open();
        self.lock().record(result.is_ok(), (self.clock)());
        let open = self.lock().is_open();
        if open && !was_open {
            tracing::warn!(store = self.inner.name(), "key-value store failing; breaker open, calls fail at once");
        } else if was_open && !open {
            tracing::info!(store = self.inner.name(), "key-value store answering again; breaker closed");
        }
        result
    }

    /// Whether calls are being refused without trying the store.
    pub fn is_open(&self) -> bool {
        self.lock().is_open()
    }
}

#[async_trait]
impl KvStore for BreakerStore {
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, KvError> {
        self.guarded(self.inner.incr(key, ttl)).await
    }

    async fn incr_many(&self, keys: &[(String, Duration)]) -> Result<Vec<u64>, KvError> {
        self.guarded(self.inner.incr_many(keys)).await
    }

    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.guarded(self.inner.get(key)).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError> {
        self.guarded(self.inner.set(key, value, ttl)).await
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        self.guarded(self.inner.del(key)).await
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::limiter::{Limit, Limiter};
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn three_failures_open_it_the_cooldown_lets_one_probe_and_its_answer_decides() {
        let t0 = Instant::now();
        let mut b = Breaker::new(3, Duration::from_secs(5));
        for _ in 0..2 {
            assert!(b.allow(t0));
            b.record(false, t0);
        }
        assert_eq!(b.state, State::Closed { failures: 2 });
        // A success in between starts the count again.
        b.record(true, t0);
        for _ in 0..3 {
            assert!(b.allow(t0));
            b.record(false, t0);
        }
        assert_eq!(b.state, State::Open { until: t0 + Duration::from_secs(5) });
        assert!(!b.allow(t0 + Duration::from_secs(4)));
        // Past the cooldown: one probe, and nobody else while it runs.
        let t1 = t0 + Duration::from_secs(5);
        assert!(b.allow(t1));
        assert!(!b.allow(t1));
        b.record(false, t1);
        assert_eq!(b.state, State::Open { until: t1 + Duration::from_secs(5) }, "a failed probe opens it again");
        let t2 = t1 + Duration::from_secs(5);
        assert!(b.allow(t2));
        b.record(true, t2);
        assert_eq!(b.state, State::Closed { failures: 0 });
        assert!(!b.is_open());
    }

    /// A store that fails (as a Redis past its timeout would) until told to answer, counting calls.
    struct Flaky {
        calls: AtomicU32,
        up: std::sync::atomic::AtomicBool,
    }

    #[async_trait]
    impl KvStore for Flaky {
        async fn incr(&self, _: &str, _: Duration) -> Result<u64, KvError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            if self.up.load(Ordering::SeqCst) { Ok(1) } else { Err(KvError("timeout".into())) }
        }
        async fn get(&self, _: &str) -> Result<Option<String>, KvError> {
            self.incr("", Duration::ZERO).await.map(|_| None)
        }
        async fn set(&self, _: &str, _: &str, _: Duration) -> Result<(), KvError> {
            self.incr("", Duration::ZERO).await.map(|_| ())
        }
        async fn del(&self, _: &str) -> Result<(), KvError> {
            self.incr("", Duration::ZERO).await.map(|_| ())
        }
        fn name(&self) -> &'static str {
            "flaky"
        }
    }

    #[tokio::test]
    async fn a_dead_store_is_asked_three_times_then_not_at_all_until_the_cooldown_and_the_limiter_allows() {
        let flaky = Arc::new(Flaky { calls: AtomicU32::new(0), up: false.into() });
        let t0 = Instant::now();
        let elapsed = Arc::new(Mutex::new(Duration::ZERO));
        let clock_elapsed = elapsed.clone();
        let clock: Clock = Arc::new(move || t0 + *clock_elapsed.lock().unwrap());
        let advance = |by: u64| *elapsed.lock().unwrap() += Duration::from_secs(by);
        let store = Arc::new(BreakerStore::with_clock(flaky.clone(), 3, Duration::from_secs(5), clock));
        let limiter = Limiter::new(store.clone());
        let limit = Limit { max: 1, window_seconds: 60 };
        let now = chrono::Utc::now();
        // Every request is let through (the documented degradation); only the first three reach
        // the store, the rest are refused by the breaker without trying it.
        for _ in 0..20 {
            assert_eq!(limiter.hit("intake:ip:1.2.3.4", limit, now).await, Ok(()));
        }
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
        assert!(store.is_open());
        // The store comes back; after the cooldown one probe finds it and the breaker closes.
        flaky.up.store(true, Ordering::SeqCst);
        advance(4);
        let _ = store.get("x").await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3, "still cooling down");
        advance(1);
        assert!(store.get("x").await.is_ok());
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 4);
        assert!(!store.is_open());
        // Closed again: limits count in the store once more.
        assert_eq!(limiter.hit("intake:ip:1.2.3.4", limit, now).await, Ok(()));
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 5);
    }
}
