//! The BFF's router driven with `oneshot`: no sockets, no Dex.

use server_common::stand_in_issuer::StandInIssuer;
use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bff::{AppState, oidc::OidcVerifier};
use shared::{ApiError, ConsoleConfig, ErrorCode};
use tower::ServiceExt;

mod support;

use support::{INDEX, body, dist, shared_error, state};

async fn get(app: axum::Router, uri: &str) -> axum::response::Response {
    app.oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

#[tokio::test]
async fn not_ready_until_the_issuer_is_loaded() {
    let dir = dist();
    let state = state(&dir);
    let app = bff::app(state.clone());
    assert_eq!(get(app.clone(), "/healthz").await.status(), StatusCode::OK);
    assert_eq!(
        get(app.clone(), "/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Loading from an unreachable issuer fails and leaves the BFF not ready.
    assert!(state.oidc.load().await.is_err());
    assert_eq!(
        get(app, "/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn deep_links_get_the_index_page_with_strict_headers() {
    let dir = dist();
    let app = bff::app(state(&dir));
    for path in [
        "/",
        "/namespaces/team-a",
        "/namespaces/team-a/configmaps/settings",
    ] {
        let response = get(app.clone(), path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("csp");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(body(response).await, INDEX.as_bytes());
    }
}

#[tokio::test]
async fn assets_are_served_and_missing_ones_are_404_not_html() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let asset = get(app.clone(), "/app-1234.js").await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert!(
        asset
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    );
    assert_eq!(body(asset).await, b"export default 1;");

    let missing = get(app.clone(), "/app-9999.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: ApiError = serde_json::from_slice(&body(missing).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::NotFound);

    // Path tricks do not leave the dist folder.
    for hostile in ["/../Cargo.toml", "/%2e%2e/Cargo.toml", "/..%2fCargo.toml"] {
        let response = get(app.clone(), hostile).await;
        assert_ne!(response.status(), StatusCode::OK, "{hostile}");
    }
}

#[tokio::test]
async fn unknown_api_paths_answer_with_the_shared_error() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = get(app.clone(), "/api/does-not-exist").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    );
    let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::NotFound);

    let config = get(app, "/api/config").await;
    assert_eq!(config.status(), StatusCode::OK);
    let config: ConsoleConfig = serde_json::from_slice(&body(config).await).expect("config");
    assert_eq!(config.cluster_name, "kyma.local");
}

#[tokio::test]
async fn plain_http_redirects_to_the_public_origin_whatever_the_host_header() {
    let app = bff::routes::https_redirect::app(Arc::from("https://console.example:8443"));
    for (uri, expected) in [
        (
            "/namespaces/team-a?x=1",
            "https://console.example:8443/namespaces/team-a?x=1",
        ),
        (
            "//evil.example/path",
            "https://console.example:8443/evil.example/path",
        ),
    ] {
        let response = app
            .clone()
            .oneshot(
                Request::get(uri)
                    .header(header::HOST, "evil.example")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(response.headers()[header::LOCATION], expected);
    }
}

async fn send(app: axum::Router, request: Request<Body>) -> axum::response::Response {
    app.oneshot(request).await.expect("response")
}

fn location(response: &axum::response::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string()
}

#[tokio::test]
async fn a_callback_without_a_login_in_progress_ends_on_the_error_page() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = get(app, "/auth/callback?code=abc&state=xyz").await;
    assert!(response.status().is_redirection());
    assert!(location(&response).starts_with("/auth/error?reason=no_login_in_progress"));
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn a_callback_with_a_wrong_or_missing_state_is_refused_and_only_its_own_answer_ends_the_login()
 {
    let dir = dist();
    let state = state(&dir);
    let pending = serde_json::json!({
        "state": "the-right-state", "nonce": "n", "verifier": "v", "return_to": "/namespaces/team-a"
    });
    let sealed = state
        .cookie_key
        .seal("__Host-kc-login", &pending, 600)
        .expect("seal");
    let app = bff::app(state);
    // An answer without this login's state is not its answer: it leaves the login going.
    for (query, reason, ends_the_login) in [
        ("code=abc&state=the-wrong-state", "state_mismatch", false),
        ("code=abc", "state_mismatch", false),
        ("state=the-right-state", "bad_callback", true),
        (
            "error=access_denied&state=the-right-state",
            "provider_error",
            true,
        ),
    ] {
        let response = send(
            app.clone(),
            Request::get(format!("/auth/callback?{query}"))
                .header(header::COOKIE, format!("__Host-kc-login={sealed}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        let target = location(&response);
        assert!(
            target.starts_with(&format!("/auth/error?reason={reason}")),
            "{query}: {target}"
        );
        // The route the user asked for survives the failure, for "try again".
        assert!(target.contains("return_to=/namespaces/team-a"), "{target}");
        let cleared = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| {
                c.to_str()
                    .is_ok_and(|c| c.starts_with("__Host-kc-login=;") && c.contains("Max-Age=0"))
            });
        assert_eq!(cleared, ends_the_login, "{query}: the login cookie");
    }
    // A login cookie sealed with another key, or tampered with, is no login at all.
    let response = send(
        app,
        Request::get("/auth/callback?code=abc&state=the-right-state")
            .header(
                header::COOKIE,
                format!("__Host-kc-login={}x", &sealed[..sealed.len() - 1]),
            )
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert!(location(&response).starts_with("/auth/error?reason=no_login_in_progress"));
}

#[tokio::test]
async fn the_token_handoff_is_for_this_origin_only_and_needs_its_cookie() {
    let dir = dist();
    let state = state(&dir);
    let handoff = serde_json::json!({"return_to": "/x"});
    let sealed = state
        .cookie_key
        .seal("__Host-kc-handoff", &handoff, 60)
        .expect("seal");
    let app = bff::app(state);

    let without_cookie = send(
        app.clone(),
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(without_cookie.status(), StatusCode::UNAUTHORIZED);

    let cross_site = send(
        app.clone(),
        Request::post("/auth/session")
            .header("sec-fetch-site", "cross-site")
            .header(header::COOKIE, format!("__Host-kc-handoff={sealed}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);

    // The hand-off holds no token: without the refresh cookie it gives nothing, and is spent.
    let no_session = send(
        app,
        Request::post("/auth/session")
            .header("sec-fetch-site", "same-origin")
            .header(header::COOKIE, format!("__Host-kc-handoff={sealed}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(no_session.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(no_session.headers()[header::CACHE_CONTROL], "no-store");
    assert!(
        no_session
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| {
                c.to_str()
                    .is_ok_and(|c| c.starts_with("__Host-kc-handoff=;"))
            })
    );
}

#[tokio::test]
async fn api_calls_without_a_valid_bearer_get_401_json() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    for authorization in [
        None,
        Some("Bearer "),
        Some("Basic YTpi"),
        Some("Bearer not-a-jwt"),
    ] {
        let mut request = Request::get("/api/me");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = send(app.clone(), request.body(Body::empty()).expect("request")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
        assert_eq!(error.code, ErrorCode::Unauthenticated);
    }
}

#[tokio::test]
async fn logout_clears_every_session_cookie() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = send(
        app,
        Request::post("/auth/logout")
            .header("sec-fetch-site", "same-origin")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let cleared: Vec<_> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .filter(|c| c.contains("Max-Age=0") && c.contains("Secure") && c.contains("HttpOnly"))
        .map(|c| c.split('=').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        cleared,
        ["__Host-kc-login", "__Host-kc-handoff", "__Host-kc-refresh"]
    );
}

#[tokio::test]
async fn a_login_while_dex_is_unreachable_ends_on_the_error_page() {
    let dir = dist();
    let app = bff::app(state(&dir));
    let response = get(app, "/auth/login?return_to=/namespaces/team-a").await;
    assert!(response.status().is_redirection());
    assert_eq!(
        location(&response),
        "/auth/error?reason=idp_unreachable&return_to=/namespaces/team-a"
    );
}

#[tokio::test]
async fn the_kubernetes_prefix_needs_a_token_and_refuses_path_tricks() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    let response = get(app.clone(), "/api/k8s/api/v1/namespaces").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::Unauthenticated);
    // A body over the limit is refused before anything is forwarded.
    let response = send(
        app,
        Request::post("/api/k8s/api/v1/namespaces/team-a/configmaps")
            .header(
                header::CONTENT_LENGTH,
                (bff::routes::kube_proxy::BODY_LIMIT + 1).to_string(),
            )
            .body(Body::from(vec![
                b'x';
                bff::routes::kube_proxy::BODY_LIMIT + 1
            ]))
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
}

/// A stand-in issuer (server-common's), so that the permission endpoints get past the bearer
/// check; the Kubernetes API stays unreachable.
async fn signed_in(dist: &std::path::Path) -> (AppState, String) {
    let issuer = StandInIssuer::start().await;
    let mut state = state(dist);
    let verifier = OidcVerifier::new(
        issuer.url.clone(),
        vec!["kube-console".into()],
        bff::oidc::http_client(None).expect("client"),
    );
    verifier.load().await.expect("load");
    state.oidc = Arc::new(verifier);
    (state, issuer.token("developer@example.com"))
}

fn permission_query(token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request =
        Request::post("/api/permissions").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).expect("request")
}

#[tokio::test]
async fn permission_endpoints_need_a_token() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    let response = send(app.clone(), permission_query(None, r#"{"checks":[]}"#)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::Unauthenticated
    );
    let response = get(app, "/api/namespaces").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::Unauthenticated
    );
}

#[tokio::test]
async fn bad_permission_queries_get_400_with_a_readable_reason() {
    let dir = dist();
    let (state, token) = signed_in(&dir).await;
    let app = bff::app(state);
    let check = |verb: &str, resource: &str, namespace: &str| serde_json::json!({"verb": verb, "group": "", "resource": resource, "namespace": namespace});
    let too_many: Vec<_> = (0..=shared::permissions::MAX_CHECKS)
        .map(|_| check("get", "pods", "team-a"))
        .collect();
    for (body, expected) in [
        (
            serde_json::json!({ "checks": too_many }).to_string(),
            "At most",
        ),
        (
            serde_json::json!({"checks": [check("get", "pods", "Team A")]}).to_string(),
            "namespace",
        ),
        (
            serde_json::json!({"checks": [check("*", "pods", "team-a")]}).to_string(),
            "wildcard",
        ),
        (
            serde_json::json!({"checks": [check("", "pods", "team-a")]}).to_string(),
            "verb is empty",
        ),
        (
            serde_json::json!({"checks": [check("get", "", "team-a")]}).to_string(),
            "resource is empty",
        ),
        (
            r#"{"checks": [{"verb": "get"}]"#.to_string(),
            "not a permission query",
        ),
        (r#"{"checks": "#.to_string(), "not a permission query"),
        ("not json".to_string(), "not a permission query"),
    ] {
        let response = send(app.clone(), permission_query(Some(&token), body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:.80}");
        let error = shared_error(response).await;
        assert_eq!(error.code, ErrorCode::BadRequest);
        assert!(
            error.message.contains(expected),
            "{body:.80}: {}",
            error.message
        );
    }
    // Without a JSON content type, the same shared error.
    let response = send(
        app,
        Request::post("/api/permissions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(r#"{"checks":[]}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(shared_error(response).await.code, ErrorCode::BadRequest);
}

#[tokio::test]
async fn permission_endpoints_report_an_unreachable_cluster_as_502() {
    let dir = dist();
    let (state, token) = signed_in(&dir).await;
    let app = bff::app(state);
    // Nothing to ask the apiserver: answered at once.
    let response = send(
        app.clone(),
        permission_query(Some(&token), r#"{"checks":[]}"#),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: shared::AccessAnswer =
        serde_json::from_slice(&body(response).await).expect("answer");
    assert_eq!(answer.decisions, []);
    assert_eq!(answer.upstream_requests, 0);

    let query = r#"{"checks":[{"verb":"list","resource":"configmaps","namespace":"team-a"}]}"#;
    let response = send(app.clone(), permission_query(Some(&token), query)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::UpstreamUnavailable
    );

    let response = send(
        app,
        Request::get("/api/namespaces")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::UpstreamUnavailable
    );
}
