//! `/api/k8s/*`: the app's Kubernetes API calls, forwarded to the apiserver-proxy with the
//! user's (verified) bearer token and nothing else the browser sent but a short allow-list of
//! headers. Only Kubernetes API paths and methods pass, never a `proxy` subresource. Request
//! bodies are read in full (bounded in size and time) before anything goes upstream; responses
//! stream, so watches flow event by event and followed logs line by line, and only the wait for
//! the response head is timed, so neither is cut (a followed log's head waits for its first
//! line: it has an hour, as a watch has).
//!
//! One concern per file: `path` (which API path a request names), `request_checks` (method and
//! body type), `body` (reading the body), `response_headers` (what comes back to the browser);
//! the request headers that go upstream are `crate::upstream`'s.

mod body;
mod path;
mod request_checks;
mod response_headers;

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    extract::{FromRequestParts, Request, State},
    response::{IntoResponse, Response},
    routing::any,
};

pub use body::{BODY_LIMIT, REQUEST_BODY_TIMEOUT};
pub use path::{
    MAX_TIMEOUT_SECONDS, Refused, is_followed_log, is_proxy_subresource, upstream_path,
};
pub use request_checks::METHODS;
pub use response_headers::{API_RESPONSE_CSP, downstream_headers};

use crate::{
    AppState, auth::bearer::Authenticated, error::AppError, middleware::body_limit,
    upstream::UpstreamError,
};

pub const PREFIX: &str = "/api/k8s";
const RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the response head may take: a followed log's comes with its first line.
fn head_timeout(path: &str) -> Duration {
    if is_followed_log(path) {
        Duration::from_secs(MAX_TIMEOUT_SECONDS)
    } else {
        RESPONSE_HEAD_TIMEOUT
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/k8s/{*path}", any(forward))
        .route_layer(axum::middleware::from_fn_with_state(
            BODY_LIMIT,
            body_limit::limit,
        ))
}

/// Everything that needs neither the user nor the body is checked first, so that a refused
/// request costs no token verification and no body read.
async fn forward(State(state): State<AppState>, request: Request) -> Response {
    if !METHODS.contains(request.method()) {
        return request_checks::method_not_allowed();
    }
    let path = match upstream_path(request.uri()) {
        Ok(path) => path,
        Err(refused) => return AppError::from(refused).into_response(),
    };
    let (mut parts, body) = request.into_parts();
    if body_limit::declared_over(&parts.headers, BODY_LIMIT) {
        return body_limit::too_large(BODY_LIMIT).into_response();
    }
    if let Err(refused) = request_checks::check_content_type(&parts.headers) {
        return AppError::Refused(refused).into_response();
    }
    let user = match Authenticated::from_request_parts(&mut parts, &state).await {
        Ok(user) => user,
        Err(err) => return err.into_response(),
    };
    let body = match body::read_body(body, state.api_body_timeout).await {
        Ok(body) => body,
        Err(refused) => return refused.into_response(),
    };
    let sent = state
        .upstream
        .send(
            parts.method,
            &path,
            &user.token,
            &parts.headers,
            Body::from(body),
            head_timeout(&path),
        )
        .await;
    match sent {
        Ok(mut response) => {
            downstream_headers(response.headers_mut());
            response.map(Body::new)
        }
        // The path was checked: one that is not a URI names nothing.
        Err(UpstreamError::BadUri(_)) => AppError::NotFound.into_response(),
        Err(err) => {
            server_common::metrics::global().upstream_error(err.metric_reason());
            AppError::from(err).into_response()
        }
    }
}
