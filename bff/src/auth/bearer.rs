//! The extractor for API calls: the request's bearer ID token, verified against Dex's keys.

use axum::{extract::FromRequestParts, http::request::Parts};

use crate::{AppState, error::AppError, oidc::IdClaims};

/// A request whose bearer token passed every check; holds the token too, for forwarding.
pub struct Authenticated {
    pub claims: IdClaims,
    pub token: String,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token =
            server_common::bearer::bearer_token(&parts.headers).ok_or(AppError::Unauthenticated)?;
        Authenticated::verify(state, token).await
    }
}

impl Authenticated {
    /// `token` verified as the API's bearer is; for a WebSocket, whose token comes in a
    /// subprotocol rather than the `Authorization` header a browser cannot set on one.
    pub async fn verify(state: &AppState, token: &str) -> Result<Self, AppError> {
        // Without the issuer's keys no token can be checked, good or bad: that is the console
        // being unavailable (503), not the user being logged out (401, which starts a login).
        if !state.oidc.is_loaded() {
            return Err(AppError::NotReady);
        }
        match state.oidc.verify(token, None).await {
            Ok(claims) => Ok(Authenticated {
                claims,
                token: token.to_string(),
            }),
            Err(crate::oidc::TokenError::NotLoaded) => Err(AppError::NotReady),
            Err(err) => {
                // The reason, never the token.
                tracing::info!(reason = ?err, "bearer token rejected");
                Err(AppError::Unauthenticated)
            }
        }
    }
}
