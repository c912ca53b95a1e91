//! `/auth/*`: the login round trip, the hand-off of the ID token to the app, renewal and logout.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, Scope,
    StandardRevocableToken, StandardTokenResponse, TokenResponse, TokenUrl,
    basic::{
        BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
        BasicTokenType,
    },
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shared::{SessionToken, TokenHandoff};

use super::return_to;
use crate::{AppState, error::AppError};

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

/// One refresh exchange, shared by every request that presents the same refresh token meanwhile.
pub type SharedRefresh = Arc<tokio::sync::OnceCell<Result<Refreshed, String>>>;

/// Settings of the login that do not change per request.
pub struct LoginSettings {
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_uri: String,
    pub http: reqwest::Client,
    /// Results of recent refreshes by hash of the refresh token used, so that tabs renewing at
    /// once share one exchange instead of spending the same rotating token twice.
    pub recent_refreshes: Mutex<HashMap<[u8; 32], SharedRefresh>>,
}

#[derive(Clone, Debug)]
pub struct Refreshed {
    id_token: String,
    refresh_token: Option<String>,
    at: Instant,
}

/// What the login cookie holds between `/auth/login` and `/auth/callback`.
#[derive(Serialize, Deserialize)]
struct PendingLogin {
    state: String,
    nonce: String,
    verifier: String,
    return_to: String,
}

#[derive(Serialize, Deserialize)]
struct Handoff {
    id_token: String,
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

fn cookie(name: &str, value: &str, max_age: u64, same_site: &str) -> HeaderValue {
    let text = format!(
        "{name}={value}; Path=/; Secure; HttpOnly; SameSite={same_site}; Max-Age={max_age}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn clear(name: &str) -> HeaderValue {
    cookie(name, "", 0, "Strict")
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

fn no_store(mut response: Response) -> Response {
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
    no_store(response)
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

/// Starts a login: a fresh PKCE verifier (S256, sent explicitly), state and nonce for every
/// attempt, kept in the sealed login cookie; then off to Dex's authorization endpoint.
async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let return_to = return_to::sanitize(query.return_to.as_deref());
    let Ok(client) = oidc_client(&state) else {
        return Ok(login_failed("provider_unavailable", &return_to, false));
    };
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
    let sealed = state
        .cookie_key
        .seal(LOGIN_COOKIE, &pending, LOGIN_LIFETIME)?;
    let mut response = Redirect::to(url.as_str()).into_response();
    // Lax: the callback is a top-level navigation coming back from the identity provider.
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie(LOGIN_COOKIE, &sealed, LOGIN_LIFETIME, "Lax"),
    );
    Ok(no_store(response))
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
    // The login cookie is cleared by every answer below: a state is good for one callback only.
    let return_to = pending.return_to.clone();
    if let Some(error) = query.error {
        tracing::info!(error = %error.chars().take(64).collect::<String>(), "the identity provider refused the login");
        return login_failed("provider_error", &return_to, true);
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return login_failed("bad_callback", &return_to, true);
    };
    if !server_common::oidc::constant_time_eq(&returned_state, &pending.state) {
        return login_failed("state_mismatch", &return_to, true);
    }
    let client = match oidc_client(&state) {
        Ok(client) => client,
        Err(_) => return login_failed("provider_unavailable", &return_to, true),
    };
    let tokens = match client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&state.login.http)
        .await
    {
        Ok(tokens) => tokens,
        Err(err) => {
            tracing::info!(error = %describe_token_error(&err), "code exchange failed");
            return login_failed("exchange_failed", &return_to, true);
        }
    };
    let id_token = tokens.extra_fields().id_token.clone();
    if let Err(err) = state.oidc.verify(&id_token, Some(&pending.nonce)).await {
        tracing::info!(reason = %err, "ID token from the code exchange rejected");
        return login_failed("token_rejected", &return_to, true);
    }
    let handoff = Handoff {
        id_token,
        return_to: return_to.clone(),
    };
    let sealed_handoff = match state
        .cookie_key
        .seal(HANDOFF_COOKIE, &handoff, HANDOFF_LIFETIME)
    {
        Ok(sealed) => sealed,
        Err(_) => return login_failed("internal", &return_to, true),
    };
    let mut response = Redirect::to("/auth/complete").into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, clear(LOGIN_COOKIE));
    headers.append(
        header::SET_COOKIE,
        cookie(HANDOFF_COOKIE, &sealed_handoff, HANDOFF_LIFETIME, "Strict"),
    );
    if let Some(refresh) = tokens.refresh_token()
        && let Ok(sealed) =
            state
                .cookie_key
                .seal(REFRESH_COOKIE, &refresh.secret(), REFRESH_LIFETIME)
    {
        headers.append(
            header::SET_COOKIE,
            cookie(REFRESH_COOKIE, &sealed, REFRESH_LIFETIME, "Strict"),
        );
    }
    no_store(response)
}

