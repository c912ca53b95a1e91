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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::{Router, body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn the_span_names_the_matched_route_and_never_the_path_or_query() {
        // The log goes to a file of this test's own (`&File` writes, so `Arc<File>` makes
        // writers), read back once the request is answered.
        let path = std::env::temp_dir().join(format!("bff-request-trace-{}", std::process::id()));
        let file = Arc::new(std::fs::File::create(&path).expect("log file"));
        let subscriber = tracing_subscriber::fmt()
            .with_writer(file)
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
        // The test runtime has one thread: the middleware logs through this subscriber.
        let _default = tracing::subscriber::set_default(subscriber);
        let app = Router::new()
            .route(
                "/things/{name}",
                get(|| async {
                    tracing::info!("inside the handler");
                }),
            )
            .layer(axum::middleware::from_fn(trace_request));
        let response = app
            .oneshot(
                Request::get("/things/secret-name?continue=secret-token")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert!(response.status().is_success());
        let log = std::fs::read_to_string(&path).expect("log");
        let _ = std::fs::remove_file(&path);
        assert!(log.contains("route=/things/{name}"), "{log}");
        assert!(log.contains("inside the handler"), "{log}");
        assert!(log.contains("status=200"), "{log}");
        assert!(!log.contains("secret"), "{log}");
    }
}
