//! The pooled HTTPS client both servers forward with: hyper (HTTP/1.1, so that upgrades work),
//! rustls, and no redirect handling at all, so nothing upstream can send a request elsewhere.

use std::time::Duration;

use axum::body::Body;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

/// Hop-by-hop headers (RFC 9110, section 7.6.1) and the legacy ones proxies also drop: never
/// forwarded in either direction by either proxy. `Upgrade` is handled by each proxy apart.
pub const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

pub fn pooled(tls: rustls::ClientConfig) -> HttpsClient {
    let mut tcp = HttpConnector::new();
    // Requests are small writes answered at once: Nagle's algorithm would only add delay.
    tcp.set_nodelay(true);
    tcp.enforce_http(false);
    tcp.set_connect_timeout(Some(Duration::from_secs(5)));
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(tcp);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}
