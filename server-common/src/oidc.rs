//! Verifying the OIDC ID tokens Dex issues: discovery, a JWKS cache, a fixed algorithm allow-list
//! and every claim the console relies on required.
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
    path::Path,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::Value;

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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn as_slice(&self) -> &[String] {
        match self {
            Audience::One(one) => std::slice::from_ref(one),
            Audience::Many(many) => many,
        }
    }
}

/// The claims of a verified ID token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: u64,
    pub iat: u64,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub azp: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Every other claim, for deployments that take the username or groups from another one.
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl IdClaims {
    /// A string claim by name, the named fields included.
    pub fn string_claim(&self, name: &str) -> Option<String> {
        match name {
            "email" => self.email.clone(),
            "sub" => Some(self.sub.clone()),
            "name" => self.name.clone(),
            _ => self
                .other
                .get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string),
        }
    }

    /// A list-of-strings claim by name (a single string counts as a list of one).
    pub fn strings_claim(&self, name: &str) -> Vec<String> {
        if name == "groups" {
            return self.groups.clone();
        }
        match self.other.get(name) {
            Some(serde_json::Value::String(one)) => vec![one.clone()],
            Some(serde_json::Value::Array(many)) => many
                .iter()
                .filter_map(|v| v.as_str())
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("the token names no key the issuer publishes")]
    UnknownKey,
    #[error("the token was rejected: {0}")]
    Rejected(Rejection),
    #[error("the token was not issued for this login (nonce)")]
    NonceMismatch,
    /// The issuer's keys were never loaded, are older than `max_key_age`, or could not be fetched
    /// for a new key id: the token cannot be checked now (both servers answer 503).
    #[error("the issuer's keys are not loaded or too old")]
    NotLoaded,
}

/// Why a well-formed token signed by a known key (or claiming to be) was refused.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not valid yet (nbf)")]
    NotYetValid,
    #[error("issued in the future")]
    IssuedInTheFuture,
    #[error("lifetime too long or negative")]
    Lifetime,
    #[error("another issuer")]
    Issuer,
    #[error("not issued for this client (aud)")]
    Audience,
    #[error("several audiences and no azp")]
    MissingAzp,
    #[error("azp names another client")]
    ForeignAzp,
    #[error("a logout or other security event token")]
    LogoutToken,
    #[error("a typ other than JWT")]
    TokenType,
    #[error("a critical header parameter")]
    CriticalHeader,
    #[error("a required claim is missing or empty")]
    MissingClaim,
    #[error("a claim has the wrong type")]
    ClaimFormat,
}

impl Rejection {
    /// A fixed name for metrics labels.
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Signature => "signature",
            Rejection::Expired => "expired",
            Rejection::NotYetValid => "not_yet_valid",
            Rejection::IssuedInTheFuture => "issued_in_the_future",
            Rejection::Lifetime => "lifetime",
            Rejection::Issuer => "issuer",
            Rejection::Audience => "audience",
            Rejection::MissingAzp => "missing_azp",
            Rejection::ForeignAzp => "foreign_azp",
            Rejection::LogoutToken => "logout_token",
            Rejection::TokenType => "token_type",
            Rejection::CriticalHeader => "critical_header",
            Rejection::MissingClaim => "missing_claim",
            Rejection::ClaimFormat => "claim_format",
        }
    }
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

struct Keys {
    discovery: Discovery,
    /// The JWKS's usable keys (RSA, for signatures with RS256) by key id.
    by_kid: HashMap<String, DecodingKey>,
    /// When the fetch that brought these keys started.
    fetched_at: Instant,
}

struct FetchState {
    /// When the last fetch for an unknown key id started: the cooldown runs from there.
    last_unknown_key_fetch: Option<Instant>,
    /// Sequence number and outcome of the last fetch that finished.
    finished: u64,
    finished_ok: bool,
}

/// How many verified tokens are remembered, and for how long at most.
const VERIFIED_CACHE_ENTRIES: usize = 10_000;
const VERIFIED_CACHE_TTL: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Verified {
    claims: IdClaims,
    kid: String,
}

