//! `cargo xtask bench` runs this against a running stack: 10,000 ConfigMaps in one namespace,
//! listed by `kubectl get configmaps` and opened in the console in headless Chromium, in the same
//! run. Reports the time to the first rows and to the complete list, scrolling to the end, and
//! the tab's memory. Every wait is a polled condition with a deadline.

use std::{
    path::PathBuf,
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

/// `kubectl get configmaps` as a user types it (the table), timed; and how many objects it listed.
fn kubectl_get(stack: &StackDescription) -> anyhow::Result<(Duration, usize)> {
    let started = Instant::now();
    let table = e2e::kubectl_admin_ok(stack, &["get", "configmaps", "-n", NAMESPACE])?;
    let elapsed = started.elapsed();
    // The header line, and one per object (kube-root-ca.crt included).
    Ok((elapsed, table.lines().count().saturating_sub(1)))
}

/// The largest renderer process's resident memory, in KiB: the console's tab (the only one).
fn renderer_rss_kib() -> anyhow::Result<u64> {
    let mut largest = None;
    for entry in std::fs::read_dir("/proc")?.flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        if !cmdline.contains("chromium") || !cmdline.contains("--type=renderer") {
            continue;
        }
        // A renderer that ended meanwhile is simply not counted.
        if let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok())
            && let Ok(rss) = e2e::rss_kib(pid)
        {
            largest = largest.max(Some(rss));
        }
    }
    largest.context("no Chromium renderer process found")
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
    let (kubectl_before, listed) = kubectl_get(&stack)?;
    anyhow::ensure!(listed >= COUNT, "kubectl listed {listed}");

    let browser = Browser::logged_in(&stack, Role::Admin, "/").await?;
    let rss_before = renderer_rss_kib()?;

    let url = format!("{}/ns/{NAMESPACE}/core/v1/configmaps", stack.console_url);
    let started = Instant::now();
    browser.client.goto(&url).await?;
    // Both from the navigation, not from the start of each wait.
    poll(
        &browser,
        "return document.querySelector('[data-testid=resource-row]') !== null;",
        Duration::from_secs(60),
    )
    .await?;
    let first_rows = started.elapsed();
    poll(
        &browser,
        "return document.querySelector('[data-testid=list-status][data-phase=current]') !== null;",
        Duration::from_secs(120),
    )
    .await?;
    let complete = started.elapsed();
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
    let rss_after = renderer_rss_kib()?;
    let (kubectl_after, _) = kubectl_get(&stack)?;
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
