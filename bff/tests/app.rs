//! The BFF's router driven with `oneshot`: no sockets, no Dex.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use bff::{AppState, oidc::OidcState, routes::spa::Spa};
use http_body_util::BodyExt;
use shared::{ApiError, ConsoleConfig, ErrorCode};
use tower::ServiceExt;

const INDEX: &str = r#"<!doctype html><html><head><script type=module>import init from '/app.js'; await init();</script></head><body></body></html>"#;

fn state(dist: &std::path::Path) -> AppState {
    std::fs::write(dist.join("index.html"), INDEX).expect("index");
    std::fs::write(dist.join("app-1234.js"), "export default 1;").expect("asset");
    // Nothing listens on port 9 of loopback: the issuer is never reachable in these tests.
    let http = bff::oidc::http_client(None).expect("client");
    AppState {
        oidc: Arc::new(OidcState::new("https://127.0.0.1:9/dex".into(), http)),
        console_config: Arc::new(ConsoleConfig {
            cluster_name: "kyma.local".into(),
            apiserver_proxy_url: "https://127.0.0.1:9443".into(),
            apiserver_proxy_ca_pem: "-----BEGIN CERTIFICATE-----".into(),
            oidc_issuer: "https://127.0.0.1:9/dex".into(),
        }),
        spa: Arc::new(Spa::load(dist).expect("spa")),
    }
}

fn dist() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bff-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("dist");
    dir
}

async fn get(app: axum::Router, uri: &str) -> axum::response::Response {
    app.oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

async fn body(response: axum::response::Response) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
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
