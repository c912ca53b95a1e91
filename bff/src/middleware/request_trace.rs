//! One span per request, named by the route that matched (`/api/k8s/{*path}`, not the path
//! asked for) and never with the query string: paths name the user's objects and queries carry
//! selectors and continue tokens, and the log needs neither to tell what kind of request it
//! was. What a handler logs inside the span carries the route.

use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use tracing::Instrument;

/// Layered with `Router::layer`, so that routing has already put `MatchedPath` in; what no
/// route matched (the app's files and index page) is `fallback`.
pub async fn trace_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_string(), |m| m.as_str().to_string());
    let span = tracing::info_span!("request", method = %request.method(), %route);
    async move {
        let started = Instant::now();
        let response = next.run(request).await;
        tracing::debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis(),
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}
