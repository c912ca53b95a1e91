//! `/auth/*`: the login round trip, the hand-off of the session to the app, renewal and logout.

use std::{sync::Mutex, time::Duration};

use axum::{
    Json, Router,
    extract::{FromRequestParts, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
    basic::{
        BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
        BasicTokenIntrospectionResponse, BasicTokenType,
    },
};
use serde::{Deserialize, Serialize};
use server_common::token_cache::{TokenHash, TtlCache};
use shared::{ApiError, ErrorCode, SessionToken, TokenHandoff};

use super::return_to;
use crate::{AppState, error::AppError, oidc::TokenError};

pub const LOGIN_COOKIE: &str = "__Host-kc-login";
pub const HANDOFF_COOKIE: &str = "__Host-kc-handoff";
pub const REFRESH_COOKIE: &str = "__Host-kc-refresh";
const LOGIN_LIFETIME: u64 = 600;
const HANDOFF_LIFETIME: u64 = 120;
const REFRESH_LIFETIME: u64 = 7 * 24 * 3600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/session", post(session))
        .route("/auth/refresh", post(refresh))
        .route("/auth/logout", post(logout))
        .layer(axum::middleware::map_response(no_store))
}

/// Dex's token response with the ID token it carries.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdTokenFields {
    pub id_token: String,
}
impl ExtraTokenFields for IdTokenFields {}

type OidcTokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;
type OidcClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Results of recent refreshes by hash of the refresh token used, so that tabs renewing at once
/// share one exchange instead of spending the same rotating token twice. A success is shared for
/// 30 s; a failure only with the requests that waited for it.
pub struct RecentRefreshes(TtlCache<TokenHash, Result<Refreshed, RenewalFailure>>);

impl Default for RecentRefreshes {
    fn default() -> Self {
        let memory = TtlCache::new(Duration::from_secs(30), 10_000).keep_if(Result::is_ok);
        RecentRefreshes(memory)
    }
}

/// Settings of the login that do not change per request.
pub struct LoginSettings {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub http: reqwest::Client,
    pub recent_refreshes: RecentRefreshes,
}

#[derive(Clone, Debug)]
pub struct Refreshed {
    id_token: String,
    refresh_token: Option<String>,
}

/// What the login cookie holds between `/auth/login` and `/auth/callback`.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
}

/// What the hand-off cookie holds between the callback and `/auth/session`: no token, only
/// where the app goes once it has one.
#[derive(Serialize, Deserialize)]
struct Handoff {
    return_to: String,
}

fn oidc_client(state: &AppState) -> Result<OidcClient, AppError> {
    let discovery = state.oidc.discovery().ok_or(AppError::NotReady)?;
    let settings = &state.login;
    let mut client = oauth2::Client::new(ClientId::new(settings.client_id.clone()))
        .set_auth_uri(AuthUrl::new(discovery.authorization_endpoint).map_err(anyhow::Error::from)?)
        .set_token_uri(TokenUrl::new(discovery.token_endpoint).map_err(anyhow::Error::from)?)
        .set_redirect_uri(
            RedirectUrl::new(settings.redirect_uri.clone()).map_err(anyhow::Error::from)?,
        );
    if let Some(secret) = &settings.client_secret {
        client = client.set_client_secret(ClientSecret::new(secret.clone()));
    }
    Ok(client)
}

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

/// A `__Host-` cookie: Secure, Path=/ and no Domain, as the prefix requires; HttpOnly always.
fn cookie(
    name: &str,
    value: &str,
    max_age: u64,
    same_site: &str,
) -> Result<HeaderValue, CookieTooLarge> {
    let text = format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite={same_site}; Max-Age={max_age}"
    );
    if text.len() > MAX_COOKIE_BYTES {
        return Err(CookieTooLarge {
            name: name.to_string(),
            size: text.len(),
        });
    }
    // Sealed values are base64url: always a valid header value.
    HeaderValue::from_str(&text).map_err(|_| CookieTooLarge {
        name: name.to_string(),
        size: text.len(),
    })
}

