use std::{sync::Arc, time::Duration};

use anyhow::Context;
use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use bff::{
    AppState,
    config::{Config, Listener},
    oidc, routes,
};
use clap::Parser;
use server_common::serve::{Lifecycle, ServeSettings};
use shared::{ApiError, ErrorCode};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    server_common::init_tracing();
    let config = Config::parse();
    let state = AppState::from_config(&config)?;

    tokio::spawn(oidc::keep_loaded(state.oidc.clone()));

    let tls = match config.listener()? {
        Listener::Https { cert, key } => Some(server_common::tls::server_config(
            &cert,
            &key,
            server_common::tls::Protocols::Http2AndHttp1,
        )?),
        Listener::PlainHttp => None,
    };
    let main = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let metrics = TcpListener::bind(config.metrics_listen)
        .await
        .with_context(|| format!("binding {}", config.metrics_listen))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(address = %config.listen, metrics = %config.metrics_listen, scheme, "serving");

    // Every listener drains and closes together.
    let lifecycle = Lifecycle::new(
        Duration::from_secs(config.shutdown_drain_seconds),
        Duration::from_secs(config.shutdown_grace_seconds),
    );
    lifecycle.shut_down_on_signal();
    let settings = ServeSettings {
        max_connections: config.max_connections,
        request_body_timeout: Duration::from_secs(config.request_body_timeout_seconds),
        record_requests_as: Some(scheme),
        body_timeout_response: body_too_slow,
    };
    let metrics_task = tokio::spawn(server_common::metrics::serve(metrics, lifecycle.clone()));

    let redirect = match config.http_listen {
        Some(address) => {
            let listener = TcpListener::bind(address)
                .await
                .with_context(|| format!("binding {address}"))?;
            tracing::info!(%address, "redirecting plain HTTP to HTTPS");
            let app = routes::https_redirect::app(Arc::from(config.public_url.as_str()));
            let settings = ServeSettings {
                record_requests_as: Some("http"),
                ..settings.clone()
            };
            Some(tokio::spawn(server_common::serve::serve(
                listener,
                None,
                app,
                Arc::new(settings),
                lifecycle.clone(),
            )))
        }
        None => None,
    };

    server_common::serve::serve(main, tls, bff::app(state), Arc::new(settings), lifecycle).await;
    if let Some(task) = redirect {
        task.abort();
    }
    metrics_task.abort();
    tracing::info!("shut down");
    Ok(())
}

fn body_too_slow() -> Response {
    (
        StatusCode::REQUEST_TIMEOUT,
        axum::Json(ApiError::new(
            ErrorCode::BadRequest,
            "The request body did not arrive in time.",
        )),
    )
        .into_response()
}
