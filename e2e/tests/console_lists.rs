//! The console's resource lists in Chromium against the real stack: all namespaces at once with
//! kubectl's wide columns, custom resources with their printer columns, lists longer than a
//! page, and changes made elsewhere (kubectl) showing up live in the list and the detail page.

use std::time::{Duration, Instant};

use devstack::Role;
use e2e::TestStack;
use fantoccini::Locator;

#[tokio::test]
async fn viewer_lists_a_kind_across_all_namespaces_with_its_wide_columns() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = stack
        .browser_on_list(Role::Viewer, "/ns/team-a/apps/v1/deployments")
        .await?;
    assert!(
        !browser.row_shown("billing").await?,
        "team-b's is not in team-a"
    );

    // The viewer may list namespaces, so the switcher offers all of them at once.
    browser
        .wait_for("[data-testid=namespace-switcher]")
        .await?
        .select_by_value("*")
        .await?;
    browser
        .wait_for_locator(Locator::XPath(
            "//h1[@data-testid='list-title'][normalize-space(.)='deployments in all namespaces']",
        ))
        .await?;
    let url = browser.client.current_url().await?;
    assert_eq!(url.path(), "/all/apps/v1/deployments");
    browser.list_is_live().await?;
    for (name, namespace) in [
        ("web", "team-a"),
        ("orders-api", "team-a"),
        ("billing", "team-b"),
    ] {
        let row = browser
            .wait_for(&format!("[data-testid=resource-row][data-name='{name}']"))
            .await?;
        assert_eq!(
            row.attr("data-namespace").await?.as_deref(),
            Some(namespace)
        );
        let first_cell = row.find(Locator::Css("td")).await?.text().await?;
        assert_eq!(first_cell, namespace, "the row shows its namespace");
    }
    let headers = browser.text_of(".vtable thead").await?;
    assert!(headers.starts_with("Namespace"), "{headers}");
    assert!(!headers.contains("Images"), "{headers}");
    assert!(!browser.exists("[data-testid=create]").await?);
    let sidebar = browser.text_of("nav.sidebar").await?;
    // (The headings are upper case by CSS, and WebDriver reads rendered text.)
    assert!(
        sidebar.to_lowercase().contains("in all namespaces"),
        "{sidebar}"
    );

    // kubectl's -o wide columns, from the same Table.
    browser.click("[data-testid=wide-columns]").await?;
    browser
        .wait_for_locator(Locator::XPath("//th//button[normalize-space(.)='Images']"))
        .await?;
    let headers = browser
        .client
        .find_all(Locator::Css(".vtable thead th"))
        .await?
        .len();
    let cells = browser
        .client
        .find_all(Locator::Css(
            "[data-testid=resource-row][data-name='billing'] td",
        ))
        .await?;
    assert_eq!(cells.len(), headers, "the rows have the wide cells too");
    let mut row_text = Vec::new();
    for cell in cells {
        row_text.push(cell.text().await?);
    }
    assert!(
        row_text
            .iter()
            .any(|t| t == "registry.example.com/billing:2.0.0"),
        "an image among {row_text:?}"
    );

    // A row leads to its object in its own namespace.
    browser
        .click("[data-testid=resource-row][data-name='billing'] a")
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    let url = browser.client.current_url().await?;
    assert_eq!(url.path(), "/ns/team-b/apps/v1/deployments/billing");

    browser.assert_no_console_errors().await?;
    browser.close().await
}

#[tokio::test]
async fn custom_resources_are_in_the_sidebar_with_their_printer_columns() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = stack
        .browser_on_list(Role::Admin, "/ns/team-a/demo.kube-console.io/v1/databases")
        .await?;
    let row = browser
        .text_of("[data-testid=resource-row][data-name=orders]")
        .await?;
    assert!(row.contains("postgres") && row.contains("20"), "{row}");
    let headers = browser.text_of(".vtable thead").await?;
    assert!(
        headers.contains("Engine") && headers.contains("Size"),
        "{headers}"
    );
    browser.wait_for("nav.sidebar ul.kinds").await?;
    let sidebar = browser.text_of("nav.sidebar").await?;
    assert!(sidebar.contains("Database"), "{sidebar}");
    browser.close().await
}

