//! The real local stack: the cluster, its RBAC, Dex and the BFF, as a user and kubectl meet them.

use std::time::Duration;

use devstack::Role;
use e2e::TestStack;
use reqwest::StatusCode;
use serde_json::Value;

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

#[tokio::test]
async fn admin_kubeconfig_lists_the_real_namespaces() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let output = stack.kubectl_admin(&["get", "namespaces", "-o", "name"])?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let names = stdout(&output);
    for expected in [
        "namespace/default",
        "namespace/kube-system",
        "namespace/team-a",
        "namespace/team-b",
    ] {
        assert!(
            names.lines().any(|l| l == expected),
            "{expected} missing from:\n{names}"
        );
    }
    // The demo objects are real API objects, and kube-controller-manager acts on them.
    let deployments = stack.kubectl_admin(&["get", "deployments", "-n", "team-a", "-o", "name"])?;
    assert!(stdout(&deployments).contains("deployment.apps/web"));
    // kube-controller-manager acts on new objects: a Deployment made now gets its ReplicaSet.
    let name = format!("e2e-kcm-{}", std::process::id());
    let created = stack.kubectl_admin(&[
        "create",
        "deployment",
        &name,
        "-n",
        "team-b",
        "--image",
        "registry.example.com/e2e:1",
    ])?;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let selector = format!("app={name}");
    devstack::poll::until(
        "the new Deployment's ReplicaSet",
        Duration::from_secs(30),
        || {
            let listed = stack.kubectl_admin(&[
                "get",
                "replicasets",
                "-n",
                "team-b",
                "-l",
                &selector,
                "-o",
                "name",
            ]);
            async move { Ok(!stdout(&listed?).is_empty()) }
        },
    )
    .await?;
    let deleted = stack.kubectl_admin(&[
        "delete",
        "deployment",
        &name,
        "-n",
        "team-b",
        "--wait=false",
    ])?;
    assert!(deleted.status.success());
    Ok(())
}

#[tokio::test]
async fn can_i_answers_follow_the_demo_users_rbac() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let viewer = description
        .user(Role::Viewer)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let developer = description
        .user(Role::Developer)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let admin = description
        .user(Role::Admin)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let cases: &[(&str, &[&str], &str)] = &[
        (&admin, &["delete", "namespaces"], "yes"),
        (&admin, &["create", "clusterrolebindings"], "yes"),
        (&viewer, &["list", "pods", "--all-namespaces"], "yes"),
        (&viewer, &["get", "configmaps", "-n", "team-b"], "yes"),
        (&viewer, &["delete", "pods", "-n", "team-a"], "no"),
        (&viewer, &["create", "configmaps", "-n", "team-a"], "no"),
        // The view role does not include Secrets.
        (&viewer, &["get", "secrets", "-n", "team-a"], "no"),
        (
            &developer,
            &["create", "deployments", "-n", "team-a"],
            "yes",
        ),
        (&developer, &["delete", "configmaps", "-n", "team-a"], "yes"),
        (&developer, &["create", "deployments", "-n", "team-b"], "no"),
        (&developer, &["get", "configmaps", "-n", "team-b"], "no"),
        (&developer, &["list", "namespaces"], "no"),
        ("nobody@example.com", &["get", "pods", "-n", "team-a"], "no"),
    ];
    for (user, check, expected) in cases {
        let mut args = vec!["auth", "can-i"];
        args.extend_from_slice(check);
        args.extend_from_slice(&["--as", user]);
        let output = stack.kubectl_admin(&args)?;
        assert_eq!(stdout(&output), *expected, "kubectl {}", args.join(" "));
    }
    // Groups from the token are bound too: a user known only by group gets the group's rights.
    let output = stack.kubectl_admin(&[
        "auth",
        "can-i",
        "create",
        "configmaps",
        "-n",
        "team-a",
        "--as",
        "someone@example.com",
        "--as-group",
        "team-a-developers",
    ])?;
    assert_eq!(stdout(&output), "yes");
    // The apiserver-proxy's own identity may impersonate, and do nothing else.
    for (check, expected) in [
        (&["impersonate", "users"][..], "yes"),
        (&["impersonate", "groups"][..], "yes"),
        (&["impersonate", "serviceaccounts"][..], "no"),
        (&["list", "secrets", "--all-namespaces"][..], "no"),
        (&["get", "pods", "-n", "team-a"][..], "no"),
    ] {
        let mut args = vec!["auth", "can-i"];
        args.extend_from_slice(check);
        args.extend_from_slice(&["--as", "kube-console:apiserver-proxy"]);
        assert_eq!(
            stdout(&stack.kubectl_admin(&args)?),
            expected,
            "kubectl {}",
            args.join(" ")
        );
    }
    Ok(())
}

