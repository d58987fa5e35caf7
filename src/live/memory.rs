//! The bus of a single instance: a tokio broadcast channel. A subscriber that falls more than the
//! channel's capacity behind skips what it missed (bounded memory).
use super::{EventStream, LiveBus, LiveEvent};
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct MemoryBus {
    tx: broadcast::Sender<LiveEvent>,
}

impl MemoryBus {
    pub fn new(capacity: usize) -> Self {
        MemoryBus { tx: broadcast::channel(capacity.max(1)).0 }
    }
}

impl LiveBus for MemoryBus {
    fn publish<'a>(&'a self, event: &'a LiveEvent) -> BoxFuture<'a, anyhow::Result<()>> {
        // No subscriber is not an error: nobody is watching.
        let _ = self.tx.send(event.clone());
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self) -> BoxFuture<'_, anyhow::Result<EventStream>> {
        let rx = self.tx.subscribe();
        Box::pin(async move {
            let stream = futures_util::stream::unfold(rx, |mut rx| async move {
                loop {
                    match rx.recv().await {
                        Ok(ev) => return Some((ev, rx)),
                        Err(broadcast::error::RecvError::Lagged(n)) => {
                            tracing::warn!(missed = n, "live bus subscriber fell behind");
                        }
                        Err(broadcast::error::RecvError::Closed) => return None,
                    }
                }
            });
            Ok(stream.boxed())
        })
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}
