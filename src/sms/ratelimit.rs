//! Per-provider send rate: a counter per provider and second. With Redis configured the counter is
//! shared by every instance (one INCR per send); without it each process counts for itself. The
//! second is taken from the worker's `now`, so tests drive it like any other clock.
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

pub struct RateLimiter {
    redis: Option<redis::aio::ConnectionManager>,
    local: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(redis: Option<redis::aio::ConnectionManager>) -> RateLimiter {
        RateLimiter { redis, local: Mutex::new(HashMap::new()) }
    }

    /// Takes one send from `provider`'s budget for the second of `now`; `limit` 0 means unlimited.
    pub async fn acquire(&self, provider: &str, limit: u32, now: DateTime<Utc>) -> bool {
        if limit == 0 {
            return true;
        }
        let second = now.timestamp();
        if let Some(conn) = &self.redis {
            let key = format!("minsheng:sms:rate:{provider}:{second}");
            let mut conn = conn.clone();
            let counted: redis::RedisResult<(i64,)> =
                redis::pipe().atomic().incr(&key, 1).expire(&key, 5).ignore().query_async(&mut conn).await;
            match counted {
                Ok((n,)) => return n <= i64::from(limit),
                Err(e) => tracing::warn!(error = %e, "sms rate limit: Redis unavailable, counting in process"),
            }
        }
        let mut map = self.local.lock().unwrap_or_else(|p| p.into_inner());
        let slot = map.entry(provider.to_string()).or_insert((second, 0));
        if slot.0 != second {
            *slot = (second, 0);
        }
        if slot.1 < limit {
            slot.1 += 1;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn counts_per_provider_and_second() {
        let l = RateLimiter::new(None);
        let t = Utc::now();
        assert!(l.acquire("aliyun", 2, t).await);
        assert!(l.acquire("aliyun", 2, t).await);
        assert!(!l.acquire("aliyun", 2, t).await);
        assert!(l.acquire("tencent", 2, t).await, "another provider has its own budget");
        assert!(l.acquire("aliyun", 2, t + chrono::Duration::seconds(1)).await, "a new second");
        assert!(l.acquire("aliyun", 0, t).await, "0 = unlimited");
    }
}
