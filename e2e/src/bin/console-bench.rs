//! `cargo xtask bench` runs this against a running stack: 10,000 ConfigMaps in one namespace,
//! listed by `kubectl get configmaps` and opened in the console in headless Chromium, in the same
//! run. Reports the time to the first rows and to the complete list, scrolling to the end, and
//! the tab's memory. Every wait is a polled condition with a deadline.

use std::{
    path::PathBuf,
    process::Command,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context;
use devstack::{Role, StackDescription};
use e2e::browser::Browser;
use fantoccini::Locator;
use serde_json::json;

const NAMESPACE: &str = "bench-10k";
const COUNT: usize = 10_000;
const CONCURRENCY: usize = 16;

async fn seed(stack: &StackDescription, http: &reqwest::Client, token: &str) -> anyhow::Result<()> {
    let base = &stack.apiserver_proxy_url;
    let namespace = http
        .post(format!("{base}/api/v1/namespaces"))
        .bearer_auth(token)
        .json(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))
        .send()
        .await?;
    anyhow::ensure!(
        namespace.status().is_success() || namespace.status() == 409,
        "creating the namespace: {}",
        namespace.status()
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (http, next, token) = (http.clone(), next.clone(), token.to_string());
        let url = format!("{base}/api/v1/namespaces/{NAMESPACE}/configmaps");
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= COUNT {
                    return anyhow::Ok(());
                }
                let body = json!({"apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": format!("cm-{i:05}"), "labels": {"bench": "10k"}},
                    "data": {"index": i.to_string(), "note": "benchmark data"}});
                let response = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success() || response.status() == 409,
                    "creating cm-{i:05}: {}",
                    response.status()
                );
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result??;
    }
    Ok(())
}

fn kubectl_get(kubeconfig: &std::path::Path) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let output = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["get", "configmaps", "-n", NAMESPACE])
        .output()?;
    let elapsed = started.elapsed();
    anyhow::ensure!(output.status.success(), "kubectl get failed");
    // The header line, and one per object (kube-root-ca.crt included).
    Ok((
        elapsed,
        String::from_utf8_lossy(&output.stdout).lines().count() - 1,
    ))
}

/// The largest renderer process's resident memory, in KiB: the console's tab (the only one).
fn renderer_rss_kib() -> u64 {
    let mut largest = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains("chromium") || !cmdline.contains("--type=renderer") {
            continue;
        }
        let status = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let rss = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        largest = largest.max(rss);
    }
    largest
}

async fn poll(browser: &Browser, script: &str, deadline: Duration) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        if browser.client.execute(script, vec![]).await?.as_bool() == Some(true) {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(started.elapsed() < deadline, "timed out: {script}");
        tokio::task::yield_now().await;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: console-bench <stack.json>")?,
    );
    let stack = StackDescription::read(&path)?;
    let http = e2e::http_client(&stack)?
        .timeout(Duration::from_secs(60))
        .build()?;
    let admin = stack.user(Role::Admin).context("no admin")?;
    let token = e2e::http_login::id_token(&http, &stack.console_url, admin).await?;
    let seeding = Instant::now();
    seed(&stack, &http, &token).await?;
    eprintln!("seeded {COUNT} ConfigMaps in {:.1?}", seeding.elapsed());

    // kubectl first and last, so that a warm or cold apiserver cache favours neither side.
    let (kubectl_before, listed) = kubectl_get(&stack.admin_kubeconfig)?;
    anyhow::ensure!(listed >= COUNT, "kubectl listed {listed}");

    let browser = Browser::start(&stack).await?;
    browser
        .client
        .goto(&format!("{}/", stack.console_url))
        .await?;
    browser.log_in_at_dex(admin).await?;
    browser.wait_for("[data-testid=current-user]").await?;
    let rss_before = renderer_rss_kib();

    let url = format!("{}/ns/{NAMESPACE}/core/v1/configmaps", stack.console_url);
    let started = Instant::now();
    browser.client.goto(&url).await?;
    let first_rows = started.elapsed()
        + poll(
            &browser,
            "return document.querySelector('[data-testid=resource-row]') !== null;",
            Duration::from_secs(60),
        )
        .await?;
    let complete = started.elapsed()
        + poll(
            &browser,
            "return document.querySelector('[data-testid=list-status][data-phase=current]') !== null;",
            Duration::from_secs(120),
        )
        .await?;
    let count_text = browser.text_of("[data-testid=row-count]").await?;
    anyhow::ensure!(
        count_text.starts_with(&format!("{}", COUNT + 1))
            || count_text.starts_with(&COUNT.to_string()),
        "row count: {count_text}"
    );
    let rendered_rows = browser
        .client
        .find_all(Locator::Css("[data-testid=resource-row]"))
        .await?
        .len();

    // Scroll to the end: the last object must be on screen.
    browser.scroll_table_to_end().await?;
    let scrolled = poll(
        &browser,
        &format!(
            "return document.querySelector(\"[data-name='cm-{:05}']\") !== null;",
            COUNT - 1
        ),
        Duration::from_secs(30),
    )
    .await?;
    let heap: u64 = browser
        .client
        .execute(
            "return performance.memory ? performance.memory.usedJSHeapSize : 0;",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or(0);
    let rss_after = renderer_rss_kib();
    let (kubectl_after, _) = kubectl_get(&stack.admin_kubeconfig)?;
    browser.close().await?;

    let report = json!({
        "objects": COUNT,
        "kubectl_get_ms": [kubectl_before.as_millis() as u64, kubectl_after.as_millis() as u64],
        "console_first_rows_ms": first_rows.as_millis() as u64,
        "console_complete_list_ms": complete.as_millis() as u64,
        "console_scroll_to_end_ms": scrolled.as_millis() as u64,
        "rows_in_the_dom": rendered_rows,
        "tab_renderer_rss_mib": [rss_before / 1024, rss_after / 1024],
        "tab_js_heap_mib": heap / (1024 * 1024),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
