//! The `Authorization` scheme on the BFF's API: `Bearer` in any case, strict whitespace, a token
//! required. The issuer is never loaded here, so a bearer that is read gets as far as the
//! verifier (503, not ready) while one that is not read is refused (401).

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use bff::AppState;
use tower::ServiceExt;

mod support;

use support::ISSUER;

fn state() -> AppState {
    support::state(&support::dist())
}

/// A well-formed token for this issuer and client (its signature is never checked here).
fn token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"iss":"{ISSUER}","sub":"u","aud":"kube-console","exp":{},"iat":{now}}}"#,
        now + 300
    ));
    format!("{header}.{payload}.c2lnbmF0dXJl")
}

async fn me_status(app: axum::Router, authorization: Option<&str>) -> StatusCode {
    let mut request = Request::get("/api/me");
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    app.oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response")
        .status()
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive_and_strict() {
    let app = bff::app(state());
    let token = token();
    for scheme in ["Bearer", "bearer", "BEARER"] {
        assert_eq!(
            me_status(app.clone(), Some(&format!("{scheme} {token}"))).await,
            StatusCode::SERVICE_UNAVAILABLE,
            "{scheme}: read and handed to the (not loaded) verifier"
        );
    }
    for value in [
        None,
        Some("Bearer".to_string()),
        Some("Bearer ".to_string()),
        Some(format!("Bearer\t{token}")),
        Some(format!("Bearer {token} {token}")),
        Some(format!("Bearer{token}")),
        Some(format!("Basic {token}")),
    ] {
        assert_eq!(
            me_status(app.clone(), value.as_deref()).await,
            StatusCode::UNAUTHORIZED,
            "{value:?}"
        );
    }
}