fn describe_token_error<E: std::error::Error>(err: &E) -> String {
    // oauth2's errors carry Dex's error code and description, never the code or a token.
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Only script of this origin may call the state-changing `/auth` endpoints: the cookies are
/// SameSite=Strict, and a browser-sent `Sec-Fetch-Site` other than same-origin is refused too.
fn same_origin(headers: &HeaderMap) -> Result<(), AppError> {
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") => Ok(()),
        Some(_) => Err(AppError::Forbidden(
            "This request must come from the console itself.",
        )),
    }
}

/// Hands the freshly issued ID token to the app, once: the hand-off cookie is cleared here.
async fn session(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    same_origin(&headers)?;
    let handoff: Handoff = read_cookie(&headers, HANDOFF_COOKIE)
        .and_then(|sealed| state.cookie_key.open(HANDOFF_COOKIE, sealed).ok())
        .ok_or(AppError::Unauthenticated)?;
    let mut response = Json(TokenHandoff {
        id_token: handoff.id_token,
        return_to: handoff.return_to,
    })
    .into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, clear(HANDOFF_COOKIE));
    Ok(no_store(response))
}

/// Exchanges the refresh token in the cookie for a fresh ID token.
async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, AppError> {
    same_origin(&headers)?;
    let refresh_token: String = read_cookie(&headers, REFRESH_COOKIE)
        .and_then(|sealed| state.cookie_key.open(REFRESH_COOKIE, sealed).ok())
        .ok_or(AppError::Unauthenticated)?;
    let key: [u8; 32] = Sha256::digest(refresh_token.as_bytes()).into();
    let cell = {
        let mut recent = state
            .login
            .recent_refreshes
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?;
        recent.retain(|_, cell| {
            cell.get().is_none_or(|r| {
                r.as_ref()
                    .is_ok_and(|r| r.at.elapsed() < Duration::from_secs(30))
            })
        });
        recent.entry(key).or_default().clone()
    };
    let result = cell
        .get_or_init(|| async {
            let client = oidc_client(&state).map_err(|e| e.to_string())?;
            let tokens = client
                .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
                .request_async(&state.login.http)
                .await
                .map_err(|err| describe_token_error(&err))?;
            Ok(Refreshed {
                id_token: tokens.extra_fields().id_token.clone(),
                refresh_token: tokens.refresh_token().map(|t| t.secret().clone()),
                at: Instant::now(),
            })
        })
        .await
        .clone();
    let refreshed = match result {
        Ok(refreshed) => refreshed,
        Err(reason) => {
            tracing::info!(%reason, "refresh failed");
            let mut response = AppError::Unauthenticated.into_response();
            response
                .headers_mut()
                .append(header::SET_COOKIE, clear(REFRESH_COOKIE));
            return Ok(no_store(response));
        }
    };
    if let Err(err) = state.oidc.verify(&refreshed.id_token, None).await {
        tracing::info!(reason = %err, "ID token from a refresh rejected");
        return Err(AppError::Unauthenticated);
    }
    let mut response = Json(SessionToken {
        id_token: refreshed.id_token,
    })
    .into_response();
    if let Some(rotated) = refreshed.refresh_token {
        let sealed = state
            .cookie_key
            .seal(REFRESH_COOKIE, &rotated, REFRESH_LIFETIME)?;
        response.headers_mut().append(
            header::SET_COOKIE,
            cookie(REFRESH_COOKIE, &sealed, REFRESH_LIFETIME, "Strict"),
        );
    }
    Ok(no_store(response))
}

async fn logout(headers: HeaderMap) -> Result<Response, AppError> {
    same_origin(&headers)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE] {
        response
            .headers_mut()
            .append(header::SET_COOKIE, clear(name));
    }
    // Released Dex has no end-session endpoint: its own login state, if any, stays.
    Ok(no_store(response))
}
