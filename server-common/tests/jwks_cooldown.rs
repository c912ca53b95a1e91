//! The JWKS refetch cooldown and the bound on the keys' age, with a clock moved by hand (the
//! verifier's waits and ages follow it; HTTP to the FAKE issuer of `support` is real).

mod support;

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use server_common::{
    clock::Clock,
    oidc::{FetchReason, MAX_KEY_AGE, OidcVerifier, REFETCH_COOLDOWN, TokenError},
};
use support::{FakeIssuer, KEY_A, KEY_B, PEM_A, PEM_B, jwk, start_fake_issuer};
use tokio::sync::watch;

/// A clock that moves only when told; `sleepers` counts the waits on it still pending.
struct ManualClock {
    base: Instant,
    offset: watch::Sender<Duration>,
}

impl ManualClock {
    fn new() -> Arc<ManualClock> {
        Arc::new(ManualClock {
            base: Instant::now(),
            offset: watch::channel(Duration::ZERO).0,
        })
    }

    fn advance(&self, by: Duration) {
        self.offset.send_modify(|offset| *offset += by);
    }

    fn sleepers(&self) -> usize {
        self.offset.receiver_count()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.base + *self.offset.borrow()
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let mut offset = self.offset.subscribe();
        let base = self.base;
        Box::pin(async move {
            let _ = offset.wait_for(|offset| base + *offset >= deadline).await;
        })
    }
}

fn verifier(fake: &FakeIssuer, clock: &Arc<ManualClock>) -> OidcVerifier {
    support::verifier(fake).with_clock(clock.clone())
}

/// Polls (real time) until `done` holds; the verifier's own waits follow the manual clock.
async fn until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn random_key_ids_cause_at_most_one_fetch_per_cooldown() {
    let fake = start_fake_issuer().await;
    let clock = ManualClock::new();
    let fetches: Arc<Mutex<Vec<FetchReason>>> = Default::default();
    let observed = fetches.clone();
    let verifier = Arc::new(verifier(&fake, &clock).with_fetch_observer(Arc::new(
        move |reason, _| {
            if let Ok(mut fetches) = observed.lock() {
                fetches.push(reason);
            }
        },
    )));
    verifier.load().await.expect("load");
    let answered = Arc::new(AtomicUsize::new(0));
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let verifier = verifier.clone();
            let answered = answered.clone();
            let token = fake.token(&format!("random-{i}"), PEM_A);
            tokio::spawn(async move {
                let result = verifier.verify(&token, None).await.err();
                answered.fetch_add(1, Ordering::SeqCst);
                result
            })
        })
        .collect();
    // Every request has either been answered or waits for the cooldown to end.
    until("every request is answered or waiting", || {
        answered.load(Ordering::SeqCst) + clock.sleepers() == 20
    })
    .await;
    assert_eq!(fake.fetches(), 2, "the load and one refetch");
    clock.advance(REFETCH_COOLDOWN / 2);
    assert_eq!(
        fake.fetches(),
        2,
        "nothing more within the cooldown (the waits follow the clock)"
    );
    clock.advance(REFETCH_COOLDOWN / 2);
    for request in requests {
        assert_eq!(request.await.expect("task"), Some(TokenError::UnknownKey));
    }
    assert!(
        fake.fetches() <= 3,
        "at most one more fetch after the cooldown: {}",
        fake.fetches()
    );
    let reasons = fetches.lock().map(|f| f.clone()).unwrap_or_default();
    assert_eq!(reasons.first(), Some(&FetchReason::Load));
    assert_eq!(reasons.len(), fake.fetches());
    assert!(reasons[1..].iter().all(|r| *r == FetchReason::UnknownKey));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_kid_within_the_cooldown_waits_for_the_next_fetch_which_all_share() {
    let fake = start_fake_issuer().await;
    let clock = ManualClock::new();
    let verifier = Arc::new(verifier(&fake, &clock));
    verifier.load().await.expect("load");
    // Some earlier fetch for an unknown kid starts the cooldown...
    assert_eq!(
        verifier
            .verify(&fake.token("random", PEM_A), None)
            .await
            .err(),
        Some(TokenError::UnknownKey)
    );
    assert_eq!(fake.fetches(), 2);
    // ...and the issuer rotates a second later.
    clock.advance(Duration::from_secs(1));
    fake.publish(vec![jwk("a", KEY_A), jwk("b", KEY_B)]);
    let token = fake.token("b", PEM_B);
    let requests: Vec<_> = (0..16)
        .map(|_| {
            let verifier = verifier.clone();
            let token = token.clone();
            tokio::spawn(async move { verifier.verify(&token, None).await.err() })
        })
        .collect();
    until("every request waits for the cooldown", || {
        clock.sleepers() == 16
    })
    .await;
    assert_eq!(fake.fetches(), 2);
    clock.advance(REFETCH_COOLDOWN);
    for request in requests {
        assert_eq!(
            request.await.expect("task"),
            None,
            "the new kid is accepted"
        );
    }
    assert_eq!(fake.fetches(), 3, "one fetch for all of them");
}

#[tokio::test]
async fn keys_not_refreshed_for_longer_than_the_bound_are_not_used() {
    let fake = start_fake_issuer().await;
    let clock = ManualClock::new();
    let verifier = verifier(&fake, &clock);
    verifier.load().await.expect("load");
    let cached = fake.token("a", PEM_A);
    assert_eq!(verifier.verify(&cached, None).await.err(), None);

    // The issuer goes down: reloads fail, the keys held are used for a while (a restart).
    fake.set_up(false);
    clock.advance(MAX_KEY_AGE - Duration::from_secs(60));
    assert!(verifier.load().await.is_err());
    assert!(verifier.is_loaded());
    assert_eq!(
        verifier.verify(&fake.token("a", PEM_A), None).await.err(),
        None
    );
    // A new kid cannot be checked while the issuer is down: not "unknown" (401, back to the
    // login) but not loaded (503, try again).
    fake.publish(vec![jwk("a", KEY_A), jwk("b", KEY_B)]);
    assert_eq!(
        verifier.verify(&fake.token("b", PEM_B), None).await.err(),
        Some(TokenError::NotLoaded)
    );

    // Past the bound nothing is accepted, not even a token verified (and cached) before.
    clock.advance(Duration::from_secs(61));
    assert!(verifier.load().await.is_err());
    assert!(!verifier.is_loaded());
    assert_eq!(
        verifier.verify(&cached, None).await.err(),
        Some(TokenError::NotLoaded)
    );
    assert_eq!(
        verifier.verify(&fake.token("a", PEM_A), None).await.err(),
        Some(TokenError::NotLoaded)
    );

    // The issuer is back: the next reload makes the keys fresh again.
    fake.set_up(true);
    verifier.load().await.expect("reload");
    assert!(verifier.is_loaded());
    assert_eq!(verifier.verify(&cached, None).await.err(), None);
}
