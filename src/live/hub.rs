//! One instance's end of the bus: numbers each event it receives (`{instance}-{seq}`), keeps the last
//! `replay` of them for reconnecting streams (`Last-Event-ID`), fans them out to its streams through
//! a bounded broadcast channel, and counts the streams against `max_streams`.
use super::{EventStream, LiveBus, LiveEvent};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, broadcast};

/// What a stream receives from the hub.
#[derive(Clone, Debug)]
pub enum Delivery {
    Event(Arc<LiveEvent>),
    /// Events may have been lost (the bus connection dropped): refetch everything.
    Reset,
}

/// Where a (re)connecting stream starts.
pub enum Start {
    /// Nothing to send first (a new stream, or one already up to date).
    Fresh,
    /// These events came after the client's `Last-Event-ID`.
    Replay(Vec<Arc<LiveEvent>>),
    /// The client's last event is unknown here (another instance, or too old): it must refetch.
    Reset,
}

pub struct Hub {
    bus: Arc<dyn LiveBus>,
    /// Random per process: an id from another instance (or before a restart) is never mistaken.
    instance: String,
    inner: Mutex<Ring>,
    local: broadcast::Sender<Delivery>,
    streams: Arc<Semaphore>,
    /// Events this instance has published: with the head id, what changes whenever something
    /// happened here or elsewhere (see `version`).
    published: std::sync::atomic::AtomicU64,
}

struct Ring {
    seq: u64,
    events: VecDeque<Arc<LiveEvent>>,
    size: usize,
}

/// Per-stream slack: a stream that falls this far behind is told to refetch (`Reset`), never buffered.
const FANOUT_CAPACITY: usize = 256;

impl Hub {
    /// Subscribes to the bus (so that everything published after this returns is delivered) and
    /// starts receiving in a background task.
    pub async fn start(bus: Arc<dyn LiveBus>, replay: usize, max_streams: usize) -> anyhow::Result<Arc<Hub>> {
        let first = bus.subscribe().await?;
        let hub = Arc::new(Hub {
            bus,
            instance: format!("{:08x}", rand::random::<u32>()),
            inner: Mutex::new(Ring { seq: 0, events: VecDeque::new(), size: replay }),
            local: broadcast::channel(FANOUT_CAPACITY).0,
            streams: Arc::new(Semaphore::new(max_streams)),
            published: Default::default(),
        });
        tokio::spawn(receive(Arc::downgrade(&hub), first));
        Ok(hub)
    }

    /// Announces an event to every instance. A failure is logged, never returned: the change it
    /// announces is committed already, and the screens' 30-second polling catches up.
    pub async fn publish(&self, event: LiveEvent) {
        self.published.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Err(e) = self.bus.publish(&event).await {
            tracing::warn!(error = ?e, bus = self.bus.name(), ticket_no = %event.ticket_no, "live event not published");
        }
    }

    pub fn bus_name(&self) -> &'static str {
        self.bus.name()
    }

    /// A slot for one more stream, or `None` when the instance serves `max_streams` already.
    pub fn try_admit(&self) -> Option<OwnedSemaphorePermit> {
        self.streams.clone().try_acquire_owned().ok()
    }

    /// Listens from now on, and says what to send first for a client whose last event was `last_id`.
    /// Both under the ring's lock, so nothing falls between the replay and the live events.
    pub fn listen(&self, last_id: Option<&str>) -> (broadcast::Receiver<Delivery>, Start) {
        let ring = self.lock();
        let rx = self.local.subscribe();
        let start = match last_id.map(str::trim).filter(|s| !s.is_empty()) {
            None => Start::Fresh,
            Some(id) => match self.seq_of(id) {
                Some(seq) if seq == ring.seq => Start::Fresh,
                Some(seq) if seq < ring.seq => {
                    let oldest = ring.seq + 1 - ring.events.len() as u64;
                    if seq + 1 >= oldest {
                        Start::Replay(ring.events.iter().skip((seq + 1 - oldest) as usize).cloned().collect())
                    } else {
                        Start::Reset
                    }
                }
                _ => Start::Reset,
            },
        };
        (rx, start)
    }

    /// The id of the latest event delivered here (what a reset frame carries, so that the client's
    /// next reconnection replays from there).
    /// Changes as soon as this instance publishes an event (before the event comes back from the
    /// bus) and whenever an event from any instance arrives: answers computed under one version
    /// saw the same events.
    pub fn version(&self) -> String {
        format!("{}/{}", self.head_id(), self.published.load(std::sync::atomic::Ordering::Relaxed))
    }

    pub fn head_id(&self) -> String {
        format!("{}-{}", self.instance, self.lock().seq)
    }

    fn seq_of(&self, id: &str) -> Option<u64> {
        let (instance, seq) = id.rsplit_once('-')?;
        if instance != self.instance {
            return None;
        }
        seq.parse().ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves a consistent ring (every write is one push/pop).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, mut event: LiveEvent) {
        let mut ring = self.lock();
        ring.seq += 1;
        event.id = format!("{}-{}", self.instance, ring.seq);
        let event = Arc::new(event);
        if ring.size > 0 {
            if ring.events.len() == ring.size {
                ring.events.pop_front();
            }
            ring.events.push_back(event.clone());
        }
        let _ = self.local.send(Delivery::Event(event));
    }

    /// After a gap: the ring cannot replay across it, and open streams must refetch.
    fn gap(&self) {
        let mut ring = self.lock();
        ring.events.clear();
        // Ids before the gap become unknown: a reconnection with one of them is a reset.
        ring.seq += 1;
        let _ = self.local.send(Delivery::Reset);
    }
}

/// Receives from the bus for as long as the hub lives; resubscribes (with a pause) when the bus
/// connection drops, and tells the streams to refetch what they may have missed.
async fn receive(hub: std::sync::Weak<Hub>, mut stream: EventStream) {
    loop {
        while let Some(event) = stream.next().await {
            let Some(hub) = hub.upgrade() else { return };
            hub.deliver(event);
        }
        let mut pause = std::time::Duration::from_millis(500);
        stream = loop {
            let Some(h) = hub.upgrade() else { return };
            tracing::warn!(bus = h.bus.name(), "live bus subscription lost; resubscribing");
            tokio::time::sleep(pause).await;
            match h.bus.subscribe().await {
                Ok(s) => {
                    h.gap();
                    break s;
                }
                Err(e) => tracing::warn!(error = ?e, "live bus resubscription failed"),
            }
            pause = (pause * 2).min(std::time::Duration::from_secs(30));
        };
    }
}
