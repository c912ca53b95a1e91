//! Dex stopped while a user works, on a stack of its own: nobody is logged out. Lists keep
//! loading (the BFF and the apiserver-proxy hold Dex's keys), the renewal that falls due during
//! the outage waits and succeeds once Dex is back (Dex keeps its refresh tokens and keys in etcd),
//! and a login attempted meanwhile ends on a page that says the identity provider is
//! unreachable, not on the browser's connection error or a loop.

use std::time::Duration;

use devstack::Role;
use e2e::browser::Browser;

#[tokio::test]
async fn a_dex_outage_logs_nobody_out_and_a_new_login_says_dex_is_unreachable() -> anyhow::Result<()>
{
    // ID tokens that live 60 s: the app renews 30 s after the login, during the outage, and the
    // token (with the verifier's 30 s leeway) still works until well after Dex is back.
    let mut stack = e2e::start_own_stack("60s").await?;
    let description = stack.description().clone();
    let console = description.console_url.clone();
    let browser = Browser::logged_in(
        &description,
        Role::Developer,
        "/ns/team-a/core/v1/configmaps",
    )
    .await?;
    browser.list_is_live().await?;
    let first = browser.required_token().await?;
    // Marks this page load: a reload (or a trip to Dex) would lose it.
    browser.mark_page_load().await?;

    stack.stop_service("dex")?;

    // A login meanwhile, in a fresh browser: a clear page with a way back, not a loop.
    let fresh = Browser::start(&description).await?;
    fresh
        .client
        .goto(&format!("{console}/ns/team-a/core/v1/configmaps"))
        .await?;
    let message = fresh.text_of("[data-testid=login-error]").await?;
    assert!(
        message.contains("identity provider is unreachable"),
        "{message}"
    );
    let url = fresh.client.current_url().await?;
    assert!(
        url.as_str()
            .starts_with(&format!("{console}/auth/error?reason=idp_unreachable")),
        "{url}"
    );
    fresh.wait_for("[data-testid=login-try-again]").await?;
    let history = fresh
        .client
        .execute("return window.history.length;", vec![])
        .await?;
    assert!(
        history.as_u64().is_some_and(|length| length <= 3),
        "one trip to /auth/login and back, not a loop: {history}"
    );
    fresh.close().await?;

    // Lists go on loading: another kind, through the sidebar, without Dex.
    browser
        .click("nav.sidebar a[href='/ns/team-a/apps/v1/deployments']")
        .await?;
    browser.list_is_live().await?;
    assert_eq!(
        browser.text_of("[data-testid=list-title]").await?,
        "deployments in team-a"
    );
    browser.wait_for("[data-testid=resource-row]").await?;

    // The renewal falls due and fails while Dex is down; the BFF keeps the refresh cookie.
    let bff_log = description.log_dir.join("bff.log");
    devstack::poll::until(
        "a renewal to fail while Dex is down",
        Duration::from_secs(60),
        || {
            let bff_log = bff_log.clone();
            async move {
                let log = std::fs::read_to_string(&bff_log).unwrap_or_default();
                Ok(log.contains("refresh failed") && log.contains("Unavailable"))
            }
        },
    )
    .await?;
    assert_eq!(browser.required_token().await?, first);
    browser.wait_for("[data-testid=current-user]").await?;

    stack.start_service_again("dex").await?;
    let renewed = || async {
        let token = browser.session_token().await?;
        Ok(token.is_some_and(|token| token != first))
    };
    devstack::poll::until(
        "the renewal to succeed once Dex is back",
        Duration::from_secs(60),
        renewed,
    )
    .await?;
    let current = browser.required_token().await?;
    let me = e2e::http_login::me(
        &e2e::http_client(&description)?.build()?,
        &console,
        &current,
    )
    .await?;
    assert_eq!(me.email.as_deref(), Some("developer@example.com"));
    assert!(
        browser.same_page_load().await?,
        "no reload and no trip to Dex"
    );
    assert!(
        browser
            .client
            .current_url()
            .await?
            .as_str()
            .starts_with(&format!("{console}/ns/team-a/apps/v1/deployments")),
        "still on the same page"
    );
    browser.wait_for("[data-testid=current-user]").await?;
    browser.close().await?;
    e2e::assert_not_logged(&description.log_dir, &first);
    e2e::assert_not_logged(&description.log_dir, &current);
    Ok(())
}
