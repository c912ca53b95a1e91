//! The `/api/k8s` proxy and the permission endpoint against an upstream that records what
//! reaches it: what the BFF refuses must never be sent upstream, not even in part.
//!
//! Two stand-ins, both on loopback: the issuer of app.rs's tests (Dex's discovery and keys, with
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
    http::{HeaderValue, Method, Request, StatusCode, header},
    response::{IntoResponse, Response},
};
use bff::{
    AppState,
    routes::kube_proxy::{API_RESPONSE_CSP, BODY_LIMIT, KubeProxy},
};
use clap::Parser;
use http_body_util::BodyExt;
use shared::{ApiError, ErrorCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

mod support;

use support::shared_error;

/// What the fault-injection upstream saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path_and_query: String,
    body_len: usize,
}

/// Stands in for the apiserver-proxy: records every request that reaches it (on arrival, before
/// its body is read), answers with headers a browser must never get from the console's origin,
/// and holds rules reviews until released, counting how many are open at once.
struct FaultInjectionUpstream {
    url: String,
    arrived: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
    reviews_open: Arc<AtomicUsize>,
    release: tokio::sync::watch::Sender<bool>,
}

impl FaultInjectionUpstream {
    async fn start(dir: &std::path::Path) -> FaultInjectionUpstream {
        let certified =
            rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).expect("cert");
        let (cert, key) = (dir.join("upstream.crt"), dir.join("upstream.key"));
        std::fs::write(&cert, certified.cert.pem()).expect("cert file");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("key file");
        let tls = server_common::tls::server_config(&cert, &key).expect("tls");

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
                        });
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

    fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

/// The BFF as `main` builds it (from its flags), in front of the fault-injection upstream.
struct Harness {
    app: axum::Router,
    upstream: FaultInjectionUpstream,
    token: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const BODY_TIMEOUT: Duration = Duration::from_millis(500);

impl Harness {
    async fn start() -> Harness {
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
        let mut kube = KubeProxy::new(
            upstream.url.clone(),
            bff::routes::kube_proxy::upstream_client(&ca_file).expect("client"),
        );
        kube.request_body_timeout = BODY_TIMEOUT;
        state.kube = Arc::new(kube);
        Harness {
            app: bff::app(state),
            token: issuer.token("developer@example.com"),
            upstream,
            _dir: TempDir(dir),
        }
    }

    async fn send(&self, request: Request<Body>) -> Response {
        self.app.clone().oneshot(request).await.expect("response")
    }

    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
    }

    /// The BFF on a real socket (plain HTTP: TLS is not what these tests are about).
    async fn listen(&self) -> SocketAddr {
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
    async fn raw(&self, head: &str, body: Vec<u8>) -> (u16, Vec<u8>) {
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
fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn error_of(body: &[u8]) -> ApiError {
    serde_json::from_slice(body).unwrap_or_else(|_| {
        panic!(
            "not the shared JSON error: {}",
            String::from_utf8_lossy(body)
        )
    })
}

const CONFIGMAPS: &str = "/api/k8s/api/v1/namespaces/team-a/configmaps";

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused_before_anything_goes_upstream() {
    let harness = Harness::start().await;
    // A body within the limit goes through, whole: the upstream does record what reaches it.
    let small = chunked(&vec![b' '; 100 * 1024]);
    let (status, _) = harness
        .raw(
            &format!("POST {CONFIGMAPS} HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"),
            small,
        )
        .await;
    assert_eq!(status, 200);
    let seen = harness.upstream.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].body_len, 100 * 1024);
    assert_eq!(seen[0].method, "POST");

    let over = chunked(&vec![b' '; BODY_LIMIT + 64 * 1024]);
    let (status, body) = harness
        .raw(
            &format!("POST {CONFIGMAPS} HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked"),
            over,
        )
        .await;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert_eq!(error_of(&body).code, ErrorCode::PayloadTooLarge);
    assert_eq!(
        harness.upstream.arrived(),
        1,
        "nothing of the refused request reached the upstream"
    );
}

#[tokio::test]
async fn a_declared_length_over_the_limit_is_refused_before_anything_goes_upstream() {
    let harness = Harness::start().await;
    // Only the head: the declared length alone decides.
    let (status, body) = harness
        .raw(
            &format!(
                "PUT {CONFIGMAPS}/settings HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {}",
                BODY_LIMIT + 1
            ),
            Vec::new(),
        )
        .await;
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
    assert_eq!(error_of(&body).code, ErrorCode::PayloadTooLarge);
    assert_eq!(harness.upstream.arrived(), 0);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408() {
    let harness = Harness::start().await;
    let started = std::time::Instant::now();
    // 10 of the 100 bytes promised, then nothing.
    let (status, body) = harness
        .raw(
            &format!("POST {CONFIGMAPS} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100"),
            vec![b' '; 10],
        )
        .await;
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&body));
    assert_eq!(error_of(&body).code, ErrorCode::RequestTimeout);
    assert!(started.elapsed() >= BODY_TIMEOUT);
    assert_eq!(harness.upstream.arrived(), 0);
}

