//! `serve` over TLS with HTTP/2 chosen in ALPN (as the BFF offers it): many watches and other
//! requests share one connection (a browser holds at most six HTTP/1.1 connections to an origin,
//! and the console keeps a watch open per thing it shows), and the drain ends the connection with
//! a GOAWAY after its next answer, while the watches in flight go on until the server closes. A
//! connection that begins no request within the head timeout is closed.

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
    http::{Request, StatusCode},
    response::IntoResponse,
    routing::get,
};
use futures::FutureExt;
use hyper::{
    body::{Body as _, Bytes, Frame, Incoming},
    client::conn::http2::SendRequest,
};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::{CertificateDer, ServerName};
use server_common::{
    serve::{Lifecycle, ServeSettings},
    tls::Protocols,
};
use tokio::{net::TcpListener, time::Instant};

/// A watch that never sends an event.
struct Silent;

impl hyper::body::Body for Silent {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Pending
    }
}

/// Serves `app` over TLS (a self-signed certificate for 127.0.0.1) offering HTTP/2.
async fn start(
    app: Router,
    lifecycle: Lifecycle,
) -> anyhow::Result<(
    SocketAddr,
    CertificateDer<'static>,
    tokio::task::JoinHandle<()>,
)> {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()])?;
    // A folder per server: the tests run at once.
    static SERVERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERVERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("serve-http2-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    std::fs::write(&cert, certified.cert.pem())?;
    std::fs::write(&key, certified.signing_key.serialize_pem())?;
    let tls = server_common::tls::server_config(&cert, &key, Protocols::Http2AndHttp1)?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let server = tokio::spawn(server_common::serve::serve(
        listener,
        Some(tls),
        app,
        Arc::new(ServeSettings::default()),
        lifecycle,
    ));
    Ok((address, certified.cert.der().clone(), server))
}

/// A TLS connection to the server that offers HTTP/2 only in ALPN.
async fn tls_asking_for_http2(
    address: SocketAddr,
    cert: CertificateDer<'static>,
) -> anyhow::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert)?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(address).await?;
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1")?.to_owned(), tcp)
        .await?)
}

/// One TLS connection that asks for HTTP/2 only, and its request sender.
async fn connect(
    address: SocketAddr,
    cert: CertificateDer<'static>,
) -> anyhow::Result<(
    SendRequest<Body>,
    tokio::task::JoinHandle<hyper::Result<()>>,
)> {
    let tls = tls_asking_for_http2(address, cert).await?;
    anyhow::ensure!(
        tls.get_ref().1.alpn_protocol() == Some(b"h2"),
        "the server did not choose HTTP/2"
    );
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await?;
    Ok((sender, tokio::spawn(connection)))
}

async fn get_on(
    sender: &mut SendRequest<Body>,
    address: SocketAddr,
    path: &str,
) -> anyhow::Result<hyper::Response<Incoming>> {
    sender.ready().await?;
    let request = Request::get(format!("https://{address}{path}")).body(Body::empty())?;
    Ok(sender.send_request(request).await?)
}

#[tokio::test]
async fn over_http2_watches_share_one_connection_and_the_drain_ends_it_with_a_goaway()
-> anyhow::Result<()> {
    let app = Router::new()
        .route("/readyz", get(|| async { "ready" }))
        .route(
            "/api/v1/pods",
            get(|| async { Body::new(Silent).into_response() }),
        );
    let (drain, grace) = (Duration::from_secs(1), Duration::from_secs(6));
    let lifecycle = Lifecycle::new(drain, grace);
    let (address, cert, server) = start(app, lifecycle.clone()).await?;
    let (mut sender, connection) = connect(address, cert).await?;

    // More watches than a browser's six HTTP/1.1 connections, and a request beside them.
    let mut watches = Vec::new();
    for _ in 0..8 {
        let watch = get_on(&mut sender, address, "/api/v1/pods?watch=1").await?;
        assert_eq!(watch.status(), StatusCode::OK);
        watches.push(watch);
    }
    let ready = get_on(&mut sender, address, "/readyz").await?;
    assert_eq!(ready.status(), StatusCode::OK);

    // Draining: the next answer is the last this connection gives (GOAWAY), so that the client
    // opens its next connection anew, elsewhere once this pod is out of the endpoints.
    lifecycle.begin_shutdown();
    let draining = get_on(&mut sender, address, "/readyz").await?;
    assert_eq!(draining.status(), StatusCode::SERVICE_UNAVAILABLE);
    let deadline = Instant::now() + drain;
    loop {
        if get_on(&mut sender, address, "/readyz").await.is_err() {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the connection still takes new requests"
        );
    }
    // The watches in flight go on through the drain.
    for watch in &mut watches {
        let frame = std::future::poll_fn(|cx| Pin::new(watch.body_mut()).poll_frame(cx));
        assert!(
            frame.now_or_never().is_none(),
            "a watch was cut at the drain"
        );
    }

    // Closing: the watches end (between events), then the connection, then the server.
    for watch in watches {
        let body = Body::new(watch.into_body());
        tokio::time::timeout(grace, axum::body::to_bytes(body, 1024))
            .await
            .map_err(|_| anyhow::anyhow!("a watch was not ended"))??;
    }
    // (hyper's client task ends once it can send nothing more; the server's end is what counts.)
    drop(connection);
    tokio::time::timeout(grace, server)
        .await
        .map_err(|_| anyhow::anyhow!("serve did not return inside the grace period"))??;
    Ok(())
}

/// A client that opens an HTTP/2 connection and asks nothing would hold one of the server's
/// connection places for good: it is closed once the head timeout (10 s) has passed, with or
/// without the client's HTTP/2 preface.
#[tokio::test]
async fn an_http2_connection_that_asks_nothing_is_closed() -> anyhow::Result<()> {
    let app = Router::new().route("/", get(|| async { "ok" }));
    let (address, cert, _server) = start(app, Lifecycle::default()).await?;
    let deadline = Duration::from_secs(25);

    // The preface and settings sent (hyper's client), then nothing.
    let (_sender, connection) = connect(address, cert.clone()).await?;
    let started = Instant::now();
    tokio::time::timeout(deadline, connection)
        .await
        .map_err(|_| {
            anyhow::anyhow!("the idle HTTP/2 connection was still open after {deadline:?}")
        })??
        .ok();
    assert!(
        started.elapsed() >= Duration::from_secs(9),
        "closed too early"
    );

    // TLS with HTTP/2 chosen, then not even the preface.
    let mut tls = tls_asking_for_http2(address, cert).await?;
    let mut rest = Vec::new();
    let read = tokio::io::AsyncReadExt::read_to_end(&mut tls, &mut rest);
    // The server's SETTINGS and GOAWAY may come before the close; then the stream ends.
    match tokio::time::timeout(deadline, read).await {
        Ok(_) => Ok(()),
        Err(_) => anyhow::bail!("the silent HTTP/2 connection was still open after {deadline:?}"),
    }
}
