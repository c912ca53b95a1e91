//! Header names the HTTP parser must refuse before the proxy sees them: with a space or tab
//! before the colon, or folded onto the line before, `Impersonate-User` would not match the
//! proxy's removal rule by name, and a lenient parser upstream might still read it as one.
//! Served as `main` serves it (server_common::serve), over a raw TCP connection.

use std::sync::Arc;

use apiserver_proxy::{ClaimMapping, Proxy, app};
use server_common::oidc::OidcVerifier;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn served() -> std::net::SocketAddr {
    let tls = server_common::tls::client_config_trusting(rustls::RootCertStore::empty(), None)
        .expect("tls");
    let verifier = OidcVerifier::new(
        "https://127.0.0.1:9/dex".into(),
        vec!["kube-console".into()],
        server_common::oidc::http_client(None).expect("client"),
    );
    let proxy = Arc::new(Proxy::new(
        Arc::new(verifier),
        "https://127.0.0.1:9",
        server_common::https_client::pooled(tls),
        ClaimMapping::new("email", "", "groups", "", "https://127.0.0.1:9/dex").expect("mapping"),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(server_common::serve::serve(
        listener,
        None,
        app(proxy),
        Default::default(),
        Default::default(),
    ));
    address
}

async fn status_line(address: std::net::SocketAddr, head: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn header_names_with_whitespace_or_folding_are_refused_by_the_parser() {
    let address = served().await;
    for smuggled in [
        "Impersonate-User : admin@example.com\r\n",
        "Impersonate-User\t: admin@example.com\r\n",
        "X-Note: a\r\n Impersonate-Group: system:masters\r\n",
        " Impersonate-Group: system:masters\r\n",
    ] {
        let head =
            format!("GET /api HTTP/1.1\r\nHost: proxy\r\n{smuggled}Connection: close\r\n\r\n");
        let line = status_line(address, &head).await;
        assert!(line.starts_with("HTTP/1.1 400"), "{smuggled:?}: {line:?}");
    }
    // The same request without the smuggled line reaches the proxy, which asks for a token.
    let line = status_line(
        address,
        "GET /api HTTP/1.1\r\nHost: proxy\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(line.starts_with("HTTP/1.1 401"), "{line:?}");
}
