//! `/auth/refresh` and `/auth/session` driven with `oneshot`: an identity provider that is down
//! or failing keeps the session, one that refuses the refresh token for good ends it. The issuer
//! is never reachable here (nothing listens on port 9 of loopback), or is a stand-in that answers
//! the token endpoint as told.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bff::auth::cookies::{HANDOFF_COOKIE, REFRESH_COOKIE};
use serde_json::json;
use shared::ErrorCode;
use tower::ServiceExt;

mod support;

use support::{
    auth::{clears, sealed, send, set_cookies, with_fake_issuer},
    shared_error as api_error,
};

#[tokio::test]
async fn a_refresh_while_the_identity_provider_is_unreachable_keeps_the_session() {
    let session = json!({"refresh_token": "a-refresh-token", "ends_at": u64::MAX / 2});
    let cookie = format!("{REFRESH_COOKIE}={}", sealed(REFRESH_COOKIE, &session));
    let response = send(
        Request::post("/auth/refresh")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        set_cookies(&response).is_empty(),
        "the refresh cookie stays: {:?}",
        set_cookies(&response)
    );
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    assert_eq!(api_error(response).await.code, ErrorCode::NotReady);
}

#[tokio::test]
async fn a_refresh_without_a_refresh_cookie_ends_the_session() {
    let response = send(
        Request::post("/auth/refresh")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(api_error(response).await.code, ErrorCode::Unauthenticated);
}

#[tokio::test]
async fn a_replayed_hand_off_without_the_session_cookie_gives_nothing() {
    let handoff = sealed(HANDOFF_COOKIE, &json!({"return_to": "/"}));
    let response = send(
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, format!("{HANDOFF_COOKIE}={handoff}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(clears(&response, HANDOFF_COOKIE));
}

fn refresh_request() -> Request<Body> {
    let session = json!({"refresh_token": "a-refresh-token", "ends_at": u64::MAX / 2});
    Request::post("/auth/refresh")
        .header("sec-fetch-site", "same-origin")
        .header(
            header::COOKIE,
            format!("{REFRESH_COOKIE}={}", sealed(REFRESH_COOKIE, &session)),
        )
        .body(Body::empty())
        .expect("request")
}

#[tokio::test]
async fn a_failing_identity_provider_is_an_outage_not_a_logout() {
    // What Dex answers when its storage fails (server/refreshhandlers.go).
    let (state, _server) = with_fake_issuer(
        StatusCode::INTERNAL_SERVER_ERROR,
        json!({"error": "invalid_request"}),
    )
    .await;
    let response = bff::app(state)
        .oneshot(refresh_request())
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(!clears(&response, REFRESH_COOKIE));
    assert_eq!(api_error(response).await.code, ErrorCode::NotReady);
}

#[tokio::test]
async fn a_refresh_token_the_identity_provider_refuses_ends_the_session() {
    // What Dex answers for a refresh token it does not know, has seen used, or that expired.
    let (state, _server) = with_fake_issuer(
        StatusCode::BAD_REQUEST,
        json!({
            "error": "invalid_request",
            "error_description": "Refresh token is invalid or has already been claimed by another client."
        }),
    )
    .await;
    let response = bff::app(state)
        .oneshot(refresh_request())
        .await
        .expect("response");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(clears(&response, REFRESH_COOKIE));
}
