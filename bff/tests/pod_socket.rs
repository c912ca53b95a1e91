//! The terminal's WebSocket (`…/pods/{name}/exec`) through the BFF, in front of the
//! fault-injection upstream (tests/support), which records what reaches it: the `Origin` is
//! checked before anything else, only exec and attach upgrade, and a bad token or query is
//! refused before anything goes upstream. The upgrade itself: pod_socket_splice.rs.

use axum::{
    body::Body,
    http::{Request, header},
};

mod support;

use support::{
    fault_upstream::{Harness, error_of},
    terminal::{EXEC, OWN_ORIGIN, bearer_protocol},
};

/// A WebSocket handshake as Chromium sends it, from `origin` (None: without one).
fn handshake(harness: &Harness, path: &str, origin: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(
            header::SEC_WEBSOCKET_PROTOCOL,
            format!(
                "v5.channel.k8s.io, v4.channel.k8s.io, {}",
                bearer_protocol(&harness.token)
            ),
        );
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    request.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn a_terminal_from_another_origin_or_none_is_refused_before_anything_else() {
    let harness = Harness::start().await;
    for origin in [
        None,
        Some("https://evil.example"),
        Some("null"),
        Some("http://127.0.0.1:8443"),
        Some("https://127.0.0.1:8443.evil.example"),
    ] {
        let response = harness.send(handshake(&harness, EXEC, origin)).await;
        assert_eq!(response.status(), 403, "{origin:?}");
        let body = support::body(response).await;
        assert_eq!(error_of(&body).code, shared::ErrorCode::Forbidden);
    }
    // Before anything else: not even a path that names no pod, or no token, gets another answer.
    let no_token = Request::get("/api/k8s/api/v1/namespaces/team-a/pods/x/exec?command=sh")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::empty())
        .expect("request");
    assert_eq!(harness.send(no_token).await.status(), 403);
    assert_eq!(harness.upstream.arrived(), 0);
}

#[tokio::test]
async fn only_exec_and_attach_may_upgrade() {
    let harness = Harness::start().await;
    for path in [
        "/api/k8s/api/v1/namespaces/x/configmaps",
        "/api/k8s/api/v1/namespaces/team-a/pods/chatty-1/portforward?ports=80",
        "/api/k8s/api/v1/namespaces/team-a/pods/chatty-1/log?follow=true",
        "/api/permissions",
        "/auth/refresh",
        "/ns/team-a/core/v1/pods/chatty-1/terminal",
        "/app-1234.js",
    ] {
        let mut request = handshake(&harness, path, Some(OWN_ORIGIN));
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {}", harness.token).parse().expect("value"),
        );
        let response = harness.send(request).await;
        assert_eq!(response.status(), 403, "{path}");
    }
    assert_eq!(
        harness.upstream.arrived(),
        0,
        "{:?}",
        harness.upstream.seen()
    );
    // The same GET without the upgrade is the API proxy's as before.
    let plain = harness
        .request("GET", "/api/k8s/api/v1/namespaces/x/configmaps")
        .body(Body::empty())
        .expect("request");
    assert_eq!(harness.send(plain).await.status(), 200);
}

#[tokio::test]
async fn a_bad_token_or_query_is_refused_and_nothing_goes_upstream() {
    let harness = Harness::start().await;
    let mut request = handshake(&harness, EXEC, Some(OWN_ORIGIN));
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        format!("v5.channel.k8s.io, {}", bearer_protocol("not.a.token"))
            .parse()
            .expect("value"),
    );
    assert_eq!(harness.send(request).await.status(), 401);
    let mut request = handshake(&harness, EXEC, Some(OWN_ORIGIN));
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        "v5.channel.k8s.io".parse().expect("value"),
    );
    assert_eq!(harness.send(request).await.status(), 401);
    let odd = "/api/k8s/api/v1/namespaces/team-a/pods/chatty-1/exec?command=sh&ports=80";
    assert_eq!(
        harness
            .send(handshake(&harness, odd, Some(OWN_ORIGIN)))
            .await
            .status(),
        400
    );
    assert_eq!(harness.upstream.arrived(), 0);
}
