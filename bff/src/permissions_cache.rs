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

/// Short enough that a changed role binding shows within a view's next refresh.
pub const TTL: Duration = Duration::from_secs(10);
/// Per kind of entry; a few users with a few namespaces each fit many times over.
pub const CAPACITY: usize = 10_000;

/// The SHA-256 of a bearer token: who is asking, without keeping the secret around.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        TokenHash(Sha256::digest(token.as_bytes()).into())
    }
}

/// A map whose entries expire, holding at most `capacity` of them.
pub struct TtlCache<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    capacity: usize,
}

impl<K: Hash + Eq, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        TtlCache {
            entries: Mutex::new(HashMap::new()),
            ttl,
            capacity,
        }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        // A poisoned lock only means another request panicked mid-insert: skip caching.
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            // Still full of live entries (a burst of users): forgetting is always safe here.
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
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
}

impl PermissionsCache {
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        PermissionsCache {
            rules: TtlCache::new(ttl, capacity),
            access: TtlCache::new(ttl, capacity),
        }
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
