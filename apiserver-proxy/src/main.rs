use std::{sync::Arc, time::Duration};

use anyhow::Context;
use apiserver_proxy::{Proxy, config::Config};
use axum::http::StatusCode;
use clap::Parser;
use server_common::serve::{Lifecycle, ServeSettings};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server_common::init_tracing();
    let config = Config::parse();
    let proxy = Arc::new(Proxy::from_config(&config)?);
    tokio::spawn(server_common::oidc::keep_loaded(proxy.verifier.clone()));

    let tls = server_common::tls::server_config(
        &config.tls_cert,
        &config.tls_key,
        server_common::tls::Protocols::Http1,
    )?;
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let metrics = TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding {}", config.metrics_listen))?;
    tracing::info!(address = %config.listen, metrics = %config.metrics_listen, "serving");

    let lifecycle = Lifecycle::new(
        Duration::from_secs(config.shutdown_drain_seconds),
        Duration::from_secs(config.shutdown_grace_seconds),
    );
    lifecycle.shut_down_on_signal();
    let metrics_task = tokio::spawn(server_common::metrics::serve(metrics, lifecycle.clone()));
    let settings = ServeSettings {
        max_connections: config.max_connections,
        request_body_timeout: Duration::from_secs(config.request_body_timeout_seconds),
        record_requests_as: Some("https"),
        body_timeout_response: || {
            apiserver_proxy::status(
                StatusCode::REQUEST_TIMEOUT,
                "Timeout",
                "The request body did not arrive in time.",
            )
        },
    };
    server_common::serve::serve(
        listener,
        Some(tls),
        apiserver_proxy::app(proxy),
        Arc::new(settings),
        lifecycle,
    )
    .await;
    metrics_task.abort();
    tracing::info!("shut down");
    Ok(())
}
