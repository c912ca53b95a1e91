//! Discovery and the issuer's keys (JWKS), kept fresh.
//!
//! The JWKS is refetched when a token names a `kid` it does not hold: one fetch at a time, which
//! every request waiting for a key shares and then looks again. A `kid` is refused as unknown only
//! when it is still missing after a fetch that started after the request found it missing. Fetches
//! for unknown `kid`s are at most one per cooldown, so that random `kid`s cannot make the verifier
//! fetch on every request: a request that needs one within the cooldown waits for the next allowed
//! fetch (at most the cooldown) rather than fail. Keys not refreshed for longer than
//! `max_key_age` are not used at all (`TokenError::NotLoaded`, which both servers answer 503).

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::Instant,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::DecodingKey;
use serde::Deserialize;
use serde_json::Value;

use super::{MAX_KID_BYTES, OidcVerifier, TokenError};

/// The smallest RSA modulus accepted in the JWKS.
const MIN_RSA_MODULUS_BYTES: usize = 256;
/// Discovery documents and key sets larger than this are refused.
const MAX_ISSUER_DOCUMENT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
}

/// What a JWKS fetch was for (for counting them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FetchReason {
    /// `load`: start-up and `keep_loaded`'s periodic reload (discovery and JWKS).
    Load,
    /// A token named a key id the cached JWKS does not hold (JWKS only).
    UnknownKey,
}

/// Why a fetch of the issuer's documents failed; the keys held before stay.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum FetchError {
    #[error("discovery document: {0}")]
    Discovery(String),
    #[error("discovery names issuer {found:?}, configured is {configured:?}")]
    IssuerMismatch { found: String, configured: String },
    #[error("JWKS: {0}")]
    Jwks(String),
    #[error("the issuer's JWKS holds no usable RS256 signature key")]
    NoUsableKey,
    #[error("no discovery document loaded yet")]
    NotLoaded,
}

/// Called after every JWKS fetch with its reason and outcome.
pub type FetchObserver = Arc<dyn Fn(FetchReason, Result<(), &FetchError>) + Send + Sync>;

pub(super) struct Keys {
    pub(super) discovery: Discovery,
    /// The JWKS's usable keys (RSA, for signatures with RS256) by key id.
    pub(super) by_kid: HashMap<String, DecodingKey>,
    /// When the fetch that brought these keys started.
    fetched_at: Instant,
}

pub(super) struct FetchState {
    /// When the last fetch for an unknown key id started: the cooldown runs from there.
    pub(super) last_unknown_key_fetch: Option<Instant>,
    /// Sequence number and outcome of the last fetch that finished.
    pub(super) finished: u64,
    pub(super) finished_ok: bool,
}

impl OidcVerifier {
    pub(super) fn current(&self) -> Option<Arc<Keys>> {
        self.keys.read().ok().and_then(|keys| keys.clone())
    }

    pub(super) fn fresh_keys(&self) -> Result<Arc<Keys>, TokenError> {
        let keys = self.current().ok_or(TokenError::NotLoaded)?;
        if self.clock.now().saturating_duration_since(keys.fetched_at) > self.max_key_age {
            return Err(TokenError::NotLoaded);
        }
        Ok(keys)
    }

    /// Fetches discovery and JWKS; keeps them only if the document names the configured issuer
    /// exactly (OIDC Discovery 1.0, section 4.3) and the JWKS holds a usable key.
    pub async fn load(&self) -> anyhow::Result<()> {
        let mut state = self.fetch.lock().await;
        self.fetch_locked(&mut state, FetchReason::Load).await?;
        Ok(())
    }

