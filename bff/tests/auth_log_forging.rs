//! A callback whose error text from the identity provider holds a line break cannot forge a log
//! line. On its own in this test binary: tracing caches whether a log call is wanted per call
//! site, for the whole process, and a test on another thread without this test's subscriber
//! could leave the call site off while this one looks for its line.

use std::sync::{Arc, Mutex};

use axum::{
    body::Body,
    http::{Request, header},
};

mod support;

use support::auth::{location, login_in_progress, send};

/// Collects what the subscriber writes, to read the log lines back.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn text_from_the_identity_provider_cannot_forge_a_log_line() {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread: the handler logs through this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);
    let response = send(
        Request::get(
            "/auth/callback?state=the-state-dex-will-send-back\
             &error=denied%0AFORGED%20INFO%20bff%3A%20admin%20logged%20in",
        )
        .header(header::COOKIE, login_in_progress())
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    assert!(location(&response).starts_with("/auth/error?reason=provider_error"));
    let log = String::from_utf8(buffer.0.lock().expect("log").clone()).expect("utf-8");
    assert!(log.contains("refused the login"), "{log}");
    assert!(
        !log.lines().any(|line| line.starts_with("FORGED")),
        "a forged line: {log}"
    );
}
