//! The console's resource views in Chromium, as each demo user, against the real stack: what each
//! user may do is what the page offers, changes made elsewhere show up live, and create / edit /
//! delete / scale go through the apiserver (dry run first) with errors shown next to the text.

use std::time::{Duration, Instant};

use devstack::Role;
use e2e::{TestStack, browser::Browser};
use fantoccini::Locator;
use serde_json::json;

/// A name no other test (or earlier run against the same stack) uses.
fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    )
}

/// A browser logged in as `role`, on `path` of the console.
async fn open_as(stack: &TestStack, role: Role, path: &str) -> anyhow::Result<Browser> {
    Browser::logged_in(stack.description(), role, path).await
}

async fn goto(browser: &Browser, stack: &TestStack, path: &str) -> anyhow::Result<()> {
    browser
        .client
        .goto(&format!("{}{path}", stack.description().console_url))
        .await?;
    Ok(())
}

/// Waits until the list is complete and watching.
async fn list_is_live(browser: &Browser) -> anyhow::Result<()> {
    browser
        .wait_for("[data-testid=list-status][data-phase=current]")
        .await?;
    Ok(())
}

async fn exists(browser: &Browser, css: &str) -> anyhow::Result<bool> {
    Ok(!browser.client.find_all(Locator::Css(css)).await?.is_empty())
}

async fn row_shown(browser: &Browser, name: &str) -> anyhow::Result<bool> {
    exists(
        browser,
        &format!("[data-testid=resource-row][data-name='{name}']"),
    )
    .await
}

/// Replaces the editor's text the way typing would (an input event), and applies it.
async fn apply_yaml(browser: &Browser, text: &str) -> anyhow::Result<()> {
    let editor = browser.wait_for("[data-testid=yaml-editor]").await?;
    browser
        .client
        .execute(
            "const [el, text] = arguments; el.value = text; \
             el.dispatchEvent(new Event('input', {bubbles: true}));",
            vec![serde_json::to_value(&editor)?, json!(text)],
        )
        .await?;
    browser
        .wait_for("[data-testid=editor-apply]")
        .await?
        .click()
        .await?;
    Ok(())
}

async fn editor_text(browser: &Browser) -> anyhow::Result<String> {
    let editor = browser.wait_for("[data-testid=yaml-editor]").await?;
    Ok(editor.prop("value").await?.unwrap_or_default())
}

async fn editor_errors(browser: &Browser) -> anyhow::Result<String> {
    browser.text_of("[data-testid=editor-errors]").await
}

fn kubectl_ok(stack: &TestStack, args: &[&str]) -> anyhow::Result<String> {
    e2e::kubectl_admin_ok(stack.description(), args)
}

/// The `greeting` a test ConfigMap in team-a holds, as kubectl reads it.
fn greeting(stack: &TestStack, name: &str) -> anyhow::Result<String> {
    kubectl_ok(
        stack,
        &[
            "get",
            "configmap",
            name,
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.greeting}",
        ],
    )
}

async fn click_button(browser: &Browser, name: &str) -> anyhow::Result<()> {
    browser
        .client
        .find(Locator::XPath(&button_named(name)))
        .await?
        .click()
        .await?;
    Ok(())
}

fn button_named(name: &str) -> String {
    format!("//button[normalize-space(.)='{name}']")
}

