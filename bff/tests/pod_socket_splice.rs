//! The terminal's WebSocket spliced through the BFF to the fault-injection upstream
//! (tests/support), which accepts exec upgrades and echoes: the bearer goes upstream as
//! `Authorization` and never as a subprotocol, the browser gets the protocol the upstream chose,
//! bytes flow both ways, and the token is in no log line. A test binary of its own: it reads
//! what the BFF logs through a subscriber of this thread, which tests on other threads could
//! otherwise race for (tracing caches each call site's interest process-wide).

use std::{sync::Arc, time::Duration};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;

use support::{
    fault_upstream::Harness,
    terminal::{EXEC, OWN_ORIGIN, bearer_protocol},
};

/// Reads an HTTP response head (up to the blank line) off `stream`.
async fn read_head(stream: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let read = stream.read(&mut byte).await.expect("read");
        assert_eq!(read, 1, "the connection closed in the head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_string()
}

#[tokio::test]
async fn the_socket_goes_upstream_with_the_token_as_authorization_and_is_spliced() {
    // Everything the BFF logs on this thread (the test runtime has one) goes to this file.
    let log_path = std::env::temp_dir().join(format!("bff-pod-socket-{}", std::process::id()));
    let log_file = Arc::new(std::fs::File::create(&log_path).expect("log file"));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log_file)
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let harness = Harness::start().await;
    let address = harness.listen().await;
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let head = format!(
        "GET {EXEC} HTTP/1.1\r\nHost: 127.0.0.1:8443\r\nOrigin: {OWN_ORIGIN}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
         Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io, {}\r\n\r\n",
        bearer_protocol(&harness.token)
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    let answer = tokio::time::timeout(Duration::from_secs(20), read_head(&mut stream))
        .await
        .expect("an answer within 20 s");
    let lower = answer.to_ascii_lowercase();
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    assert!(
        lower.contains("sec-websocket-protocol: v5.channel.k8s.io\r\n"),
        "{answer}"
    );
    assert!(lower.contains("sec-websocket-accept: "), "{answer}");
    assert!(!lower.contains("bearer"), "{answer}");
    assert!(!lower.contains("sec-websocket-extensions"), "{answer}");

    // Bytes go through both ways, unread by the BFF.
    stream.write_all(b"\x00echo hi\r").await.expect("write");
    let mut echoed = [0u8; 9];
    tokio::time::timeout(Duration::from_secs(20), stream.read_exact(&mut echoed))
        .await
        .expect("the echo within 20 s")
        .expect("read");
    assert_eq!(&echoed, b"\x00echo hi\r");

    let seen = harness.upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].path_and_query,
        "/api/v1/namespaces/team-a/pods/chatty-1/exec?command=sh&stdin=true&stdout=true&tty=true"
    );
    assert_eq!(
        seen[0].protocols.as_deref(),
        Some("v5.channel.k8s.io, v4.channel.k8s.io")
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {}", harness.token).as_str())
    );

    drop(stream);
    let log = std::fs::read_to_string(&log_path).expect("log");
    let _ = std::fs::remove_file(&log_path);
    assert!(
        log.contains("answered"),
        "the BFF logged through this subscriber: {log}"
    );
    let encoded = bearer_protocol(&harness.token);
    let encoded = encoded.trim_start_matches("base64url.bearer.authorization.k8s.io.");
    assert!(!log.contains(&harness.token), "the token is in the log");
    assert!(!log.contains(encoded), "the encoded token is in the log");
}
