//! The browser fixture's policy check: every e2e test ends with `Browser::close`, which fails on
//! any Content Security Policy or Trusted Types violation Chromium reported on any page. This
//! test makes sure the check can fail, and that the app itself runs without one.

use std::time::Duration;

use devstack::Role;
use e2e::TestStack;

#[tokio::test]
async fn a_policy_violation_fails_the_test_that_caused_it() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = stack.browser(Role::Viewer, "/").await?;
    browser.wait_for("[data-testid=current-user]").await?;
    let before = browser.policy_violations().await?;
    assert!(before.is_empty(), "the app itself: {before:#?}");

    // A script URL from a string: no policy of the app's makes one (Trusted Types).
    let _ = browser
        .client
        .execute(
            "const s = document.createElement('script'); s.src = '/evil.js'; return 1;",
            vec![],
        )
        .await;
    // Markup with an event handler: the app's default policy refuses it (Trusted Types).
    let _ = browser
        .client
        .execute(
            "document.createElement('div').innerHTML = '<img src=x onerror=alert(1)>'; return 1;",
            vec![],
        )
        .await;
    // An image from another origin (img-src).
    browser
        .client
        .execute(
            "const i = new Image(); i.src = 'https://example.invalid/x.png'; document.body.append(i); return 1;",
            vec![],
        )
        .await?;
    devstack::poll::until("three violations", Duration::from_secs(10), || async {
        Ok(browser.policy_violations().await?.len() >= 3)
    })
    .await?;
    let error = browser
        .close()
        .await
        .expect_err("close must fail after a violation");
    let message = format!("{error:#}");
    assert!(message.contains("require-trusted-types-for"), "{message}");
    assert!(message.contains("img-src"), "{message}");
    Ok(())
}
