use std::sync::Arc;

use anyhow::Context;
use apiserver_proxy::{Proxy, config::Config};
use clap::Parser;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server_common::init_tracing();
    let config = Config::parse();
    let proxy = Arc::new(Proxy::from_config(&config)?);
    tokio::spawn(server_common::oidc::keep_loaded(proxy.verifier.clone()));

    let tls = server_common::tls::server_config(&config.tls_cert, &config.tls_key)?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let metrics = TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding {}", config.metrics_listen))?;
    tracing::info!(address = %config.listen, metrics = %config.metrics_listen, "serving");
    let metrics_app = apiserver_proxy::metrics_app(proxy.clone());
    let metrics_task = tokio::spawn(server_common::serve::serve(
        metrics,
        None,
        metrics_app,
        std::future::pending(),
    ));
    server_common::serve::serve(
        listener,
        Some(tls),
        apiserver_proxy::app(proxy),
        server_common::shutdown_signal(),
    )
    .await;
    metrics_task.abort();
    Ok(())
}
