//! A short memory of permission reviews, so that a view asking the same questions again (a
//! re-render, a second tab) does not cost the apiserver a request each time. Entries live for a
//! few seconds only: a role change must show soon, and a user's token is their identity, so
//! every key starts with the hash of the token (never the token itself) and nothing is shared
//! between users.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use sha2::{Digest, Sha256};
use shared::AccessCheck;
use tokio::sync::{OnceCell, OwnedSemaphorePermit, Semaphore};

/// Short enough that a changed role binding shows within a view's next refresh.
pub const TTL: Duration = Duration::from_secs(10);
/// Per kind of entry; a few users with a few namespaces each fit many times over.
pub const CAPACITY: usize = 10_000;

/// Reviews one user (one token) may have in flight at once, over all their requests: a view
/// needs two or three, so this only stops one client from making the apiserver work for many.
pub const REVIEWS_IN_FLIGHT_PER_USER: usize = 8;
/// How long a review waits for one of its user's places before the request is refused (429).
pub const REVIEW_WAIT: Duration = Duration::from_secs(10);

/// The SHA-256 of a bearer token: who is asking, without keeping the secret around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

/// A map whose entries expire, holding at most `capacity` of them. Each entry is a slot that is
/// filled once: requests that ask for a key while another is fetching it wait for that answer
/// instead of asking the apiserver again (a view's checks and the sidebar's arrive together).
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, Slot<V>>>,
    ttl: Duration,
    capacity: usize,
}

struct Slot<V> {
    value: Arc<OnceCell<V>>,
    /// When the slot was made: a value lives `ttl` from the moment it was first asked for.
    made: Instant,
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    /// The value, when one is known and still fresh.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|slot| slot.made.elapsed() < self.ttl)
            .and_then(|slot| slot.value.get().cloned())
    }

    pub fn insert(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries.lock() {
            self.put(&mut entries, key, Arc::new(OnceCell::new_with(Some(value))));
        }
    }

    /// The slot for `key`: fresh, filled or being filled, or else a new empty one. Fill it with
    /// `OnceCell::get_or_try_init`; a fetch that fails (or is dropped) leaves it empty for the
    /// next caller to try. Looked up and made under one lock, so that two callers at once get
    /// the same slot.
    pub fn slot(&self, key: K) -> Arc<OnceCell<V>> {
        // A poisoned lock only means another request panicked mid-insert: fetch uncached.
        let Ok(mut entries) = self.entries.lock() else {
            return Arc::new(OnceCell::new());
        };
        if let Some(slot) = entries.get(&key)
            && slot.made.elapsed() < self.ttl
        {
            return slot.value.clone();
        }
        let value = Arc::new(OnceCell::new());
        self.put(&mut entries, key, value.clone());
        value
    }

    fn put(&self, entries: &mut HashMap<K, Slot<V>>, key: K, value: Arc<OnceCell<V>>) {
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, slot| slot.made.elapsed() < ttl);
            // Still full of live entries (a burst of users): forgetting is always safe here;
            // fetches in flight keep their own slot.
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        let made = Instant::now();
        entries.insert(key, Slot { value, made });
    }

    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the BFF remembers of the rules a SelfSubjectRulesReview listed for one namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceRules {
    pub rules: Vec<crate::routes::permissions::ResourceRule>,
    /// The apiserver could not list every rule (another authorizer, or an evaluation error):
    /// a missing rule is then no proof of a denial.
    pub incomplete: bool,
}

pub struct PermissionsCache {
    pub rules: TtlCache<(TokenHash, String), Arc<NamespaceRules>>,
    pub access: TtlCache<(TokenHash, AccessCheck), bool>,
    pub reviews: Arc<ReviewGate>,
}

impl PermissionsCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        PermissionsCache {
            rules: TtlCache::new(ttl, capacity),
            access: TtlCache::new(ttl, capacity),
            reviews: Arc::new(ReviewGate::new(REVIEWS_IN_FLIGHT_PER_USER, REVIEW_WAIT)),
        }
    }
}

/// The user has `REVIEWS_IN_FLIGHT_PER_USER` reviews in flight and none ended in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

/// At most `limit` reviews in flight per user: one semaphore per token hash. Users with nothing
/// in flight are forgotten as the map grows, so it holds about as many entries as there are
/// users being answered.
pub struct ReviewGate {
    per_user: Mutex<HashMap<TokenHash, Arc<Semaphore>>>,
    limit: usize,
    wait: Duration,
}

impl ReviewGate {
    pub fn new(limit: usize, wait: Duration) -> Self {
        ReviewGate {
            per_user: Mutex::new(HashMap::new()),
            limit,
            wait,
        }
    }

    /// A place for one review of `who`'s, held until the permit is dropped; waits up to `wait`.
    pub async fn enter(&self, who: TokenHash) -> Result<OwnedSemaphorePermit, Busy> {
        let semaphore = {
            // The map is consistent whatever a panicking holder was doing: keep using it.
            let mut per_user = self
                .per_user
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if per_user.len() >= 256 {
                // Only the map holds the semaphore of a user with no review in flight or waiting.
                per_user.retain(|_, semaphore| Arc::strong_count(semaphore) > 1);
            }
            per_user
                .entry(who)
                .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
                .clone()
        };
        match tokio::time::timeout(self.wait, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(Busy),
        }
    }

