//! The login's cookies: what each one holds and how it is set, read and cleared. All are
//! `__Host-` cookies (Secure, Path=/, no Domain, as the prefix requires), HttpOnly, and sealed
//! with the BFF's key.

use axum::http::HeaderValue;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::sealed_cookie::{CookieKey, now};

pub const LOGIN_COOKIE: &str = "__Host-kc-login";
pub const HANDOFF_COOKIE: &str = "__Host-kc-handoff";
pub const REFRESH_COOKIE: &str = "__Host-kc-refresh";
const LOGIN_LIFETIME: u64 = 600;
const HANDOFF_LIFETIME: u64 = 120;
pub(super) const REFRESH_LIFETIME: u64 = 7 * 24 * 3600;

/// Browsers drop a cookie whose `Set-Cookie` line is longer than this (name, value and
/// attributes; RFC 6265bis and Chromium count 4096 bytes for name plus value): a login whose
/// cookie is dropped would never finish, silently.
pub const MAX_COOKIE_BYTES: usize = 4096;

#[derive(Debug, thiserror::Error)]
#[error("the {name} cookie would be {size} bytes, over the browser's limit")]
pub struct CookieTooLarge {
    name: String,
    size: usize,
}

/// What the login cookie holds between `/auth/login` and `/auth/callback`.
#[derive(Serialize, Deserialize)]
pub(super) struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    pub return_to: String,
}

/// What the hand-off cookie holds between the callback and `/auth/session`: no token, only
/// where the app goes once it has one.
#[derive(Serialize, Deserialize)]
pub(super) struct Handoff {
    pub return_to: String,
}

/// What the refresh cookie holds: Dex's refresh token and when the session ends for good. A
/// rotated token inherits the end, so that renewing does not stretch a session forever.
#[derive(Serialize, Deserialize)]
pub(super) struct SessionCookie {
    pub refresh_token: String,
    /// Unix seconds.
    pub ends_at: u64,
}

/// The `Set-Cookie` line of a `__Host-` cookie, refused if the browser would drop it. Handlers
/// append these lines themselves rather than through the jar, which writes its changes in hash
/// order: the lines of one answer keep the order they are made in.
fn host_cookie(
    name: &str,
    value: &str,
    max_age: u64,
    same_site: SameSite,
) -> Result<HeaderValue, CookieTooLarge> {
    let cookie = Cookie::build((name, value))
        .path("/")
        .secure(true)
        .http_only(true)
        .same_site(same_site)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age).unwrap_or(i64::MAX),
        ))
        .build();
    let text = cookie.encoded().to_string();
    let too_large = || CookieTooLarge {
        name: name.to_string(),
        size: text.len(),
    };
    if text.len() > MAX_COOKIE_BYTES {
        return Err(too_large());
    }
    // Sealed values are base64url: always a valid header value.
    HeaderValue::from_str(&text).map_err(|_| too_large())
}

