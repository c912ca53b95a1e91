//! What the `/auth` tests share: the console's state with an issuer that never answers (or a
//! stand-in one), requests with sealed cookies, and readers of the answer's cookies and redirect.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
    response::Response,
};
use bff::{
    AppState,
    auth::{cookies::LOGIN_COOKIE, sealed_cookie::CookieKey},
};
use serde_json::json;
use server_common::stand_in_issuer::StandInIssuer;
use tower::ServiceExt;

use super::COOKIE_KEY as KEY;

pub fn state() -> AppState {
    super::state(&super::dist())
}

pub async fn send(request: Request<Body>) -> Response {
    bff::app(state()).oneshot(request).await.expect("response")
}

pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

pub fn clears(response: &Response, name: &str) -> bool {
    set_cookies(response)
        .iter()
        .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

pub fn sealed<T: serde::Serialize>(name: &str, value: &T) -> String {
    CookieKey::from_bytes(&KEY)
        .seal(name, value, 600)
        .expect("seal")
}

pub fn login_in_progress() -> String {
    let pending = json!({
        "state": "the-state-dex-will-send-back",
        "nonce": "n",
        "verifier": "v".repeat(43),
        "return_to": "/ns/team-a/core/v1/configmaps",
    });
    format!("{LOGIN_COOKIE}={}", sealed(LOGIN_COOKIE, &pending))
}

/// A stand-in for Dex that serves real discovery and keys but answers the token endpoint as
/// told: FAULT INJECTION ONLY, for the 5xx answers the real Dex gives only when its storage fails.
/// Returns the state (with the issuer's keys loaded) and the issuer, to stop it.
pub async fn with_fake_issuer(
    token_status: StatusCode,
    token_body: serde_json::Value,
) -> (AppState, StandInIssuer) {
    let issuer = StandInIssuer::start_with(axum::Router::new().route(
        "/dex/token",
        axum::routing::post(move || async move { (token_status, axum::Json(token_body)) }),
    ))
    .await;
    let state = super::trusting(state(), &issuer.url).await;
    (state, issuer)
}
