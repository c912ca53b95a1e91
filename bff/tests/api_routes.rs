//! The API routes, driven with `oneshot` with a stand-in issuer and an unreachable cluster: the
//! bearer is required, the Kubernetes prefix refuses what it must before anything else, and the
//! permission endpoints check their input and report the cluster's absence.

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use shared::{ApiError, ErrorCode};

mod support;

use support::{body, dist, get, send, shared_error, signed_in};

fn permission_query(token: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request =
        Request::post("/api/permissions").header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(body.into()).expect("request")
}

#[tokio::test]
async fn api_calls_without_a_valid_bearer_get_401_json() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    for authorization in [
        None,
        Some("Bearer "),
        Some("Basic YTpi"),
        Some("Bearer not-a-jwt"),
    ] {
        let mut request = Request::get("/api/me");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = send(app.clone(), request.body(Body::empty()).expect("request")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
        assert_eq!(error.code, ErrorCode::Unauthenticated);
    }
}

#[tokio::test]
async fn the_kubernetes_prefix_needs_a_token_and_refuses_path_tricks() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    let response = get(app.clone(), "/api/k8s/api/v1/namespaces").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::Unauthenticated);
    // A body over the limit is refused before anything is forwarded.
    let response = send(
        app,
        Request::post("/api/k8s/api/v1/namespaces/team-a/configmaps")
            .header(
                header::CONTENT_LENGTH,
                (bff::routes::kube_proxy::BODY_LIMIT + 1).to_string(),
            )
            .body(Body::from(vec![
                b'x';
                bff::routes::kube_proxy::BODY_LIMIT + 1
            ]))
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: ApiError = serde_json::from_slice(&body(response).await).expect("shared error");
    assert_eq!(error.code, ErrorCode::PayloadTooLarge);
}

#[tokio::test]
async fn permission_endpoints_need_a_token() {
    let dir = dist();
    let (state, _) = signed_in(&dir).await;
    let app = bff::app(state);
    let response = send(app.clone(), permission_query(None, r#"{"checks":[]}"#)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::Unauthenticated
    );
    let response = get(app, "/api/namespaces").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::Unauthenticated
    );
}

#[tokio::test]
async fn bad_permission_queries_get_400_with_a_readable_reason() {
    let dir = dist();
    let (state, token) = signed_in(&dir).await;
    let app = bff::app(state);
    let check = |verb: &str, resource: &str, namespace: &str| serde_json::json!({"verb": verb, "group": "", "resource": resource, "namespace": namespace});
    let too_many: Vec<_> = (0..=shared::permissions::MAX_CHECKS)
        .map(|_| check("get", "pods", "team-a"))
        .collect();
    for (body, expected) in [
        (
            serde_json::json!({ "checks": too_many }).to_string(),
            "At most",
        ),
        (
            serde_json::json!({"checks": [check("get", "pods", "Team A")]}).to_string(),
            "namespace",
        ),
        (
            serde_json::json!({"checks": [check("*", "pods", "team-a")]}).to_string(),
            "wildcard",
        ),
        (
            serde_json::json!({"checks": [check("", "pods", "team-a")]}).to_string(),
            "verb is empty",
        ),
        (
            serde_json::json!({"checks": [check("get", "", "team-a")]}).to_string(),
            "resource is empty",
        ),
        (
            r#"{"checks": [{"verb": "get"}]"#.to_string(),
            "not a permission query",
        ),
        (r#"{"checks": "#.to_string(), "not a permission query"),
        ("not json".to_string(), "not a permission query"),
    ] {
        let response = send(app.clone(), permission_query(Some(&token), body.clone())).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body:.80}");
        let error = shared_error(response).await;
        assert_eq!(error.code, ErrorCode::BadRequest);
        assert!(
            error.message.contains(expected),
            "{body:.80}: {}",
            error.message
        );
    }
    // Without a JSON content type, the same shared error.
    let response = send(
        app,
        Request::post("/api/permissions")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(r#"{"checks":[]}"#))
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(shared_error(response).await.code, ErrorCode::BadRequest);
}

#[tokio::test]
async fn permission_endpoints_report_an_unreachable_cluster_as_502() {
    let dir = dist();
    let (state, token) = signed_in(&dir).await;
    let app = bff::app(state);
    // Nothing to ask the apiserver: answered at once.
    let response = send(
        app.clone(),
        permission_query(Some(&token), r#"{"checks":[]}"#),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: shared::AccessAnswer =
        serde_json::from_slice(&body(response).await).expect("answer");
    assert_eq!(answer.decisions, []);
    assert_eq!(answer.upstream_requests, 0);

    let query = r#"{"checks":[{"verb":"list","resource":"configmaps","namespace":"team-a"}]}"#;
    let response = send(app.clone(), permission_query(Some(&token), query)).await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::UpstreamUnavailable
    );

    let response = send(
        app,
        Request::get("/api/namespaces")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(
        shared_error(response).await.code,
        ErrorCode::UpstreamUnavailable
    );
}
