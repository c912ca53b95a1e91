//! Logging in through the real Dex in headless Chromium: the connector list, the token in
//! sessionStorage, reloads, new tabs, logout in every tab, and renewal past expiry.

use std::time::Duration;

use devstack::Role;
use e2e::{TestStack, browser::Browser};

#[tokio::test]
async fn two_users_log_in_keep_their_session_and_log_out_in_every_tab() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let console = description.console_url.clone();
    for (role, shown) in [(Role::Admin, "admin"), (Role::Viewer, "viewer")] {
        let user = description.require_user(role)?;
        let browser = Browser::start(description).await?;

        // A deep link without a session goes to Dex and comes back to the same route.
        browser
            .client
            .goto(&format!(
                "{console}/ns/team-a/core/v1/configmaps?filter=app"
            ))
            .await?;
        browser.log_in_at_dex(&user).await?;
        let current_user = browser.wait_for("[data-testid=current-user]").await?;
        assert_eq!(current_user.text().await?, shown);
        let groups = current_user.attr("title").await?.unwrap_or_default();
        assert!(groups.contains("console-"), "groups on hover: {groups}");
        assert_eq!(
            browser.text_of("[data-testid=list-title]").await?,
            "configmaps in team-a"
        );
        let url = browser.client.current_url().await?;
        assert_eq!(
            url.as_str(),
            format!("{console}/ns/team-a/core/v1/configmaps?filter=app")
        );

        let token = browser.required_token().await?;
        assert_eq!(token.split('.').count(), 3, "a JWT in sessionStorage");
        assert!(!url.as_str().contains(&token));
        // The app's bearer works against the BFF.
        let me = e2e::http_login::me(&stack.http()?, &console, &token).await?;
        assert_eq!(me.email.as_deref(), Some(user.email.as_str()));

        // A reload keeps the session: no trip to Dex.
        browser.client.refresh().await?;
        assert_eq!(browser.text_of("[data-testid=current-user]").await?, shown);
        assert!(
            browser
                .client
                .current_url()
                .await?
                .as_str()
                .starts_with(&console)
        );

        // A new tab has an empty sessionStorage: it starts a fresh login at Dex.
        let first_tab = browser.client.window().await?;
        let second_tab = browser.client.new_window(true).await?;
        browser.client.switch_to_window(second_tab.handle).await?;
        browser.client.goto(&format!("{console}/")).await?;
        browser.log_in_at_dex(&user).await?;
        browser.wait_for("[data-testid=current-user]").await?;

        // Logging out in one tab logs out every tab.
        browser.click("[data-testid=log-out]").await?;
        browser.wait_for("[data-testid=logged-out]").await?;
        browser.client.switch_to_window(first_tab).await?;
        browser.wait_for("[data-testid=logged-out]").await?;
        assert_eq!(browser.session_token().await?, None);

        let errors = browser.console_errors().await?;
        assert!(errors.is_empty(), "console errors: {errors:#?}");
        browser.close().await?;
        e2e::assert_not_logged(&description.log_dir, &token);
    }
    Ok(())
}

#[tokio::test]
async fn a_forged_state_ends_on_a_clear_error_page_with_a_way_back() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = Browser::start(stack.description()).await?;
    let console = &stack.description().console_url;
    browser
        .client
        .goto(&format!("{console}/auth/callback?code=forged&state=forged"))
        .await?;
    let message = browser.text_of("[data-testid=login-error]").await?;
    assert!(message.contains("No login was in progress"), "{message}");
    browser.wait_for("button").await?;
    browser.close().await
}

#[tokio::test]
async fn the_session_survives_token_expiry_without_a_reload() -> anyhow::Result<()> {
    // A stack of its own, whose Dex issues ID tokens that live 20 seconds.
    let stack = e2e::start_own_stack("20s").await?;
    let description = stack.description();
    let user = description.require_user(Role::Developer)?;
    let browser = Browser::logged_in(
        description,
        Role::Developer,
        "/ns/team-a/core/v1/configmaps",
    )
    .await?;
    let first = browser.required_token().await?;
    // A second tab, logged in too: both renew on their own timers with the one refresh cookie.
    let first_tab = browser.client.window().await?;
    let second_tab = browser.client.new_window(true).await?;
    browser
        .client
        .switch_to_window(second_tab.handle.clone())
        .await?;
    browser
        .client
        .goto(&format!(
            "{}/ns/team-a/core/v1/configmaps",
            description.console_url
        ))
        .await?;
    browser.log_in_at_dex(&user).await?;
    browser.wait_for("[data-testid=current-user]").await?;
    let second_first = browser.required_token().await?;
    browser.client.switch_to_window(first_tab.clone()).await?;
    // Marks this page load: a reload would lose it.
    browser.mark_page_load().await?;

    // Past the first token's expiry (20 s plus the verifier's 30 s leeway), the tab holds a newer
    // token that the BFF accepts.
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(
            &description.ca_file,
        )?)?)
        .build()?;
    let console = description.console_url.clone();
    let first_rejected = || {
        let (http, console, first) = (http.clone(), console.clone(), first.clone());
        async move {
            let response = e2e::http_login::me_response(&http, &console, &first).await?;
            Ok(response.status() == reqwest::StatusCode::UNAUTHORIZED)
        }
    };
    devstack::poll::until(
        "the first token to expire",
        Duration::from_secs(90),
        first_rejected,
    )
    .await?;
    let current = browser.required_token().await?;
    assert_ne!(current, first, "the token was renewed");
    let status = e2e::http_login::me_response(&http, &description.console_url, &current)
        .await?
        .status();
    assert_eq!(status, reqwest::StatusCode::OK);
    assert!(browser.same_page_load().await?, "the page was reloaded");
    browser.wait_for("[data-testid=current-user]").await?;
    browser.client.switch_to_window(second_tab.handle).await?;
    let second_current = browser.required_token().await?;
    assert_ne!(second_current, second_first, "the second tab renewed too");
    let status = e2e::http_login::me_response(&http, &description.console_url, &second_current)
        .await?
        .status();
    assert_eq!(
        status,
        reqwest::StatusCode::OK,
        "the second tab's renewed token works"
    );
    browser.wait_for("[data-testid=current-user]").await?;
    browser.client.close_window().await?;
    browser.client.switch_to_window(first_tab).await?;

    // When renewal fails (here: the refresh cookie is gone), the user logs in again and lands
    // on the same route.
    browser.client.delete_cookie("__Host-kc-refresh").await?;
    let issuer = description.dex_issuer.clone();
    let client = browser.client.clone();
    devstack::poll::until(
        "the failed renewal to send the user to Dex",
        Duration::from_secs(60),
        || {
            let client = client.clone();
            let issuer = issuer.clone();
            async move { Ok(client.current_url().await?.as_str().starts_with(&issuer)) }
        },
    )
    .await?;
    browser.log_in_at_dex(&user).await?;
    browser.wait_for("[data-testid=current-user]").await?;
    assert_eq!(
        browser.text_of("[data-testid=list-title]").await?,
        "configmaps in team-a"
    );
    browser.close().await?;
    e2e::assert_not_logged(&description.log_dir, &first);
    e2e::assert_not_logged(&description.log_dir, &current);
    drop(stack);
    Ok(())
}
