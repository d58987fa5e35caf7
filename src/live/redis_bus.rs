//! The bus shared by several instances: Redis pub/sub on one channel (`{key_prefix}live:dashboard`).
//! Publishing goes through the shared connection manager; each subscription holds a connection of
//! its own (a subscribed connection can do nothing else).
use super::{EventStream, LiveBus, LiveEvent};
use anyhow::Context;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;

#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    conn: redis::aio::ConnectionManager,
    channel: String,
}

impl RedisBus {
    pub fn new(client: redis::Client, conn: redis::aio::ConnectionManager, key_prefix: &str) -> Self {
        RedisBus { client, conn, channel: format!("{key_prefix}live:dashboard") }
    }
}

impl LiveBus for RedisBus {
    fn publish<'a>(&'a self, event: &'a LiveEvent) -> BoxFuture<'a, anyhow::Result<()>> {
        Box::pin(async move {
            let text = serde_json::to_string(event).context("encoding a live event")?;
            let mut conn = self.conn.clone();
            let _receivers: i64 = redis::cmd("PUBLISH")
                .arg(&self.channel)
                .arg(text)
                .query_async(&mut conn)
                .await
                .context("publishing a live event")?;
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
