//! The process's shutdown phases (see the `serve` module comment), shared by all its listeners.

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};

use super::{DEFAULT_SHUTDOWN_DRAIN, DEFAULT_SHUTDOWN_GRACE};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    Draining,
    Closing { give_up_at: Instant },
}

/// The process's shutdown state, shared by all its listeners; cheap to clone. `serve` puts a
/// clone into every request's extensions, for handlers that hold connections of their own
/// (see `splice_upgraded`).
#[derive(Clone)]
pub struct Lifecycle {
    phase: Arc<watch::Sender<Phase>>,
    /// Connections and upgraded connections still open.
    open: Arc<watch::Sender<usize>>,
    drain: Duration,
    grace: Duration,
}

/// The default drain and grace; nothing starts the shutdown until `shut_down_on_signal` or
/// `begin_shutdown` is called.
impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle::new(DEFAULT_SHUTDOWN_DRAIN, DEFAULT_SHUTDOWN_GRACE)
    }
}

/// Holds one place in `Lifecycle`'s count of open connections.
pub struct Open(Arc<watch::Sender<usize>>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Lifecycle {
    /// `drain`: how long new connections are still accepted after the signal; `grace`: when,
    /// counted from the signal, the server stops waiting for what is still open.
    pub fn new(drain: Duration, grace: Duration) -> Lifecycle {
        Lifecycle {
            phase: Arc::new(watch::channel(Phase::Serving).0),
            open: Arc::new(watch::channel(0).0),
            drain: drain.min(grace),
            grace,
        }
    }

    /// Starts the shutdown on SIGTERM or Ctrl-C.
    pub fn shut_down_on_signal(&self) {
        let lifecycle = self.clone();
        tokio::spawn(async move {
            crate::shutdown_signal().await;
            lifecycle.begin_shutdown();
        });
    }

    /// Starts draining now and closing after the drain window.
    pub fn begin_shutdown(&self) {
        if *self.phase.borrow() != Phase::Serving {
            return;
        }
        let give_up_at = Instant::now() + self.grace;
        self.phase.send_replace(Phase::Draining);
        tracing::info!(
            drain = ?self.drain,
            grace = ?self.grace,
            "shutting down: draining (readyz fails, connections still accepted)"
        );
        let phase = self.phase.clone();
        let drain = self.drain;
        tokio::spawn(async move {
            tokio::time::sleep(drain).await;
            tracing::info!(
                "shutting down: closing (no new connections; in-flight requests finish)"
            );
            phase.send_replace(Phase::Closing { give_up_at });
        });
    }

    /// True from the signal on: readiness fails.
    pub fn is_draining(&self) -> bool {
        *self.phase.borrow() != Phase::Serving
    }

    /// Resolves once the drain window is over.
    pub async fn closing(&self) {
        let mut phase = self.phase.subscribe();
        let _ = phase.wait_for(|p| matches!(p, Phase::Closing { .. })).await;
    }

    fn give_up_at(&self) -> Option<Instant> {
        match *self.phase.borrow() {
            Phase::Closing { give_up_at } => Some(give_up_at),
            _ => None,
        }
    }

    /// Counts a connection as open until the returned guard is dropped.
    pub fn open(&self) -> Open {
        self.open.send_modify(|n| *n += 1);
        Open(self.open.clone())
    }

    /// Resolves after closing once nothing is open, or at the grace deadline.
    pub(super) async fn finished(&self) {
        self.closing().await;
        let Some(give_up_at) = self.give_up_at() else {
            return;
        };
        let mut open = self.open.subscribe();
        let all_closed = open.wait_for(|n| *n == 0);
        if tokio::time::timeout_at(give_up_at, all_closed)
            .await
            .is_err()
        {
            tracing::warn!(
                open = *self.open.borrow(),
                "the shutdown grace period is over: connections still open are cut"
            );
        }
    }
}
