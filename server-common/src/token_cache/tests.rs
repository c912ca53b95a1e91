use std::{
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU32, Ordering},
};

use super::*;

/// A clock that moves only when told.
struct ManualClock {
    base: Instant,
    offset: Mutex<Duration>,
}

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            base: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        })
    }

    fn advance(&self, by: Duration) {
        *self.offset.lock().expect("clock") += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.lock().expect("clock")
    }

    fn sleep_until(&self, _: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(std::future::pending())
    }
}

#[test]
fn the_key_is_a_hash_that_differs_per_token() {
    let a = TokenHash::of("token-a");
    assert_eq!(a, TokenHash::of("token-a"));
    assert_ne!(a, TokenHash::of("token-b"));
    assert!(!format!("{a:?}").contains("token-a"));
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
fn many_keys_stay_within_the_bound() {
    let cache: TtlCache<TokenHash, u32> = TtlCache::new(Duration::from_secs(600), 1_000);
    for i in 0..20_000 {
        let key = TokenHash::of(&format!("token-{i}"));
        if i % 2 == 0 {
            cache.insert(key, i);
        } else {
            // Slots being filled count as well.
            drop(cache.slot(key));
        }
        assert!(cache.len() <= 1_000, "{} entries after {i}", cache.len());
    }
    assert_eq!(cache.get(&TokenHash::of("token-19998")), Some(19_998));
}

#[test]
fn a_full_cache_forgets_its_oldest_entries_not_all() {
    let clock = ManualClock::new();
    let cache: TtlCache<u32, u32> =
        TtlCache::new(Duration::from_secs(600), 100).with_clock(clock.clone());
    for i in 0..100 {
        cache.insert(i, i);
        clock.advance(Duration::from_millis(1));
    }
    cache.insert(100, 100);
    // The oldest made room for a tenth of the capacity; everything younger is still there.
    assert!((0..11).all(|i| cache.get(&i).is_none()));
    assert!((11..=100).all(|i| cache.get(&i) == Some(i)));
    assert_eq!(cache.len(), 90);
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

#[test]
fn an_entry_lives_its_ttl_on_the_given_clock() {
    let clock = ManualClock::new();
    let cache: TtlCache<u32, u32> =
        TtlCache::new(Duration::from_secs(60), 10).with_clock(clock.clone());
    cache.insert(1, 1);
    clock.advance(Duration::from_secs(59));
    assert_eq!(cache.get(&1), Some(1));
    clock.advance(Duration::from_secs(1));
    assert_eq!(cache.get(&1), None);
    // An expired slot is not handed out again.
    assert!(cache.slot(1).get().is_none());
}

#[tokio::test]
async fn callers_asking_at_once_share_one_fetch() {
    let cache: Arc<TtlCache<u32, u32>> = Arc::new(TtlCache::new(Duration::from_secs(60), 10));
    let fetches = Arc::new(AtomicU32::new(0));
    let (release, released) = tokio::sync::watch::channel(false);
    let callers: Vec<_> = (0..5)
        .map(|_| {
            let slot = cache.slot(7);
            let (fetches, mut released) = (fetches.clone(), released.clone());
            tokio::spawn(async move {
                slot.get_or_try_init(|| async move {
                    fetches.fetch_add(1, Ordering::SeqCst);
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
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
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
async fn a_value_not_kept_is_shared_with_its_waiters_then_forgotten() {
    let cache: TtlCache<u32, Result<u32, &str>> =
        TtlCache::new(Duration::from_secs(60), 10).keep_if(Result::is_ok);
    let computations = AtomicU32::new(0);
    let compute = || async {
        computations.fetch_add(1, Ordering::SeqCst);
        Err("refused")
    };
    // Both ask before the answer is there: one computation, one answer for both.
    let (first, second) = (cache.slot(1), cache.slot(1));
    let (a, b) = tokio::join!(first.get_or_init(compute), second.get_or_init(compute));
    assert_eq!((*a, *b), (Err("refused"), Err("refused")));
    assert_eq!(computations.load(Ordering::SeqCst), 1);
    // Whoever asks after it is not handed the failure.
    assert_eq!(cache.get(&1), None);
    assert!(cache.slot(1).get().is_none());
}
