//! Verifying the OIDC ID tokens Dex issues: discovery, a JWKS cache that refetches on an unknown
//! `kid` (at most once per cooldown, so that random `kid`s cannot make it fetch on every request),
//! a fixed algorithm allow-list and every claim the console relies on required.

use std::{
    path::Path,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};
use serde::{Deserialize, Serialize};

/// Dex signs with RS256; nothing else is accepted, whatever a token's header says.
pub const ALLOWED_ALGORITHMS: [Algorithm; 1] = [Algorithm::RS256];
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECONDS: u64 = 30;
/// The shortest time between two JWKS fetches caused by unknown key ids.
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

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

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token's algorithm is not allowed")]
    AlgorithmNotAllowed,
    #[error("the token names no key the issuer publishes")]
    UnknownKey,
    #[error("the token was rejected: {0}")]
    Rejected(String),
    #[error("the token was not issued for this login (nonce)")]
    NonceMismatch,
    #[error("the issuer's keys are not loaded yet")]
    NotLoaded,
}

struct Keys {
    discovery: Discovery,
    jwks: JwkSet,
}

/// How many verified tokens are remembered, and for how long at most.
const VERIFIED_CACHE_ENTRIES: usize = 10_000;
const VERIFIED_CACHE_TTL: Duration = Duration::from_secs(60);

pub struct OidcVerifier {
    /// Tokens that passed every check, by SHA-256 of the whole token, so that a user's every
    /// API call does not pay for an RSA verification twice (BFF and apiserver-proxy). A changed
    /// byte is another key; expiry is checked again on every hit.
    verified: std::sync::Mutex<std::collections::HashMap<[u8; 32], (IdClaims, Instant)>>,
    issuer: String,
    client_ids: Vec<String>,
    http: reqwest::Client,
    keys: RwLock<Option<Arc<Keys>>>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_cooldown: Duration,
}

impl OidcVerifier {
    /// `client_ids` are the audiences accepted; the first is the one an `azp` must name.
    pub fn new(issuer: String, client_ids: Vec<String>, http: reqwest::Client) -> Self {
        OidcVerifier {
            verified: Default::default(),
            issuer,
            client_ids,
            http,
            keys: RwLock::new(None),
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_cooldown: REFETCH_COOLDOWN,
        }
    }

    /// Another cooldown between JWKS fetches for unknown key ids (tests use zero and an hour).
    pub fn with_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.refetch_cooldown = cooldown;
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn is_loaded(&self) -> bool {
        self.current().is_some()
    }

    pub fn discovery(&self) -> Option<Discovery> {
        self.current().map(|keys| keys.discovery.clone())
    }

    fn current(&self) -> Option<Arc<Keys>> {
        self.keys.read().ok().and_then(|keys| keys.clone())
    }

