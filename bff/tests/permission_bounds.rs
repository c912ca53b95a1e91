//! The permission endpoint against the fault-injection upstream (tests/support): one query
//! cannot fan out to many namespaces, and each user has a bounded number of reviews in flight.

use std::{sync::atomic::Ordering, time::Duration};

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use tower::ServiceExt;

mod support;

use support::{
    fault_upstream::{Harness, poll_until},
    shared_error,
};

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
