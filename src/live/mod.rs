//! Live updates for the leaders' screens: what happened to a ticket (a new request, an acceptance, a
//! resolution, a return visit…) announced to every open dashboard stream, on every instance. The
//! `LiveBus` carries events between instances (Redis pub/sub when configured, in process otherwise);
//! the `Hub` of each instance numbers what it receives, keeps a short replay ring and fans out to its
//! own streams (see `routes::stream`).
pub mod hub;
pub mod memory;
pub mod redis_bus;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use serde::{Deserialize, Serialize};

pub use hub::{Delivery, Hub};

/// What happened. Never more than a screen may show: no name, no phone, no description.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Intake,
    Dispatch,
    Accept,
    Resolve,
    ReturnVisit,
    Close,
}

/// One announcement. `id` is stamped by the instance that delivers it (`{instance}-{seq}`, monotonic
/// per instance, the SSE `id:`); it is empty while the event travels on the bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    #[serde(default)]
    pub id: String,
    pub kind: EventKind,
    pub ticket_no: String,
    pub category: String,
    pub category_code: String,
    pub region_id: i64,
    pub region_path: String,
    pub township: Option<String>,
    pub village: Option<String>,
    pub status: String,
    pub at: DateTime<Utc>,
}

/// The events published on a bus from the moment of subscribing, in publishing order per publisher.
pub type EventStream = BoxStream<'static, LiveEvent>;

/// Carries events between the instances of one deployment. Delivery is at most once: a subscriber
/// that falls behind or loses its connection misses events (the hub then tells its streams to
/// refetch), publishing never waits for subscribers.
pub trait LiveBus: Send + Sync {
    fn publish<'a>(&'a self, event: &'a LiveEvent) -> BoxFuture<'a, anyhow::Result<()>>;
    /// Subscribed once the future completes: events published after that are delivered.
    fn subscribe(&self) -> BoxFuture<'_, anyhow::Result<EventStream>>;
    fn name(&self) -> &'static str;
}