    /// One fetch; the caller holds the fetch lock.
    async fn fetch_locked(
        &self,
        state: &mut FetchState,
        reason: FetchReason,
    ) -> Result<(), FetchError> {
        let sequence = self.fetches_started.fetch_add(1, Ordering::SeqCst) + 1;
        let started = self.clock.now();
        let result = self.fetch_keys(reason, started).await;
        state.finished = sequence;
        state.finished_ok = result.is_ok();
        crate::metrics::global().jwks_fetch(match &result {
            Ok(_) => "ok",
            Err(FetchError::NoUsableKey) => "no_usable_key",
            Err(_) => "error",
        });
        if let Some(observer) = &self.observer {
            observer(reason, result.as_ref().map(|_| ()));
        }
        let keys = result?;
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(Arc::new(keys));
        }
        Ok(())
    }

    async fn fetch_keys(&self, reason: FetchReason, started: Instant) -> Result<Keys, FetchError> {
        let discovery = match reason {
            FetchReason::Load => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.issuer.trim_end_matches('/')
                );
                let discovery: Discovery = self
                    .get_json(&url)
                    .await
                    .map_err(|err| FetchError::Discovery(format!("{err:#}")))?;
                if discovery.issuer != self.issuer {
                    return Err(FetchError::IssuerMismatch {
                        found: discovery.issuer,
                        configured: self.issuer.clone(),
                    });
                }
                discovery
            }
            FetchReason::UnknownKey => self
                .current()
                .map(|keys| keys.discovery.clone())
                .ok_or(FetchError::NotLoaded)?,
        };
        let jwks: JwksDocument = self
            .get_json(&discovery.jwks_uri)
            .await
            .map_err(|err| FetchError::Jwks(format!("{err:#}")))?;
        let by_kid = usable_keys(&jwks.keys);
        if by_kid.is_empty() {
            return Err(FetchError::NoUsableKey);
        }
        Ok(Keys {
            discovery,
            by_kid,
            fetched_at: started,
        })
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let mut response = self.http.get(url).send().await?.error_for_status()?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_ISSUER_DOCUMENT_BYTES {
                anyhow::bail!("larger than {MAX_ISSUER_DOCUMENT_BYTES} bytes");
            }
            body.extend_from_slice(&chunk);
        }
        Ok(serde_json::from_slice(&body)?)
    }

    /// The key named `kid`, fetching the JWKS again if it is not there (see the module comment).
    pub(super) async fn key_for(&self, kid: &str) -> Result<DecodingKey, TokenError> {
        // Read before the keys: a fetch numbered after this one started after the miss.
        let seen_missing_after = self.fetches_started.load(Ordering::SeqCst);
        if let Some(key) = self.fresh_keys()?.by_kid.get(kid) {
            return Ok(key.clone());
        }
        loop {
            // Waits for a fetch in flight, if any.
            let mut state = self.fetch.lock().await;
            if let Some(key) = self.fresh_keys()?.by_kid.get(kid) {
                return Ok(key.clone());
            }
            if state.finished > seen_missing_after {
                return Err(if state.finished_ok {
                    TokenError::UnknownKey
                } else {
                    TokenError::NotLoaded
                });
            }
            let now = self.clock.now();
            if let Some(last) = state.last_unknown_key_fetch {
                let allowed = last + self.refetch_cooldown;
                if allowed > now {
                    drop(state);
                    self.clock.sleep_until(allowed).await;
                    continue;
                }
            }
            state.last_unknown_key_fetch = Some(now);
            if let Err(err) = self.fetch_locked(&mut state, FetchReason::UnknownKey).await {
                tracing::warn!(%err, "refetching the JWKS failed");
            }
        }
    }
}

#[derive(Deserialize)]
struct JwksDocument {
    keys: Vec<Value>,
}

/// The keys of a JWKS that may verify RS256 signatures, by key id. Keys for another use,
/// algorithm or type, small RSA keys, keys without an id and ids published twice are left out;
/// an entry that does not parse does not spoil the others.
fn usable_keys(keys: &[Value]) -> HashMap<String, DecodingKey> {
    use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, KeyAlgorithm, KeyOperations, PublicKeyUse};
    let mut by_kid: HashMap<String, Option<DecodingKey>> = HashMap::new();
    for value in keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(value.clone()) else {
            continue;
        };
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else {
            continue;
        };
        let for_signatures = matches!(
            jwk.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        ) && jwk
            .common
            .key_operations
            .as_ref()
            .is_none_or(|ops| ops.contains(&KeyOperations::Verify))
            && matches!(jwk.common.key_algorithm, None | Some(KeyAlgorithm::RS256));
        let big_enough = URL_SAFE_NO_PAD
            .decode(&rsa.n)
            .map(|n| n.iter().skip_while(|b| **b == 0).count() >= MIN_RSA_MODULUS_BYTES)
            .unwrap_or(false);
        if !for_signatures || !big_enough || kid.len() > MAX_KID_BYTES {
            continue;
        }
        let Ok(key) = DecodingKey::from_jwk(&jwk) else {
            continue;
        };
        by_kid
            .entry(kid)
            .and_modify(|twice| *twice = None)
            .or_insert(Some(key));
    }
    by_kid
        .into_iter()
        .filter_map(|(kid, key)| key.map(|key| (kid, key)))
        .collect()
}