fn clear(name: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Every `/auth` answer, errors included, carries tokens, one-time cookies or a redirect that
/// belongs to one login: none may be kept by a cache.
async fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// An end of the login shown by the app's error page; `reason` is one of a fixed set of codes.
fn login_failed(reason: &str, return_to: &str, clear_login: bool) -> Response {
    let target = format!(
        "/auth/error?reason={reason}&return_to={}",
        encode(return_to)
    );
    let mut response = Redirect::to(&target).into_response();
    if clear_login {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear(LOGIN_COOKIE));
    }
    response
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// How long `/auth/login` waits for Dex's discovery document before it says Dex is unreachable.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Sending the browser to an identity provider that does not answer ends on the browser's own
/// connection error, with no way back: ask first.
async fn identity_provider_answers(state: &AppState) -> bool {
    let url = format!(
        "{}/.well-known/openid-configuration",
        state.oidc.issuer().trim_end_matches('/')
    );
    match state
        .login
        .http
        .get(url)
        .timeout(PROBE_TIMEOUT)
        .send()
        .await
    {
        Ok(response) => response.status().is_success(),
        Err(err) => {
            tracing::warn!(error = ?describe_error(&err), "the identity provider is unreachable");
            false
        }
    }
}

/// Starts a login: a fresh PKCE verifier (S256, sent explicitly), state and nonce for every
/// attempt, kept in the sealed login cookie; then off to Dex's authorization endpoint.
async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let return_to = match return_to::sanitize(query.return_to.as_deref()) {
        Ok(path) => path,
        Err(return_to::ReturnToError::TooLong) => {
            return Ok(login_failed("return_to_too_long", "/", false));
        }
    };
    let Ok(client) = oidc_client(&state) else {
        return Ok(login_failed("idp_unreachable", &return_to, false));
    };
    if !identity_provider_answers(&state).await {
        return Ok(login_failed("idp_unreachable", &return_to, false));
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let nonce = CsrfToken::new_random().secret().clone();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(
            ["openid", "email", "profile", "groups", "offline_access"]
                .map(|s| Scope::new(s.into())),
        )
        .set_pkce_challenge(challenge)
        .add_extra_param("nonce", &nonce)
        .url();
    let pending = PendingLogin {
        state: csrf.secret().clone(),
        nonce,
        verifier: verifier.secret().clone(),
        return_to,
    };
    let login_cookie = login_cookie(&state.cookie_key, &pending)?;
    let mut response = Redirect::to(url.as_str()).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, login_cookie);
    Ok(response)
}

fn login_cookie(
    key: &crate::auth::sealed_cookie::CookieKey,
    pending: &PendingLogin,
) -> anyhow::Result<HeaderValue> {
    let sealed = key.seal(LOGIN_COOKIE, pending, LOGIN_LIFETIME)?;
    // Lax: the callback is a top-level navigation coming back from the identity provider.
    Ok(cookie(LOGIN_COOKIE, &sealed, LOGIN_LIFETIME, "Lax")?)
}

fn handoff_cookie(
    key: &crate::auth::sealed_cookie::CookieKey,
    return_to: &str,
) -> anyhow::Result<HeaderValue> {
    let handoff = Handoff {
        return_to: return_to.to_string(),
    };
    let sealed = key.seal(HANDOFF_COOKIE, &handoff, HANDOFF_LIFETIME)?;
    Ok(cookie(HANDOFF_COOKIE, &sealed, HANDOFF_LIFETIME, "Strict")?)
}

/// What the refresh cookie holds: Dex's refresh token and when the session ends for good. A
/// rotated token inherits the end, so that renewing does not stretch a session forever.
#[derive(Serialize, Deserialize)]
struct SessionCookie {
    refresh_token: String,
    /// Unix seconds.
    ends_at: u64,
}

