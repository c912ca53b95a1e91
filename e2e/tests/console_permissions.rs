//! What each demo user may do is what the console offers, in Chromium against the real stack:
//! controls only where RBAC allows them, an explanation where it does not, and the permissions
//! of a view asked for in one request.

use devstack::Role;
use e2e::{TestStack, browser::Browser};
use fantoccini::Locator;

/// The developer on team-a's ConfigMaps, once the list is live and offers Create.
async fn developer_offered_create_in_team_a(stack: &TestStack) -> anyhow::Result<Browser> {
    let browser = stack
        .browser_on_list(Role::Developer, "/ns/team-a/core/v1/configmaps")
        .await?;
    browser.wait_for("[data-testid=create]").await?;
    Ok(browser)
}

#[tokio::test]
async fn viewer_sees_lists_but_no_controls_and_learns_why() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = stack
        .browser_on_list(Role::Viewer, "/ns/team-a/core/v1/configmaps")
        .await?;
    assert!(browser.row_shown("frontend-settings").await?);
    // The permission answer has arrived once the explanation is there.
    let why = browser.wait_for("[data-testid=why-hidden]").await?;
    assert!(
        !browser.exists("[data-testid=create]").await?,
        "no Create for the viewer"
    );
    why.click().await?;
    let reasons = why.text().await?;
    assert!(
        reasons.contains("You may not create configmaps in team-a"),
        "{reasons}"
    );
    assert!(
        !reasons.contains("delete"),
        "a list offers no Delete, so it does not explain one: {reasons}"
    );

    browser
        .open("/ns/team-a/core/v1/configmaps/frontend-settings")
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    let why = browser
        .wait_for("[data-testid=object-actions] [data-testid=why-hidden]")
        .await?;
    why.click().await?;
    let reasons = why.text().await?;
    assert!(
        reasons.contains("You may not delete configmaps in team-a") && !reasons.contains("create"),
        "{reasons}"
    );
    for control in ["edit", "delete", "scale"] {
        assert!(
            !browser.exists(&format!("[data-testid={control}]")).await?,
            "{control} shown to the viewer"
        );
    }
    browser.open("/ns/team-a/apps/v1/deployments/web").await?;
    browser
        .wait_for("[data-testid=object-actions] [data-testid=why-hidden]")
        .await?;
    assert!(!browser.exists("[data-testid=scale]").await?);
    // The sidebar offers what the viewer may list.
    let sidebar = browser.text_of("nav.sidebar").await?;
    assert!(
        sidebar.contains("ConfigMap") && sidebar.contains("Deployment"),
        "{sidebar}"
    );

    browser.assert_no_console_errors().await?;
    browser.close().await
}

#[tokio::test]
async fn developer_has_edit_controls_only_in_team_a() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = developer_offered_create_in_team_a(&stack).await?;
    browser.open("/ns/team-a/apps/v1/deployments/web").await?;
    browser.wait_for("[data-testid=scale]").await?;
    browser.wait_for("[data-testid=edit]").await?;
    browser.wait_for("[data-testid=delete]").await?;

    // The switcher offers the namespace the developer's role names, though they cannot list namespaces.
    let options = browser
        .client
        .find_all(Locator::Css("[data-testid=namespace-switcher] option"))
        .await?;
    let mut offered = Vec::new();
    for option in options {
        offered.push(option.text().await?);
    }
    assert_eq!(offered, ["team-a"]);

    // In team-b: no controls, and the apiserver's 403 shown plainly.
    browser.open("/ns/team-b/core/v1/configmaps").await?;
    let error = browser.text_of("[data-testid=list-error]").await?;
    assert!(error.contains("Forbidden"), "{error}");
    browser.wait_for("[data-testid=why-hidden]").await?;
    assert!(!browser.exists("[data-testid=create]").await?);
    browser.close().await
}

#[tokio::test]
async fn one_view_asks_for_permissions_in_one_request() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = developer_offered_create_in_team_a(&stack).await?;
    browser.wait_for("nav.sidebar ul.kinds").await?;
    // Resource Timing lists every request the page made.
    let count = |script: &'static str| {
        let client = browser.client.clone();
        async move { anyhow::Ok(client.execute(script, vec![]).await?.as_u64().unwrap_or(0)) }
    };
    let permission_requests = count(
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/api/permissions')).length;",
    )
    .await?;
    let all_requests = count("return performance.getEntriesByType('resource').length;").await?;
    eprintln!(
        "list view: {permission_requests} permission requests (sidebar + view) of {all_requests} requests"
    );
    // One for the sidebar, one for the view's actions.
    assert_eq!(permission_requests, 2);
    browser.close().await
}