#[tokio::test]
async fn dex_serves_discovery_and_lists_its_connectors() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let http = stack.http()?;
    let issuer = &stack.description().dex_issuer;
    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(discovery["issuer"], issuer.as_str());
    let code_challenge_methods = discovery["code_challenge_methods_supported"].to_string();
    assert!(
        code_challenge_methods.contains("S256"),
        "{code_challenge_methods}"
    );
    let jwks: Value = http
        .get(discovery["jwks_uri"].as_str().unwrap_or_default())
        .send()
        .await?
        .json()
        .await?;
    assert!(jwks["keys"].as_array().is_some_and(|keys| !keys.is_empty()));

    let authorize = reqwest::Url::parse_with_params(
        discovery["authorization_endpoint"]
            .as_str()
            .unwrap_or_default(),
        &[
            ("client_id", "kube-console"),
            (
                "redirect_uri",
                &format!("{}/auth/callback", stack.description().console_url),
            ),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("state", "e2e-state"),
        ],
    )?;
    let login_page = http.get(authorize).send().await?;
    assert_eq!(login_page.status(), StatusCode::OK);
    let html = login_page.text().await?;
    assert!(
        html.contains("Log in with Email"),
        "password connector missing:\n{html}"
    );
    assert!(
        html.contains("Example (mock connector)"),
        "mock connector missing:\n{html}"
    );
    Ok(())
}

#[tokio::test]
async fn bff_serves_the_app_over_https_only() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let http = stack.http()?;
    let description = stack.description();

    let redirect = http
        .get(format!(
            "{}/namespaces/team-a?tab=yaml",
            description.console_http_url
        ))
        .send()
        .await?;
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        redirect.headers()["location"],
        format!("{}/namespaces/team-a?tab=yaml", description.console_url).as_str()
    );

    for deep_link in ["/", "/namespaces/team-a", "/namespaces/team-a/configmaps/x"] {
        let page = http
            .get(format!("{}{deep_link}", description.console_url))
            .send()
            .await?;
        assert_eq!(page.status(), StatusCode::OK, "{deep_link}");
        let csp = page.headers()["content-security-policy"]
            .to_str()?
            .to_string();
        assert!(
            csp.contains("'wasm-unsafe-eval'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
        let html = page.text().await?;
        assert!(
            html.contains("_bg.wasm"),
            "{deep_link} did not get the app:\n{html}"
        );
    }

    let health = http
        .get(format!("{}/healthz", description.console_url))
        .send()
        .await?;
    assert_eq!(health.status(), StatusCode::OK);
    let ready = http
        .get(format!("{}/readyz", description.console_url))
        .send()
        .await?;
    assert_eq!(ready.status(), StatusCode::OK);

    let missing = http
        .get(format!("{}/api/no-such-thing", description.console_url))
        .send()
        .await?;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let error: shared::ApiError = missing.json().await?;
    assert_eq!(error.code, shared::ErrorCode::NotFound);

    let config: shared::ConsoleConfig = http
        .get(format!("{}/api/config", description.console_url))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(config.apiserver_proxy_url, description.apiserver_proxy_url);
    assert!(config.apiserver_proxy_ca_pem.contains("BEGIN CERTIFICATE"));
    Ok(())
}
