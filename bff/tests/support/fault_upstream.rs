//! The BFF in front of `FaultInjectionUpstream`, a stand-in for the apiserver-proxy that records
//! what reaches it: what the BFF refuses must never be sent upstream, not even in part.
//!
//! Two stand-ins, both on loopback: server-common's issuer (Dex's discovery and keys, with
//! server-common's test key), and `FaultInjectionUpstream` in place of the apiserver-proxy. The
//! real apiserver-proxy cannot tell a test whether a request reached it, nor hold reviews open,
//! nor send the hostile response headers a compromised upstream could; this one does.

use server_common::stand_in_issuer::StandInIssuer;
use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use axum::{
    body::Body,
    extract::Request as AxumRequest,
    http::{HeaderValue, Method, Request, header},
    response::{IntoResponse, Response},
};
use bff::AppState;
use clap::Parser;
use http_body_util::BodyExt;
use shared::ApiError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// What the fault-injection upstream saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path_and_query: String,
    pub body_len: usize,
    /// The WebSocket subprotocols offered, if any.
    pub protocols: Option<String>,
    pub authorization: Option<String>,
}

/// Stands in for the apiserver-proxy: records every request that reaches it (on arrival, before
/// its body is read), answers with headers a browser must never get from the console's origin,
/// and holds rules reviews until released, counting how many are open at once. A WebSocket
/// upgrade on an `exec` path is accepted with the first protocol offered, and then echoes.
pub struct FaultInjectionUpstream {
    pub url: String,
    arrived: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    pub reviews_open: Arc<AtomicUsize>,
    pub release: tokio::sync::watch::Sender<bool>,
}

