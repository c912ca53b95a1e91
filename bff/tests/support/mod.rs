//! The BFF's state for tests that drive its router with `oneshot`: nothing listens on port 9 of
//! loopback, so neither the issuer nor the Kubernetes API is ever reachable from here.

#![allow(dead_code)]

pub mod auth;
pub mod fault_upstream;
pub mod terminal;

use std::{path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    http::{Request, header},
};

use bff::{
    AppState,
    auth::{LoginSettings, sealed_cookie::CookieKey},
    oidc::OidcVerifier,
    routes::spa::Spa,
    upstream::Upstream,
};
use http_body_util::BodyExt;
use server_common::stand_in_issuer::StandInIssuer;
use shared::{ApiError, ConsoleConfig};
use tower::ServiceExt;

pub const ISSUER: &str = "https://127.0.0.1:9/dex";
pub const CONSOLE: &str = "https://console.example";
pub const COOKIE_KEY: [u8; 32] = [7u8; 32];
pub const INDEX: &str = r#"<!doctype html><html><head><script type=module>import init from '/app.js'; await init();</script></head><body></body></html>"#;

/// A fresh folder of this test's own with the app's index page and one hashed asset.
pub fn dist() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "bff-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("dist");
    std::fs::write(dir.join("index.html"), INDEX).expect("index");
    std::fs::write(dir.join("app-1234.js"), "export default 1;").expect("asset");
    dir
}

/// The BFF's state serving the app from `dist`, with an issuer and an API that never answer.
pub fn state(dist: &std::path::Path) -> AppState {
    let http = bff::oidc::http_client(None).expect("client");
    AppState {
        oidc: Arc::new(OidcVerifier::new(
            ISSUER.into(),
            vec!["kube-console".into()],
            http.clone(),
        )),
        login: Arc::new(LoginSettings {
            client_id: "kube-console".into(),
            client_secret: None,
            redirect_uri: format!("{CONSOLE}/auth/callback"),
            http,
            recent_refreshes: Default::default(),
        }),
        cookie_key: Arc::new(CookieKey::from_bytes(&COOKIE_KEY)),
        upstream: Arc::new(
            Upstream::trusting("https://127.0.0.1:9", rustls::RootCertStore::empty())
                .expect("client"),
        ),
        api_body_timeout: bff::routes::kube_proxy::REQUEST_BODY_TIMEOUT,
        console_config: Arc::new(ConsoleConfig {
            cluster_name: "kyma.local".into(),
            apiserver_proxy_url: "https://127.0.0.1:9443".into(),
            apiserver_proxy_ca_pem: "-----BEGIN CERTIFICATE-----".into(),
            oidc_issuer: ISSUER.into(),
        }),
        spa: Arc::new(Spa::load(dist).expect("spa")),
        permissions: Default::default(),
    }
}

/// `state` trusting the issuer at `issuer_url`, whose keys are loaded.
pub async fn trusting(mut state: AppState, issuer_url: &str) -> AppState {
    let verifier = OidcVerifier::new(
        issuer_url.into(),
        vec!["kube-console".into()],
        bff::oidc::http_client(None).expect("client"),
    );
    verifier.load().await.expect("load");
    state.oidc = Arc::new(verifier);
    state
}

/// A response's whole body.
pub async fn body(response: axum::response::Response) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec()
}

/// A response's body as the shared JSON error.
pub async fn shared_error(response: axum::response::Response) -> ApiError {
    serde_json::from_slice(&body(response).await).expect("the shared JSON error")
}

pub async fn get(app: axum::Router, uri: &str) -> axum::response::Response {
    app.oneshot(Request::get(uri).body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

pub async fn send(app: axum::Router, request: Request<Body>) -> axum::response::Response {
    app.oneshot(request).await.expect("response")
}

pub fn location(response: &axum::response::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string()
}

/// A stand-in issuer (server-common's), so that the permission endpoints get past the bearer
/// check; the Kubernetes API stays unreachable.
pub async fn signed_in(dist: &std::path::Path) -> (AppState, String) {
    let issuer = StandInIssuer::start().await;
    let state = trusting(state(dist), &issuer.url).await;
    (state, issuer.token("developer@example.com"))
}
