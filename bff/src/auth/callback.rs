//! `GET /auth/callback`: the identity provider sends the browser back here; the code is exchanged
//! and the session starts in the refresh cookie.

use axum::{
    extract::{Query, State},
    http::header,
    response::{AppendHeaders, IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::CookieJar;
use oauth2::{AuthorizationCode, PkceCodeVerifier, TokenResponse};
use serde::Deserialize;
use shared::LoginFailure;

use super::{
    cookies::{
        self, LOGIN_COOKIE, PendingLogin, REFRESH_LIFETIME, cleared, handoff_cookie, refresh_cookie,
    },
    login::login_failed,
    provider::{describe_error, oidc_client},
    sealed_cookie::now,
};
use crate::AppState;

#[derive(Deserialize)]
pub(super) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub(super) async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(pending) = cookies::open::<PendingLogin>(&jar, &state.cookie_key, LOGIN_COOKIE) else {
        return login_failed(LoginFailure::NoLoginInProgress, "/", true);
    };
    let return_to = pending.return_to.clone();
    // Only the answer that carries this login's state may end it: anything else (an error
    // included) could be sent by any site to break a login in progress, so the cookie stays.
    let state_matches = query
        .state
        .as_deref()
        .is_some_and(|returned| server_common::oidc::constant_time_eq(returned, &pending.state));
    if !state_matches {
        return login_failed(LoginFailure::StateMismatch, &return_to, false);
    }
    // From here on the login cookie is cleared by every answer: a state is good for one callback.
    if let Some(error) = query.error {
        let error: String = error.chars().take(64).collect();
        tracing::info!(?error, "the identity provider refused the login");
        return login_failed(LoginFailure::ProviderError, &return_to, true);
    }
    let Some(code) = query.code else {
        return login_failed(LoginFailure::BadCallback, &return_to, true);
    };
    let client = match oidc_client(&state) {
        Ok(client) => client,
        Err(_) => return login_failed(LoginFailure::IdpUnreachable, &return_to, true),
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
            return login_failed(LoginFailure::ExchangeFailed, &return_to, true);
        }
    };
    let id_token = &tokens.extra_fields().id_token;
    if let Err(err) = state.oidc.verify(id_token, Some(&pending.nonce)).await {
        tracing::info!(reason = ?err, "ID token from the code exchange rejected");
        return login_failed(LoginFailure::TokenRejected, &return_to, true);
    }
    // The ID token itself is not handed over in a cookie: with many groups it outgrows the
    // browser's cookie limit. The app gets a fresh one through the refresh token at
    // `/auth/session`; the hand-off cookie only says that a login finished, and where to go.
    let Some(refresh) = tokens.refresh_token() else {
        tracing::warn!("the identity provider issued no refresh token (scope offline_access)");
        return login_failed(LoginFailure::NoRefreshToken, &return_to, true);
    };
    let ends_at = now() + REFRESH_LIFETIME;
    let cookies = refresh_cookie(&state.cookie_key, refresh.secret(), ends_at)
        .and_then(|refresh| Ok((refresh, handoff_cookie(&state.cookie_key, &return_to)?)));
    let (refresh, handoff) = match cookies {
        Ok(cookies) => cookies,
        Err(err) => {
            tracing::warn!(error = ?format!("{err:#}"), "the session cookies cannot be made");
            return login_failed(LoginFailure::TokenTooLarge, &return_to, true);
        }
    };
    (
        AppendHeaders([
            (header::SET_COOKIE, cleared(LOGIN_COOKIE)),
            (header::SET_COOKIE, refresh),
            (header::SET_COOKIE, handoff),
        ]),
        Redirect::to("/auth/complete"),
    )
        .into_response()
}
