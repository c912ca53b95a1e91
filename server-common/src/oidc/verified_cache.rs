//! Tokens verified before, so that a user's every API call does not pay for an RSA verification
//! twice (BFF and apiserver-proxy).

use std::{sync::Arc, time::Duration};

use super::{IdClaims, LEEWAY_SECONDS, MAX_TOKEN_BYTES, OidcVerifier, TokenError};
use crate::{
    clock::Clock,
    token_cache::{TokenHash, TtlCache},
};

/// How many verified tokens are remembered, and for how long at most.
const VERIFIED_CACHE_ENTRIES: usize = 10_000;
const VERIFIED_CACHE_TTL: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub(super) struct Verified {
    pub(super) claims: IdClaims,
    pub(super) kid: String,
}

/// By SHA-256 of the whole token: a changed byte is another key. Expiry is checked again on every
/// read, and that the key is still published, in keys not too old, on every hit.
pub(super) fn verified_cache(clock: Arc<dyn Clock>) -> TtlCache<TokenHash, Verified> {
    TtlCache::new(VERIFIED_CACHE_TTL, VERIFIED_CACHE_ENTRIES)
        .keep_if(|verified: &Verified| {
            verified.claims.exp.saturating_add(LEEWAY_SECONDS)
                > jsonwebtoken::get_current_timestamp()
        })
        .with_clock(clock)
}

impl OidcVerifier {
    pub(super) async fn verify_counted(
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
}
