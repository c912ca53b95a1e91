//! Serving an axum router over plain TCP or TLS with hyper directly, because `axum::serve` sets no
//! header-read timeout (slowloris), no bound on the time a body takes, no connection cap, and
//! does not terminate TLS.
//!
//! Shutdown (`Lifecycle`), in three phases, shared by every listener of the process:
//! - serving;
//! - draining, from SIGTERM for `drain`: `/readyz` answers 503 so that the endpoints controller
//!   and the ingress take the pod out, while new connections are still accepted and answered
//!   (each answer with `Connection: close`, so that clients open their next connection anew,
//!   elsewhere once the pod is out);
//! - closing: listeners are dropped (new connections are refused), idle connections are closed,
//!   requests in flight finish, watch responses end at the next event boundary (the client sees
//!   a stream that ended and watches again) and upgraded connections are shut down; the server
//!   returns when all that is done, or at `grace` after the signal, whichever comes first.

mod bodies;
mod lifecycle;
mod upgraded;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::{
    net::TcpListener,
    sync::{Notify, Semaphore},
};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::metrics::{self, GaugeGuard};

use self::bodies::{DeadlineBody, WatchBody};
pub use self::{
    bodies::BodyTimedOut,
    lifecycle::{Lifecycle, Open},
    upgraded::splice_upgraded,
};

/// How long a client may take to send its request head, and to finish the TLS handshake. An
/// HTTP/2 connection that has begun no request by then is closed: hyper has no head timeout for
/// HTTP/2, and such a connection would hold one of the `max_connections` places for good.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle HTTP/2 connection is pinged.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(30);

pub const DEFAULT_MAX_CONNECTIONS: usize = 4096;
pub const DEFAULT_REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(60);
pub const DEFAULT_SHUTDOWN_DRAIN: Duration = Duration::from_secs(5);
/// Inside Kubernetes' default `terminationGracePeriodSeconds` of 30.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// How one listener serves.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    /// Connections served at once. Past it the listener stops accepting: further connections
    /// wait in the kernel's accept queue (and their clients' connect timeouts) until one ends,
    /// rather than being accepted and dropped, which clients would take as a failure and retry
    /// at once. The header-read and body timeouts bound how long a connection that sends
    /// nothing useful holds its place.
    pub max_connections: usize,
    /// The time from a request's head to the end of its body, whatever the pace: a body that
    /// trickles in a byte at a time is answered 408 and its connection closed at this deadline.
    pub request_body_timeout: Duration,
    /// The `listener` label of this listener's request metrics; `None` counts nothing.
    pub record_requests_as: Option<&'static str>,
    /// The answer to a request whose body did not arrive in time, in the server's error format.
    pub body_timeout_response: fn() -> Response,
}

impl Default for ServeSettings {
    fn default() -> Self {
        ServeSettings {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_body_timeout: DEFAULT_REQUEST_BODY_TIMEOUT,
            record_requests_as: Some("https"),
            body_timeout_response: || {
                (
                    StatusCode::REQUEST_TIMEOUT,
                    axum::Json(serde_json::json!({
                        "message": "The request body did not arrive in time."
                    })),
                )
                    .into_response()
            },
        }
    }
}

