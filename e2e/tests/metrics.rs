//! Both servers' `/metrics` listeners after real traffic: requests by route template and status,
//! token rejections by reason, JWKS fetches, permission reviews made and cached, open watches;
//! and nothing in the exposition that names a token, a user or a namespace.

use std::time::Duration;

use devstack::Role;
use e2e::TestStack;

fn has_series(exposition: &str, name: &str, labels: &[(&str, &str)]) -> bool {
    exposition.lines().any(|line| {
        line.starts_with(&format!("{name}{{"))
            && labels
                .iter()
                .all(|(key, value)| line.contains(&format!("{key}=\"{value}\"")))
    })
}

/// The value of the first sample of `name` (a metric without labels).
fn value_of(exposition: &str, name: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?.strip_prefix(' ')?;
        rest.trim().parse().ok()
    })
}

#[tokio::test]
async fn both_servers_expose_request_token_permission_and_watch_metrics_without_secrets()
-> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description().clone();
    let http = stack.http()?;
    let developer = description.require_user(Role::Developer)?;
    let token = e2e::http_login::id_token(&http, &description.console_url, &developer).await?;
    let console = &description.console_url;
    let list = "/api/v1/namespaces/team-a/configmaps";

    let through_bff = http
        .get(format!("{console}/api/k8s{list}"))
        .bearer_auth(&token)
        .send()
        .await?;
    assert!(
        through_bff.status().is_success(),
        "{}",
        through_bff.status()
    );
    // A token that is no JWT at all, at both servers.
    for url in [
        format!("{console}/api/k8s{list}"),
        format!("{}{list}", description.apiserver_proxy_url),
    ] {
        let refused = http.get(url).bearer_auth("not-a-jwt").send().await?;
        assert_eq!(refused.status(), reqwest::StatusCode::UNAUTHORIZED);
    }
    // The same checks twice: the second answer comes from the cache.
    let query = serde_json::json!({"checks": [
        {"verb": "list", "group": "", "resource": "configmaps", "namespace": "team-a"},
        {"verb": "delete", "group": "apps", "resource": "deployments", "namespace": "team-a"},
    ]});
    for _ in 0..2 {
        let answer = http
            .post(format!("{console}/api/permissions"))
            .bearer_auth(&token)
            .json(&query)
            .send()
            .await?;
        assert!(answer.status().is_success(), "{}", answer.status());
    }
    // A watch held open while the metrics are read.
    let mut watch = http
        .get(format!("{console}/api/k8s{list}?watch=1"))
        .bearer_auth(&token)
        .timeout(Duration::from_secs(60))
        .send()
        .await?
        .error_for_status()?;
    let _ = watch.chunk().await?;

    let bff = http
        .get(&description.bff_metrics_url)
        .send()
        .await?
        .text()
        .await?;
    let proxy = http
        .get(&description.apiserver_proxy_metrics_url)
        .send()
        .await?
        .text()
        .await?;
    drop(watch);

    for (server, exposition) in [("bff", &bff), ("apiserver-proxy", &proxy)] {
        assert!(
            has_series(
                exposition,
                "oidc_token_rejections_total",
                &[("reason", "malformed")]
            ),
            "{server}:\n{exposition}"
        );
        assert!(
            has_series(exposition, "oidc_jwks_fetches_total", &[("outcome", "ok")]),
            "{server}:\n{exposition}"
        );
        assert!(
            value_of(exposition, "watches_active").is_some_and(|open| open >= 1.0),
            "{server}: the open watch is not counted:\n{exposition}"
        );
        for family in [
            "upstream_errors",
            "upgrades_active",
            "http_connections_open",
        ] {
            assert!(
                exposition.contains(&format!("# TYPE {family} ")),
                "{server}: no {family}:\n{exposition}"
            );
        }
        // Nothing that names who asked, with what, or where.
        let signature = token.rsplit('.').next().unwrap_or(&token);
        for secret in [
            signature,
            "not-a-jwt",
            &developer.email,
            "team-a",
            "configmaps",
        ] {
            assert!(
                !exposition.contains(secret),
                "{server}'s metrics contain {secret:?}:\n{exposition}"
            );
        }
    }
    assert!(
        has_series(
            &bff,
            "http_requests_total",
            &[
                ("listener", "https"),
                ("route", "/api/k8s/{*path}"),
                ("method", "GET"),
                ("status", "200")
            ]
        ),
        "{bff}"
    );
    assert!(
        has_series(
            &bff,
            "http_requests_total",
            &[("route", "/api/k8s/{*path}"), ("status", "401")]
        ),
        "{bff}"
    );
    assert!(
        has_series(
            &bff,
            "http_requests_total",
            &[("route", "/api/permissions"), ("method", "POST")]
        ),
        "{bff}"
    );
    assert!(
        value_of(&bff, "permission_reviews_total").is_some_and(|made| made >= 1.0),
        "{bff}"
    );
    assert!(
        value_of(&bff, "permission_reviews_cached_total").is_some_and(|cached| cached >= 1.0),
        "{bff}"
    );
    assert!(
        has_series(
            &proxy,
            "http_requests_total",
            &[("route", "fallback"), ("method", "GET"), ("status", "200")]
        ),
        "{proxy}"
    );
    assert!(
        has_series(
            &proxy,
            "http_requests_total",
            &[("route", "fallback"), ("status", "401")]
        ),
        "{proxy}"
    );
    Ok(())
}
