//! `/api/k8s/*`: the app's Kubernetes API calls, forwarded to the apiserver-proxy with the
//! user's (verified) bearer token and nothing else the browser sent but a short allow-list of
//! headers. Only Kubernetes API paths pass; bodies stream both ways, so watches flow event by
//! event, and only the wait for the response head is timed, so watches are not cut.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Uri, header},
    response::{IntoResponse, Response},
    routing::any,
};
use shared::{ApiError, ErrorCode};

use crate::{AppState, auth::bearer::Authenticated, error::AppError};

pub const PREFIX: &str = "/api/k8s";
/// The largest request body forwarded (manifests are far smaller).
pub const BODY_LIMIT: usize = 3 * 1024 * 1024;
const RESPONSE_HEAD_TIMEOUT: Duration = Duration::from_secs(30);

pub type Upstream = server_common::https_client::HttpsClient;

pub struct KubeProxy {
    pub base: String,
    pub client: Upstream,
}

pub fn upstream_client(ca_pem_file: &std::path::Path) -> anyhow::Result<Upstream> {
    Ok(server_common::https_client::pooled(
        server_common::tls::client_config(ca_pem_file, None)?,
    ))
}

pub fn upstream_client_trusting(roots: rustls::RootCertStore) -> anyhow::Result<Upstream> {
    Ok(server_common::https_client::pooled(
        server_common::tls::client_config_trusting(roots, None)?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/k8s/{*path}", any(forward))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(BODY_LIMIT))
        // Outside the limit, so that its plain-text refusal becomes the shared JSON error.
        .layer(axum::middleware::map_response(too_large_as_json))
}

async fn too_large_as_json(response: Response) -> Response {
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_none_or(|t| t != "application/json")
    {
        let error = ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("The request body is larger than {BODY_LIMIT} bytes."),
        );
        return (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(error)).into_response();
    }
    response
}

/// The Kubernetes API path (with its query) a `/api/k8s/...` request names, or why not.
pub fn upstream_path(uri: &Uri) -> Result<String, &'static str> {
    let raw = uri.path();
    let path = raw.strip_prefix(PREFIX).ok_or("not under the API prefix")?;
    let lower = path.to_ascii_lowercase();
    if !path.starts_with('/') || path.starts_with("//") {
        return Err("not a path");
    }
    if lower.contains("%2f")
        || lower.contains("%5c")
        || lower.contains("%2e")
        || lower.contains('\\')
    {
        return Err("encoded slashes, backslashes and encoded dots are not allowed");
    }
    if path
        .split('/')
        .skip(1)
        .any(|segment| segment.is_empty() || segment == "." || segment == "..")
    {
        return Err("empty and dot segments are not allowed");
    }
    if path.chars().any(|c| c.is_control()) {
        return Err("control characters are not allowed");
    }
    let allowed = ["/api", "/apis", "/version", "/openapi/v2", "/openapi/v3"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")));
    if !allowed {
        return Err("only Kubernetes API paths are forwarded");
    }
    Ok(match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    })
}

