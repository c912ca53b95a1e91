//! `POST /auth/session`: hands the session that a login just started to the app, once.

use axum::{
    Json,
    extract::State,
    http::header,
    response::{AppendHeaders, IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use shared::TokenHandoff;

use super::{
    cookies::{self, HANDOFF_COOKIE, Handoff, cleared},
    renewal::{RenewalFailure, renew},
};
use crate::{AppState, error::AppError, middleware::same_origin::SameOrigin};

/// The hand-off cookie is cleared here, and the ID token is a fresh one for the refresh token the
/// callback stored.
pub(super) async fn session(
    _: SameOrigin,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let handoff: Handoff =
        cookies::open(&jar, &state.cookie_key, HANDOFF_COOKIE).ok_or(AppError::Unauthenticated)?;
    let response = match renew(&state, &jar).await {
        Ok((id_token, rotated)) => (
            AppendHeaders(rotated.map(|rotated| (header::SET_COOKIE, rotated))),
            Json(TokenHandoff {
                id_token,
                return_to: handoff.return_to,
            }),
        )
            .into_response(),
        // Dex cannot be asked right now: the hand-off stays for the app's next attempt.
        Err(failure @ RenewalFailure::Unavailable) => return Ok(failure.into_response()),
        Err(failure) => failure.into_response(),
    };
    Ok((
        AppendHeaders([(header::SET_COOKIE, cleared(HANDOFF_COOKIE))]),
        response,
    )
        .into_response())
}