#[tokio::test]
async fn admin_creates_edits_and_deletes_a_configmap_from_yaml() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(&stack, Role::Admin, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;
    assert!(
        row_shown(&browser, "frontend-settings").await?,
        "the demo ConfigMap is listed"
    );
    browser
        .wait_for("[data-testid=create]")
        .await?
        .click()
        .await?;

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
    let listed = kubectl_ok(&stack, &["get", "configmaps", "-n", "team-a", "-o", "name"])?;
    assert!(!listed.to_lowercase().contains("not_a_valid_name"));

    // A good one is created and shows in the list through the watch.
    let name = unique("e2e-created");
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  greeting: hello\n"
    );
    apply_yaml(&browser, &manifest).await?;
    devstack::poll::until("the new row", Duration::from_secs(10), || {
        row_shown(&browser, &name)
    })
    .await?;
    assert_eq!(greeting(&stack, &name)?, "hello");

    // Edit it on its detail page.
    goto(
        &browser,
        &stack,
        &format!("/ns/team-a/core/v1/configmaps/{name}"),
    )
    .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    click_button(&browser, "Edit YAML").await?;
    let loaded = editor_text(&browser).await?;
    assert!(loaded.contains("greeting: hello"), "{loaded}");
    // Someone else changes it meanwhile: saving is a 409 Conflict, and the text stays.
    kubectl_ok(
        &stack,
        &[
            "label",
            "configmap",
            &name,
            "-n",
            "team-a",
            "changed-by=kubectl",
        ],
    )?;
    let stale = loaded.replace("greeting: hello", "greeting: stale");
    apply_yaml(&browser, &stale).await?;
    let errors = editor_errors(&browser).await?;
    assert!(errors.contains("Conflict"), "{errors}");
    assert_eq!(editor_text(&browser).await?, stale);
    click_button(&browser, "Cancel").await?;
    devstack::poll::until("the label on the page", Duration::from_secs(10), || async {
        Ok(browser.text_of("main").await?.contains("changed-by"))
    })
    .await?;
    click_button(&browser, "Edit YAML").await?;
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
            Ok(!exists(&browser, "[data-testid=yaml-editor]").await?
                && browser
                    .text_of("[data-testid=object-spec]")
                    .await?
                    .contains("bonjour"))
        },
    )
    .await;
    if saved.is_err() && exists(&browser, "[data-testid=editor-errors]").await? {
        panic!("saving failed: {}", editor_errors(&browser).await?);
    }
    saved?;
    assert_eq!(greeting(&stack, &name)?, "bonjour");

    // Delete, confirmed: back on the list, and gone from the cluster.
    click_button(&browser, "Delete").await?;
    browser
        .wait_for("[data-testid=confirm-delete-button]")
        .await?
        .click()
        .await?;
    list_is_live(&browser).await?;
    devstack::poll::until("the row to go", Duration::from_secs(10), || async {
        Ok(!row_shown(&browser, &name).await?)
    })
    .await?;
    let gone = stack.kubectl_admin(&["get", "configmap", &name, "-n", "team-a"])?;
    assert!(String::from_utf8_lossy(&gone.stderr).contains("NotFound"));

    // Chromium logs each refused request; these are the three refusals above, and nothing else.
    let errors = browser.console_errors().await?;
    let unexpected: Vec<_> = errors
        .iter()
        .filter(|e| {
            !(e.contains("dryRun=All")
                && ["(Bad Request)", "(Unprocessable Entity)", "(Conflict)"]
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
    let name = unique("e2e-scale");
    kubectl_ok(
        &stack,
        &[
            "create",
            "deployment",
            &name,
            "-n",
            "team-a",
            "--image=nginx:1.27",
            "--replicas=1",
        ],
    )?;
    let browser = open_as(
        &stack,
        Role::Admin,
        &format!("/ns/team-a/apps/v1/deployments/{name}"),
    )
    .await?;
    let replicas = browser.wait_for("[data-testid=replicas]").await?;
    replicas.clear().await?;
    replicas.send_keys("3").await?;
    click_button(&browser, "Scale").await?;
    devstack::poll::until(
        "3 replicas in the cluster",
        Duration::from_secs(10),
        || async {
            Ok(kubectl_ok(
                &stack,
                &[
                    "get",
                    "deployment",
                    &name,
                    "-n",
                    "team-a",
                    "-o",
                    "jsonpath={.spec.replicas}",
                ],
            )? == "3")
        },
    )
    .await?;
    // The page follows by watch: the spec it shows says 3 now.
    devstack::poll::until(
        "the page to show 3 replicas",
        Duration::from_secs(10),
        || async {
            Ok(browser
                .text_of("[data-testid=object-spec]")
                .await?
                .contains("replicas: 3"))
        },
    )
    .await?;
    kubectl_ok(
        &stack,
        &[
            "delete",
            "deployment",
            &name,
            "-n",
            "team-a",
            "--wait=false",
        ],
    )?;
    devstack::poll::until(
        "the page to notice the deletion",
        Duration::from_secs(10),
        || exists(&browser, "[data-testid=object-missing]"),
    )
    .await?;
    browser.close().await
}

#[tokio::test]
async fn viewer_sees_lists_but_no_controls_and_learns_why() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(&stack, Role::Viewer, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;
    assert!(row_shown(&browser, "frontend-settings").await?);
    // The permission answer has arrived once the explanation is there.
    let why = browser.wait_for("[data-testid=why-hidden]").await?;
    assert!(
        !exists(&browser, "[data-testid=create]").await?,
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

    goto(
        &browser,
        &stack,
        "/ns/team-a/core/v1/configmaps/frontend-settings",
    )
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
            !exists(&browser, &format!("[data-testid={control}]")).await?,
            "{control} shown to the viewer"
        );
    }
    goto(&browser, &stack, "/ns/team-a/apps/v1/deployments/web").await?;
    browser
        .wait_for("[data-testid=object-actions] [data-testid=why-hidden]")
        .await?;
    assert!(!exists(&browser, "[data-testid=scale]").await?);
    // The sidebar offers what the viewer may list.
    let sidebar = browser.text_of("nav.sidebar").await?;
    assert!(
        sidebar.contains("ConfigMap") && sidebar.contains("Deployment"),
        "{sidebar}"
    );

    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await
}

#[tokio::test]
async fn viewer_lists_a_kind_across_all_namespaces_with_its_wide_columns() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(&stack, Role::Viewer, "/ns/team-a/apps/v1/deployments").await?;
    list_is_live(&browser).await?;
    assert!(
        !row_shown(&browser, "billing").await?,
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
    list_is_live(&browser).await?;
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
    assert!(!exists(&browser, "[data-testid=create]").await?);
    let sidebar = browser.text_of("nav.sidebar").await?;
    // (The headings are upper case by CSS, and WebDriver reads rendered text.)
    assert!(
        sidebar.to_lowercase().contains("in all namespaces"),
        "{sidebar}"
    );

    // kubectl's -o wide columns, from the same Table.
    browser
        .wait_for("[data-testid=wide-columns]")
        .await?
        .click()
        .await?;
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
        .wait_for("[data-testid=resource-row][data-name='billing'] a")
        .await?
        .click()
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    let url = browser.client.current_url().await?;
    assert_eq!(url.path(), "/ns/team-b/apps/v1/deployments/billing");

    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await
}

#[tokio::test]
async fn secret_values_stay_hidden_until_revealed() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    // --save-config leaves the last-applied annotation, which repeats the values.
    let name = unique("e2e-secret");
    let password = "not-a-real-password";
    let encoded = "bm90LWEtcmVhbC1wYXNzd29yZA==";
    kubectl_ok(
        &stack,
        &[
            "create",
            "secret",
            "generic",
            &name,
            "-n",
            "team-a",
            "--from-literal=username=app",
            &format!("--from-literal=password={password}"),
            "--save-config",
        ],
    )?;
    let browser = open_as(
        &stack,
        Role::Admin,
        &format!("/ns/team-a/core/v1/secrets/{name}"),
    )
    .await?;
    let data = browser.wait_for("[data-testid=secret-data]").await?;
    assert!(data.text().await?.contains("19 bytes"));
    let annotations = browser.text_of("ul.pairs").await?;
    assert!(
        annotations.contains("last-applied-configuration") && annotations.contains("hidden"),
        "{annotations}"
    );
    // Nowhere on the page, the YAML and the last-applied annotation (kubectl apply) included.
    browser.wait_for("details summary").await?.click().await?;
    let page = browser.client.source().await?;
    assert!(
        !page.contains(password) && !page.contains(encoded),
        "a secret value is on the page before it was revealed"
    );

    browser
        .wait_for("[data-testid=reveal-secret]")
        .await?
        .click()
        .await?;
    let data = browser.text_of("[data-testid=secret-data]").await?;
    assert!(data.contains(password) && data.contains("app"), "{data}");
    let yaml = browser.text_of("[data-testid=object-yaml]").await?;
    assert!(yaml.contains(encoded), "{yaml}");
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    kubectl_ok(&stack, &["delete", "secret", &name, "-n", "team-a"])?;
    browser.close().await
}

