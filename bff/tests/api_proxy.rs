//! The `/api/k8s` proxy against the fault-injection upstream (tests/support), which records what
//! reaches it: what the BFF refuses must never be sent upstream, not even in part. Only the
//! Kubernetes API's methods and paths reach it, never a proxy subresource or a watch of more
//! than an hour; bodies over the limit, late, or of a type the apiserver does not read are
//! refused first; only allow-listed response headers come back.

use axum::{
    body::Body,
    http::{StatusCode, header},
};
use bff::routes::kube_proxy::{API_RESPONSE_CSP, BODY_LIMIT};
use shared::ErrorCode;

mod support;

use support::{
    fault_upstream::{BODY_TIMEOUT, Harness, chunked, error_of},
    shared_error,
};

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
