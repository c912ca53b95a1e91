//! Changing objects from the console in Chromium, against the real stack: create / edit /
//! delete from YAML and scaling go through the apiserver (dry run first), with errors shown next
//! to the text, and the page follows each change by watch.

use std::time::Duration;

use devstack::Role;
use e2e::{TestStack, browser::Browser};

/// Replaces the editor's text the way typing would (an input event), and applies it.
async fn apply_yaml(browser: &Browser, text: &str) -> anyhow::Result<()> {
    browser.type_into_editor(text).await?;
    browser.click("[data-testid=editor-apply]").await?;
    Ok(())
}

async fn editor_text(browser: &Browser) -> anyhow::Result<String> {
    browser.editor_text().await
}

async fn editor_errors(browser: &Browser) -> anyhow::Result<String> {
    browser.text_of("[data-testid=editor-errors]").await
}

/// The `greeting` a test ConfigMap in team-a holds, as kubectl reads it.
fn greeting(stack: &TestStack, name: &str) -> anyhow::Result<String> {
    stack.kubectl_ok(&[
        "get",
        "configmap",
        name,
        "-n",
        "team-a",
        "-o",
        "jsonpath={.data.greeting}",
    ])
}

#[tokio::test]
async fn admin_creates_edits_and_deletes_a_configmap_from_yaml() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = stack
        .browser_on_list(Role::Admin, "/ns/team-a/core/v1/configmaps")
        .await?;
    assert!(
        browser.row_shown("frontend-settings").await?,
        "the demo ConfigMap is listed"
    );
    browser.click("[data-testid=create]").await?;

    // Invalid YAML: the error names the line, and the text stays.
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  labels: [unclosed\n";
    apply_yaml(&browser, broken).await?;
    let errors = editor_errors(&browser).await?;
    assert!(errors.contains("not valid YAML"), "{errors}");
    assert!(
        errors.contains("Line "),
        "the error is placed on a line: {errors}"
    );
    assert_eq!(editor_text(&browser).await?, broken, "nothing lost");

    // A manifest the apiserver refuses (dry run): its cause lands on the name's line.
    let refused =
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Not_A_Valid_Name\ndata:\n  k: v\n";
    apply_yaml(&browser, refused).await?;
    let errors = editor_errors(&browser).await?;
    assert!(errors.contains("metadata.name"), "{errors}");
    assert!(errors.contains("Line 4"), "{errors}");
    assert_eq!(editor_text(&browser).await?, refused);
    let listed = stack.kubectl_ok(&["get", "configmaps", "-n", "team-a", "-o", "name"])?;
    assert!(!listed.to_lowercase().contains("not_a_valid_name"));

    // A good one is created and shows in the list through the watch.
    let name = e2e::unique("e2e-created");
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  greeting: hello\n"
    );
    apply_yaml(&browser, &manifest).await?;
    devstack::poll::until("the new row", Duration::from_secs(10), || {
        browser.row_shown(&name)
    })
    .await?;
    assert_eq!(greeting(&stack, &name)?, "hello");

    // Edit it on its detail page.
    browser
        .open(&format!("/ns/team-a/core/v1/configmaps/{name}"))
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    browser.click_button("Edit YAML").await?;
    let loaded = editor_text(&browser).await?;
    assert!(loaded.contains("greeting: hello"), "{loaded}");
    // Someone else changes it meanwhile: saving is a 409 Conflict, and the text stays.
    stack.kubectl_ok(&[
        "label",
        "configmap",
        &name,
        "-n",
        "team-a",
        "changed-by=kubectl",
    ])?;
    let stale = loaded.replace("greeting: hello", "greeting: stale");
    apply_yaml(&browser, &stale).await?;
    let errors = editor_errors(&browser).await?;
    assert!(errors.contains("Conflict"), "{errors}");
    assert_eq!(editor_text(&browser).await?, stale);
    browser.click_button("Cancel").await?;
    devstack::poll::until("the label on the page", Duration::from_secs(10), || {
        browser.shows("main", "changed-by")
    })
    .await?;
    browser.click_button("Edit YAML").await?;
    let loaded = editor_text(&browser).await?;
    assert!(
        loaded.contains("changed-by"),
        "the editor starts from the current version"
    );
    assert!(
        !loaded.contains("managedFields"),
        "the editor leaves out managedFields"
    );
    apply_yaml(
        &browser,
        &loaded.replace("greeting: hello", "greeting: bonjour"),
    )
    .await?;
    let saved = devstack::poll::until(
        "the edited data on the page",
        Duration::from_secs(10),
        || async {
            Ok(!browser.exists("[data-testid=yaml-editor]").await?
                && browser
                    .shows("[data-testid=object-spec]", "bonjour")
                    .await?)
        },
    )
    .await;
    if saved.is_err() && browser.exists("[data-testid=editor-errors]").await? {
        panic!("saving failed: {}", editor_errors(&browser).await?);
    }
    saved?;
    assert_eq!(greeting(&stack, &name)?, "bonjour");

    // Delete, confirmed: back on the list, and gone from the cluster.
    browser.click_button("Delete").await?;
    browser.click("[data-testid=confirm-delete-button]").await?;
    browser.list_is_live().await?;
    devstack::poll::until("the row to go", Duration::from_secs(10), || async {
        Ok(!browser.row_shown(&name).await?)
    })
    .await?;
    let gone = stack.kubectl_admin(&["get", "configmap", &name, "-n", "team-a"])?;
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"));

    // Chromium logs each refused request; these are the three refusals above, and nothing else
    // (over HTTP/2 a status has no reason phrase: "a status of 400 ()").
    let errors = browser.console_errors().await?;
    let unexpected: Vec<_> = errors
        .iter()
        .filter(|e| {
            !(e.contains("dryRun=All")
                && ["status of 400 ", "status of 422 ", "status of 409 "]
                    .iter()
                    .any(|status| e.contains(status)))
        })
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:?}");
    assert_eq!(errors.len(), 3, "{errors:?}");
    browser.close().await
}

#[tokio::test]
async fn admin_scales_a_deployment_and_sees_the_change() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let name = e2e::unique("e2e-scale");
    stack.kubectl_ok(&[
        "create",
        "deployment",
        &name,
        "-n",
        "team-a",
        "--image=nginx:1.27",
        "--replicas=1",
    ])?;
    let browser = stack
        .browser(
            Role::Admin,
            &format!("/ns/team-a/apps/v1/deployments/{name}"),
        )
        .await?;
    let replicas = browser.wait_for("[data-testid=replicas]").await?;
    replicas.clear().await?;
    replicas.send_keys("3").await?;
    browser.click_button("Scale").await?;
    devstack::poll::until(
        "3 replicas in the cluster",
        Duration::from_secs(10),
        || async {
            Ok(stack.kubectl_ok(&[
                "get",
                "deployment",
                &name,
                "-n",
                "team-a",
                "-o",
                "jsonpath={.spec.replicas}",
            ])? == "3")
        },
    )
    .await?;
    // The page follows by watch: the spec it shows says 3 now.
    devstack::poll::until(
        "the page to show 3 replicas",
        Duration::from_secs(10),
        || browser.shows("[data-testid=object-spec]", "replicas: 3"),
    )
    .await?;
    stack.kubectl_ok(&[
        "delete",
        "deployment",
        &name,
        "-n",
        "team-a",
        "--wait=false",
    ])?;
    devstack::poll::until(
        "the page to notice the deletion",
        Duration::from_secs(10),
        || browser.exists("[data-testid=object-missing]"),
    )
    .await?;
    browser.close().await
}
