//! The in-process store: a map with expiry, swept as it grows. For a single instance only.
use super::{KvError, KvStore};
use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, (String, Instant)>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, (String, Instant)>, Instant) -> T) -> Result<T, KvError> {
        let mut map = self.map.lock().map_err(|_| KvError("memory store poisoned".into()))?;
        let now = Instant::now();
        if map.len() > 10_000 {
            map.retain(|_, (_, exp)| *exp > now);
        }
        Ok(f(&mut map, now))
    }
}

#[async_trait]
impl KvStore for MemoryStore {
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, KvError> {
        self.with(|map, now| {
            let entry = map.entry(key.to_string()).or_insert_with(|| ("0".into(), now + ttl));
            if entry.1 <= now {
                *entry = ("0".into(), now + ttl);
            }
            let n = entry.0.parse::<u64>().unwrap_or(0) + 1;
            entry.0 = n.to_string();
            n
        })
    }

    async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        self.with(|map, now| map.get(key).filter(|(_, exp)| *exp > now).map(|(v, _)| v.clone()))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> Result<(), KvError> {
        self.with(|map, now| {
            map.insert(key.to_string(), (value.to_string(), now + ttl));
        })
    }

    async fn del(&self, key: &str) -> Result<(), KvError> {
        self.with(|map, _| {
            map.remove(key);
        })
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