fn refresh_cookie(
    key: &crate::auth::sealed_cookie::CookieKey,
    refresh_token: &str,
    ends_at: u64,
) -> anyhow::Result<HeaderValue> {
    let remaining = ends_at.saturating_sub(crate::auth::sealed_cookie::now());
    anyhow::ensure!(remaining > 0, "the session has reached its end");
    let value = SessionCookie {
        refresh_token: refresh_token.to_string(),
        ends_at,
    };
    let sealed = key.seal(REFRESH_COOKIE, &value, remaining)?;
    Ok(cookie(REFRESH_COOKIE, &sealed, remaining, "Strict")?)
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(pending) = read_cookie(&headers, LOGIN_COOKIE).and_then(|sealed| {
        state
            .cookie_key
            .open::<PendingLogin>(LOGIN_COOKIE, sealed)
            .ok()
    }) else {
        return login_failed("no_login_in_progress", "/", true);
    };
    let return_to = pending.return_to.clone();
    // Only the answer that carries this login's state may end it: anything else (an error
    // included) could be sent by any site to break a login in progress, so the cookie stays.
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|returned| server_common::oidc::constant_time_eq(returned, &pending.state));
    if !state_matches {
        return login_failed("state_mismatch", &return_to, false);
    }
    // From here on the login cookie is cleared by every answer: a state is good for one callback.
    if let Some(error) = query.error {
        let error: String = error.chars().take(64).collect();
        tracing::info!(?error, "the identity provider refused the login");
        return login_failed("provider_error", &return_to, true);
    }
    let Some(code) = query.code else {
        return login_failed("bad_callback", &return_to, true);
    };
    let client = match oidc_client(&state) {
        Ok(client) => client,
        Err(_) => return login_failed("idp_unreachable", &return_to, true),
    };
    let tokens = match client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&state.login.http)
        .await
    {
        Ok(tokens) => tokens,
        Err(err) => {
            tracing::info!(error = ?describe_error(&err), "code exchange failed");
            return login_failed("exchange_failed", &return_to, true);
        }
    };
    let id_token = &tokens.extra_fields().id_token;
    if let Err(err) = state.oidc.verify(id_token, Some(&pending.nonce)).await {
        tracing::info!(reason = ?err, "ID token from the code exchange rejected");
        return login_failed("token_rejected", &return_to, true);
    }
    // The ID token itself is not handed over in a cookie: with many groups it outgrows the
    // browser's cookie limit. The app gets a fresh one through the refresh token at
    // `/auth/session`; the hand-off cookie only says that a login finished, and where to go.
    let Some(refresh) = tokens.refresh_token() else {
        tracing::warn!("the identity provider issued no refresh token (scope offline_access)");
        return login_failed("no_refresh_token", &return_to, true);
    };
    let ends_at = crate::auth::sealed_cookie::now() + REFRESH_LIFETIME;
    let cookies = refresh_cookie(&state.cookie_key, refresh.secret(), ends_at)
        .and_then(|refresh| Ok((refresh, handoff_cookie(&state.cookie_key, &return_to)?)));
    let (refresh, handoff) = match cookies {
        Ok(cookies) => cookies,
        Err(err) => {
            tracing::warn!(error = ?format!("{err:#}"), "the session cookies cannot be made");
            return login_failed("token_too_large", &return_to, true);
        }
    };
    let mut response = Redirect::to("/auth/complete").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear(LOGIN_COOKIE));
    headers.append(header::SET_COOKIE, refresh);
    headers.append(header::SET_COOKIE, handoff);
    response
}

/// Every error in the chain, for the log. oauth2's errors carry Dex's error code and description
/// (never the code or a token); log it with `?` so that its text cannot forge a line.
fn describe_error<E: std::error::Error>(err: &E) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// A request to a state-changing `/auth` endpoint that provably comes from the console's own
/// pages. The cookies are SameSite=Strict; on top, the browser's `Sec-Fetch-Site` must say
/// same-origin, or where a browser sends none, `Origin` must be the console's own. A request
/// with neither is refused: it proves nothing.
pub struct SameOrigin;