/// Serves `app` on `listener`, over TLS when `tls` is given, until `lifecycle` has closed.
pub async fn serve(
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    app: Router,
    settings: Arc<ServeSettings>,
    lifecycle: Lifecycle,
) {
    let app = match settings.record_requests_as {
        Some(listener) => app.layer(axum::middleware::from_fn(move |request, next| {
            metrics::count_request(listener, request, next)
        })),
        None => app,
    };
    let acceptor = tls.map(TlsAcceptor::from);
    let places = Arc::new(Semaphore::new(settings.max_connections.max(1)));
    loop {
        // A place first, then the connection: at the cap, connections wait to be accepted.
        let place = tokio::select! {
            () = lifecycle.closing() => break,
            place = places.clone().acquire_owned() => match place {
                Ok(place) => place,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = lifecycle.closing() => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Running out of file descriptors must not end the server.
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            app: app.clone(),
            settings: settings.clone(),
            lifecycle: lifecycle.clone(),
        };
        let acceptor = acceptor.clone();
        let open = lifecycle.open();
        tokio::spawn(async move {
            let _place = place;
            let _open = open;
            let _counted = GaugeGuard::new(&metrics::global().connections_open);
            match acceptor {
                Some(acceptor) => {
                    match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
                    {
                        Ok(Ok(tls_stream)) => {
                            let http2 = tls_stream.get_ref().1.alpn_protocol() == Some(b"h2");
                            connection.serve(TokioIo::new(tls_stream), http2).await
                        }
                        Ok(Err(err)) => tracing::debug!(%peer, %err, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
                None => connection.serve(TokioIo::new(stream), false).await,
            }
        });
    }
    // Dropping the listener refuses every connection from now on.
    drop(listener);
    lifecycle.finished().await;
}

struct Connection {
    app: Router,
    settings: Arc<ServeSettings>,
    lifecycle: Lifecycle,
}

impl Connection {
    /// Serves HTTP/2 when the client chose it in ALPN, else HTTP/1.1 (with upgrades).
    async fn serve<I>(self, io: I, http2: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Connection {
            app,
            settings,
            lifecycle,
        } = self;
        let closing = lifecycle.clone();
        let close = Arc::new(Notify::new());
        let requested = Arc::new(Notify::new());
        let service = {
            let close = close.clone();
            let requested = requested.clone();
            hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
                requested.notify_one();
                handle(
                    app.clone(),
                    settings.clone(),
                    lifecycle.clone(),
                    close.clone(),
                    request,
                )
            })
        };
        let result = if http2 {
            let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                // Finds peers that vanished without closing (a watch would hold them forever).
                .keep_alive_interval(Some(HTTP2_KEEP_ALIVE))
                .serve_connection(io, service);
            let no_request = async {
                if tokio::time::timeout(HEADER_READ_TIMEOUT, requested.notified())
                    .await
                    .is_ok()
                {
                    std::future::pending::<()>().await;
                }
            };
            until_closed(connection, &closing, &close, no_request, |c| {
                c.graceful_shutdown()
            })
            .await
        } else {
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(io, service)
                // Upgrades (exec, attach, port-forward) go through the same connection handling.
                .with_upgrades();
            // HTTP/1.1 has its head timeout (above).
            let never = std::future::pending::<()>();
            until_closed(connection, &closing, &close, never, |c| {
                c.graceful_shutdown()
            })
            .await
        };
        if let Err(err) = result {
            tracing::debug!(%err, "connection ended with an error");
        }
    }
}

/// Serves `connection` until done, and shuts it down gracefully (HTTP/1.1: closed once idle or
/// after the response in flight; HTTP/2: GOAWAY, the streams in flight finish) when the server
/// closes, when a response asked for its connection to end (`close`), or when `unused` ends (an
/// HTTP/2 connection that began no request in time).
async fn until_closed<C>(
    connection: C,
    closing: &Lifecycle,
    close: &Notify,
    unused: impl Future<Output = ()>,
    graceful_shutdown: impl FnOnce(std::pin::Pin<&mut C>),
) -> hyper::Result<()>
where
    C: Future<Output = hyper::Result<()>>,
{
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => return result,
        () = closing.closing() => {}
        () = close.notified() => {}
        () = unused => {
            graceful_shutdown(connection.as_mut());
            // Before the client's preface hyper cannot send a GOAWAY, and would wait for it
            // forever: the connection is dropped if it has not ended by then.
            return tokio::time::timeout(Duration::from_secs(1), connection)
                .await
                .unwrap_or(Ok(()));
        }
    }
    graceful_shutdown(connection.as_mut());
    connection.await
}

async fn handle(
    app: Router,
    settings: Arc<ServeSettings>,
    lifecycle: Lifecycle,
    close: Arc<Notify>,
    request: hyper::Request<Incoming>,
) -> Result<Response, std::convert::Infallible> {
    let watch = is_watch(request.uri());
    let timed_out = Arc::new(AtomicBool::new(false));
    let (mut parts, body) = request.into_parts();
    let body = DeadlineBody {
        inner: body,
        deadline: Box::pin(tokio::time::sleep(settings.request_body_timeout)),
        timed_out: timed_out.clone(),
    };
    parts.extensions.insert(lifecycle.clone());
    let request = hyper::Request::from_parts(parts, Body::new(body));
    if lifecycle.is_draining() && request.uri().path() == "/readyz" {
        let mut response = (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({"status": "shutting down"})),
        )
            .into_response();
        close_after(&mut response, &close);
        return Ok(response);
    }
    let mut response = app.oneshot(request).await?;
    if timed_out.load(Ordering::Relaxed) {
        tracing::info!("a request body did not arrive in time");
        response = (settings.body_timeout_response)();
        close_after(&mut response, &close);
        return Ok(response);
    }
    if response.status() == StatusCode::SWITCHING_PROTOCOLS {
        return Ok(response);
    }
    if lifecycle.is_draining() {
        close_after(&mut response, &close);
    }
    if watch && response.status().is_success() {
        let closing = lifecycle.clone();
        response = response.map(|inner| {
            Body::new(WatchBody {
                inner,
                closing: Box::pin(async move { closing.closing().await }),
                at_event_boundary: true,
                _active: GaugeGuard::new(&metrics::global().watches_active),
            })
        });
    }
    Ok(response)
}

/// Ends the connection after this response: `Connection: close` for HTTP/1.1 clients, and the
/// connection's graceful shutdown (for HTTP/2 a GOAWAY: the client opens its next connection
/// anew, elsewhere once this pod is out of the endpoints).
fn close_after(response: &mut Response, close: &Notify) {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    close.notify_one();
}

/// A Kubernetes watch: `watch=true` (or `1`) in the query, or the old `/watch/` path form.
pub fn is_watch(uri: &axum::http::Uri) -> bool {
    let in_query = uri.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            key == "watch" && matches!(value, "true" | "1")
        })
    });
    in_query || uri.path().contains("/watch/")
}
