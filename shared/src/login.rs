//! Why a login ended on the app's error page: the BFF redirects to `/auth/error?reason=…` with
//! one of these codes, and the app's error page says what it means.

use std::str::FromStr;

/// The reasons a login can fail, as the `reason` query parameter of `/auth/error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// The identity provider answered the authorization request with an error.
    ProviderError,
    /// The callback's state is not the one this browser's login started with.
    StateMismatch,
    /// The callback carries neither a code nor an error.
    BadCallback,
    /// No (valid) login cookie: no login was started in this browser, or it expired.
    NoLoginInProgress,
    /// The identity provider refused to exchange the code (it is good for one use).
    ExchangeFailed,
    /// The ID token from the code exchange did not pass verification.
    TokenRejected,
    /// The identity provider did not answer (before the login, or at the code exchange).
    IdpUnreachable,
    /// The route to come back to is longer than the login cookie can hold.
    ReturnToTooLong,
    /// The identity provider issued no refresh token (scope `offline_access`).
    NoRefreshToken,
    /// The session cookies would be over the browser's size limit.
    TokenTooLarge,
}

impl LoginFailure {
    pub const ALL: [LoginFailure; 10] = [
        LoginFailure::ProviderError,
        LoginFailure::StateMismatch,
        LoginFailure::BadCallback,
        LoginFailure::NoLoginInProgress,
        LoginFailure::ExchangeFailed,
        LoginFailure::TokenRejected,
        LoginFailure::IdpUnreachable,
        LoginFailure::ReturnToTooLong,
        LoginFailure::NoRefreshToken,
        LoginFailure::TokenTooLarge,
    ];

    /// The code in the error page's URL.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginFailure::ProviderError => "provider_error",
            LoginFailure::StateMismatch => "state_mismatch",
            LoginFailure::BadCallback => "bad_callback",
            LoginFailure::NoLoginInProgress => "no_login_in_progress",
            LoginFailure::ExchangeFailed => "exchange_failed",
            LoginFailure::TokenRejected => "token_rejected",
            LoginFailure::IdpUnreachable => "idp_unreachable",
            LoginFailure::ReturnToTooLong => "return_to_too_long",
            LoginFailure::NoRefreshToken => "no_refresh_token",
            LoginFailure::TokenTooLarge => "token_too_large",
        }
    }

    /// What the error page tells the user.
    pub fn message(self) -> &'static str {
        match self {
            LoginFailure::ProviderError => "The identity provider refused the login.",
            LoginFailure::StateMismatch | LoginFailure::BadCallback => {
                "The answer from the identity provider did not belong to this login. It may have been replayed or tampered with."
            }
            LoginFailure::NoLoginInProgress => {
                "No login was in progress in this browser, or it took too long."
            }
            LoginFailure::ExchangeFailed => {
                "The identity provider would not exchange the login for a token (a code can be used only once)."
            }
            LoginFailure::TokenRejected => {
                "The token the identity provider issued did not pass the console's checks."
            }
            LoginFailure::IdpUnreachable => {
                "The identity provider is unreachable, so the console cannot log you in right now. Try again in a moment."
            }
            LoginFailure::ReturnToTooLong => {
                "The address you came from is too long to come back to after the login. Try again to log in and start from the overview."
            }
            LoginFailure::NoRefreshToken => {
                "The identity provider did not grant the console a refresh token (scope offline_access), which it needs to keep you logged in."
            }
            LoginFailure::TokenTooLarge => {
                "The identity provider issued a token too large to keep in a cookie."
            }
        }
    }

    /// The error page's message for whatever `reason` a URL carries.
    pub fn message_for(code: &str) -> &'static str {
        code.parse()
            .map_or("The login failed.", LoginFailure::message)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a login failure reason")]
pub struct UnknownLoginFailure;

impl FromStr for LoginFailure {
    type Err = UnknownLoginFailure;

    /// The reason a URL names, if it is one; `provider_unavailable`, an earlier name of
    /// `idp_unreachable`, still reads as that.
    fn from_str(code: &str) -> Result<Self, Self::Err> {
        if code == "provider_unavailable" {
            return Ok(LoginFailure::IdpUnreachable);
        }
        LoginFailure::ALL
            .into_iter()
            .find(|failure| failure.as_str() == code)
            .ok_or(UnknownLoginFailure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_through_its_code() {
        for failure in LoginFailure::ALL {
            assert_eq!(failure.as_str().parse(), Ok(failure));
        }
        assert_eq!(
            "provider_unavailable".parse(),
            Ok(LoginFailure::IdpUnreachable)
        );
        assert_eq!(
            "no_such_reason".parse::<LoginFailure>(),
            Err(UnknownLoginFailure)
        );
        assert_eq!(LoginFailure::message_for("<script>"), "The login failed.");
    }
}
