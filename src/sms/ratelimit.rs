//! Per-provider send rate: at most `rate_per_second` sends per provider and second, counted by the
//! application's limiter (`kv::limiter`), so Redis or in-process and the key prefix come from the
//! one place that decides them: with Redis the count is shared by every instance. The second is
//! taken from the worker's `now`, so tests drive it like any other clock. Should Redis fail, this
//! process counts for itself meanwhile: the provider's rate is then kept per instance rather than
//! not at all.
use crate::kv::limiter::{Limit, Limiter};
use chrono::{DateTime, Utc};

pub struct SendRate {
    limiter: Limiter,
    fallback: Limiter,
}

impl SendRate {
    pub fn new(limiter: Limiter) -> SendRate {
        SendRate { limiter, fallback: Limiter::in_process() }
    }

    /// Takes one send from `provider`'s budget for the second of `now`; `limit` 0 means unlimited.
    pub async fn acquire(&self, provider: &str, limit: u32, now: DateTime<Utc>) -> bool {
        if limit == 0 {
            return true;
        }
        let subject = format!("sms:{provider}");
        let limit = Limit { max: u64::from(limit), window_seconds: 1 };
        match self.limiter.try_hit(&subject, limit, now).await {
            Ok(counted) => counted.is_ok(),
            Err(e) => {
                tracing::warn!(error = %e, store = self.limiter.store().name(), "sms rate limit: store unavailable, counting in process");
                self.fallback.hit(&subject, limit, now).await.is_ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test]
    async fn counts_per_provider_and_second() {
        let l = SendRate::new(Limiter::in_process());
        let t = Utc::now();
        assert!(l.acquire("aliyun", 2, t).await);
        assert!(l.acquire("aliyun", 2, t).await);
        assert!(!l.acquire("aliyun", 2, t).await);
        assert!(l.acquire("tencent", 2, t).await, "another provider has its own budget");
        assert!(l.acquire("aliyun", 2, t + chrono::Duration::seconds(1)).await, "a new second");
        assert!(l.acquire("aliyun", 0, t).await, "0 = unlimited");
    }

    #[tokio::test]
    async fn with_the_store_down_the_process_counts_for_itself() {
        let l = SendRate::new(Limiter::new(Arc::new(crate::kv::Unavailable)));
        let t = Utc::now();
        assert!(l.acquire("aliyun", 1, t).await);
        assert!(!l.acquire("aliyun", 1, t).await, "the budget still holds");
        assert!(l.acquire("aliyun", 1, t + chrono::Duration::seconds(1)).await);
    }
}
