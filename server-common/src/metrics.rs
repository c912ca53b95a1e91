//! Both servers' Prometheus metrics: one process-wide registry (so that the OIDC verifier, the
//! proxies and the permission checks can count without a handle threaded through every struct),
//! the request-counting middleware that `serve` puts in front of each app, and the plain-HTTP
//! `/metrics` listener.
//!
//! Labels are only ever route templates, methods, status codes and fixed reasons: never a raw
//! path, a token, a user name or a namespace (those are unbounded, and some are secrets).

use std::sync::{Arc, LazyLock, Mutex};

use axum::{
    Router,
    extract::{MatchedPath, Request},
    http::{Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge},
    registry::Registry,
};
use tokio::net::TcpListener;

use crate::serve::{Lifecycle, ServeSettings};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Which of the server's listeners answered (`https`, `http`).
    pub listener: &'static str,
    /// The router's route template (`/api/k8s/{*path}`), or `fallback` where no route matched
    /// (the apiserver-proxy forwards the whole Kubernetes API from its fallback).
    pub route: String,
    pub method: &'static str,
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: &'static str,
}

pub struct Metrics {
    registry: Mutex<Registry>,
    pub http_requests: Family<RequestLabels, Counter>,
    pub connections_open: Gauge,
    /// The server's upstream (the BFF's apiserver-proxy, the apiserver-proxy's kube-apiserver)
    /// could not be reached or did not answer in time.
    pub upstream_errors: Family<ReasonLabels, Counter>,
    pub jwks_fetches: Family<OutcomeLabels, Counter>,
    pub token_rejections: Family<ReasonLabels, Counter>,
    pub permission_reviews: Counter,
    pub permission_reviews_cached: Counter,
    pub watches_active: Gauge,
    pub upgrades_active: Gauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

impl Metrics {
    fn new() -> Metrics {
        let metrics = Metrics {
            registry: Mutex::new(Registry::default()),
            http_requests: Family::default(),
            connections_open: Gauge::default(),
            upstream_errors: Family::default(),
            jwks_fetches: Family::default(),
            token_rejections: Family::default(),
            permission_reviews: Counter::default(),
            permission_reviews_cached: Counter::default(),
            watches_active: Gauge::default(),
            upgrades_active: Gauge::default(),
        };
        // Series that exist from the start at 0, so that a rate over them is defined before the
        // first error rather than missing.
        for reason in ["unreachable", "timeout"] {
            drop(
                metrics
                    .upstream_errors
                    .get_or_create(&ReasonLabels { reason }),
            );
        }
        if let Ok(mut registry) = metrics.registry.lock() {
            registry.register(
                "http_requests",
                "HTTP requests answered, by listener, route template, method and status",
                metrics.http_requests.clone(),
            );
            registry.register(
                "http_connections_open",
                "Client connections open (upgraded ones not included)",
                metrics.connections_open.clone(),
            );
            registry.register(
                "upstream_errors",
                "Requests whose upstream could not be reached or did not answer in time",
                metrics.upstream_errors.clone(),
            );
            registry.register(
                "oidc_jwks_fetches",
                "Fetches of the issuer's discovery document and JWKS, by outcome",
                metrics.jwks_fetches.clone(),
            );
            registry.register(
                "oidc_token_rejections",
                "Bearer tokens refused, by reason",
                metrics.token_rejections.clone(),
            );
            registry.register(
                "permission_reviews",
                "Access and rules reviews sent to the apiserver",
                metrics.permission_reviews.clone(),
            );
            registry.register(
                "permission_reviews_cached",
                "Namespaces whose rules came from the cache or a review already in flight",
                metrics.permission_reviews_cached.clone(),
            );
            registry.register(
                "watches_active",
                "Watch responses being streamed",
                metrics.watches_active.clone(),
            );
            registry.register(
                "upgrades_active",
                "Upgraded connections (exec, attach, port-forward) being spliced",
                metrics.upgrades_active.clone(),
            );
        }
        metrics
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if let Ok(registry) = self.registry.lock()
            && prometheus_client::encoding::text::encode(&mut text, &registry).is_err()
        {
            text.clear();
        }
        text
    }

    pub fn upstream_error(&self, reason: &'static str) {
        self.upstream_errors
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn jwks_fetch(&self, outcome: &'static str) {
        self.jwks_fetches
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub fn token_rejected(&self, reason: &'static str) {
        self.token_rejections
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}

/// Adds one to `gauge` for as long as it lives.
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    pub fn new(gauge: &Gauge) -> GaugeGuard {
        gauge.inc();
        GaugeGuard(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// A method as a label: the standard ones by name, anything a client made up as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts each request by its route template; layered onto a router with `Router::layer`, so
/// that routing has already put `MatchedPath` into the request.
pub async fn count_request(listener: &'static str, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "fallback".to_string(), |m| m.as_str().to_string());
    let method = method_label(request.method());
    let response = next.run(request).await;
    global()
        .http_requests
        .get_or_create(&RequestLabels {
            listener,
            route,
            method,
            status: response.status().as_u16().to_string(),
        })
        .inc();
    response
}

/// The metrics listener's app: `GET /metrics` only.
pub fn app() -> Router {
    Router::new().route(
        "/metrics",
        get(|| async {
            (
                [(
                    header::CONTENT_TYPE,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                )],
                global().encode(),
            )
                .into_response()
        }),
    )
}

/// Serves `/metrics` in plain HTTP on `listener` until the server shuts down; a scraper needs
/// few connections, so the cap is small.
pub async fn serve(listener: TcpListener, lifecycle: Lifecycle) {
    let settings = Arc::new(ServeSettings {
        max_connections: 64,
        record_requests_as: None,
        ..ServeSettings::default()
    });
    crate::serve::serve(listener, None, app(), settings, lifecycle).await;
}

/// Counts a refused token under a fixed reason (never anything from the token itself).
pub fn token_rejected_for(err: &crate::oidc::TokenError) {
    use crate::oidc::TokenError;
    let reason = match err {
        TokenError::Malformed => "malformed",
        TokenError::AlgorithmNotAllowed => "algorithm_not_allowed",
        TokenError::UnknownKey => "unknown_key",
        TokenError::Rejected(rejection) => rejection.label(),
        TokenError::NonceMismatch => "nonce_mismatch",
        TokenError::NotLoaded => "keys_not_loaded",
    };
    global().token_rejected(reason);
}