impl FromRequestParts<AppState> for SameOrigin {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let own = console_origin(&state.login.redirect_uri);
        if comes_from(&parts.headers, own.as_deref()) {
            Ok(SameOrigin)
        } else {
            Err(AppError::Forbidden(
                "This request must come from the console itself.",
            ))
        }
    }
}

/// `scheme://host[:port]` of the console, from its callback URL.
fn console_origin(redirect_uri: &str) -> Option<String> {
    let url = reqwest::Url::parse(redirect_uri).ok()?;
    Some(url.origin().ascii_serialization())
}

fn comes_from(headers: &HeaderMap, own_origin: Option<&str>) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(HeaderValue::as_bytes);
    let origin = headers.get(header::ORIGIN).map(HeaderValue::as_bytes);
    let origin_is_own = |origin: &[u8]| own_origin.is_some_and(|own| own.as_bytes() == origin);
    match (fetch_site, origin) {
        // A browser that sends both never contradicts itself; whoever does is refused.
        (Some(site), Some(origin)) => site == b"same-origin" && origin_is_own(origin),
        (Some(site), None) => site == b"same-origin",
        (None, Some(origin)) => origin_is_own(origin),
        (None, None) => false,
    }
}

/// Hands the session that a login just started to the app, once: the hand-off cookie is cleared
/// here, and the ID token is a fresh one for the refresh token the callback stored.
async fn session(
    _: SameOrigin,
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let handoff: Handoff = read_cookie(&headers, HANDOFF_COOKIE)
        .and_then(|sealed| state.cookie_key.open(HANDOFF_COOKIE, sealed).ok())
        .ok_or(AppError::Unauthenticated)?;
    let mut response = match renew(&state, &headers).await {
        Ok((id_token, rotated)) => {
            let mut response = Json(TokenHandoff {
                id_token,
                return_to: handoff.return_to,
            })
            .into_response();
            if let Some(rotated) = rotated {
                response.headers_mut().append(header::SET_COOKIE, rotated);
            }
            response
        }
        // Dex cannot be asked right now: the hand-off stays for the app's next attempt.
        Err(failure @ RenewalFailure::Unavailable) => return Ok(failure.into_response()),
        Err(failure) => failure.into_response(),
    };
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear(HANDOFF_COOKIE));
    Ok(response)
}

/// Exchanges the refresh token in the cookie for a fresh ID token.
async fn refresh(_: SameOrigin, State(state): State<AppState>, headers: HeaderMap) -> Response {
    match renew(&state, &headers).await {
        Ok((id_token, rotated)) => {
            let mut response = Json(SessionToken { id_token }).into_response();
            if let Some(rotated) = rotated {
                response.headers_mut().append(header::SET_COOKIE, rotated);
            }
            response
        }
        Err(failure) => failure.into_response(),
    }
}

/// Why a renewal did not give a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewalFailure {
    /// No refresh cookie, or one that Dex refused for good: the user logs in again.
    Ended,
    /// Dex is down, slow or failing, or its keys are not loaded: the session is fine, ask again
    /// later. The refresh cookie stays.
    Unavailable,
    /// The fresh ID token did not pass the checks.
    Rejected,
}

impl IntoResponse for RenewalFailure {
    fn into_response(self) -> Response {
        match self {
            RenewalFailure::Ended => {
                let mut response = AppError::Unauthenticated.into_response();
                response
                    .headers_mut()
                    .append(header::SET_COOKIE, clear(REFRESH_COOKIE));
                response
            }
            RenewalFailure::Unavailable => {
                let mut response = (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(ApiError::new(
                        ErrorCode::NotReady,
                        "The identity provider cannot be reached right now; your session is kept and renewed once it is back.",
                    )),
                )
                    .into_response();
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                response
            }
            RenewalFailure::Rejected => AppError::Unauthenticated.into_response(),
        }
    }
}

