//! Native code shared by the BFF and the apiserver-proxy.

pub mod bearer;
pub mod clock;
pub mod https_client;
pub mod metrics;
pub mod oidc;
pub mod serve;
#[cfg(feature = "stand-in-issuer")]
pub mod stand_in_issuer;
pub mod tls;
pub mod token_cache;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Nothing in this project logs a token at
/// any level; request logs carry method, path and status only.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

/// Resolves on Ctrl-C or SIGTERM, whichever comes first.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
