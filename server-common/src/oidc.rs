//! Verifying the OIDC ID tokens Dex issues: discovery, a JWKS cache, a fixed algorithm allow-list
//! and every claim the console relies on required.
//!
//! - `keys`: discovery and the JWKS, refetched for unknown key ids with a cooldown;
//! - `jws`: taking a token apart and every rule it must pass;
//! - `claims`: what a verified token says, and why one was refused;
//! - `verified_cache`: tokens verified before, so that every API call does not pay for RSA.

mod claims;
mod jws;
mod keys;
mod verified_cache;

use std::{
    path::Path,
    sync::{Arc, RwLock, atomic::AtomicU64},
    time::Duration,
};

use anyhow::Context;
use jsonwebtoken::Algorithm;

pub use self::{
    claims::{Audience, IdClaims, Rejection, TokenError},
    jws::{constant_time_eq, decode},
    keys::{Discovery, FetchError, FetchObserver, FetchReason},
};
use self::{
    jws::Parsed,
    keys::{FetchState, Keys},
    verified_cache::{Verified, verified_cache},
};
use crate::{
    clock::{Clock, SystemClock},
    token_cache::{TokenHash, TtlCache},
};

/// Dex signs with RS256; nothing else is accepted, whatever a token's header says.
pub const ALLOWED_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 30;
/// The shortest time between two JWKS fetches caused by unknown key ids, and so the longest a
/// request with a new key id waits for one.
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(10);
/// Keys not refreshed successfully for this long are not used: long enough for a Dex restart or
/// upgrade (`keep_loaded` retries every few seconds), short enough that a withdrawn key does not
/// stay trusted while the issuer is unreachable.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(30 * 60);
/// The longest `exp - iat` accepted. Dex's default ID token lifetime is 24 h.
pub const MAX_TOKEN_LIFETIME_SECONDS: u64 = 7 * 24 * 3600;
/// Dex's tokens are about 1 KiB, a few KiB with many groups; anything far larger is not one.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Dex's key ids are 40 hex digits.
pub const MAX_KID_BYTES: usize = 256;

pub struct OidcVerifier {
    verified: TtlCache<TokenHash, Verified>,
    issuer: String,
    client_ids: Vec<String>,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<Keys>>>,
    /// Held for the whole of a fetch: one at a time, and waiters see its outcome.
    fetch: tokio::sync::Mutex<FetchState>,
    /// Sequence number of the last fetch started (written under `fetch`).
    fetches_started: AtomicU64,
    refetch_cooldown: Duration,
    max_key_age: Duration,
    clock: Arc<dyn Clock>,
    observer: Option<FetchObserver>,
}

impl OidcVerifier {
    /// `client_ids` are the audiences accepted, and the clients an `azp` may name.
    pub fn new(issuer: String, client_ids: Vec<String>, http: reqwest::Client) -> Self {
        OidcVerifier {
            verified: verified_cache(Arc::new(SystemClock)),
            issuer,
            client_ids,
            http,
            keys: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(FetchState {
                last_unknown_key_fetch: None,
                finished: 0,
                finished_ok: false,
            }),
            fetches_started: AtomicU64::new(0),
            refetch_cooldown: REFETCH_COOLDOWN,
            max_key_age: MAX_KEY_AGE,
            clock: Arc::new(SystemClock),
            observer: None,
        }
    }

    /// Another cooldown between JWKS fetches for unknown key ids.
    pub fn with_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    /// Another bound on the age of the keys used (default `MAX_KEY_AGE`).
    pub fn with_max_key_age(mut self, age: Duration) -> Self {
        self.max_key_age = age;
        self
    }

    /// Another clock (tests move one by hand).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.verified = verified_cache(clock.clone());
        self.clock = clock;
        self
    }

    /// A function told of every JWKS fetch (for metrics).
    pub fn with_fetch_observer(mut self, observer: FetchObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Whether tokens can be checked now: keys loaded and not older than `max_key_age`.
    pub fn is_loaded(&self) -> bool {
        self.fresh_keys().is_ok()
    }

    pub fn discovery(&self) -> Option<Discovery> {
        self.current().map(|keys| keys.discovery.clone())
    }

    /// Verifies signature, algorithm, `iss`, `aud` and `azp`, `exp`, `iat`, `nbf` and, when
    /// `expected_nonce` is given, `nonce` (see `decode` for the whole list).
    pub async fn verify(
        &self,
        token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<IdClaims, TokenError> {
        self.verify_counted(token, expected_nonce)
            .await
            .inspect_err(crate::metrics::token_rejected_for)
    }

    async fn verify_uncached(
        &self,
        token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<Verified, TokenError> {
        let parsed = Parsed::new(token)?;
        // What can be refused without the key is, so that such tokens cause no JWKS fetch.
        parsed.check_unverified(&self.issuer, &self.client_ids)?;
        let key = self.key_for(&parsed.kid).await?;
        let claims = parsed.verify(&key, &self.issuer, &self.client_ids)?;
        if let Some(expected) = expected_nonce {
            let matches = claims
                .nonce
                .as_deref()
                .is_some_and(|nonce| constant_time_eq(nonce, expected));
            if !matches {
                return Err(TokenError::NonceMismatch);
            }
        }
        Ok(Verified {
            claims,
            kid: parsed.kid,
        })
    }
}

/// The client both servers talk to the issuer with: rustls with only the given CA, and no
/// redirects followed, so that a hostile or misconfigured endpoint cannot bounce requests.
pub fn http_client(ca_file: Option<&Path>) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(5));
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem).context("parsing the OIDC CA")? {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().context("building the HTTP client")
}

/// Loads the issuer, retrying with backoff until it succeeds, then refreshes it on the JWKS's
/// usual lifetime so that rotated keys are picked up even without an unknown `kid` (and so that
/// keys stay younger than `MAX_KEY_AGE`).
pub async fn keep_loaded(verifier: Arc<OidcVerifier>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match verifier.load().await {
            Ok(()) => {
                tracing::info!("OIDC discovery and JWKS loaded");
                backoff = Duration::from_millis(200);
                tokio::time::sleep(Duration::from_secs(600)).await;
            }
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "OIDC issuer not loaded yet");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