    /// Fetches discovery and JWKS; keeps them only if the document names the configured issuer
    /// exactly (OIDC Discovery 1.0, section 4.3).
    pub async fn load(&self) -> anyhow::Result<()> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await.context("discovery document")?;
        if discovery.issuer != self.issuer {
            bail!(
                "discovery names issuer {:?}, configured is {:?}",
                discovery.issuer,
                self.issuer
            );
        }
        let jwks: JwkSet = self.get_json(&discovery.jwks_uri).await.context("JWKS")?;
        if jwks.keys.is_empty() {
            bail!("the issuer's JWKS holds no key");
        }
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(Arc::new(Keys { discovery, jwks }));
        }
        *self.last_fetch.lock().await = Some(Instant::now());
        Ok(())
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> anyhow::Result<T> {
        let response = self.http.get(url).send().await?.error_for_status()?;
        Ok(response.json().await?)
    }

    /// Refetches the JWKS for an unknown key id, unless one was fetched within the cooldown.
    async fn refetch_for_unknown_kid(&self) -> bool {
        let mut last = self.last_fetch.lock().await;
        if last.is_some_and(|at| at.elapsed() < self.refetch_cooldown) {
            return false;
        }
        *last = Some(Instant::now());
        drop(last);
        match self.current() {
            Some(keys) => match self.get_json::<JwkSet>(&keys.discovery.jwks_uri).await {
                Ok(jwks) if !jwks.keys.is_empty() => {
                    crate::metrics::global().jwks_fetch("ok");
                    if let Ok(mut slot) = self.keys.write() {
                        *slot = Some(Arc::new(Keys {
                            discovery: keys.discovery.clone(),
                            jwks,
                        }));
                    }
                    true
                }
                Ok(_) => {
                    crate::metrics::global().jwks_fetch("empty");
                    false
                }
                Err(err) => {
                    crate::metrics::global().jwks_fetch("error");
                    tracing::warn!(%err, "refetching the JWKS failed");
                    false
                }
            },
            None => false,
        }
    }

    /// Verifies signature, algorithm, `iss`, `aud` (and `azp` when present), `exp`, `iat`, `nbf`
    /// and, when `expected_nonce` is given, `nonce`.
    pub async fn verify(
        &self,
        token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<IdClaims, TokenError> {
        use sha2::Digest;
        // A login's token (with a nonce to check) is verified in full, once.
        if expected_nonce.is_some() {
            return self
                .verify_uncached(token, expected_nonce)
                .await
                .inspect_err(crate::metrics::token_rejected_for);
        }
        let key: [u8; 32] = sha2::Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        let cached = self
            .verified
            .lock()
            .ok()
            .and_then(|cache| cache.get(&key).cloned());
        if let Some((claims, at)) = cached
            && at.elapsed() < VERIFIED_CACHE_TTL
            && claims.exp + LEEWAY_SECONDS > now
        {
            return Ok(claims);
        }
        let claims = self
            .verify_uncached(token, None)
            .await
            .inspect_err(crate::metrics::token_rejected_for)?;
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= VERIFIED_CACHE_ENTRIES {
                cache.retain(|_, (claims, at)| {
                    at.elapsed() < VERIFIED_CACHE_TTL && claims.exp + LEEWAY_SECONDS > now
                });
                if cache.len() >= VERIFIED_CACHE_ENTRIES {
                    cache.clear();
                }
            }
            cache.insert(key, (claims.clone(), Instant::now()));
        }
        Ok(claims)
    }

    async fn verify_uncached(
        &self,
        token: &str,
        expected_nonce: Option<&str>,
    ) -> Result<IdClaims, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(TokenError::AlgorithmNotAllowed);
        }
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let keys = self.current().ok_or(TokenError::NotLoaded)?;
        let key = match find_key(&keys.jwks, &kid) {
            Some(key) => key,
            None => {
                if !self.refetch_for_unknown_kid().await {
                    return Err(TokenError::UnknownKey);
                }
                let keys = self.current().ok_or(TokenError::NotLoaded)?;
                find_key(&keys.jwks, &kid).ok_or(TokenError::UnknownKey)?
            }
        };
        let claims = decode(token, &key, &self.issuer, &self.client_ids)?;
        if let Some(azp) = &claims.azp
            && !self.client_ids.iter().any(|id| id == azp)
        {
            return Err(TokenError::Rejected("azp names another client".into()));
        }
        if let Some(expected) = expected_nonce {
            let matches = claims
                .nonce
                .as_deref()
                .is_some_and(|nonce| constant_time_eq(nonce, expected));
            if !matches {
                return Err(TokenError::NonceMismatch);
            }
        }
        Ok(claims)
    }
}

fn find_key(jwks: &JwkSet, kid: &str) -> Option<DecodingKey> {
    jwks.find(kid)
        .and_then(|jwk| DecodingKey::from_jwk(jwk).ok())
}

/// The checks that need no network: exposed so that they can be tested with keys made in tests.
pub fn decode(
    token: &str,
    key: &DecodingKey,
    issuer: &str,
    client_ids: &[String],
) -> Result<IdClaims, TokenError> {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.algorithms = ALLOWED_ALGORITHMS.to_vec();
    validation.set_issuer(&[issuer]);
    validation.set_audience(client_ids);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY_SECONDS;
    validation.validate_nbf = true;
    let data = jsonwebtoken::decode::<IdClaims>(token, key, &validation).map_err(|err| {
        use jsonwebtoken::errors::ErrorKind;
        match err.kind() {
            ErrorKind::InvalidToken
            | ErrorKind::Base64(_)
            | ErrorKind::Json(_)
            | ErrorKind::Utf8(_) => TokenError::Malformed,
            ErrorKind::InvalidAlgorithm => TokenError::AlgorithmNotAllowed,
            kind => TokenError::Rejected(format!("{kind:?}")),
        }
    })?;
    let claims = data.claims;
    if claims.iat > jsonwebtoken::get_current_timestamp() + LEEWAY_SECONDS {
        return Err(TokenError::Rejected("issued in the future".into()));
    }
    if claims.aud.as_slice().is_empty() {
        return Err(TokenError::Rejected("no audience".into()));
    }
    Ok(claims)
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
/// usual lifetime so that rotated keys are picked up even without an unknown `kid`.
pub async fn keep_loaded(verifier: Arc<OidcVerifier>) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match verifier.load().await {
            Ok(()) => {
                crate::metrics::global().jwks_fetch("ok");
                tracing::info!("OIDC discovery and JWKS loaded");
                backoff = Duration::from_millis(200);
                tokio::time::sleep(Duration::from_secs(600)).await;
            }
            Err(err) => {
                crate::metrics::global().jwks_fetch("error");
                tracing::warn!(error = %format!("{err:#}"), "OIDC issuer not loaded yet");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}
