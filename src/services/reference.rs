//! Reference data read on every intake — cards by code, regions, categories, SLA policies — kept in
//! the process for a few seconds. They change a few times a year and are read several times per
//! request: the intake's card, village, category (and its parents, for the SLA policy) and the live
//! event's places were ten round trips of its thirty.
//!
//! Freshness: every write of these tables through minsheng calls [`Reference::changed`] after its
//! commit, so this process reads its own writes at once. Another instance sharing the database sees
//! a change within [`TTL`]: a revoked card may still be taken there for up to that long, which the
//! README states. A read that raced a change is not kept (the generation moved while it read).
//!
//! Bounded: only rows found are kept (a code nobody issued is asked of the database each time, so a
//! stranger's random codes cannot fill memory), and a map over [`MAX_ENTRIES`] starts again empty.
use crate::domain::sla::Policy;
use crate::domain::values::{Kind, Priority};
use crate::repo;
use crate::repo::catalog::{Category, SlaPolicy};
use crate::repo::regions::Region;
use crate::state::AppState;
use sea_orm::DbErr;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a row read here is used before it is read again.
pub const TTL: Duration = Duration::from_secs(5);
/// Rows kept per kind at most (a county has a few thousand cards and regions).
pub const MAX_ENTRIES: usize = 20_000;

struct Map<K, V> {
    rows: HashMap<K, (Instant, V)>,
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn new() -> Self {
        Map { rows: HashMap::new() }
    }

    fn get(&self, k: &K, now: Instant) -> Option<V> {
        self.rows.get(k).filter(|(at, _)| now.duration_since(*at) < TTL).map(|(_, v)| v.clone())
    }

    fn put(&mut self, k: K, v: V, at: Instant) {
        if self.rows.len() >= MAX_ENTRIES {
            self.rows.clear();
        }
        self.rows.insert(k, (at, v));
    }
}

struct Maps {
    cards: Map<String, repo::cards::Card>,
    regions: Map<i64, Region>,
    categories: Map<String, Category>,
    policies: Map<&'static str, Vec<SlaPolicy>>,
}

impl Maps {
    fn new() -> Maps {
        Maps { cards: Map::new(), regions: Map::new(), categories: Map::new(), policies: Map::new() }
    }
}

pub struct Reference {
    generation: AtomicU64,
    maps: Mutex<Maps>,
}

impl Default for Reference {
    fn default() -> Self {
        Reference { generation: AtomicU64::new(0), maps: Mutex::new(Maps::new()) }
    }
}

impl Reference {
    /// Forgets everything: call after committing a write of cards, regions, categories or policies.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        *self.lock() = Maps::new();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Maps> {
        // A panic while holding the lock leaves plain maps behind: still usable.
        self.maps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads through the cache: `look` in the maps, else `load` from the database and keep what was
    /// found, unless a change happened meanwhile.
    async fn through<V, F, L, P>(&self, look: L, load: F, put: P) -> Result<Option<V>, DbErr>
    where
        V: Clone,
        L: FnOnce(&Maps, Instant) -> Option<V>,
        F: std::future::Future<Output = Result<Option<V>, DbErr>>,
        P: FnOnce(&mut Maps, V, Instant),
    {
        let start = Instant::now();
        if let Some(v) = look(&self.lock(), start) {
            return Ok(Some(v));
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let found = load.await?;
        if let Some(v) = &found {
            let mut maps = self.lock();
            if self.generation.load(Ordering::SeqCst) == generation {
                put(&mut maps, v.clone(), start);
            }
        }
        Ok(found)
    }

    pub async fn card(&self, state: &AppState, code: &str) -> Result<Option<repo::cards::Card>, DbErr> {
        self.through(
            |m, now| m.cards.get(&code.to_string(), now),
            repo::cards::by_code(&state.db.conn, code),
            |m, v, at| m.cards.put(code.to_string(), v, at),
        )
        .await
    }

    pub async fn region(&self, state: &AppState, id: i64) -> Result<Option<Region>, DbErr> {
        self.through(
            |m, now| m.regions.get(&id, now),
            repo::regions::get(&state.db.conn, id),
            |m, v, at| m.regions.put(id, v, at),
        )
        .await
    }

    pub async fn category(&self, state: &AppState, code: &str) -> Result<Option<Category>, DbErr> {
        self.through(
            |m, now| m.categories.get(&code.to_string(), now),
            repo::catalog::category(&state.db.conn, code),
            |m, v, at| m.categories.put(code.to_string(), v, at),
        )
        .await
    }

    async fn policies(&self, state: &AppState, priority: Priority) -> Result<Vec<SlaPolicy>, DbErr> {
        let key = priority.as_str();
        let found = self
            .through(
                |m, now| m.policies.get(&key, now),
                async { repo::catalog::policies_of(&state.db.conn, priority).await.map(Some) },
                |m, v, at| m.policies.put(key, v, at),
            )
            .await?;
        Ok(found.unwrap_or_default())
    }

    /// The policy for a category, kind and priority, most specific first: the category's own for
    /// this kind, then its own for any kind, then the same for its nearest ancestor and so on up,
    /// then the county default for this kind, then the county default (no category, any kind), else
    /// DESIGN.md's defaults. Every reader of a ticket's policy asks here (one mechanism, cleared by
    /// every policy and category write through minsheng).
    pub async fn policy_for(
        &self,
        state: &AppState,
        category_code: &str,
        kind: Kind,
        priority: Priority,
    ) -> Result<Policy, DbErr> {
        let rows = self.policies(state, priority).await?;
        let mut code = Some(category_code.to_string());
        while let Some(c) = code {
            if let Some(p) = repo::catalog::pick_policy(&rows, Some(c.as_str()), kind) {
                return Ok(p);
            }
            code = self.category(state, &c).await?.and_then(|cat| cat.parent_code);
        }
        Ok(repo::catalog::fallback_policy(&rows, kind, priority))
    }

    /// The region and its ancestors, root first (`repo::regions::lineage`).
    pub async fn lineage(&self, state: &AppState, region: &Region) -> Result<Vec<Region>, DbErr> {
        let mut out = vec![];
        for id in region.path.split('/').filter_map(|s| s.parse::<i64>().ok()) {
            if let Some(r) = self.region(state, id).await? {
                out.push(r);
            }
        }
        Ok(out)
    }
}
