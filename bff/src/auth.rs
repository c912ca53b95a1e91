//! Login through Dex with authorization code + PKCE, and the session around it. The BFF keeps no
//! server-side session: what it must remember between requests travels in encrypted, HttpOnly
//! `__Host-` cookies, so any replica (or a restarted one with the same key) can continue.

use axum::{
    Router,
    routing::{get, post},
};

use crate::{AppState, middleware::no_store::no_store};

pub mod bearer;
mod callback;
pub mod cookies;
mod login;
mod logout;
pub mod provider;
pub mod renewal;
pub mod return_to;
pub mod sealed_cookie;
mod session;

pub use provider::LoginSettings;

/// `/auth/*`: the login round trip, the hand-off of the session to the app, renewal and logout.
/// The POST routes check that the request comes from the console itself (`SameOrigin`).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", get(login::login))
        .route("/auth/callback", get(callback::callback))
        .route("/auth/session", post(session::session))
        .route("/auth/refresh", post(renewal::refresh))
        .route("/auth/logout", post(logout::logout))
        .layer(axum::middleware::map_response(no_store))
}
