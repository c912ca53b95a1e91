//! The one client of the apiserver-proxy: the API proxy (`/api/k8s`) and the permission reviews
//! both send through it, so that what reaches the cluster on a user's behalf is decided in one
//! place: the base URL, the pooled HTTPS client, and which request headers go along (a short
//! allow-list and the user's verified token, nothing else the browser sent).

use std::time::Duration;

use axum::{
    body::Body,
    http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header},
};
use hyper::body::Incoming;

use crate::error::AppError;

pub type HttpsClient = server_common::https_client::HttpsClient;

pub struct Upstream {
    /// Without a trailing slash: paths are appended as they are.
    base: String,
    client: HttpsClient,
}

/// Why nothing came back from the apiserver-proxy.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("not a URI: {0}")]
    BadUri(#[from] axum::http::uri::InvalidUri),
    #[error("the apiserver-proxy is unreachable: {0}")]
    Unreachable(#[from] hyper_util::client::legacy::Error),
    #[error("the apiserver-proxy did not answer in time")]
    Timeout,
}

impl UpstreamError {
    /// The `reason` label of the `upstream_errors` metric.
    pub fn metric_reason(&self) -> &'static str {
        match self {
            UpstreamError::Timeout => "timeout",
            UpstreamError::BadUri(_) | UpstreamError::Unreachable(_) => "unreachable",
        }
    }
}

impl From<UpstreamError> for AppError {
    fn from(err: UpstreamError) -> Self {
        match err {
            UpstreamError::BadUri(err) => {
                AppError::Internal(anyhow::anyhow!("the upstream URI: {err}"))
            }
            UpstreamError::Unreachable(_) => AppError::UpstreamUnavailable,
            UpstreamError::Timeout => AppError::UpstreamTimeout,
        }
    }
}

impl Upstream {
    pub fn new(base: &str, client: HttpsClient) -> Self {
        Upstream {
            base: base.trim_end_matches('/').to_string(),
            client,
        }
    }

    /// The apiserver-proxy at `base`, trusted through the CA certificate in `ca_pem_file`.
    pub fn with_ca_file(base: &str, ca_pem_file: &std::path::Path) -> anyhow::Result<Self> {
        Ok(Upstream::new(
            base,
            server_common::https_client::pooled(server_common::tls::client_config(
                ca_pem_file,
                None,
            )?),
        ))
    }

    /// The apiserver-proxy at `base`, trusted through `roots`.
    pub fn trusting(base: &str, roots: rustls::RootCertStore) -> anyhow::Result<Self> {
        Ok(Upstream::new(
            base,
            server_common::https_client::pooled(server_common::tls::client_config_trusting(
                roots, None,
            )?),
        ))
    }

    /// Sends `method` `path` (with its query, as checked by the caller) as the user whose
    /// verified `token` is given, with the allowed ones of `headers`, and waits at most
    /// `head_timeout` for the response head; the body then streams for as long as it takes.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &HeaderMap,
        body: Body,
        head_timeout: Duration,
    ) -> Result<hyper::Response<Incoming>, UpstreamError> {
        self.send_with(
            method,
            path,
            forwarded_headers(headers, token),
            body,
            head_timeout,
        )
        .await
    }

    /// Opens an exec or attach WebSocket (`path` as checked by the caller) as the user whose
    /// verified `token` is given: a GET with the browser's handshake key and version, offering
    /// only `protocols` (the channel protocols; never a credential). The caller upgrades on a
    /// `101 Switching Protocols` and answers anything else as it came.
    pub async fn open_websocket(
        &self,
        path: &str,
        token: &str,
        handshake: &HeaderMap,
        protocols: &str,
        head_timeout: Duration,
    ) -> Result<hyper::Response<Incoming>, UpstreamError> {
        let headers = websocket_headers(handshake, token, protocols);
        self.send_with(Method::GET, path, headers, Body::empty(), head_timeout)
            .await
    }

    async fn send_with(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Body,
        head_timeout: Duration,
    ) -> Result<hyper::Response<Incoming>, UpstreamError> {
        let uri: Uri = format!("{}{path}", self.base).parse()?;
        let mut request = hyper::Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        match tokio::time::timeout(head_timeout, self.client.request(request)).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(err)) => {
                tracing::warn!(%err, "the apiserver-proxy is unreachable");
                Err(UpstreamError::Unreachable(err))
            }
            Err(_) => Err(UpstreamError::Timeout),
        }
    }
}

