//! A short memory of permission reviews, so that a view asking the same questions again (a
//! re-render, a second tab) does not cost the apiserver a request each time. Entries live for a
//! few seconds only: a role change must show soon, and a user's token is their identity, so
//! every key starts with the hash of the token (never the token itself) and nothing is shared
//! between users. The memory is server-common's `TtlCache`, as for verified tokens and refreshes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use server_common::token_cache::{TokenHash, TtlCache};
use shared::AccessCheck;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Short enough that a changed role binding shows within a view's next refresh.
pub const TTL: Duration = Duration::from_secs(10);
/// Per kind of entry; a few users with a few namespaces each fit many times over.
pub const CAPACITY: usize = 10_000;

/// Reviews one user (one token) may have in flight at once, over all their requests: a view
/// needs two or three, so this only stops one client from making the apiserver work for many.
pub const REVIEWS_IN_FLIGHT_PER_USER: usize = 8;
/// How long a review waits for one of its user's places before the request is refused (429).
pub const REVIEW_WAIT: Duration = Duration::from_secs(10);

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
}
