//! The `/auth` routes and the API's answers about the session, driven with `oneshot`: no
//! sockets. The issuer is never reachable here (nothing listens on port 9 of loopback), which is
//! exactly the outage several of these tests are about; the e2e tests do the same with the real
//! Dex stopped.

use server_common::stand_in_issuer::StandInIssuer;
use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
    response::Response,
};
use bff::{
    AppState,
    auth::{
        cookies::{HANDOFF_COOKIE, LOGIN_COOKIE, REFRESH_COOKIE},
        sealed_cookie::CookieKey,
    },
    oidc::OidcVerifier,
};
use serde_json::json;
use shared::ErrorCode;
use tower::ServiceExt;

mod support;

use support::{CONSOLE, COOKIE_KEY as KEY, shared_error as api_error};

fn state() -> AppState {
    support::state(&support::dist())
}

async fn send(request: Request<Body>) -> Response {
    bff::app(state()).oneshot(request).await.expect("response")
}

fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

fn clears(response: &Response, name: &str) -> bool {
    set_cookies(response)
        .iter()
        .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0"))
}

fn location(response: &Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn sealed<T: serde::Serialize>(name: &str, value: &T) -> String {
    CookieKey::from_bytes(&KEY)
        .seal(name, value, 600)
        .expect("seal")
}

fn login_in_progress() -> String {
    let pending = json!({
        "state": "the-state-dex-will-send-back",
        "nonce": "n",
        "verifier": "v".repeat(43),
        "return_to": "/ns/team-a/core/v1/configmaps",
    });
    format!("{LOGIN_COOKIE}={}", sealed(LOGIN_COOKIE, &pending))
}

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

/// Collects what the subscriber writes, to read the log lines back.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn text_from_the_identity_provider_cannot_forge_a_log_line() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread: the handler logs through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let response = send(
        Request::get(
            "/auth/callback?state=the-state-dex-will-send-back\
             &error=denied%0AFORGED%20INFO%20bff%3A%20admin%20logged%20in",
        )
        .header(header::COOKIE, login_in_progress())
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    assert!(location(&response).starts_with("/auth/error?reason=provider_error"));
    let log = String::from_utf8(buffer.0.lock().expect("log").clone()).expect("utf-8");
    assert!(log.contains("refused the login"), "{log}");
    assert!(
        !log.lines().any(|line| line.starts_with("FORGED")),
        "a forged line: {log}"
    );
}

#[tokio::test]
async fn state_changing_auth_routes_refuse_requests_that_do_not_prove_their_origin() {
    let refused: [&[(&str, &str)]; 5] = [
        &[],
        &[("sec-fetch-site", "cross-site")],
        &[("sec-fetch-site", "same-site")],
        &[("origin", "https://evil.example")],
        &[("origin", "null")],
    ];
    for path in ["/auth/session", "/auth/refresh", "/auth/logout"] {
        for headers in refused {
            let mut request = Request::post(path).header(
                header::COOKIE,
                format!("{REFRESH_COOKIE}={}", sealed(REFRESH_COOKIE, &"t")),
            );
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let response = send(request.body(Body::empty()).expect("request")).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} {headers:?}"
            );
            assert!(
                set_cookies(&response).is_empty(),
                "{path} {headers:?}: a refused request changes no cookie"
            );
            assert_eq!(api_error(response).await.code, ErrorCode::Forbidden);
        }
        // Without Sec-Fetch-Site (older browsers, some privacy tools), the console's own Origin.
        let response = send(
            Request::post(path)
                .header(header::ORIGIN, CONSOLE)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_ne!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let logout = send(
        Request::post("/auth/logout")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    for name in [LOGIN_COOKIE, HANDOFF_COOKIE, REFRESH_COOKIE] {
        assert!(clears(&logout, name), "{name}");
    }
}

#[tokio::test]
async fn api_routes_answer_503_while_the_issuers_keys_are_not_loaded() {
    // Without any bearer the request is unauthenticated whatever the issuer's state (401); with
    // one, good or bad, nothing can be checked until the keys are there (503).
    for authorization in [
        Some("Bearer a.b.c"),
        Some("Bearer eyJhbGciOiJSUzI1NiJ9.e30.x"),
    ] {
        for (method, path) in [
            ("GET", "/api/me"),
            ("GET", "/api/namespaces"),
            ("GET", "/api/k8s/api/v1/namespaces"),
        ] {
            let mut request = Request::builder().method(method).uri(path);
            if let Some(value) = authorization {
                request = request.header(header::AUTHORIZATION, value);
            }
            let response = send(request.body(Body::empty()).expect("request")).await;
            assert_eq!(
                response.status(),
                StatusCode::SERVICE_UNAVAILABLE,
                "{path} {authorization:?}"
            );
            assert_eq!(api_error(response).await.code, ErrorCode::NotReady);
        }
    }
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
async fn no_auth_answer_may_be_cached() {
    let requests = [
        Request::get("/auth/login").body(Body::empty()),
        Request::get("/auth/callback?code=x&state=y").body(Body::empty()),
        Request::post("/auth/session").body(Body::empty()),
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty()),
        Request::post("/auth/refresh")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty()),
        Request::post("/auth/logout")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty()),
    ];
    for request in requests {
        let request = request.expect("request");
        let what = format!("{} {}", request.method(), request.uri());
        let response = send(request).await;
        assert_eq!(
            response
                .headers()
                .get(header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{what} ({})",
            response.status()
        );
    }
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

/// A stand-in for Dex that serves real discovery and keys but answers the token endpoint as
/// told: FAULT INJECTION ONLY, for the 5xx answers the real Dex gives only when its storage fails.
/// Returns the state (with the issuer's keys loaded) and the issuer, to stop it.
async fn with_fake_issuer(
    token_status: StatusCode,
    token_body: serde_json::Value,
) -> (AppState, StandInIssuer) {
    let issuer = StandInIssuer::start_with(axum::Router::new().route(
        "/dex/token",
        axum::routing::post(move || async move { (token_status, axum::Json(token_body)) }),
    ))
    .await;
    let mut state = state();
    let verifier = OidcVerifier::new(
        issuer.url.clone(),
        vec!["kube-console".into()],
        bff::oidc::http_client(None).expect("client"),
    );
    verifier.load().await.expect("load");
    state.oidc = Arc::new(verifier);
    (state, issuer)
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
