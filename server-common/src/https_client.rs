//! The pooled HTTPS client both servers forward with: hyper (HTTP/1.1, so that upgrades work),
//! rustls, and no redirect handling at all, so nothing upstream can send a request elsewhere.

use std::time::Duration;

use axum::body::Body;
use hyper_util::{
    client::legacy::{Client, connect::HttpConnector},
    rt::TokioExecutor,
};

pub type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

pub fn pooled(tls: rustls::ClientConfig) -> HttpsClient {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}