impl FaultInjectionUpstream {
    pub async fn start(dir: &std::path::Path) -> FaultInjectionUpstream {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
        let (cert, key) = (dir.join("upstream.crt"), dir.join("upstream.key"));
        std::fs::write(&cert, certified.cert.pem()).expect("cert file");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key file");
        let tls =
            server_common::tls::server_config(&cert, &key, server_common::tls::Protocols::Http1)
                .expect("tls");

        let arrived = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reviews_open = Arc::new(AtomicUsize::new(0));
        let (release, released) = tokio::sync::watch::channel(false);
        let handler = {
            let (arrived, seen, reviews_open) =
                (arrived.clone(), seen.clone(), reviews_open.clone());
            move |request: AxumRequest| {
                let (arrived, seen, reviews_open, mut released) = (
                    arrived.clone(),
                    seen.clone(),
                    reviews_open.clone(),
                    released.clone(),
                );
                async move {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    let mut request = request;
                    let upgrade = request.headers().contains_key(header::UPGRADE)
                        && request.uri().path().ends_with("/exec");
                    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut request));
                    let (parts, body) = request.into_parts();
                    let body_len = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes().len())
                        .unwrap_or_default();
                    let path_and_query = parts
                        .uri
                        .path_and_query()
                        .map(|p| p.to_string())
                        .unwrap_or_default();
                    if let Ok(mut seen) = seen.lock() {
                        seen.push(Seen {
                            method: parts.method.to_string(),
                            path_and_query: path_and_query.clone(),
                            body_len,
                            protocols: header_text(&parts.headers, header::SEC_WEBSOCKET_PROTOCOL),
                            authorization: header_text(&parts.headers, header::AUTHORIZATION),
                        });
                    }
                    if let Some(client_upgrade) = client_upgrade {
                        return accept_and_echo(&parts.headers, client_upgrade);
                    }
                    if path_and_query.ends_with("/selfsubjectrulesreviews") {
                        reviews_open.fetch_add(1, Ordering::SeqCst);
                        let _ = released.wait_for(|r| *r).await;
                        reviews_open.fetch_sub(1, Ordering::SeqCst);
                        let review = serde_json::json!({
                            "kind": "SelfSubjectRulesReview",
                            "apiVersion": "authorization.k8s.io/v1",
                            "status": {"resourceRules": [], "incomplete": false},
                        });
                        return axum::Json(review).into_response();
                    }
                    let mut response =
                        axum::Json(serde_json::json!({"kind": "Status"})).into_response();
                    for (name, value) in [
                        ("set-cookie", "__Host-kc-refresh=stolen; Path=/; Secure"),
                        ("content-security-policy", "script-src * 'unsafe-inline'"),
                        ("content-disposition", "inline; filename=page.html"),
                        ("clear-site-data", "\"*\""),
                        ("location", "https://evil.example/"),
                        ("access-control-allow-origin", "*"),
                        ("audit-id", "kept"),
                    ] {
                        response.headers_mut().insert(
                            header::HeaderName::from_static(name),
                            HeaderValue::from_static(value),
                        );
                    }
                    response
                }
            }
        };
        let app = axum::Router::new().fallback(handler);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("https://{}", listener.local_addr().expect("address"));
        tokio::spawn(server_common::serve::serve(
            listener,
            Some(tls),
            app,
            Default::default(),
            Default::default(),
        ));
        FaultInjectionUpstream {
            url,
            arrived,
            seen,
            reviews_open,
            release,
        }
    }

    pub fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn header_text(headers: &axum::http::HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `101 Switching Protocols` with the first protocol offered; then whatever arrives is sent back.
fn accept_and_echo(
    headers: &axum::http::HeaderMap,
    client_upgrade: hyper::upgrade::OnUpgrade,
) -> Response {
    let first = header_text(headers, header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|p| p.split(',').next().map(|p| p.trim().to_string()))
        .unwrap_or_default();
    tokio::spawn(async move {
        if let Ok(upgraded) = client_upgrade.await {
            let (mut reader, mut writer) = tokio::io::split(hyper_util::rt::TokioIo::new(upgraded));
            let _ = tokio::io::copy(&mut reader, &mut writer).await;
        }
    });
    let mut response = Response::new(Body::empty());
    *response.status_mut() = axum::http::StatusCode::SWITCHING_PROTOCOLS;
    for (name, value) in [
        (header::UPGRADE, "websocket".to_string()),
        (header::CONNECTION, "Upgrade".to_string()),
        (
            header::SEC_WEBSOCKET_ACCEPT,
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".to_string(),
        ),
        (header::SEC_WEBSOCKET_PROTOCOL, first),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The BFF as `main` builds it (from its flags), in front of the fault-injection upstream.
pub struct Harness {
    pub app: axum::Router,
    pub upstream: FaultInjectionUpstream,
    pub token: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub const BODY_TIMEOUT: Duration = Duration::from_millis(500);

impl Harness {
    pub async fn start() -> Harness {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "bff-api-proxy-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(dir.join("dist")).expect("dist");
        std::fs::write(
            dir.join("dist/index.html"),
            "<!doctype html><html><head></head><body></body></html>",
        )
        .expect("index");
        let upstream = FaultInjectionUpstream::start(&dir).await;
        let issuer = StandInIssuer::start().await;
        let ca_file = dir.join("upstream.crt");
        let config = bff::config::Config::try_parse_from([
            "bff",
            "--public-url",
            "https://127.0.0.1:8443",
            "--tls-cert",
            "unused",
            "--tls-key",
            "unused",
            "--dist-dir",
            &dir.join("dist").display().to_string(),
            "--oidc-issuer",
            &issuer.url,
            "--apiserver-proxy-url",
            &upstream.url,
            "--apiserver-proxy-ca-file",
            &ca_file.display().to_string(),
        ])
        .expect("flags");
        let mut state = AppState::from_config(&config).expect("state");
        state.oidc.load().await.expect("issuer");
        state.api_body_timeout = BODY_TIMEOUT;
        Harness {
            app: bff::app(state),
            token: issuer.token("developer@example.com"),
            upstream,
            _dir: TempDir(dir),
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        self.app.clone().oneshot(request).await.expect("response")
    }

    pub fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// The BFF on a real socket (plain HTTP: TLS is not what these tests are about).
    pub async fn listen(&self) -> SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(server_common::serve::serve(
            listener,
            None,
            self.app.clone(),
            Default::default(),
            Default::default(),
        ));
        address
    }

    /// Sends `head` (without its blank line) and then `body` over a raw connection, and reads
    /// the answer: the status and the body. The body is written beside the read, so that an
    /// answer sent before the body is through is read all the same.
    pub async fn raw(&self, head: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
        let address = self.listen().await;
        let stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let (mut reader, mut writer) = stream.into_split();
        let head = format!(
            "{head}\r\nHost: console.test\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n",
            self.token
        );
        let writing = tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await?;
            for chunk in body.chunks(64 * 1024) {
                writer.write_all(chunk).await?;
            }
            // No half-close (the server would take it for the end of the connection): the
            // writer stays open, sending nothing more, until the answer is read.
            std::future::pending::<()>().await;
            Ok::<_, std::io::Error>(writer)
        });
        let mut answer = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), async {
            let mut buffer = [0u8; 8192];
            loop {
                match reader.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => answer.extend_from_slice(&buffer[..n]),
                }
                if response_complete(&answer) {
                    break;
                }
            }
        })
        .await
        .expect("an answer within 20 s");
        writing.abort();
        let text = String::from_utf8_lossy(&answer).to_string();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.as_bytes().to_vec())
            .unwrap_or_default();
        (status, body)
    }
}

/// A response head and as much body as its Content-Length says.
fn response_complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else {
        return false;
    };
    head.lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .and_then(|v| v.trim().parse::<usize>().ok())
        })
        .is_some_and(|length| body.len() >= length)
}

/// Chunked transfer coding of `data`, in 64 KiB chunks, with the last chunk.
pub fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

pub fn error_of(body: &[u8]) -> ApiError {
    serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!(
            "not the shared JSON error: {}",
            String::from_utf8_lossy(body)
        )
    })
}

/// Polls `condition` every 20 ms until it holds or `deadline` passes.
pub async fn poll_until(condition: impl Fn() -> bool, deadline: Duration) -> Result<(), ()> {
    let started = std::time::Instant::now();
    while started.elapsed() < deadline {
        if condition() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if condition() { Ok(()) } else { Err(()) }
}