#[tokio::test]
async fn only_the_kubernetes_api_methods_are_forwarded() {
    let harness = Harness::start().await;
    for method in ["TRACE", "CONNECT", "OPTIONS", "PROPFIND", "BREW", "get"] {
        let response = harness
            .send(
                harness
                    .request(method, CONFIGMAPS)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(
            response.headers()[header::ALLOW],
            "GET, HEAD, POST, PUT, PATCH, DELETE"
        );
        assert_eq!(
            shared_error(response).await.code,
            ErrorCode::MethodNotAllowed
        );
    }
    assert_eq!(harness.upstream.arrived(), 0);
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        let response = harness
            .send(
                harness
                    .request(method, CONFIGMAPS)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{method}");
    }
    let methods: Vec<String> = harness
        .upstream
        .seen()
        .into_iter()
        .map(|s| s.method)
        .collect();
    assert_eq!(methods, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);
}

#[tokio::test]
async fn proxy_subresources_are_refused_in_every_spelling() {
    let harness = Harness::start().await;
    for path in [
        "/api/v1/namespaces/team-a/pods/web/proxy",
        "/api/v1/namespaces/team-a/pods/web/proxy/index.html",
        "/api/v1/namespaces/team-a/pods/web:8080/proxy/",
        "/api/v1/namespaces/team-a/pods/https:web:8443/proxy/x",
        "/api/v1/namespaces/team-a/services/web/proxy",
        "/api/v1/namespaces/team-a/services/https:web:443/proxy/page",
        "/api/v1/nodes/node-1/proxy",
        "/api/v1/nodes/node-1/proxy/metrics",
        "/api/v1/proxy/namespaces/team-a/pods/web/",
        "/api/v1/proxy/nodes/node-1",
        "/api/v1/namespaces/team-a/pods/web/%70roxy",
        "/api/v1/namespaces/team-a/pods/web/pr%6Fxy/x",
        "/api/v1/namespaces/team-a/services/web/PROXY",
        "/api/v1/namespaces/team-a/pods/web%2Fproxy",
        "/api/v1/namespaces/team-a/pods/web/proxy%2Fx",
    ] {
        let response = harness
            .send(
                harness
                    .request("GET", &format!("/api/k8s{path}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        let status = response.status();
        let error = shared_error(response).await;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
            "{path}: {status}"
        );
        if status == StatusCode::FORBIDDEN {
            assert_eq!(error.code, ErrorCode::Forbidden);
            assert!(error.message.contains("kubectl"), "{}", error.message);
        }
    }
    assert_eq!(
        harness.upstream.arrived(),
        0,
        "{:?}",
        harness.upstream.seen()
    );
    // Names that are only called "proxy" still pass.
    let response = harness
        .send(
            harness
                .request("GET", "/api/k8s/api/v1/namespaces/proxy/configmaps/proxy")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn upstream_response_headers_outside_the_allow_list_do_not_reach_the_browser() {
    let harness = Harness::start().await;
    let response = harness
        .send(
            harness
                .request("GET", "/api/k8s/api/v1/namespaces/team-a/pods/web/log")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    for name in [
        "set-cookie",
        "content-disposition",
        "clear-site-data",
        "location",
        "access-control-allow-origin",
    ] {
        assert!(!headers.contains_key(name), "{name}: {headers:?}");
    }
    assert_eq!(headers[header::CONTENT_SECURITY_POLICY], API_RESPONSE_CSP);
    assert_eq!(headers["audit-id"], "kept");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

#[tokio::test]
async fn watch_timeouts_beyond_an_hour_are_refused() {
    let harness = Harness::start().await;
    for query in [
        "watch=1&timeoutSeconds=99999999",
        "watch=1&timeout%53econds=99999999",
        "watch=1&timeoutSeconds=60&timeoutSeconds=99999999",
    ] {
        let response = harness
            .send(
                harness
                    .request("GET", &format!("{CONFIGMAPS}?{query}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            shared_error(response)
                .await
                .message
                .contains("timeoutSeconds")
        );
    }
    assert_eq!(harness.upstream.arrived(), 0);
    let response = harness
        .send(
            harness
                .request("GET", &format!("{CONFIGMAPS}?watch=1&timeoutSeconds=300"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        harness.upstream.seen()[0].path_and_query,
        "/api/v1/namespaces/team-a/configmaps?watch=1&timeoutSeconds=300"
    );
}

#[tokio::test]
async fn bodies_come_with_one_content_type_the_apiserver_reads() {
    let harness = Harness::start().await;
    let two = harness
        .request("POST", CONFIGMAPS)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_TYPE, "application/yaml")
        .body(Body::from("{}"))
        .expect("request");
    let response = harness.send(two).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    for content_type in ["text/plain", "multipart/form-data; boundary=x", "text/html"] {
        let response = harness
            .send(
                harness
                    .request("POST", CONFIGMAPS)
                    .header(header::CONTENT_TYPE, content_type)
                    .body(Body::from("{}"))
                    .expect("request"),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert_eq!(
            shared_error(response).await.code,
            ErrorCode::UnsupportedMediaType
        );
    }
    assert_eq!(harness.upstream.arrived(), 0);
}

fn permission_query(token: &str, namespaces: usize) -> Request<Body> {
    let checks: Vec<_> = (0..namespaces)
        .map(|i| serde_json::json!({"verb": "list", "resource": "pods", "namespace": format!("ns-{i}")}))
        .collect();
    Request::post("/api/permissions")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(
            serde_json::json!({ "checks": checks }).to_string(),
        ))
        .expect("request")
}

#[tokio::test]
async fn one_permission_query_cannot_fan_out_to_many_namespaces() {
    let harness = Harness::start().await;
    // Reviews are answered at once here: before the bound, this query made 200 of them.
    harness.upstream.release.send(true).expect("release");
    let response = harness
        .send(permission_query(
            &harness.token,
            shared::permissions::MAX_CHECKS,
        ))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let error = shared_error(response).await;
    assert!(error.message.contains("namespaces"), "{}", error.message);
    assert_eq!(harness.upstream.arrived(), 0);
}

#[tokio::test]
async fn each_user_has_a_bounded_number_of_reviews_in_flight() {
    let harness = Harness::start().await;
    let limit = bff::permissions_cache::REVIEWS_IN_FLIGHT_PER_USER;
    let asking = tokio::spawn(
        harness
            .app
            .clone()
            .oneshot(permission_query(&harness.token, limit + 4)),
    );
    let open = || harness.upstream.reviews_open.load(Ordering::SeqCst);
    poll_until(|| open() >= limit, Duration::from_secs(10))
        .await
        .expect("the first reviews arrive");
    // Past the limit nothing more arrives while those are held (a deadline, not a sleep: before
    // the bound, all of them arrived at once).
    let beyond = poll_until(|| open() > limit, Duration::from_secs(2)).await;
    assert!(beyond.is_err(), "{} reviews open at once", open());
    harness.upstream.release.send(true).expect("release");
    let response = asking.await.expect("joined").expect("response");
    assert_eq!(response.status(), StatusCode::OK);
    let rules_reviews = harness
        .upstream
        .seen()
        .iter()
        .filter(|s| s.path_and_query.ends_with("/selfsubjectrulesreviews"))
        .count();
    assert_eq!(rules_reviews, limit + 4);
}

/// Polls `condition` every 20 ms until it holds or `deadline` passes.
async fn poll_until(condition: impl Fn() -> bool, deadline: Duration) -> Result<(), ()> {
    let started = std::time::Instant::now();
    while started.elapsed() < deadline {
        if condition() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if condition() { Ok(()) } else { Err(()) }
}