    /// How many users the gate holds a semaphore for.
    pub fn users(&self) -> usize {
        self.per_user.lock().map(|m| m.len()).unwrap_or_default()
    }
}

impl Default for PermissionsCache {
    fn default() -> Self {
        PermissionsCache::new(TTL, CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_a_hash_that_differs_per_token() {
        let a = TokenHash::of("token-a");
        assert_eq!(a, TokenHash::of("token-a"));
        assert_ne!(a, TokenHash::of("token-b"));
        assert!(!format!("{a:?}").contains("token-a"));
    }

    #[test]
    fn entries_are_per_user() {
        let cache = PermissionsCache::default();
        let check = AccessCheck::new("list", "", "namespaces", None);
        cache
            .access
            .insert((TokenHash::of("admin"), check.clone()), true);
        assert_eq!(
            cache.access.get(&(TokenHash::of("admin"), check.clone())),
            Some(true)
        );
        assert_eq!(cache.access.get(&(TokenHash::of("viewer"), check)), None);
    }

    #[test]
    fn entries_expire() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_millis(20), 10);
        cache.insert(1, 1);
        assert_eq!(cache.get(&1), Some(1));
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(cache.get(&1), None);
    }

    #[test]
    fn the_size_stays_bounded() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 3);
        for i in 0..10 {
            cache.insert(i, i);
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.get(&9), Some(9));
        // Replacing a present key never evicts the others.
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 2);
        cache.insert(1, 1);
        cache.insert(2, 2);
        cache.insert(2, 20);
        assert_eq!((cache.get(&1), cache.get(&2)), (Some(1), Some(20)));
    }

    #[tokio::test]
    async fn callers_asking_at_once_share_one_fetch() {
        let cache: Arc<TtlCache<u32, u32>> = Arc::new(TtlCache::new(Duration::from_secs(60), 10));
        let fetches = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let callers: Vec<_> = (0..5)
            .map(|_| {
                let slot = cache.slot(7);
                let (fetches, mut released) = (fetches.clone(), released.clone());
                tokio::spawn(async move {
                    slot.get_or_try_init(|| async move {
                        fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        // Holds the fetch open until every caller has its slot.
                        released.wait_for(|r| *r).await.map_err(|_| ())?;
                        Ok::<u32, ()>(42)
                    })
                    .await
                    .copied()
                })
            })
            .collect();
        release.send(true).expect("release");
        for caller in callers {
            assert_eq!(caller.await.expect("joined"), Ok(42));
        }
        assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(cache.get(&7), Some(42));
    }

    #[tokio::test]
    async fn a_failed_fetch_is_not_remembered() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_secs(60), 10);
        let failed = cache
            .slot(1)
            .get_or_try_init(|| async { Err::<u32, &str>("unreachable") })
            .await
            .copied();
        assert_eq!(failed, Err("unreachable"));
        assert_eq!(cache.get(&1), None);
        let second = cache
            .slot(1)
            .get_or_try_init(|| async { Ok::<u32, &str>(5) })
            .await
            .copied();
        assert_eq!(second, Ok(5));
        assert_eq!(cache.get(&1), Some(5));
    }

    #[tokio::test]
    async fn each_user_has_a_bounded_number_of_reviews_in_flight() {
        let gate = Arc::new(ReviewGate::new(2, Duration::from_millis(200)));
        let (alice, bob) = (TokenHash::of("alice"), TokenHash::of("bob"));
        let first = gate.enter(alice).await.expect("first");
        let _second = gate.enter(alice).await.expect("second");
        // A third waits, and gives up when nothing ends in time.
        assert_eq!(gate.enter(alice).await.err(), Some(Busy));
        // Another user is not held up by alice's reviews.
        let _bob = gate.enter(bob).await.expect("bob");
        // A review that ends lets a waiting one in.
        let waiting = tokio::spawn({
            let gate = gate.clone();
            async move { gate.enter(alice).await.map(|_| ()) }
        });
        drop(first);
        assert_eq!(waiting.await.expect("joined"), Ok(()));
    }

    #[tokio::test]
    async fn idle_users_are_forgotten() {
        let gate = ReviewGate::new(1, Duration::from_millis(100));
        let held = gate.enter(TokenHash::of("busy")).await.expect("held");
        for i in 0..300 {
            drop(
                gate.enter(TokenHash::of(&format!("user-{i}")))
                    .await
                    .expect("enter"),
            );
        }
        assert!(gate.users() <= 256, "{}", gate.users());
        // The user with a review in flight is still bounded.
        assert_eq!(gate.enter(TokenHash::of("busy")).await.err(), Some(Busy));
        drop(held);
    }

    #[test]
    fn expired_entries_go_first_when_full() {
        let cache: TtlCache<u32, u32> = TtlCache::new(Duration::from_millis(20), 2);
        cache.insert(1, 1);
        std::thread::sleep(Duration::from_millis(30));
        cache.insert(2, 2);
        cache.insert(3, 3);
        assert_eq!((cache.get(&2), cache.get(&3)), (Some(2), Some(3)));
        assert_eq!(cache.len(), 2);
    }
}
