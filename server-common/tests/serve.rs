//! `serve` with real sockets: a trickled body is cut at its deadline, connections past the cap
//! wait, and the shutdown drains, lets requests in flight finish, ends watches between events,
//! closes upgraded connections and returns inside the grace period.

use std::{
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    body::Body,
    extract::Request,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hyper::body::{Bytes, Frame};
use hyper_util::rt::TokioIo;
use server_common::serve::{Lifecycle, ServeSettings};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{mpsc, oneshot},
    task::JoinHandle,
    time::Instant,
};

async fn start(
    app: Router,
    settings: ServeSettings,
    lifecycle: Lifecycle,
) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    let server = tokio::spawn(server_common::serve::serve(
        listener,
        None,
        app,
        Arc::new(settings),
        lifecycle,
    ));
    (address, server)
}

fn long_lifecycle() -> Lifecycle {
    Lifecycle::new(Duration::from_secs(60), Duration::from_secs(60))
}

/// Reads one response (head and a Content-Length body) from `stream`.
async fn read_response(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if received.len() >= end + 4 + length {
                return Ok(text);
            }
        }
        let n = stream.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "the connection closed after {text:?}");
        received.extend_from_slice(&buffer[..n]);
    }
}

async fn get_on(stream: &mut TcpStream, path: &str) -> anyhow::Result<String> {
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").as_bytes())
        .await?;
    read_response(stream).await
}

/// Reads until the peer closes the connection; fails on a reset.
async fn read_to_close(stream: &mut TcpStream) -> anyhow::Result<String> {
    let mut all = Vec::new();
    stream.read_to_end(&mut all).await?;
    Ok(String::from_utf8_lossy(&all).to_string())
}

#[tokio::test]
async fn a_trickled_request_body_is_answered_408_at_its_deadline() -> anyhow::Result<()> {
    let app = Router::new().route(
        "/upload",
        post(|body: Body| async move {
            match axum::body::to_bytes(body, usize::MAX).await {
                Ok(bytes) => format!("got {}", bytes.len()).into_response(),
                Err(_) => StatusCode::BAD_REQUEST.into_response(),
            }
        }),
    );
    let settings = ServeSettings {
        request_body_timeout: Duration::from_secs(1),
        ..ServeSettings::default()
    };
    let (address, _server) = start(app, settings, long_lifecycle()).await;
    let stream = TcpStream::connect(address).await?;
    let (mut read, mut write) = stream.into_split();
    write
        .write_all(b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 200\r\n\r\n")
        .await?;
    let started = Instant::now();
    // One byte every 100 ms: each arrives well within any per-read timeout, the whole would
    // take 20 s.
    let trickle = tokio::spawn(async move {
        for _ in 0..200 {
            if write.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(8), read.read_to_end(&mut answer))
        .await
        .map_err(|_| anyhow::anyhow!("no answer and no close within 8 s"))??;
    let elapsed = started.elapsed();
    trickle.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        elapsed < Duration::from_secs(4),
        "answered and closed after {elapsed:?}, the deadline is 1 s"
    );
    Ok(())
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_ends() -> anyhow::Result<()> {
    let app = Router::new().route("/hello", get(|| async { "hello" }));
    let settings = ServeSettings {
        max_connections: 2,
        ..ServeSettings::default()
    };
    let (address, _server) = start(app, settings, long_lifecycle()).await;
    let mut first = TcpStream::connect(address).await?;
    let mut second = TcpStream::connect(address).await?;
    assert!(get_on(&mut first, "/hello").await?.ends_with("hello"));
    assert!(get_on(&mut second, "/hello").await?.ends_with("hello"));

    // The kernel completes the handshake, but the server does not take the connection.
    let mut third = TcpStream::connect(address).await?;
    third
        .write_all(b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n")
        .await?;
    let waiting = tokio::time::timeout(Duration::from_millis(700), read_response(&mut third)).await;
    assert!(
        waiting.is_err(),
        "a third connection was served past a cap of two: {waiting:?}"
    );

    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), read_response(&mut third))
        .await
        .map_err(|_| anyhow::anyhow!("the third connection was not served once one ended"))??;
    assert!(answer.ends_with("hello"), "{answer}");
    // The second is still served.
    assert!(get_on(&mut second, "/hello").await?.ends_with("hello"));
    Ok(())
}

/// A response body fed by the test, as an upstream watch stream would be.
struct ChannelBody(mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|bytes| Ok(Frame::data(bytes))))
    }
}

/// An exec-like upgrade whose far side stays open until the server closes it.
async fn upgrade(mut request: Request) -> Response {
    let lifecycle = request.extensions().get::<Lifecycle>().cloned();
    let on_upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = on_upgrade.await {
            let (near, far) = tokio::io::duplex(1024);
            server_common::serve::splice_upgraded(TokioIo::new(upgraded), near, lifecycle).await;
            drop(far);
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "test")
        .body(Body::empty())
        .unwrap_or_default()
}