/// Tokens that passed every check, so that a user's every API call does not pay for an RSA
/// verification twice (BFF and apiserver-proxy). A changed byte is another key; expiry is checked again on every read, and that the key is still
/// published, in keys not too old, on every hit.
fn verified_cache(clock: Arc<dyn Clock>) -> TtlCache<TokenHash, Verified> {
    TtlCache::new(VERIFIED_CACHE_TTL, VERIFIED_CACHE_ENTRIES)
        .keep_if(|verified: &Verified| {
            verified.claims.exp.saturating_add(LEEWAY_SECONDS)
                > jsonwebtoken::get_current_timestamp()
        })
        .with_clock(clock)
}

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

    fn current(&self) -> Option<Arc<Keys>> {
        self.keys.read().ok().and_then(|keys| keys.clone())
    }

    fn fresh_keys(&self) -> Result<Arc<Keys>, TokenError> {
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
    async fn key_for(&self, kid: &str) -> Result<DecodingKey, TokenError> {
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

    async fn verify_counted(
        &self,
        token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<IdClaims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        // A login's token (with a nonce to check) is verified in full, once.
        if expected_nonce.is_some() {
            return self
                .verify_uncached(token, expected_nonce)
                .await
                .map(|verified| verified.claims);
        }
        let key = TokenHash::of(token);
        if let Some(hit) = self.verified.get(&key) {
            // The key must still be published, in keys not too old.
            if self.fresh_keys()?.by_kid.contains_key(&hit.kid) {
                return Ok(hit.claims);
            }
        }
        // Each request verifies on its own: the work worth sharing, a JWKS fetch, `key_for` shares.
        let verified = self.verify_uncached(token, None).await?;
        self.verified.insert(key, verified.clone());
        Ok(verified.claims)
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

/// A compact JWS taken apart: exactly three non-empty base64url parts without padding, a header
/// and a payload that are JSON objects without duplicate keys.
struct Parsed<'a> {
    token: &'a str,
    kid: String,
    payload: serde_json::Map<String, Value>,
}

impl<'a> Parsed<'a> {
    fn new(token: &'a str) -> Result<Self, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        if signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err() {
            return Err(TokenError::Malformed);
        }
        let header = json_object(header)?;
        let payload = json_object(payload)?;
        check_header(&header)?;
        let kid = match header.get("kid") {
            Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID_BYTES => {
                kid.clone()
            }
            _ => return Err(TokenError::UnknownKey),
        };
        Ok(Parsed {
            token,
            kid,
            payload,
        })
    }

    /// The rules that need no key: a logout token, another issuer or audience is refused before
    /// any key is looked up (the signature is checked after, on whatever passes).
    fn check_unverified(&self, issuer: &str, client_ids: &[String]) -> Result<(), TokenError> {
        // A back-channel logout token (or any security event token) is never an ID token.
        if self.payload.contains_key("events") {
            return Err(TokenError::Rejected(Rejection::LogoutToken));
        }
        match self.payload.get("iss") {
            Some(Value::String(iss)) if iss == issuer => {}
            Some(Value::String(_)) => return Err(TokenError::Rejected(Rejection::Issuer)),
            Some(_) => return Err(TokenError::Rejected(Rejection::ClaimFormat)),
            None => return Err(TokenError::Rejected(Rejection::MissingClaim)),
        }
        let names_client = |v: &Value| {
            v.as_str()
                .is_some_and(|a| client_ids.iter().any(|c| c == a))
        };
        let for_us = match self.payload.get("aud") {
            Some(Value::String(_)) => self.payload.get("aud").is_some_and(names_client),
            Some(Value::Array(many)) => many.iter().any(names_client),
            Some(_) => return Err(TokenError::Rejected(Rejection::ClaimFormat)),
            None => return Err(TokenError::Rejected(Rejection::MissingClaim)),
        };
        if !for_us {
            return Err(TokenError::Rejected(Rejection::Audience));
        }
        Ok(())
    }

    fn verify(
        &self,
        key: &DecodingKey,
        issuer: &str,
        client_ids: &[String],
    ) -> Result<IdClaims, TokenError> {
        self.check_unverified(issuer, client_ids)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
        validation.set_issuer(&[issuer]);
        validation.set_audience(client_ids);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        let data =
            jsonwebtoken::decode::<IdClaims>(self.token, key, &validation).map_err(|err| {
                use jsonwebtoken::errors::ErrorKind;
                match err.kind() {
                    ErrorKind::InvalidToken
                    | ErrorKind::Base64(_)
                    | ErrorKind::Json(_)
                    | ErrorKind::Utf8(_) => TokenError::Malformed,
                    ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => {
                        TokenError::AlgorithmNotAllowed
                    }
                    ErrorKind::ExpiredSignature => TokenError::Rejected(Rejection::Expired),
                    ErrorKind::ImmatureSignature => TokenError::Rejected(Rejection::NotYetValid),
                    ErrorKind::InvalidIssuer => TokenError::Rejected(Rejection::Issuer),
                    ErrorKind::InvalidAudience => TokenError::Rejected(Rejection::Audience),
                    ErrorKind::MissingRequiredClaim(_) => {
                        TokenError::Rejected(Rejection::MissingClaim)
                    }
                    ErrorKind::InvalidClaimFormat(_) | ErrorKind::InvalidSubject => {
                        TokenError::Rejected(Rejection::ClaimFormat)
                    }
                    _ => TokenError::Rejected(Rejection::Signature),
                }
            })?;
        let claims = data.claims;
        let now = jsonwebtoken::get_current_timestamp();
        if claims.iat > now.saturating_add(LEEWAY_SECONDS) {
            return Err(TokenError::Rejected(Rejection::IssuedInTheFuture));
        }
        if claims.exp < claims.iat || claims.exp - claims.iat > MAX_TOKEN_LIFETIME_SECONDS {
            return Err(TokenError::Rejected(Rejection::Lifetime));
        }
        if claims.sub.is_empty() {
            return Err(TokenError::Rejected(Rejection::MissingClaim));
        }
        let audiences = claims.aud.as_slice();
        if audiences.is_empty() {
            return Err(TokenError::Rejected(Rejection::Audience));
        }
        // OIDC Core 3.1.3.7: with several audiences, the party the token was issued to must be
        // named, and it must be this client; when named, it must be this client and an audience.
        match &claims.azp {
            None if audiences.len() > 1 => return Err(TokenError::Rejected(Rejection::MissingAzp)),
            Some(azp) if !client_ids.contains(azp) || !audiences.contains(azp) => {
                return Err(TokenError::Rejected(Rejection::ForeignAzp));
            }
            _ => {}
        }
        Ok(claims)
    }
}

/// The header rules: RS256 only, no `typ` but JWT, no critical parameters. Key hints (`jku`,
/// `jwk`, `x5u`, `x5c`) are never read: keys come from the issuer's JWKS only.
fn check_header(header: &serde_json::Map<String, Value>) -> Result<(), TokenError> {
    if header.get("alg") != Some(&Value::String("RS256".into())) {
        return Err(TokenError::AlgorithmNotAllowed);
    }
    match header.get("typ") {
        None => {}
        Some(Value::String(typ))
            if typ.eq_ignore_ascii_case("JWT") || typ.eq_ignore_ascii_case("application/jwt") => {}
        Some(Value::String(typ)) if typ.to_ascii_lowercase().contains("logout") => {
            return Err(TokenError::Rejected(Rejection::LogoutToken));
        }
        Some(_) => return Err(TokenError::Rejected(Rejection::TokenType)),
    }
    if header.contains_key("crit") {
        return Err(TokenError::Rejected(Rejection::CriticalHeader));
    }
    Ok(())
}

/// A base64url (no padding) JSON object, refused if any object in it has a key twice: parsers
/// differ on which one wins, and a claim must mean the same to every reader.
fn json_object(part: &str) -> Result<serde_json::Map<String, Value>, TokenError> {
    if part.is_empty() {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    match serde_json::from_slice::<NoDuplicateKeys>(&bytes) {
        Ok(NoDuplicateKeys(Value::Object(object))) => Ok(object),
        _ => Err(TokenError::Malformed),
    }
}

struct NoDuplicateKeys(Value);

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(NoDuplicateKeysVisitor)
            .map(NoDuplicateKeys)
    }
}

struct NoDuplicateKeysVisitor;

impl<'de> serde::de::Visitor<'de> for NoDuplicateKeysVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON without duplicate keys")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicateKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(serde::de::Error::custom("a key appears twice"));
            }
            let NoDuplicateKeys(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Every check that needs no network, on a token and a key made in tests: structure, header,
/// signature and claims, as `OidcVerifier::verify` applies them (but no nonce).
pub fn decode(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    client_ids: &[String],
) -> Result<IdClaims, TokenError> {
    Parsed::new(token)?.verify(key, issuer, client_ids)
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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
