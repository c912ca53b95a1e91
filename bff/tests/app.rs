//! The app's shell, driven with `oneshot` (no sockets, no Dex): health and readiness, the app's
//! files and index page, the JSON 404, the plain-HTTP redirect.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use shared::{ApiError, ConsoleConfig, ErrorCode};
use tower::ServiceExt;

mod support;

use support::{INDEX, body, dist, get, state};

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