#[tokio::test]
async fn shutdown_drains_then_finishes_requests_ends_watches_between_events_and_returns()
-> anyhow::Result<()> {
    let (events, events_rx) = mpsc::channel::<Bytes>(8);
    let events_rx = Arc::new(std::sync::Mutex::new(Some(events_rx)));
    let (slow_started, slow_started_rx) = oneshot::channel::<()>();
    let slow_started = Arc::new(std::sync::Mutex::new(Some(slow_started)));
    let app = Router::new()
        .route("/readyz", get(|| async { "ready" }))
        .route(
            "/slow",
            get(move || {
                let started = slow_started.lock().ok().and_then(|mut s| s.take());
                async move {
                    if let Some(started) = started {
                        let _ = started.send(());
                    }
                    // A request that is still working when the drain window ends.
                    tokio::time::sleep(Duration::from_millis(2500)).await;
                    "done"
                }
            }),
        )
        .route(
            "/api/v1/pods",
            get(move || {
                let rx = events_rx.lock().ok().and_then(|mut r| r.take());
                async move {
                    match rx {
                        Some(rx) => Body::new(ChannelBody(rx)).into_response(),
                        None => StatusCode::CONFLICT.into_response(),
                    }
                }
            }),
        )
        .route("/exec", get(upgrade));
    let drain = Duration::from_secs(1);
    let grace = Duration::from_secs(6);
    let lifecycle = Lifecycle::new(drain, grace);
    let (address, server) = start(app, ServeSettings::default(), lifecycle.clone()).await;

    let mut watch = TcpStream::connect(address).await?;
    watch
        .write_all(b"GET /api/v1/pods?watch=1 HTTP/1.1\r\nHost: test\r\n\r\n")
        .await?;
    events
        .send(Bytes::from_static(b"{\"type\":\"ADDED\",\"n\":1}\n"))
        .await?;
    let mut seen = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"n\":1}") {
        let n = watch.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "the watch closed early");
        seen.extend_from_slice(&buffer[..n]);
    }

    let mut exec = TcpStream::connect(address).await?;
    exec.write_all(
        b"GET /exec HTTP/1.1\r\nHost: test\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n",
    )
    .await?;
    let switched = read_response(&mut exec).await?;
    assert!(switched.starts_with("HTTP/1.1 101"), "{switched}");

    let mut slow = TcpStream::connect(address).await?;
    slow.write_all(b"GET /slow HTTP/1.1\r\nHost: test\r\n\r\n")
        .await?;
    slow_started_rx.await?;

    let signalled = Instant::now();
    lifecycle.begin_shutdown();

    // At once: readiness fails, on a connection made after the signal.
    let mut probe = TcpStream::connect(address).await?;
    let readyz = get_on(&mut probe, "/readyz").await?;
    assert!(readyz.starts_with("HTTP/1.1 503"), "{readyz}");
    assert!(
        signalled.elapsed() < drain,
        "the probe came too late to prove anything"
    );

    // Half an event when the drain window ends: the stream must not end inside it.
    events
        .send(Bytes::from_static(b"{\"type\":\"MODIFIED\","))
        .await?;
    lifecycle.closing().await;
    events.send(Bytes::from_static(b"\"n\":2}\n")).await?;

    let watch_rest = tokio::time::timeout(grace, read_to_close(&mut watch))
        .await
        .map_err(|_| anyhow::anyhow!("the watch was not ended"))??;
    let whole = format!("{}{watch_rest}", String::from_utf8_lossy(&seen));
    assert!(
        whole.contains("{\"type\":\"MODIFIED\",") && whole.contains("\"n\":2}\n"),
        "the event in progress was cut: {whole:?}"
    );
    assert!(
        whole.ends_with("0\r\n\r\n"),
        "the watch did not end as a complete chunked response: {whole:?}"
    );

    let exec_rest = tokio::time::timeout(grace, read_to_close(&mut exec))
        .await
        .map_err(|_| anyhow::anyhow!("the upgraded connection was not closed"))??;
    assert!(exec_rest.is_empty(), "{exec_rest:?}");

    let slow_answer = tokio::time::timeout(grace, read_response(&mut slow))
        .await
        .map_err(|_| anyhow::anyhow!("the request in flight did not finish"))??;
    assert!(
        slow_answer.starts_with("HTTP/1.1 200") && slow_answer.ends_with("done"),
        "{slow_answer}"
    );

    tokio::time::timeout_at(signalled + grace, server)
        .await
        .map_err(|_| anyhow::anyhow!("serve did not return inside the grace period"))??;
    let refused = TcpStream::connect(address).await;
    assert!(refused.is_err(), "a connection was accepted after closing");
    Ok(())
}

#[tokio::test]
async fn shutdown_gives_up_on_what_is_still_open_at_the_grace_deadline() -> anyhow::Result<()> {
    let entered = Arc::new(tokio::sync::Notify::new());
    let entered_in_handler = entered.clone();
    let app = Router::new().route(
        "/forever",
        get(move || async move {
            entered_in_handler.notify_one();
            std::future::pending::<()>().await;
            "never"
        }),
    );
    let grace = Duration::from_secs(2);
    let lifecycle = Lifecycle::new(Duration::from_millis(200), grace);
    let (address, server) = start(app, ServeSettings::default(), lifecycle.clone()).await;
    let mut stuck = TcpStream::connect(address).await?;
    stuck
        .write_all(b"GET /forever HTTP/1.1\r\nHost: test\r\n\r\n")
        .await?;
    entered.notified().await;
    let signalled = Instant::now();
    lifecycle.begin_shutdown();
    tokio::time::timeout(grace + Duration::from_secs(2), server)
        .await
        .map_err(|_| anyhow::anyhow!("serve waited past the grace period"))??;
    let took = signalled.elapsed();
    assert!(
        took >= grace - Duration::from_millis(100),
        "returned after {took:?}, before the grace deadline"
    );
    Ok(())
}
