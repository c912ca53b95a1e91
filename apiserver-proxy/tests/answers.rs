//! What the proxy answers when it does not forward, driven with `oneshot`: 401 only for a
//! missing or bad token (a new login helps), 503 while the issuer's keys are not loaded (a new
//! login would loop: try again later), 403 for a good token whose identity the proxy refuses.
//!
//! The tokens are signed with server-common's test key and served by a STAND-IN issuer on
//! loopback HTTP: the real Dex cannot issue a token whose email is unverified or whose user name
//! is whitespace-padded, which is what these answers are about. The kube-apiserver is never
//! reached (nothing listens on port 9).

use std::sync::Arc;

use apiserver_proxy::{ClaimMapping, Proxy, app};
use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use serde_json::{Value, json};
use server_common::oidc::OidcVerifier;
use tower::ServiceExt;

use server_common::stand_in_issuer::{CLIENT, StandInIssuer};

/// A viewer's token from `issuer`, with `change` made to its claims.
fn token(issuer: &str, change: impl FnOnce(&mut Value)) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let mut claims = json!({
        "iss": issuer, "sub": "u-1", "aud": CLIENT, "exp": now + 300, "iat": now,
        "email": "viewer@example.com", "email_verified": true, "groups": ["console-viewers"],
    });
    change(&mut claims);
    server_common::stand_in_issuer::sign(&claims)
}

async fn stand_in_issuer() -> String {
    StandInIssuer::start().await.url
}

fn mapping() -> ClaimMapping {
    ClaimMapping::new("email", "", "groups", "", "https://127.0.0.1:9/dex").expect("mapping")
}

fn proxy(verifier: OidcVerifier) -> Arc<Proxy> {
    let tls = server_common::tls::client_config_trusting(rustls::RootCertStore::empty(), None)
        .expect("tls");
    Arc::new(Proxy::new(
        Arc::new(verifier),
        "https://127.0.0.1:9",
        server_common::https_client::pooled(tls),
        mapping(),
    ))
}

fn verifier(issuer: &str) -> OidcVerifier {
    OidcVerifier::new(
        issuer.into(),
        vec![CLIENT.into()],
        server_common::oidc::http_client(None).expect("client"),
    )
}

async fn send(
    proxy: Arc<Proxy>,
    bearer: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::get("/api/v1/namespaces");
    if let Some(token) = bearer {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app(proxy)
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    let status: Value = serde_json::from_slice(&bytes).expect("a JSON body");
    (parts.status, parts.headers, status)
}

/// The Kubernetes `Status` kubectl reads: kind, apiVersion, Failure, the reason and the code.
fn assert_status(body: &Value, code: StatusCode, reason: &str) {
    assert_eq!(body["kind"], "Status", "{body}");
    assert_eq!(body["apiVersion"], "v1", "{body}");
    assert_eq!(body["status"], "Failure", "{body}");
    assert_eq!(body["reason"], reason, "{body}");
    assert_eq!(body["code"], code.as_u16(), "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn while_the_keys_are_not_loaded_a_token_gets_503_with_retry_after() {
    // Nothing listens on port 9: the issuer never loads.
    let issuer = "https://127.0.0.1:9/dex";
    let proxy = proxy(verifier(issuer));
    let (status, headers, body) = send(proxy, Some(&token(issuer, |_| {}))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_status(&body, status, "ServiceUnavailable");
    let retry: u64 = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn a_missing_malformed_foreign_or_expired_token_gets_401() {
    let issuer = stand_in_issuer().await;
    let loaded = verifier(&issuer);
    loaded.load().await.expect("load");
    let proxy = proxy(loaded);
    let expired = token(&issuer, |c| {
        c["exp"] = json!(1_000);
        c["iat"] = json!(900);
    });
    let foreign = token("https://elsewhere.example/dex", |_| {});
    for bearer in [
        None,
        Some("not-a-jwt"),
        Some(expired.as_str()),
        Some(foreign.as_str()),
    ] {
        let (status, headers, body) = send(proxy.clone(), bearer).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_status(&body, status, "Unauthorized");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
    }
}

#[tokio::test]
async fn a_valid_token_whose_identity_is_refused_gets_403_saying_why() {
    let issuer = stand_in_issuer().await;
    let loaded = verifier(&issuer);
    loaded.load().await.expect("load");
    let proxy = proxy(loaded);
    let cases = [
        (
            token(&issuer, |c| c["email_verified"] = json!(false)),
            "email is not verified",
        ),
        (
            token(&issuer, |c| {
                c.as_object_mut().map(|c| c.remove("email"));
            }),
            "no \"email\" claim",
        ),
        (
            token(&issuer, |c| c["email"] = json!(" admin@example.com")),
            "whitespace",
        ),
        (
            token(&issuer, |c| c["email"] = json!("system:admin")),
            "reserved",
        ),
        (
            token(&issuer, |c| c["email"] = json!("admin@example.com\u{7}")),
            "control character",
        ),
        (
            token(&issuer, |c| {
                let groups: Vec<String> = (0..=apiserver_proxy::identity::MAX_GROUPS)
                    .map(|i| format!("g{i}"))
                    .collect();
                c["groups"] = json!(groups);
            }),
            "groups, more than",
        ),
    ];
    for (token, why) in cases {
        let (status, headers, body) = send(proxy.clone(), Some(&token)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}: {body}");
        assert_status(&body, status, "Forbidden");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{why}: {message}");
        assert!(!headers.contains_key(header::WWW_AUTHENTICATE));
    }
}
