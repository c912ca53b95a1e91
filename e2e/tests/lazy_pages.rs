//! The pages that load with wasm chunks of their own (frontend/src/lazy_route.rs), on a stack of
//! its own serving a copy of the app without the list page's chunk, as a tab opened before the
//! console was updated finds it: the page says it could not be loaded and the app goes on.

use std::path::Path;

use devstack::Role;
use e2e::browser::Browser;

#[tokio::test]
async fn a_page_whose_chunk_is_gone_says_so_and_the_app_goes_on() -> anyhow::Result<()> {
    let root = e2e::repo_root();
    let dist = root.join(format!("target/e2e-dist-{}", std::process::id()));
    copy_dir(&root.join("dist"), &dist)?;
    let mut removed = 0;
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.contains("_split_list_page.wasm") {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    anyhow::ensure!(removed > 0, "no list page chunk in {}", dist.display());

    let mut own = e2e::OwnStack::new("1h");
    own.dist_dir = Some(dist.clone());
    let stack = own.start().await?;
    let browser = Browser::logged_in(stack.description(), Role::Admin, "/").await?;
    browser.wait_for("[data-testid=current-user]").await?;
    browser
        .click("nav.sidebar a[href$='/core/v1/configmaps']")
        .await?;
    let alert = browser.wait_for("[data-testid=page-not-loaded]").await?;
    assert!(alert.text().await?.contains("could not be fetched"));
    browser.wait_for("[data-testid=page-reload]").await?;
    // The app still runs: the overview, in the main module, opens.
    browser.click("nav.sidebar a[href='/']").await?;
    browser.wait_for("[data-testid=overview-scope]").await?;
    browser.close().await?;
    drop(stack);
    std::fs::remove_dir_all(&dist)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
