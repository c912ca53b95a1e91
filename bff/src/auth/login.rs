//! `GET /auth/login`: starts a login at the identity provider; and the redirect to the app's error
//! page that ends a login which cannot go on.

use axum::{
    extract::{Query, State},
    http::header,
    response::{AppendHeaders, IntoResponse, Redirect, Response},
};
use oauth2::{CsrfToken, PkceCodeChallenge, Scope};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use shared::LoginFailure;

use super::{
    cookies::{LOGIN_COOKIE, PendingLogin, cleared, login_cookie},
    provider::{identity_provider_answers, oidc_client},
    return_to,
};
use crate::{AppState, error::AppError};

#[derive(Deserialize)]
pub(super) struct LoginQuery {
    return_to: Option<String>,
}

/// Starts a login: a fresh PKCE verifier (S256, sent explicitly), state and nonce for every
/// attempt, kept in the sealed login cookie; then off to Dex's authorization endpoint.
pub(super) async fn login(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, AppError> {
    let return_to = match return_to::sanitize(query.return_to.as_deref()) {
        Ok(path) => path,
        Err(return_to::ReturnToError::TooLong) => {
            return Ok(login_failed(LoginFailure::ReturnToTooLong, "/", false));
        }
    };
    let Ok(client) = oidc_client(&state) else {
        return Ok(login_failed(
            LoginFailure::IdpUnreachable,
            &return_to,
            false,
        ));
    };
    if !identity_provider_answers(&state).await {
        return Ok(login_failed(
            LoginFailure::IdpUnreachable,
            &return_to,
            false,
        ));
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
    Ok((
        AppendHeaders([(header::SET_COOKIE, login_cookie)]),
        Redirect::to(url.as_str()),
    )
        .into_response())
}

/// What a return path keeps unencoded in the error page's query: the unreserved characters and
/// `/`, so that it stays readable.
const RETURN_PATH_IN_QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

/// An end of the login shown by the app's error page.
pub(super) fn login_failed(failure: LoginFailure, return_to: &str, clear_login: bool) -> Response {
    let target = format!(
        "/auth/error?reason={}&return_to={}",
        failure.as_str(),
        utf8_percent_encode(return_to, RETURN_PATH_IN_QUERY)
    );
    let redirect = Redirect::to(&target);
    if clear_login {
        (
            AppendHeaders([(header::SET_COOKIE, cleared(LOGIN_COOKIE))]),
            redirect,
        )
            .into_response()
    } else {
        redirect.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_page_gets_the_return_path_readable_and_nothing_more() {
        let response = login_failed(LoginFailure::StateMismatch, "/ns/a b?x=1&y=é#z", false);
        assert_eq!(
            response.headers()[header::LOCATION],
            "/auth/error?reason=state_mismatch&return_to=/ns/a%20b%3Fx%3D1%26y%3D%C3%A9%23z"
        );
        assert!(response.headers().get(header::SET_COOKIE).is_none());
    }
}