#[tokio::test]
async fn a_list_longer_than_a_page_arrives_whole_and_scrolls_to_its_end() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let namespace = e2e::unique("e2e-paging");
    // More than the first page (250), so that the list is read with limit/continue.
    let count = 400;
    let mut manifest = format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n");
    for i in 0..count {
        manifest.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: page-{i:04}\n  namespace: {namespace}\ndata:\n  i: \"{i}\"\n"
        ));
    }
    let file = std::env::temp_dir().join(format!("{namespace}.yaml"));
    std::fs::write(&file, manifest)?;
    stack.kubectl_ok(&["apply", "-f", &file.to_string_lossy()])?;
    std::fs::remove_file(&file)?;

    let browser = stack
        .browser_on_list(Role::Admin, &format!("/ns/{namespace}/core/v1/configmaps"))
        .await?;
    browser
        .wait_for("[data-testid=list-filter]")
        .await?
        .send_keys("page-")
        .await?;
    let counted = browser.text_of("[data-testid=row-count]").await?;
    assert!(counted.starts_with(&format!("{count} ")), "{counted}");
    // Only the rows in view are in the page.
    let rendered = browser
        .client
        .find_all(Locator::Css("[data-testid=resource-row]"))
        .await?
        .len();
    assert!(rendered < 100, "{rendered} rows rendered");
    browser.scroll_table_to_end().await?;
    let last = format!("page-{:04}", count - 1);
    devstack::poll::until("the last row on screen", Duration::from_secs(10), || {
        browser.row_shown(&last)
    })
    .await?;
    browser.close().await?;
    stack.kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"])?;
    Ok(())
}

#[tokio::test]
async fn kubectl_changes_show_in_the_open_list_and_detail_page() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let name = e2e::unique("e2e-live");
    let browser = stack
        .browser_on_list(Role::Admin, "/ns/team-a/core/v1/configmaps")
        .await?;

    stack.create_configmap("team-a", &name, "step=one")?;
    let created = Instant::now();
    // The polls wait longer than the limit asserted below, so that a slow change fails there.
    devstack::poll::until("the kubectl-created row", Duration::from_secs(30), || {
        browser.row_shown(&name)
    })
    .await?;
    let list_latency = created.elapsed();

    browser
        .client
        .find(Locator::Css(&format!(
            "[data-testid=resource-row][data-name='{name}'] a"
        )))
        .await?
        .click()
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    stack.kubectl_ok(&[
        "patch",
        "configmap",
        &name,
        "-n",
        "team-a",
        "--type=merge",
        "-p",
        r#"{"data":{"step":"two"}}"#,
    ])?;
    let patched = Instant::now();
    devstack::poll::until(
        "the patched data on the detail page",
        Duration::from_secs(30),
        || browser.shows("[data-testid=object-spec]", "two"),
    )
    .await?;
    let detail_latency = patched.elapsed();
    eprintln!("kubectl change visible: list {list_latency:?}, detail {detail_latency:?}");
    // The issue's bar is one second; the margin here is for a loaded CI machine, and the figure is reported.
    assert!(
        list_latency < Duration::from_secs(5) && detail_latency < Duration::from_secs(5),
        "list {list_latency:?}, detail {detail_latency:?}"
    );

    stack.kubectl_ok(&["delete", "configmap", &name, "-n", "team-a"])?;
    devstack::poll::until(
        "the page to notice the deletion",
        Duration::from_secs(5),
        || browser.exists("[data-testid=object-missing]"),
    )
    .await?;
    browser.assert_no_console_errors().await?;
    browser.close().await
}
