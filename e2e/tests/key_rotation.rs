//! The real Dex rotating its signing key every minute: a browser session and kubectl carry on
//! across rotations without a new login; and the `Bearer` scheme in any case at both servers.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use devstack::{Role, StackDescription};
use e2e::{TestStack, browser::Browser};

fn kid(token: &str) -> anyhow::Result<String> {
    Ok(e2e::token_part(token, 0)?["kid"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A kubeconfig for the apiserver-proxy with `token`, as the app's download builds it.
fn kubeconfig(description: &StackDescription, token: &str, name: &str) -> anyhow::Result<PathBuf> {
    e2e::token_kubeconfig(description, token, &format!("key-rotation-{name}"))
}

fn kubectl_lists_configmaps(kubeconfig: &Path) -> anyhow::Result<()> {
    let output = e2e::kubectl(
        kubeconfig,
        &["get", "configmaps", "-n", "team-a", "-o", "name"],
    )?;
    anyhow::ensure!(
        output.status.success(),
        "kubectl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}

/// Follows a sidebar link (no page load) and waits for its list to be complete and live.
async fn open_list(browser: &Browser, kind: &str) -> anyhow::Result<()> {
    browser
        .click(&format!("nav.sidebar a[href='/ns/team-a/core/v1/{kind}']"))
        .await?;
    let title = format!("{kind} in team-a");
    let deadline = Instant::now() + Duration::from_secs(30);
    while browser.text_of("[data-testid=list-title]").await? != title {
        anyhow::ensure!(Instant::now() < deadline, "the {kind} list did not open");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.list_is_live().await?;
    Ok(())
}

/// Several requests at once with `token`, at both servers, as the app makes them after a renewal:
/// each must pass, also while a server is fetching the issuer's new key.
async fn burst(
    http: &reqwest::Client,
    description: &StackDescription,
    token: &str,
) -> anyhow::Result<()> {
    let mut requests = Vec::new();
    for i in 0..6 {
        let url = if i % 2 == 0 {
            format!(
                "{}/api/v1/namespaces/team-a/configmaps",
                description.apiserver_proxy_url
            )
        } else {
            format!(
                "{}/api/k8s/api/v1/namespaces/team-a/configmaps",
                description.console_url
            )
        };
        requests.push(http.get(url).bearer_auth(token).send());
    }
    for response in futures_join(requests).await {
        let response = response?;
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::OK,
            "{} answered {}",
            response.url(),
            response.status()
        );
    }
    Ok(())
}

/// The key Dex signs with now: the first of its JWKS.
async fn dex_signing_kid(
    http: &reqwest::Client,
    description: &StackDescription,
) -> anyhow::Result<String> {
    let jwks: serde_json::Value = http
        .get(format!("{}/keys", description.dex_issuer))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(jwks["keys"][0]["kid"]
        .as_str()
        .unwrap_or_default()
        .to_string())
}

/// Runs the futures concurrently and returns their outputs in order.
async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut outputs = Vec::new();
    for handle in handles {
        if let Ok(output) = handle.await {
            outputs.push(output);
        }
    }
    outputs
}

#[tokio::test]
async fn a_session_and_kubectl_outlast_signing_key_rotations() -> anyhow::Result<()> {
    // Dex rotates every 60 to 90 s (it checks every 30 s whether a minute has passed); ID tokens
    // live 2 min, so a rotation falls within the first token's life, and the app renews every
    // minute, getting tokens signed by each new key.
    let stack = e2e::start_own_stack_rotating_keys("2m", Some("1m")).await?;
    let description = stack.description();
    let http = e2e::http_client(description)?
        .timeout(Duration::from_secs(30))
        .build()?;
    let browser = Browser::logged_in(
        description,
        Role::Developer,
        "/ns/team-a/core/v1/configmaps",
    )
    .await?;
    browser.list_is_live().await?;
    browser.mark_page_load().await?;

    let first = browser.required_token().await?;
    let first_kid = kid(&first)?;
    let first_exp = e2e::token_part(&first, 1)?["exp"]
        .as_u64()
        .unwrap_or_default();
    let first_kubeconfig = kubeconfig(description, &first, "first")?;
    kubectl_lists_configmaps(&first_kubeconfig)?;

    let mut kids = BTreeSet::from([first_kid.clone()]);
    let mut first_used_after_rotation = false;
    let mut rounds = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    // Until the session has used tokens of three keys (two rotations), and the first token was
    // used after a rotation.
    while kids.len() < 3 || !first_used_after_rotation {
        anyhow::ensure!(
            Instant::now() < deadline,
            "saw keys {kids:?} within the deadline; first token used after a rotation: \
             {first_used_after_rotation}"
        );
        rounds += 1;
        let current = browser.required_token().await?;
        let current_kid = kid(&current)?;
        if kids.insert(current_kid.clone()) {
            // A key the apiserver-proxy has not met yet (the app's renewal asked only the BFF):
            // several requests at once, as when the app's next view opens.
            burst(&http, description, &current).await?;
        }
        // Lists keep working: each opens with a new list request and watch under the current token.
        open_list(&browser, "secrets").await?;
        open_list(&browser, "configmaps").await?;
        let url = browser.client.current_url().await?;
        assert!(
            url.as_str().starts_with(&description.console_url),
            "round {rounds}: the browser left the console for {url}"
        );
        assert!(
            browser.same_page_load().await?,
            "round {rounds}: the page was loaded again (a new login?)"
        );
        browser.wait_for("[data-testid=current-user]").await?;
        let current_kubeconfig = kubeconfig(description, &current, "current")?;
        kubectl_lists_configmaps(&current_kubeconfig)?;
        // The first token works until it expires, also once Dex signs with another key.
        if unix_now() + 5 < first_exp {
            let rotated = dex_signing_kid(&http, description).await? != first_kid;
            kubectl_lists_configmaps(&first_kubeconfig)?;
            first_used_after_rotation |= rotated;
        } else if !first_used_after_rotation {
            anyhow::bail!("the first token expired before Dex rotated its key");
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let _ = std::fs::remove_file(first_kubeconfig);
    e2e::assert_not_logged(&description.log_dir, &first);
    browser.close().await
}

#[tokio::test]
async fn the_bearer_scheme_is_read_in_any_case_at_both_servers() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let http = stack.http()?;
    let user = description.require_user(Role::Viewer)?;
    let token = e2e::http_login::id_token(&http, &description.console_url, &user).await?;
    let proxy = format!(
        "{}/api/v1/namespaces/team-a/configmaps",
        description.apiserver_proxy_url
    );
    let bff = format!("{}/api/me", description.console_url);
    for url in [&proxy, &bff] {
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let response = http
                .get(url)
                .header("Authorization", format!("{scheme} {token}"))
                .send()
                .await?;
            assert_eq!(
                response.status(),
                reqwest::StatusCode::OK,
                "{scheme} at {url}"
            );
        }
        for value in [
            format!("Bearer\t{token}"),
            format!("Bearer {token} {token}"),
            format!("Bearer{token}"),
            "Bearer ".to_string(),
        ] {
            let response = http.get(url).header("Authorization", &value).send().await?;
            assert_eq!(
                response.status(),
                reqwest::StatusCode::UNAUTHORIZED,
                "{url}: {:?}",
                value.replace(&token, "<token>")
            );
        }
    }
    e2e::assert_not_logged(&description.log_dir, &token);
    Ok(())
}