/// The request headers the apiserver gets: the allow-list, and the verified token.
pub fn upstream_headers(client: &HeaderMap, token: &str) -> HeaderMap {
    const ALLOWED: [HeaderName; 3] = [header::ACCEPT, header::CONTENT_TYPE, header::CONTENT_LENGTH];
    let mut headers = HeaderMap::new();
    for name in ALLOWED {
        for value in client.get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Ok(bearer) = HeaderValue::from_str(&format!("Bearer {token}")) {
        headers.insert(header::AUTHORIZATION, bearer);
    }
    headers
}

/// The response headers the browser gets: no cookies from upstream, no hop-by-hop headers.
pub fn downstream_headers(upstream: &mut HeaderMap) {
    for name in server_common::https_client::HOP_BY_HOP {
        upstream.remove(name);
    }
    for name in ["upgrade", "set-cookie", "www-authenticate", "location"] {
        upstream.remove(name);
    }
}

async fn forward(State(state): State<AppState>, user: Authenticated, request: Request) -> Response {
    let path = match upstream_path(request.uri()) {
        Ok(path) => path,
        Err(reason) => return AppError::BadRequest(format!("Refused: {reason}.")).into_response(),
    };
    let (parts, body) = request.into_parts();
    let Ok(uri) = format!("{}{path}", state.kube.base).parse::<Uri>() else {
        return AppError::NotFound.into_response();
    };
    let mut upstream = hyper::Request::new(body);
    *upstream.method_mut() = parts.method;
    *upstream.uri_mut() = uri;
    *upstream.headers_mut() = upstream_headers(&parts.headers, &user.token);
    match tokio::time::timeout(RESPONSE_HEAD_TIMEOUT, state.kube.client.request(upstream)).await {
        Ok(Ok(mut response)) => {
            downstream_headers(response.headers_mut());
            response.map(Body::new)
        }
        Ok(Err(err)) => {
            // A body over the limit surfaces here as a body error.
            if std::error::Error::source(&err)
                .is_some_and(|s| s.to_string().contains("length limit exceeded"))
            {
                return (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    axum::Json(ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        "The request body is too large.",
                    )),
                )
                    .into_response();
            }
            server_common::metrics::global().upstream_error("unreachable");
            tracing::warn!(%err, "the apiserver-proxy is unreachable");
            AppError::UpstreamUnavailable.into_response()
        }
        Err(_) => {
            server_common::metrics::global().upstream_error("timeout");
            AppError::UpstreamTimeout.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(uri: &str) -> Result<String, &'static str> {
        upstream_path(&uri.parse::<Uri>().expect("uri"))
    }

    #[test]
    fn kubernetes_api_paths_pass_with_their_query() {
        assert_eq!(
            path("/api/k8s/api/v1/namespaces?limit=500").as_deref(),
            Ok("/api/v1/namespaces?limit=500")
        );
        assert_eq!(
            path("/api/k8s/apis/apps/v1/deployments?watch=1").as_deref(),
            Ok("/apis/apps/v1/deployments?watch=1")
        );
        assert_eq!(path("/api/k8s/version").as_deref(), Ok("/version"));
        assert_eq!(
            path("/api/k8s/openapi/v3/apis/apps/v1").as_deref(),
            Ok("/openapi/v3/apis/apps/v1")
        );
        assert_eq!(path("/api/k8s/api").as_deref(), Ok("/api"));
    }

    #[test]
    fn path_tricks_and_other_targets_are_refused() {
        for hostile in [
            "/api/k8s/healthz",
            "/api/k8s/metrics",
            "/api/k8s/apiextra",
            "/api/k8s//evil.example/api",
            "/api/k8s/api/../healthz",
            "/api/k8s/api/./v1",
            "/api/k8s/api/%2e%2e/healthz",
            "/api/k8s/api%2fv1",
            "/api/k8s/api/v1%2F..%2Fhealthz",
            "/api/k8s/api\\v1",
            "/api/k8s/api/v1//namespaces",
            "/api/k8s/api/%5cv1",
            "/api/k8s",
        ] {
            let uri = hostile.parse::<Uri>();
            if let Ok(uri) = uri {
                assert!(upstream_path(&uri).is_err(), "{hostile} must be refused");
            }
        }
    }

    #[test]
    fn only_allowed_headers_and_the_verified_token_go_upstream() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer the-browser-sent-this"),
            ("cookie", "__Host-kc-refresh=secret"),
            ("impersonate-user", "admin@example.com"),
            ("connection", "keep-alive"),
            ("x-forwarded-for", "1.2.3.4"),
            ("accept", "application/json;as=Table;g=meta.k8s.io;v=v1"),
            ("content-type", "application/json"),
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        let upstream = upstream_headers(&client, "verified-token");
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["accept", "content-type", "authorization"]);
        assert_eq!(upstream[header::AUTHORIZATION], "Bearer verified-token");
    }

    #[test]
    fn cookies_redirects_and_hop_by_hop_headers_do_not_come_back() {
        let mut upstream = HeaderMap::new();
        for (name, value) in [
            ("set-cookie", "a=b"),
            ("location", "https://evil.example/"),
            ("connection", "close"),
            ("transfer-encoding", "chunked"),
            ("content-type", "application/json"),
            ("audit-id", "x"),
        ] {
            upstream.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        downstream_headers(&mut upstream);
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["content-type", "audit-id"]);
    }
}
