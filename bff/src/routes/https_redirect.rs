//! The plain-HTTP listener: it only sends browsers to the HTTPS origin.

use std::sync::Arc;

use axum::{
    Router,
    extract::{OriginalUri, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

/// Redirects every request to the same path and query under `public_url`. The `Host` header is
/// never used: a hostile one must not choose where the browser goes.
pub fn app(public_url: Arc<str>) -> Router {
    Router::new().fallback(redirect).with_state(public_url)
}

async fn redirect(State(public_url): State<Arc<str>>, OriginalUri(uri): OriginalUri) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    // A path is always absolute here; "//evil" would read as another host, so collapse it.
    let path = format!("/{}", path.trim_start_matches('/'));
    match HeaderValue::from_str(&format!("{public_url}{path}")) {
        Ok(location) => (
            StatusCode::PERMANENT_REDIRECT,
            [(header::LOCATION, location)],
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
