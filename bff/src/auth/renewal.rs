//! `POST /auth/refresh` and the renewal behind it and `/auth/session`: the refresh token in the
//! cookie is exchanged for a fresh ID token, once for all the tabs that ask at the same time.

use std::{sync::Mutex, time::Duration};

use axum::{
    Json,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{AppendHeaders, IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use oauth2::{RefreshToken, RequestTokenError, TokenResponse, basic::BasicErrorResponseType};
use server_common::token_cache::{TokenHash, TtlCache};
use shared::{ApiError, ErrorCode, SessionToken};

use super::{
    cookies::{self, REFRESH_COOKIE, SessionCookie, cleared, refresh_cookie},
    provider::{describe_error, oidc_client},
};
use crate::{AppState, error::AppError, middleware::same_origin::SameOrigin, oidc::TokenError};

/// Exchanges the refresh token in the cookie for a fresh ID token.
pub(super) async fn refresh(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Response {
    match renew(&state, &jar).await {
        Ok((id_token, rotated)) => (
            AppendHeaders(rotated.map(|rotated| (header::SET_COOKIE, rotated))),
            Json(SessionToken { id_token }),
        )
            .into_response(),
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
            RenewalFailure::Ended => (
                AppendHeaders([(header::SET_COOKIE, cleared(REFRESH_COOKIE))]),
                AppError::Unauthenticated,
            )
                .into_response(),
            RenewalFailure::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                [(header::RETRY_AFTER, HeaderValue::from_static("5"))],
                Json(ApiError::new(
                    ErrorCode::NotReady,
                    "The identity provider cannot be reached right now; your session is kept and renewed once it is back.",
                )),
            )
                .into_response(),
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

#[derive(Clone, Debug)]
pub struct Refreshed {
    id_token: String,
    refresh_token: Option<String>,
}

/// One refresh exchange (shared by the tabs that ask at once); the fresh ID token and the
/// rotated refresh cookie, if Dex rotated it.
pub(super) async fn renew(
    state: &AppState,
    jar: &CookieJar,
) -> Result<(String, Option<HeaderValue>), RenewalFailure> {
    let session: SessionCookie =
        cookies::open(jar, &state.cookie_key, REFRESH_COOKIE).ok_or(RenewalFailure::Ended)?;
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
