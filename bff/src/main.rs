use std::sync::Arc;

use anyhow::Context;
use bff::{AppState, config::Config, oidc, routes};
use clap::Parser;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server_common::init_tracing();
    let config = Config::parse();
    let state = AppState::from_config(&config)?;

    tokio::spawn(oidc::keep_loaded(state.oidc.clone()));

    let tls = server_common::tls::server_config(&config.tls_cert, &config.tls_key)?;
    let https = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    tracing::info!(address = %config.listen, "serving HTTPS");

    let redirect = match config.http_listen {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("binding {address}"))?;
            tracing::info!(%address, "redirecting plain HTTP to HTTPS");
            let app = routes::https_redirect::app(Arc::from(config.public_url.as_str()));
            Some(tokio::spawn(server_common::serve::serve(
                listener,
                None,
                app,
                server_common::shutdown_signal(),
            )))
        }
        None => None,
    };

    server_common::serve::serve(
        https,
        Some(tls),
        bff::app(state),
        server_common::shutdown_signal(),
    )
    .await;
    if let Some(task) = redirect {
        task.abort();
    }
    Ok(())
}
