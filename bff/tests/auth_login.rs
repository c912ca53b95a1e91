//! `/auth/login` and `/auth/callback` driven with `oneshot`: a login that cannot start, or whose
//! answer from the identity provider is forged, ends on the error page with the right reason. The
//! issuer is never reachable here (nothing listens on port 9 of loopback), or is a stand-in.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bff::auth::cookies::LOGIN_COOKIE;
use serde_json::json;
use tower::ServiceExt;

mod support;

use support::auth::{clears, location, login_in_progress, send, set_cookies, with_fake_issuer};

#[tokio::test]
async fn a_forged_callback_does_not_end_a_login_in_progress() {
    for query in [
        "error=access_denied",
        "error=access_denied&state=forged",
        "code=forged&state=forged",
        "code=forged",
    ] {
        let response = send(
            Request::get(format!("/auth/callback?{query}"))
                .header(header::COOKIE, login_in_progress())
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{query}");
        assert!(
            location(&response).starts_with("/auth/error?reason=state_mismatch"),
            "{query}: {}",
            location(&response)
        );
        assert!(
            set_cookies(&response).is_empty(),
            "{query}: the login cookie stays: {:?}",
            set_cookies(&response)
        );
    }
    // The identity provider's own error, with this login's state, ends it.
    let response = send(
        Request::get("/auth/callback?error=access_denied&state=the-state-dex-will-send-back")
            .header(header::COOKIE, login_in_progress())
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(location(&response).starts_with("/auth/error?reason=provider_error"));
    assert!(clears(&response, LOGIN_COOKIE));
}

#[tokio::test]
async fn a_login_while_the_identity_provider_is_unreachable_ends_on_a_page_that_says_so() {
    let response = send(
        Request::get("/auth/login?return_to=/ns/team-a/core/v1/configmaps")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(
        location(&response),
        "/auth/error?reason=idp_unreachable&return_to=/ns/team-a/core/v1/configmaps"
    );
    assert!(set_cookies(&response).is_empty());
}

#[tokio::test]
async fn a_return_path_too_long_is_a_clear_error() {
    let long = format!("/ns/{}", "a".repeat(bff::auth::return_to::MAX_LENGTH));
    let response = send(
        Request::get(format!("/auth/login?return_to={long}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(
        location(&response).starts_with("/auth/error?reason=return_to_too_long"),
        "{}",
        location(&response)
    );
}

#[tokio::test]
async fn a_login_after_the_identity_provider_went_down_ends_on_a_page_that_says_so() {
    let (state, server) = with_fake_issuer(StatusCode::OK, json!({})).await;
    // The BFF loaded the issuer while it was up; now it is gone.
    server.stop().await;
    let response = bff::app(state)
        .oneshot(
            Request::get("/auth/login?return_to=/ns/team-a/core/v1/configmaps")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(
        location(&response),
        "/auth/error?reason=idp_unreachable&return_to=/ns/team-a/core/v1/configmaps"
    );
    assert!(set_cookies(&response).is_empty(), "no login started");
}