/// The `Set-Cookie` line that makes the browser forget a cookie.
pub(super) fn cleared(name: &str) -> HeaderValue {
    host_cookie(name, "", 0, SameSite::Strict).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The sealed value of the cookie `name`, opened; `None` if it is missing, expired, tampered with
/// or sealed with another key.
pub(super) fn open<T: DeserializeOwned>(jar: &CookieJar, key: &CookieKey, name: &str) -> Option<T> {
    jar.get(name)
        .and_then(|cookie| key.open(name, cookie.value()).ok())
}

pub(super) fn login_cookie(key: &CookieKey, pending: &PendingLogin) -> anyhow::Result<HeaderValue> {
    let sealed = key.seal(LOGIN_COOKIE, pending, LOGIN_LIFETIME)?;
    // Lax: the callback is a top-level navigation coming back from the identity provider.
    Ok(host_cookie(
        LOGIN_COOKIE,
        &sealed,
        LOGIN_LIFETIME,
        SameSite::Lax,
    )?)
}

pub(super) fn handoff_cookie(key: &CookieKey, return_to: &str) -> anyhow::Result<HeaderValue> {
    let handoff = Handoff {
        return_to: return_to.to_string(),
    };
    let sealed = key.seal(HANDOFF_COOKIE, &handoff, HANDOFF_LIFETIME)?;
    Ok(host_cookie(
        HANDOFF_COOKIE,
        &sealed,
        HANDOFF_LIFETIME,
        SameSite::Strict,
    )?)
}

pub(super) fn refresh_cookie(
    key: &CookieKey,
    refresh_token: &str,
    ends_at: u64,
) -> anyhow::Result<HeaderValue> {
    let remaining = ends_at.saturating_sub(now());
    anyhow::ensure!(remaining > 0, "the session has reached its end");
    let value = SessionCookie {
        refresh_token: refresh_token.to_string(),
        ends_at,
    };
    let sealed = key.seal(REFRESH_COOKIE, &value, remaining)?;
    Ok(host_cookie(
        REFRESH_COOKIE,
        &sealed,
        remaining,
        SameSite::Strict,
    )?)
}

#[cfg(test)]
mod tests {
    use oauth2::{CsrfToken, PkceCodeVerifier};
    use proptest::prelude::*;

    use super::*;
    use crate::auth::return_to::{self, MAX_LENGTH};

    /// A refresh token as Dex v2.45 issues them (a base64 protobuf of two ids), with room to spare.
    const REALISTIC_REFRESH_TOKEN: &str = "ChlsY2tzbm5qaW5rN2JqcXdzdzNkZXJ5c3NqEhlhbDN0cmJxZmp6dnFvNGl1bXR2ajdmdXp4ChlsY2tzbm5qaW5rN2Jq";

    fn pending(return_to: &str) -> PendingLogin {
        PendingLogin {
            state: CsrfToken::new_random().secret().clone(),
            nonce: CsrfToken::new_random().secret().clone(),
            verifier: PkceCodeVerifier::new("v".repeat(43)).secret().clone(),
            return_to: return_to.to_string(),
        }
    }

    fn every_cookie_for(key: &CookieKey, return_to: &str) -> Vec<HeaderValue> {
        vec![
            login_cookie(key, &pending(return_to)).expect("login cookie"),
            handoff_cookie(key, return_to).expect("hand-off cookie"),
            refresh_cookie(key, REALISTIC_REFRESH_TOKEN, now() + REFRESH_LIFETIME)
                .expect("refresh cookie"),
        ]
    }

    #[test]
    fn every_cookie_fits_for_the_longest_return_path_accepted() {
        let key = CookieKey::random().expect("key");
        let longest = format!("/{}", "a".repeat(MAX_LENGTH - 1));
        assert_eq!(
            return_to::sanitize(Some(&longest)).as_deref(),
            Ok(longest.as_str())
        );
        for set_cookie in every_cookie_for(&key, &longest) {
            assert!(set_cookie.len() <= MAX_COOKIE_BYTES, "{}", set_cookie.len());
        }
    }

    #[test]
    fn a_cookie_over_the_limit_is_an_error_not_a_silent_drop() {
        let key = CookieKey::random().expect("key");
        assert!(refresh_cookie(&key, &"t".repeat(4000), now() + 60).is_err());
    }

    #[test]
    fn a_rotated_refresh_token_keeps_the_sessions_end() {
        let key = CookieKey::random().expect("key");
        let ends_at = now() + 3600;
        let rotated = refresh_cookie(&key, "rotated", ends_at).expect("cookie");
        let text = rotated.to_str().expect("text");
        let max_age: u64 = text
            .rsplit("Max-Age=")
            .next()
            .and_then(|v| v.parse().ok())
            .expect("Max-Age");
        assert!((3590..=3600).contains(&max_age), "{text}");
        let sealed = text
            .split(';')
            .next()
            .and_then(|pair| pair.split_once('='))
            .map(|(_, v)| v)
            .expect("value");
        let opened: SessionCookie = key.open(REFRESH_COOKIE, sealed).expect("open");
        assert_eq!(opened.ends_at, ends_at);
        assert!(refresh_cookie(&key, "rotated", now().saturating_sub(1)).is_err());
    }

    #[test]
    fn every_set_cookie_has_the_host_prefix_attributes() {
        let key = CookieKey::random().expect("key");
        let mut all = every_cookie_for(&key, "/ns/team-a");
        all.extend([LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE].map(cleared));
        for set_cookie in all {
            let text = set_cookie.to_str().expect("text");
            assert!(text.starts_with("__Host-"), "{text}");
            for attribute in ["; Path=/;", "; Secure;", "; HttpOnly;", "; SameSite="] {
                assert!(text.contains(attribute), "{attribute} missing: {text}");
            }
            assert!(!text.to_ascii_lowercase().contains("domain="), "{text}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        /// Whatever return path `/auth/login` accepts, every cookie made for that login fits.
        #[test]
        fn cookies_for_any_accepted_return_path_fit(
            candidate in return_to::tests::any_candidate()
        ) {
            let key = CookieKey::from_bytes(&[9u8; 32]);
            if let Ok(path) = return_to::sanitize(Some(&candidate)) {
                for set_cookie in every_cookie_for(&key, &path) {
                    prop_assert!(set_cookie.len() <= MAX_COOKIE_BYTES);
                }
            }
        }
    }
}
