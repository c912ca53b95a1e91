//! The kubeconfig as a user gets it: logged in, from the console's "Download kubeconfig" button.

use std::{path::PathBuf, time::Duration};

use devstack::Role;
use fantoccini::Locator;
use shared::kubeconfig::Kubeconfig;

use crate::{TestStack, browser::Browser};

/// Downloads `role`'s kubeconfig through the console in Chromium and returns a copy of the file
/// (one per call: tests in one binary run in parallel) and the token the app held.
pub async fn download_kubeconfig(
    stack: &TestStack,
    role: Role,
) -> anyhow::Result<(PathBuf, String)> {
    let description = stack.description();
    let browser = Browser::logged_in(description, role, "/").await?;
    browser.wait_for("[data-testid=token-expiry]").await?;
    let token = browser.required_token().await?;
    browser
        .client
        .find(Locator::XPath(
            "//button[normalize-space(.)='Download kubeconfig']",
        ))
        .await?
        .click()
        .await?;
    let file = browser.downloads_dir().join("kubeconfig-kyma.local.yaml");
    let probe = file.clone();
    let downloaded =
        devstack::poll::until("the kubeconfig download", Duration::from_secs(20), || {
            let ready = probe.is_file()
                && std::fs::metadata(&probe)
                    .map(|m| m.len() > 0)
                    .unwrap_or(false);
            async move { Ok(ready) }
        })
        .await;
    if let Err(error) = downloaded {
        let in_downloads: Vec<String> = std::fs::read_dir(browser.downloads_dir())
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let page = browser.describe_page().await;
        return Err(error.context(format!(
            "{role:?}'s download; the downloads folder holds {in_downloads:?}; {page}"
        )));
    }
    static DOWNLOADS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = DOWNLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let kept = std::env::temp_dir().join(format!(
        "e2e-kubeconfig-{role:?}-{}-{n}.yaml",
        std::process::id()
    ));
    std::fs::copy(&file, &kept)?;
    browser.close().await?;
    Ok((kept, token))
}

/// The token a kubeconfig file carries.
pub fn kubeconfig_token(path: &std::path::Path) -> anyhow::Result<String> {
    let parsed: Kubeconfig = serde_yaml::from_str(&std::fs::read_to_string(path)?)?;
    Ok(parsed.users[0].user.token.clone())
}
