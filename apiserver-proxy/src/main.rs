//! The apiserver-proxy: the address a downloaded kubeconfig points at. Here it serves TLS and
//! reports health; authentication and forwarding with impersonation come with the proxy issue.

use std::{net::SocketAddr, path::PathBuf};

use anyhow::Context;
use axum::{Json, Router, routing::get};
use clap::Parser;
use serde_json::json;
use tokio::net::TcpListener;

#[derive(Debug, clap::Parser)]
#[command(
    name = "apiserver-proxy",
    about = "JWT-validating proxy in front of the kube-apiserver"
)]
struct Config {
    /// Address of the TLS listener.
    #[arg(long, env = "PROXY_LISTEN", default_value = "127.0.0.1:9443")]
    listen: SocketAddr,
    /// PEM certificate chain of the TLS listener.
    #[arg(long, env = "PROXY_TLS_CERT")]
    tls_cert: PathBuf,
    /// PEM private key of the TLS listener.
    #[arg(long, env = "PROXY_TLS_KEY")]
    tls_key: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server_common::init_tracing();
    let config = Config::parse();
    let tls = server_common::tls::server_config(&config.tls_cert, &config.tls_key)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %config.listen, "serving TLS");
    server_common::serve::serve(listener, Some(tls), app(), server_common::shutdown_signal()).await;
    Ok(())
}

fn app() -> Router {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route(
            "/readyz",
            get(|| async { Json(json!({"status": "ready"})) }),
        )
}