/// The request headers the apiserver gets: the allow-list, and the verified token. The body's
/// length is the buffered body's, set by the client library.
pub fn forwarded_headers(client: &HeaderMap, token: &str) -> HeaderMap {
    const ALLOWED: [HeaderName; 2] = [header::ACCEPT, header::CONTENT_TYPE];
    let mut headers = HeaderMap::new();
    for name in ALLOWED {
        for value in client.get_all(&name) {
            headers.append(name.clone(), value.clone());
        }
    }
    if let Ok(mut bearer) = HeaderValue::from_str(&format!("Bearer {token}")) {
        bearer.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, bearer);
    }
    headers
}

/// The request headers of a WebSocket upgrade: the handshake's key and version as the browser
/// sent them, the channel `protocols`, the verified token, and nothing else (no extensions: the
/// BFF splices bytes and offers no compression; no `Origin`, which the BFF has checked).
pub fn websocket_headers(client: &HeaderMap, token: &str, protocols: &str) -> HeaderMap {
    let mut headers = forwarded_headers(&HeaderMap::new(), token);
    for name in [header::SEC_WEBSOCKET_KEY, header::SEC_WEBSOCKET_VERSION] {
        if let Some(value) = client.get(&name) {
            headers.insert(name, value.clone());
        }
    }
    if let Ok(protocols) = HeaderValue::from_str(protocols) {
        headers.insert(header::SEC_WEBSOCKET_PROTOCOL, protocols);
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_headers_and_the_verified_token_go_upstream() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("authorization", "Bearer the-browser-sent-this"),
            ("cookie", "__Host-kc-refresh=secret"),
            ("impersonate-user", "admin@example.com"),
            ("connection", "keep-alive"),
            ("x-forwarded-for", "1.2.3.4"),
            ("content-length", "2"),
            ("transfer-encoding", "chunked"),
            ("accept", "application/json;as=Table;g=meta.k8s.io;v=v1"),
            ("content-type", "application/json"),
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        let upstream = forwarded_headers(&client, "verified-token");
        let names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["accept", "content-type", "authorization"]);
        assert_eq!(upstream[header::AUTHORIZATION], "Bearer verified-token");
    }

    #[test]
    fn a_websocket_goes_upstream_with_its_handshake_the_channels_and_the_verified_token() {
        let mut client = HeaderMap::new();
        for (name, value) in [
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "13"),
            (
                "sec-websocket-protocol",
                "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9rZW4",
            ),
            ("sec-websocket-extensions", "permessage-deflate"),
            ("origin", "https://console.example"),
            ("cookie", "__Host-kc-refresh=secret"),
            ("authorization", "Bearer the-browser-sent-this"),
        ] {
            client.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_static(value),
            );
        }
        let upstream = websocket_headers(&client, "verified-token", "v5.channel.k8s.io");
        let mut names: Vec<&str> = upstream.keys().map(|n| n.as_str()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "authorization",
                "connection",
                "sec-websocket-key",
                "sec-websocket-protocol",
                "sec-websocket-version",
                "upgrade"
            ]
        );
        assert_eq!(upstream[header::AUTHORIZATION], "Bearer verified-token");
        assert_eq!(
            upstream[header::SEC_WEBSOCKET_PROTOCOL],
            "v5.channel.k8s.io"
        );
    }
}
