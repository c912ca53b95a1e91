use std::sync::Arc;

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde_json::json;

use crate::{AppState, oidc::OidcVerifier};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(readyz))
}

/// Ready once the issuer's discovery document and signing keys are loaded: before that no login
/// can finish and no token can be checked.
async fn readyz(State(oidc): State<Arc<OidcVerifier>>) -> (StatusCode, Json<serde_json::Value>) {
    if oidc.is_loaded() {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "waiting for the OIDC issuer's discovery document and JWKS"})),
        )
    }
}
