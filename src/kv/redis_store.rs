//! The Redis store, shared by every instance. Each call has a short timeout: a slow Redis must not
//! hold a villager's request.
use super::{KvError, KvStore};
use async_trait::async_trait;
use redis::aio::ConnectionManager;
use std::time::Duration;

pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

/// INCR and set the expiry on creation, atomically, for each key (its expiry is the argument of the
/// same position).
const INCR_SCRIPT: &str = "local out = {} for i, k in ipairs(KEYS) do local n = redis.call('INCR', k) \
    if n == 1 then redis.call('PEXPIRE', k, ARGV[i]) end out[i] = n end return out";

/// The script, hashed once (EVALSHA names it by its SHA-1).
fn incr_script() -> &'static redis::Script {
    static SCRIPT: std::sync::OnceLock<redis::Script> = std::sync::OnceLock::new();
    SCRIPT.get_or_init(|| redis::Script::new(INCR_SCRIPT))
}

impl RedisStore {
    pub fn new(conn: ConnectionManager, prefix: impl Into<String>) -> Self {
        Self { conn, prefix: prefix.into() }
    }

    fn key(&self, k: &str) -> String {
        format!("{}{k}", self.prefix)
    }

    async fn run<T>(&self, f: impl std::future::Future<Output = redis::RedisResult<T>>) -> Result<T, KvError> {
        match tokio::time::timeout(Duration::from_millis(500), f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(KvError(e.to_string())),
            Err(_) => Err(KvError("timeout".into())),
        }
    }
}

fn millis(d: Duration) -> u64 {
    d.as_millis().max(1) as u64
}

#[async_trait]
impl KvStore for RedisStore {
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, KvError> {
        let counts = self.incr_many(&[(key.to_string(), ttl)]).await?;
        counts.first().copied().ok_or_else(|| KvError("INCR answered nothing".into()))
    }

    async fn incr_many(&self, keys: &[(String, Duration)]) -> Result<Vec<u64>, KvError> {
        if keys.is_empty() {
            return Ok(vec![]);
        }
        let mut c = self.conn.clone();
        let mut call = incr_script().prepare_invoke();
        for (key, ttl) in keys {
            call.key(self.key(key)).arg(millis(*ttl));
        }
        let counts: Vec<u64> = self.run(async move { call.invoke_async(&mut c).await }).await?;
        if counts.len() != keys.len() {
            return Err(KvError(format!("INCR answered {} counts for {} keys", counts.len(), keys.len())));
        }
        Ok(counts)
    }

    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        let mut c = self.conn.clone();
        let key = self.key(key);
        self.run(async move { redis::cmd("GET").arg(key).query_async(&mut c).await }).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError> {
        let mut c = self.conn.clone();
        let key = self.key(key);
        let value = value.to_string();
        self.run(
            async move { redis::cmd("SET").arg(key).arg(value).arg("PX").arg(millis(ttl)).query_async(&mut c).await },
        )
        .await
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        let mut c = self.conn.clone();
        let key = self.key(key);
        self.run(async move { redis::cmd("DEL").arg(key).query_async::<i64>(&mut c).await.map(|_| ()) }).await
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
