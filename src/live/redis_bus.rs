//! The bus shared by several instances: Redis pub/sub on one channel (`{key_prefix}live:dashboard`).
//! Publishing goes through the shared connection manager; each subscription holds a connection of
//! its own (a subscribed connection can do nothing else).
use super::{EventStream, LiveBus, LiveEvent};
use crate::kv::breaker::Breaker;
use anyhow::Context;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use std::time::Instant;

#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    conn: redis::aio::ConnectionManager,
    channel: String,
    /// Publishing stops trying for a while once Redis has failed three times in a row.
    breaker: std::sync::Arc<std::sync::Mutex<Breaker>>,
}

/// A publish waits at most this long (like every Redis call of the store).
const PUBLISH_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(500);

impl RedisBus {
    pub fn new(client: redis::Client, conn: redis::aio::ConnectionManager, key_prefix: &str) -> Self {
        RedisBus {
            client,
            conn,
            channel: format!("{key_prefix}live:dashboard"),
            breaker: std::sync::Arc::new(std::sync::Mutex::new(Breaker::new(3, std::time::Duration::from_secs(5)))),
        }
    }

    fn breaker(&self) -> std::sync::MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl LiveBus for RedisBus {
    fn publish<'a>(&'a self, event: &'a LiveEvent) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let text = serde_json::to_string(event).context("encoding a live event")?;
            // The change is committed already and the screens poll too: a Redis that is down costs
            // the request at most 500 ms three times, then nothing until it answers again.
            if !self.breaker().allow(Instant::now()) {
                anyhow::bail!("Redis unavailable (breaker open)");
            }
            let mut conn = self.conn.clone();
            let mut publish = redis::cmd("PUBLISH");
            publish.arg(&self.channel).arg(text);
            let sent = tokio::time::timeout(PUBLISH_TIMEOUT, publish.query_async::<i64>(&mut conn)).await;
            self.breaker().record(matches!(sent, Ok(Ok(_))), Instant::now());
            sent.context("publishing a live event: timeout")?.context("publishing a live event")?;
            Ok(())
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, anyhow::Result<EventStream>> {
        Box::pin(async move {
            let mut pubsub = self.client.get_async_pubsub().await.context("opening a Redis pub/sub connection")?;
            pubsub.subscribe(&self.channel).await.context("subscribing to live events")?;
            let stream = pubsub.into_on_message().filter_map(|msg| async move {
                let decoded = serde_json::from_slice::<LiveEvent>(msg.get_payload_bytes());
                if let Err(e) = &decoded {
                    tracing::warn!(error = %e, "a live event on Redis could not be read");
                }
                decoded.ok()
            });
            Ok(stream.boxed())
        })
    }

    fn name(&self) -> &'static str {
        "redis"
    }
}
