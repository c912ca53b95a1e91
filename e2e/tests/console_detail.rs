//! The console's detail pages in Chromium against the real stack: Secret values hidden until
//! revealed, names and annotations shown as text (never markup), and every control named.

use devstack::Role;
use e2e::{TestStack, browser::Browser};
use serde_json::json;

#[tokio::test]
async fn secret_values_stay_hidden_until_revealed() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    // --save-config leaves the last-applied annotation, which repeats the values.
    let name = e2e::unique("e2e-secret");
    let password = "not-a-real-password";
    let encoded = "bm90LWEtcmVhbC1wYXNzd29yZA==";
    stack.kubectl_ok(&[
        "create",
        "secret",
        "generic",
        &name,
        "-n",
        "team-a",
        "--from-literal=username=app",
        &format!("--from-literal=password={password}"),
        "--save-config",
    ])?;
    let browser = stack
        .browser(Role::Admin, &format!("/ns/team-a/core/v1/secrets/{name}"))
        .await?;
    let data = browser.wait_for("[data-testid=secret-data]").await?;
    assert!(data.text().await?.contains("19 bytes"));
    let annotations = browser.text_of("ul.pairs").await?;
    assert!(
        annotations.contains("last-applied-configuration") && annotations.contains("hidden"),
        "{annotations}"
    );
    // Nowhere on the page, the YAML and the last-applied annotation (kubectl apply) included.
    browser.click("details summary").await?;
    let page = browser.client.source().await?;
    assert!(
        !page.contains(password) && !page.contains(encoded),
        "a secret value is on the page before it was revealed"
    );

    browser.click("[data-testid=reveal-secret]").await?;
    let data = browser.text_of("[data-testid=secret-data]").await?;
    assert!(data.contains(password) && data.contains("app"), "{data}");
    let yaml = browser.text_of("[data-testid=object-yaml]").await?;
    assert!(yaml.contains(encoded), "{yaml}");
    browser.assert_no_console_errors().await?;
    stack.kubectl_ok(&["delete", "secret", &name, "-n", "team-a"])?;
    browser.close().await
}

#[tokio::test]
async fn names_and_annotations_are_text_and_every_control_has_a_name() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let name = e2e::unique("e2e-markup");
    stack.create_configmap("team-a", &name, "k=<b>v</b>")?;
    let markup = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";
    stack.kubectl_ok(&[
        "annotate",
        "configmap",
        &name,
        "-n",
        "team-a",
        &format!("note={markup}"),
    ])?;
    let browser = stack
        .browser(
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
    browser.click_button("Edit YAML").await?;
    browser.wait_for("[data-testid=yaml-editor]").await?;
    assert_eq!(
        nameless(&browser).await?,
        json!([]),
        "controls without a name in the editor"
    );
    browser.open("/ns/team-a/core/v1/configmaps").await?;
    browser.list_is_live().await?;
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

    stack.kubectl_ok(&["delete", "configmap", &name, "-n", "team-a"])?;
    browser.assert_no_console_errors().await?;
    browser.close().await
}
