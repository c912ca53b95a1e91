//! Upgraded connections (exec, attach, port-forward) and the shutdown.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::Lifecycle;
use crate::metrics::{self, GaugeGuard};

/// Copies between the two sides of an upgraded connection (exec, attach, port-forward) until
/// either ends, or until the server is closing: then both are shut down (TLS close_notify and
/// FIN), so that the client sees the stream end rather than a reset. `lifecycle` is the one
/// `serve` put into the request's extensions.
pub async fn splice_upgraded<A, B>(mut client: A, mut upstream: B, lifecycle: Option<Lifecycle>)
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let _active = GaugeGuard::new(&metrics::global().upgrades_active);
    let _open = lifecycle.as_ref().map(Lifecycle::open);
    let closing = async {
        match &lifecycle {
            Some(lifecycle) => lifecycle.closing().await,
            None => std::future::pending().await,
        }
    };
    let closed_by_server = {
        let copy = tokio::io::copy_bidirectional(&mut client, &mut upstream);
        tokio::select! {
            _ = copy => false,
            () = closing => true,
        }
    };
    if closed_by_server {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            let _ = client.shutdown().await;
            let _ = upstream.shutdown().await;
        })
        .await;
    }
}