/// Whether Dex's answer to a refresh ends the session. Dex v2.45 answers a refresh token it does
/// not know, has seen used already or that expired with 400 `invalid_request`
/// (server/refreshhandlers.go, `newBadRequestError`), and one claimed by another client with
/// 400 `invalid_grant`; its own failures are 500 with `invalid_request`. So: only a 4xx that
/// names `invalid_grant` or `invalid_request` ends the session; every other answer, and no
/// answer at all (down, timeout), is a passing outage.
pub fn renewal_failure(
    status: Option<StatusCode>,
    error: Option<&BasicErrorResponseType>,
) -> RenewalFailure {
    let refused_for_good = matches!(
        error,
        Some(BasicErrorResponseType::InvalidGrant | BasicErrorResponseType::InvalidRequest)
    );
    match status {
        Some(status) if status.is_client_error() && refused_for_good => RenewalFailure::Ended,
        _ => RenewalFailure::Unavailable,
    }
}

/// One refresh exchange (shared by the tabs that ask at once); the fresh ID token and the
/// rotated refresh cookie, if Dex rotated it.
async fn renew(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), RenewalFailure> {
    let session: SessionCookie = read_cookie(headers, REFRESH_COOKIE)
        .and_then(|sealed| state.cookie_key.open(REFRESH_COOKIE, sealed).ok())
        .ok_or(RenewalFailure::Ended)?;
    let refresh_token = session.refresh_token;
    let shared = state
        .login
        .recent_refreshes
        .0
        .slot(TokenHash::of(&refresh_token));
    let result = shared
        .get_or_init(|| exchange_refresh_token(state.clone(), refresh_token))
        .await
        .clone();
    let refreshed = result?;
    match state.oidc.verify(&refreshed.id_token, None).await {
        Ok(_) => {}
        Err(TokenError::NotLoaded) => return Err(RenewalFailure::Unavailable),
        Err(err) => {
            tracing::info!(reason = ?err, "ID token from a refresh rejected");
            return Err(RenewalFailure::Rejected);
        }
    }
    let rotated = match refreshed.refresh_token {
        Some(rotated) => Some(
            refresh_cookie(&state.cookie_key, &rotated, session.ends_at).map_err(|err| {
                tracing::info!(error = ?format!("{err:#}"), "the rotated refresh cookie cannot be made");
                RenewalFailure::Ended
            })?,
        ),
        None => None,
    };
    Ok((refreshed.id_token, rotated))
}

/// The BFF's HTTP client, remembering the status of the last answer: oauth2's error does not
/// say which status Dex answered with, and Dex's 500 and its "unknown refresh token" 400 name the
/// same error code.
struct StatusRecordingClient {
    http: reqwest::Client,
    status: Mutex<Option<StatusCode>>,
}

type HttpFuture<'c> = std::pin::Pin<
    Box<
        dyn std::future::Future<
                Output = Result<oauth2::HttpResponse, oauth2::HttpClientError<reqwest::Error>>,
            > + Send
            + Sync
            + 'c,
    >,
>;

impl<'c> oauth2::AsyncHttpClient<'c> for StatusRecordingClient {
    type Error = oauth2::HttpClientError<reqwest::Error>;
    type Future = HttpFuture<'c>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.http.call(request).await?;
            if let Ok(mut slot) = self.status.lock() {
                *slot = Some(response.status());
            }
            Ok(response)
        })
    }
}

