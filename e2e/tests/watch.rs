//! A live list survives an outage between the console and the cluster: a stack of its own has its
//! apiserver-proxy stopped while a list is open (a real cut watch, no fake), the page says it is
//! reconnecting, and once the proxy is back the list shows what changed meanwhile without a reload.

use std::time::{Duration, Instant};

use devstack::Role;
use e2e::browser::Browser;
use fantoccini::Locator;

async fn row_count(browser: &Browser, name: &str) -> anyhow::Result<usize> {
    Ok(browser
        .client
        .find_all(Locator::Css(&format!(
            "[data-testid=resource-row][data-name='{name}']"
        )))
        .await?
        .len())
}

#[tokio::test]
async fn an_open_list_catches_up_after_the_apiserver_proxy_was_down() -> anyhow::Result<()> {
    let mut stack = e2e::start_own_stack("24h").await?;
    let description = stack.description().clone();
    let browser =
        Browser::logged_in(&description, Role::Admin, "/ns/team-a/core/v1/configmaps").await?;
    browser.list_is_live().await?;
    assert_eq!(row_count(&browser, "frontend-settings").await?, 1);
    // Marks this page load: a reload would lose it.
    browser.mark_page_load().await?;

    let outage = Instant::now();
    stack.stop_service("apiserver-proxy")?;
    let status = browser
        .wait_for("[data-testid=list-status][data-phase=reconnecting]")
        .await?;
    let text = status.text().await?;
    assert!(text.contains("Reconnecting"), "{text}");
    let reason = status.attr("title").await?.unwrap_or_default();
    assert!(reason.contains("cannot be reached"), "{reason}");

    // Changes made while the console cannot see the cluster, straight at the kube-apiserver.
    e2e::kubectl_admin_ok(
        &description,
        &[
            "create",
            "configmap",
            "made-during-the-outage",
            "-n",
            "team-a",
            "--from-literal=when=outage",
        ],
    )?;
    e2e::kubectl_admin_ok(
        &description,
        &["delete", "configmap", "frontend-settings", "-n", "team-a"],
    )?;
    stack.start_service_again("apiserver-proxy").await?;
    let back = Instant::now();

    // The reflector retries with backoff (1 s, 2 s, 4 s …) and resumes from its resourceVersion.
    let caught_up = || async {
        Ok(row_count(&browser, "made-during-the-outage").await? == 1
            && row_count(&browser, "frontend-settings").await? == 0
            && browser
                .exists("[data-testid=list-status][data-phase=current]")
                .await?)
    };
    devstack::poll::until(
        "the list to show the changes made during the outage",
        Duration::from_secs(60),
        caught_up,
    )
    .await?;
    eprintln!(
        "the proxy was down for {:.1?}; the list caught up {:.1?} after it was ready again",
        back - outage,
        back.elapsed()
    );
    assert!(
        browser.same_page_load().await?,
        "the page caught up without a reload"
    );
    browser.close().await
}
