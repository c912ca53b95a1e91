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
    use std::sync::{Arc, Mutex};

    use axum::{Router, body::Body, http::Request, routing::get};
    use tower::ServiceExt;

    use super::*;

    /// What the subscriber writes, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut captured) = self.0.lock() {
                captured.extend_from_slice(bytes);
            }
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn the_span_names_the_matched_route_and_never_the_path_or_query() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
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
        let log = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
        assert!(log.contains("route=/things/{name}"), "{log}");
        assert!(log.contains("inside the handler"), "{log}");
        assert!(log.contains("status=200"), "{log}");
        assert!(!log.contains("secret"), "{log}");
    }
}
