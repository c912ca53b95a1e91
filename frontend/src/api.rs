//! The one typed client of the console's servers: the BFF's own API here, the Kubernetes API in
//! `kube::client`. Both send through `request::Request` and fail with `error::Error`.

pub mod error;
pub mod request;

use gloo_net::http::Method;
use shared::{
    AccessAnswer, AccessQuery, ConsoleConfig, NamespaceChoices, SessionToken, TokenHandoff,
    UserInfo,
};

pub use error::Error;
pub use request::Request;

pub async fn console_config() -> Result<ConsoleConfig, Error> {
    Request::console(Method::GET, "/api/config").read().await
}

/// Who the tab's token belongs to, as the BFF verified it.
pub async fn me() -> Result<UserInfo, Error> {
    Request::console(Method::GET, "/api/me")
        .with_user_token()
        .read()
        .await
}

/// May the user do these things? One request for a whole view.
pub async fn permissions(query: &AccessQuery) -> Result<AccessAnswer, Error> {
    Request::console(Method::POST, "/api/permissions")
        .with_user_token()
        .json(query)
        .read()
        .await
}

/// The namespaces the switcher offers this user.
pub async fn namespaces() -> Result<NamespaceChoices, Error> {
    Request::console(Method::GET, "/api/namespaces")
        .with_user_token()
        .read()
        .await
}

/// Takes over the ID token of a login that just finished (once).
pub async fn take_login_handoff() -> Result<TokenHandoff, Error> {
    Request::console(Method::POST, "/auth/session").read().await
}

/// A fresh ID token for the refresh token the BFF keeps in its cookie.
pub async fn refresh() -> Result<SessionToken, Error> {
    Request::console(Method::POST, "/auth/refresh").read().await
}

pub async fn logout() -> Result<(), Error> {
    Request::console(Method::POST, "/auth/logout")
        .send()
        .await
        .map(|_| ())
}