async fn exchange_refresh_token(
    state: AppState,
    refresh_token: String,
) -> Result<Refreshed, RenewalFailure> {
    let client = oidc_client(&state).map_err(|_| RenewalFailure::Unavailable)?;
    let http = StatusRecordingClient {
        http: state.login.http.clone(),
        status: Mutex::new(None),
    };
    let answer = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token))
        .request_async(&http)
        .await;
    let status = http.status.lock().ok().and_then(|slot| *slot);
    match answer {
        Ok(tokens) => Ok(Refreshed {
            id_token: tokens.extra_fields().id_token.clone(),
            refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
        }),
        Err(err) => {
            let error = match &err {
                RequestTokenError::ServerResponse(response) => Some(response.error().clone()),
                _ => None,
            };
            let failure = renewal_failure(status, error.as_ref());
            tracing::info!(
                ?status,
                ?failure,
                error = ?describe_error(&err),
                "refresh failed"
            );
            Err(failure)
        }
    }
}

async fn logout(_: SameOrigin) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE] {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear(name));
    }
    // Released Dex has no end-session endpoint: its own login state, if any, stays.
    response
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::auth::{
        return_to::{self, MAX_LENGTH},
        sealed_cookie::{CookieKey, now},
    };

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
        all.extend([LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE].map(clear));
        for set_cookie in all {
            let text = set_cookie.to_str().expect("text");
            assert!(text.starts_with("__Host-"), "{text}");
            for attribute in ["; Path=/;", "; Secure;", "; HttpOnly;", "; SameSite="] {
                assert!(text.contains(attribute), "{attribute} missing: {text}");
            }
            assert!(!text.to_ascii_lowercase().contains("domain="), "{text}");
        }
    }

    #[test]
    fn only_dexs_final_refusals_end_a_session() {
        use BasicErrorResponseType::*;
        let ended = [
            (StatusCode::BAD_REQUEST, InvalidGrant),
            // Dex's answer for an unknown, reused or expired refresh token.
            (StatusCode::BAD_REQUEST, InvalidRequest),
        ];
        for (status, error) in ended {
            assert_eq!(
                renewal_failure(Some(status), Some(&error)),
                RenewalFailure::Ended
            );
        }
        let passing = [
            // Dex's own failure names invalid_request too, with a 500.
            (
                Some(StatusCode::INTERNAL_SERVER_ERROR),
                Some(InvalidRequest),
            ),
            (Some(StatusCode::BAD_GATEWAY), None),
            (Some(StatusCode::SERVICE_UNAVAILABLE), Some(InvalidGrant)),
            (Some(StatusCode::UNAUTHORIZED), Some(InvalidClient)),
            (Some(StatusCode::BAD_REQUEST), Some(UnauthorizedClient)),
            // Down or timed out: no answer at all.
            (None, None),
        ];
        for (status, error) in passing {
            assert_eq!(
                renewal_failure(status, error.as_ref()),
                RenewalFailure::Unavailable,
                "{status:?} {error:?}"
            );
        }
    }

    #[test]
    fn a_state_changing_request_proves_it_comes_from_the_console() {
        let own = Some("https://console.example:8443");
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        let accepted = [
            vec![("sec-fetch-site", "same-origin")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://console.example:8443"),
            ],
            vec![("origin", "https://console.example:8443")],
        ];
        for pairs in accepted {
            assert!(comes_from(&headers(&pairs), own), "{pairs:?}");
        }
        let refused = [
            vec![],
            vec![("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("sec-fetch-site", "none")],
            vec![("origin", "https://evil.example")],
            vec![("origin", "null")],
            vec![("origin", "https://console.example:8443.evil.example")],
            vec![("origin", "http://console.example:8443")],
            vec![
                ("sec-fetch-site", "same-origin"),
                ("origin", "https://evil.example"),
            ],
        ];
        for pairs in refused {
            assert!(!comes_from(&headers(&pairs), own), "{pairs:?}");
        }
        assert!(!comes_from(&headers(&[("origin", "null")]), None));
        assert_eq!(
            console_origin("https://console.example:8443/auth/callback").as_deref(),
            own
        );
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
