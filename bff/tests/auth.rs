//! The guards around the `/auth` routes and the API's answers about the session, driven with
//! `oneshot`: no sockets. The issuer is never reachable here (nothing listens on port 9 of
//! loopback); the e2e tests do the same with the real Dex stopped.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bff::auth::cookies::{HANDOFF_COOKIE, LOGIN_COOKIE, REFRESH_COOKIE};
use shared::ErrorCode;

mod support;

use support::{
    CONSOLE,
    auth::{clears, sealed, send, set_cookies},
    shared_error as api_error,
};

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