#[tokio::test]
async fn developer_has_edit_controls_only_in_team_a() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(&stack, Role::Developer, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;
    browser.wait_for("[data-testid=create]").await?;
    goto(&browser, &stack, "/ns/team-a/apps/v1/deployments/web").await?;
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
    goto(&browser, &stack, "/ns/team-b/core/v1/configmaps").await?;
    let error = browser.text_of("[data-testid=list-error]").await?;
    assert!(error.contains("Forbidden"), "{error}");
    browser.wait_for("[data-testid=why-hidden]").await?;
    assert!(!exists(&browser, "[data-testid=create]").await?);
    browser.close().await
}

#[tokio::test]
async fn kubectl_changes_show_in_the_open_list_and_detail_page() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let name = unique("e2e-live");
    let browser = open_as(&stack, Role::Admin, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;

    kubectl_ok(
        &stack,
        &[
            "create",
            "configmap",
            &name,
            "-n",
            "team-a",
            "--from-literal=step=one",
        ],
    )?;
    let created = Instant::now();
    // The polls wait longer than the limit asserted below, so that a slow change fails there.
    devstack::poll::until("the kubectl-created row", Duration::from_secs(30), || {
        row_shown(&browser, &name)
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
    kubectl_ok(
        &stack,
        &[
            "patch",
            "configmap",
            &name,
            "-n",
            "team-a",
            "--type=merge",
            "-p",
            r#"{"data":{"step":"two"}}"#,
        ],
    )?;
    let patched = Instant::now();
    devstack::poll::until(
        "the patched data on the detail page",
        Duration::from_secs(30),
        || async {
            Ok(browser
                .text_of("[data-testid=object-spec]")
                .await?
                .contains("two"))
        },
    )
    .await?;
    let detail_latency = patched.elapsed();
    eprintln!("kubectl change visible: list {list_latency:?}, detail {detail_latency:?}");
    // The issue's bar is one second; the margin here is for a loaded CI machine, and the figure is reported.
    assert!(
        list_latency < Duration::from_secs(5) && detail_latency < Duration::from_secs(5),
        "list {list_latency:?}, detail {detail_latency:?}"
    );

    kubectl_ok(&stack, &["delete", "configmap", &name, "-n", "team-a"])?;
    devstack::poll::until(
        "the page to notice the deletion",
        Duration::from_secs(5),
        || exists(&browser, "[data-testid=object-missing]"),
    )
    .await?;
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await
}

#[tokio::test]
async fn one_view_asks_for_permissions_in_one_request() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(&stack, Role::Developer, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;
    browser.wait_for("[data-testid=create]").await?;
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

#[tokio::test]
async fn names_and_annotations_are_text_and_every_control_has_a_name() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let name = unique("e2e-markup");
    kubectl_ok(
        &stack,
        &[
            "create",
            "configmap",
            &name,
            "-n",
            "team-a",
            "--from-literal=k=<b>v</b>",
        ],
    )?;
    let markup = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";
    kubectl_ok(
        &stack,
        &[
            "annotate",
            "configmap",
            &name,
            "-n",
            "team-a",
            &format!("note={markup}"),
        ],
    )?;
    let browser = open_as(
        &stack,
        Role::Admin,
        &format!("/ns/team-a/core/v1/configmaps/{name}"),
    )
    .await?;
    browser
        .wait_for("[data-testid=object-actions] [data-testid=delete]")
        .await?;
    let main = browser.text_of("main").await?;
    assert!(
        main.contains(markup),
        "the annotation is shown as text: {main}"
    );
    let injected = browser
        .client
        .execute("return document.querySelectorAll('main img, main script').length + (window.__pwned ? 100 : 0);", vec![])
        .await?;
    assert_eq!(injected, json!(0), "nothing in the object became markup");

    // Every button, field and select has an accessible name (its text, a label or aria-label).
    let nameless = |browser: &Browser| {
        let client = browser.client.clone();
        async move {
            let found = client
                .execute(
                    "return [...document.querySelectorAll('button, input, select, textarea, a[href]')]
                       .filter(el => !((el.getAttribute('aria-label') || '').trim()
                         || (el.closest('label') && el.closest('label').textContent.trim())
                         || (el.labels && el.labels.length)
                         || el.textContent.trim()))
                       .map(el => el.outerHTML);",
                    vec![],
                )
                .await?;
            anyhow::Ok(found)
        }
    };
    assert_eq!(
        nameless(&browser).await?,
        json!([]),
        "controls without a name on the detail page"
    );
    click_button(&browser, "Edit YAML").await?;
    browser.wait_for("[data-testid=yaml-editor]").await?;
    assert_eq!(
        nameless(&browser).await?,
        json!([]),
        "controls without a name in the editor"
    );
    goto(&browser, &stack, "/ns/team-a/core/v1/configmaps").await?;
    list_is_live(&browser).await?;
    browser.wait_for("[data-testid=create]").await?;
    assert_eq!(
        nameless(&browser).await?,
        json!([]),
        "controls without a name on the list"
    );

    // The theme switch is a named, pressed-state button and changes the page's theme.
    let toggle = browser.wait_for("[data-testid=theme-toggle]").await?;
    let before = browser
        .client
        .execute("return document.documentElement.dataset.theme;", vec![])
        .await?;
    toggle.click().await?;
    let after = browser
        .client
        .execute("return document.documentElement.dataset.theme;", vec![])
        .await?;
    assert_ne!(before, after);
    assert!(after == json!("dark") || after == json!("light"));

    kubectl_ok(&stack, &["delete", "configmap", &name, "-n", "team-a"])?;
    let errors = browser.console_errors().await?;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.close().await
}

#[tokio::test]
async fn custom_resources_are_in_the_sidebar_with_their_printer_columns() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let browser = open_as(
        &stack,
        Role::Admin,
        "/ns/team-a/demo.kube-console.io/v1/databases",
    )
    .await?;
    list_is_live(&browser).await?;
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
    let namespace = unique("e2e-paging");
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
    kubectl_ok(&stack, &["apply", "-f", &file.to_string_lossy()])?;
    std::fs::remove_file(&file)?;

    let browser = open_as(
        &stack,
        Role::Admin,
        &format!("/ns/{namespace}/core/v1/configmaps"),
    )
    .await?;
    list_is_live(&browser).await?;
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
        row_shown(&browser, &last)
    })
    .await?;
    browser.close().await?;
    kubectl_ok(&stack, &["delete", "namespace", &namespace, "--wait=false"])?;
    Ok(())
}
