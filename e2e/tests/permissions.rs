//! The BFF's permission answers against the real apiserver and the demo RBAC
//! (devstack/manifests/rbac.yaml): each demo user's checks, the per-user cache, and the
//! namespace switcher's choices. One test, so that a run starts one stack.

use devstack::Role;
use e2e::{TestStack, http_login};
use shared::{AccessAnswer, AccessCheck, AccessQuery, ApiError, ErrorCode, NamespaceChoices};

struct Console {
    http: reqwest::Client,
    url: String,
}

impl Console {
    async fn ask(&self, token: &str, checks: &[AccessCheck]) -> anyhow::Result<AccessAnswer> {
        let response = self
            .http
            .post(format!("{}/api/permissions", self.url))
            .bearer_auth(token)
            .json(&AccessQuery {
                checks: checks.to_vec(),
            })
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{status}: {text}");
        let answer: AccessAnswer = serde_json::from_str(&text)?;
        anyhow::ensure!(
            answer.decisions.len() == checks.len(),
            "one decision per check: {answer:?}"
        );
        Ok(answer)
    }

    async fn namespaces(&self, token: &str) -> anyhow::Result<NamespaceChoices> {
        Ok(self
            .http
            .get(format!("{}/api/namespaces", self.url))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?)
    }
}

fn allowed(answer: &AccessAnswer) -> Vec<bool> {
    answer.decisions.iter().map(|d| d.allowed).collect()
}

#[tokio::test]
async fn permissions_follow_the_demo_rbac_with_one_review_per_namespace() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let console = Console {
        http: stack.http()?,
        url: description.console_url.clone(),
    };
    let mut tokens = Vec::new();
    let mut token_of = async |role: Role| -> anyhow::Result<String> {
        let user = description.require_user(role)?;
        let token = http_login::id_token(&console.http, &console.url, &user).await?;
        tokens.push(token.clone());
        Ok(token)
    };
    let admin = token_of(Role::Admin).await?;
    let viewer = token_of(Role::Viewer).await?;
    let developer = token_of(Role::Developer).await?;

    // One rules review for team-a, one access review for the cluster-wide check.
    let admin_checks = [
        AccessCheck::new("delete", "", "configmaps", Some("team-a")),
        AccessCheck::new("list", "", "namespaces", None),
    ];
    let answer = console.ask(&admin, &admin_checks).await?;
    assert_eq!(allowed(&answer), [true, true], "{answer:?}");
    assert_eq!(answer.upstream_requests, 2, "{answer:?}");
    assert_eq!(answer.decisions[0].reason, "Allowed.");
    let again = console.ask(&admin, &admin_checks).await?;
    assert_eq!(again.decisions, answer.decisions);
    assert_eq!(again.upstream_requests, 0, "the second time from the cache");

    // The same questions from another user are not answered from the admin's cache.
    let answer = console.ask(&viewer, &admin_checks).await?;
    assert_eq!(answer.upstream_requests, 2, "{answer:?}");
    assert_eq!(allowed(&answer), [false, true], "{answer:?}");
    let viewer_checks = [
        AccessCheck::new("list", "", "configmaps", Some("team-a")),
        AccessCheck::new("delete", "", "configmaps", Some("team-a")),
    ];
    let answer = console.ask(&viewer, &viewer_checks).await?;
    assert_eq!(allowed(&answer), [true, false], "{answer:?}");
    assert_eq!(
        answer.upstream_requests, 0,
        "team-a's rules are cached already"
    );
    assert!(
        answer.decisions[1]
            .reason
            .contains("delete configmaps in team-a"),
        "{answer:?}"
    );

    // Two namespaces, two rules reviews; the subresource check comes from team-a's rules.
    let developer_checks = [
        AccessCheck::new("create", "", "configmaps", Some("team-a")),
        AccessCheck::new("create", "", "configmaps", Some("team-b")),
        AccessCheck::new("update", "apps", "deployments", Some("team-a")).with_subresource("scale"),
        AccessCheck::new("list", "", "namespaces", None),
    ];
    let answer = console.ask(&developer, &developer_checks).await?;
    assert_eq!(allowed(&answer), [true, false, true, false], "{answer:?}");
    assert_eq!(answer.upstream_requests, 3, "{answer:?}");
    assert_eq!(
        answer.decisions[1].reason,
        "You may not create configmaps in team-b."
    );
    let again = console.ask(&developer, &developer_checks).await?;
    assert_eq!(again.decisions, answer.decisions);
    assert_eq!(again.upstream_requests, 0);

    // Two views asking at once (the sidebar's checks and the page's): the reviews one of them has
    // in flight are waited for by the other, so one review per namespace in all.
    let fresh = token_of(Role::Developer).await?;
    let both = [
        AccessCheck::new("list", "", "pods", Some("team-a")),
        AccessCheck::new("list", "", "pods", Some("team-b")),
    ];
    let (first, second) = tokio::try_join!(console.ask(&fresh, &both), console.ask(&fresh, &both))?;
    assert_eq!(allowed(&first), [true, false], "{first:?}");
    assert_eq!(first.decisions, second.decisions);
    assert_eq!(
        first.upstream_requests + second.upstream_requests,
        2,
        "{first:?} {second:?}"
    );

    // Those who may list namespaces get them all; the developer only where their role applies.
    let choices = console.namespaces(&admin).await?;
    assert!(choices.complete, "{choices:?}");
    for namespace in ["team-a", "team-b", "shared-services", "kube-system"] {
        assert!(
            choices.namespaces.iter().any(|n| n == namespace),
            "{namespace}: {choices:?}"
        );
    }
    let mut sorted = choices.namespaces.clone();
    sorted.sort();
    assert_eq!(sorted, choices.namespaces);
    let choices = console.namespaces(&viewer).await?;
    assert!(
        choices.complete,
        "the view role lists namespaces: {choices:?}"
    );
    let choices = console.namespaces(&developer).await?;
    assert_eq!(
        choices,
        NamespaceChoices {
            namespaces: vec!["team-a".into()],
            complete: false,
        }
    );

    // Refusals are the shared error, for a token or not.
    let response = console
        .http
        .post(format!("{}/api/permissions", console.url))
        .bearer_auth(&developer)
        .json(&serde_json::json!({"checks": [{"verb": "*", "resource": "pods"}]}))
        .send()
        .await?;
    assert_eq!(response.status(), reqwest::StatusCode::BAD_REQUEST);
    let error: ApiError = response.json().await?;
    assert_eq!(error.code, ErrorCode::BadRequest);
    let response = console
        .http
        .get(format!("{}/api/namespaces", console.url))
        .send()
        .await?;
    assert_eq!(response.status(), reqwest::StatusCode::UNAUTHORIZED);

    for token in &tokens {
        e2e::assert_not_logged(&description.log_dir, token);
    }
    Ok(())
}
