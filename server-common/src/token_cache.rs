//! The one memory for answers that belong to a bearer token: verified ID tokens, permission
//! reviews, refresh exchanges. A user's token is their identity, so keys start with its hash
//! (`TokenHash`, never the token itself) and nothing is shared between users.
//!
//! Written here rather than taken from a crate (moka): the entries are few (thousands), the
//! verifier's tests move its clock by hand and this cache follows that clock, and the bound holds
//! at every insert rather than after background housekeeping.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::clock::{Clock, SystemClock};

/// The SHA-256 of a bearer token: who is asking, without keeping the secret around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

/// A map whose entries expire, holding at most `capacity` of them. Each entry is a slot that is
/// filled once: callers that ask for a key while another is computing it wait for that answer
/// instead of computing it again (a view's checks and the sidebar's arrive together, tabs renew
/// at once).
///
/// An entry lives `ttl` from the moment it was first asked for: its answer describes that
/// moment. When full, entries past their time go first, then the oldest; never all at once.
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, Entry<V>>>,
    ttl: Duration,
    capacity: usize,
    keep: Box<dyn Fn(&V) -> bool + Send + Sync>,
    clock: Arc<dyn Clock>,
}

struct Entry<V> {
    value: Arc<OnceCell<V>>,
    made: Instant,
}

impl<K: Hash + Eq + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity: capacity.max(1),
            keep: Box::new(|_| true),
            clock: Arc::new(SystemClock),
        }
    }

    /// Values for which `keep` says no are handed to every caller that waited for them and then
    /// forgotten (a failed refresh, a token past its `exp`). Asked again on every read.
    pub fn keep_if(mut self, keep: impl Fn(&V) -> bool + Send + Sync + 'static) -> Self {
        self.keep = Box::new(keep);
        self
    }

    /// Another clock (tests move one by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The value, when one is known and still fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let now = self.clock.now();
        let entries = self.lock();
        entries
            .get(key)
            .and_then(|entry| self.fresh_value(entry, now))
    }

    pub fn insert(&self, key: K, value: V) {
        let now = self.clock.now();
        let mut entries = self.lock();
        self.put(
            &mut entries,
            key,
            Arc::new(OnceCell::new_with(Some(value))),
            now,
        );
    }

    /// The slot for `key`: fresh, filled or being filled, or else a new empty one. Fill it with
    /// `OnceCell::get_or_init` or `get_or_try_init`; a computation that fails (or is dropped)
    /// leaves it empty for the next caller to try. Looked up and made under one lock, so that two
    /// callers at once get the same slot.
    pub fn slot(&self, key: K) -> Arc<OnceCell<V>> {
        let now = self.clock.now();
        let mut entries = self.lock();
        if let Some(entry) = entries.get(&key)
            && self.is_live(entry, now)
        {
            return entry.value.clone();
        }
        let value = Arc::new(OnceCell::new());
        self.put(&mut entries, key, value.clone(), now);
        value
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The map is consistent whatever a panicking holder was doing: keep using it.
    fn lock(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn fresh_value(&self, entry: &Entry<V>, now: Instant) -> Option<V> {
        entry
            .value
            .get()
            .filter(|_| now.saturating_duration_since(entry.made) < self.ttl)
            .filter(|value| (self.keep)(value))
            .cloned()
    }

    /// Young enough, and either being computed or holding a value worth keeping.
    fn is_live(&self, entry: &Entry<V>, now: Instant) -> bool {
        now.saturating_duration_since(entry.made) < self.ttl
            && entry.value.get().is_none_or(|value| (self.keep)(value))
    }

    fn put(
        &self,
        entries: &mut HashMap<K, Entry<V>>,
        key: K,
        value: Arc<OnceCell<V>>,
        now: Instant,
    ) {
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| self.is_live(entry, now));
            if entries.len() >= self.capacity {
                // Full of live entries (a burst of users): the oldest tenth goes, so that the
                // next inserts do not each pay for a sweep. Computations in flight keep their own
                // slot; they are only no longer shared.
                let keep = self.capacity - 1 - self.capacity / 10;
                let mut by_age: Vec<(Instant, K)> = entries
                    .iter()
                    .map(|(key, entry)| (entry.made, key.clone()))
                    .collect();
                let excess = by_age.len() - keep;
                by_age.select_nth_unstable_by_key(excess - 1, |(made, _)| *made);
                for (_, key) in &by_age[..excess] {
                    entries.remove(key);
                }
            }
        }
        entries.insert(key, Entry { value, made: now });
    }
}

#[cfg(test)]
mod tests;
