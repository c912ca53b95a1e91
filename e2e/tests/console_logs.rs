//! The Logs view in Chromium against the real node and the demo workloads (team-a: Deployment
//! `chatty`, Pods `two-containers` and `crasher`): the lines `kubectl logs` shows, live, per
//! container (init included), the crashing pod's previous instance with its exit reason, a
//! workload's lines tagged with pod and container, markup shown as text, a bad regular
//! expression as an error, the whole log downloaded, and the viewer reading logs too.
//!
//! One test: a stack run on its own has the machine's one real node, so there is one stack.

use std::time::Duration;

use devstack::{Role, poll};
use e2e::{TestStack, browser::Browser};
use fantoccini::key::Key;

const NS: &str = "team-a";

/// The text of every log line drawn now.
async fn lines(browser: &Browser) -> anyhow::Result<Vec<String>> {
    let value = browser
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=log-line] .log-text')].map(e => e.textContent);",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// Waits (up to 60 s) until a drawn line satisfies `wanted`; returns it.
async fn line_shown(
    browser: &Browser,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let drawn = lines(browser).await?;
        if let Some(line) = drawn.iter().find(|l| wanted(l)) {
            return Ok(line.clone());
        }
        if std::time::Instant::now() >= deadline {
            let page = browser
                .client
                .execute("const m = document.querySelector('main'); const v = document.querySelector('[data-testid=log-view]'); return (m ? m.innerText.slice(0, 1500) : '') + ' | ' + (v ? JSON.stringify(v.dataset) : 'no view');", vec![])
                .await?;
            anyhow::bail!(
                "timed out waiting for {what}; drawn: {:?}; page: {page}",
                drawn.iter().rev().take(5).collect::<Vec<_>>()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The kubelet's answer for a previous instance it has already removed. Just after a crash it
/// removes the instance before last at once, while the status it reads `previous` from still
/// names that one for a few seconds: `kubectl logs -p` then gets this line too.
const REMOVED_INSTANCE: &str = "unable to retrieve container logs for ";

/// Opens the crasher's Logs view, checks the previous instance's exit reason, and shows its
/// log; a request that met the kubelet's removal race (`REMOVED_INSTANCE`) is made again, for up
/// to 45 s: the stack's kubelet restarts the crasher within 10 s of each crash, which ends it.
async fn previous_instance_shown(browser: &Browser) -> anyhow::Result<()> {
    let deadline = std::time::Instant::now() + Duration::from_secs(45);
    loop {
        browser
            .open(&format!("/ns/{NS}/core/v1/pods/crasher/logs"))
            .await?;
        let reason = browser.text_of("[data-testid=log-previous-reason]").await?;
        assert!(
            reason.contains("exit code 3") && reason.contains("Error"),
            "{reason}"
        );
        browser.click("[data-testid=log-previous]").await?;
        let line = line_shown(browser, "the previous instance's last line", |l| {
            l == "crasher failing with exit code 3" || l.starts_with(REMOVED_INSTANCE)
        })
        .await?;
        if !line.starts_with(REMOVED_INSTANCE) {
            return Ok(());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the kubelet kept answering: {line}"
        );
        // Asked again once the kubelet has had time to start the next instance.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn received(browser: &Browser) -> anyhow::Result<u64> {
    let text = browser
        .wait_for("[data-testid=log-view]")
        .await?
        .attr("data-received")
        .await?
        .unwrap_or_default();
    Ok(text.parse().unwrap_or(0))
}

/// Waits for the pods the test reads: running, and the crasher restarted at least once.
async fn workloads_ready(stack: &TestStack) -> anyhow::Result<()> {
    for (what, args) in [
        (
            "pod/two-containers",
            vec!["wait", "--for=condition=Ready", "pod/two-containers"],
        ),
        (
            "deployment/chatty",
            vec!["wait", "--for=condition=Available", "deployment/chatty"],
        ),
    ] {
        let mut args = args.clone();
        args.extend(["-n", NS, "--timeout=180s"]);
        stack
            .kubectl_ok(&args)
            .map_err(|e| e.context(format!("waiting for {what}")))?;
    }
    poll::until(
        "the crasher's first restart",
        Duration::from_secs(120),
        || {
            let restarts = stack.kubectl_ok(&[
                "get",
                "pod",
                "crasher",
                "-n",
                NS,
                "-o",
                "jsonpath={.status.containerStatuses[0].restartCount}",
            ]);
            async move { Ok(restarts?.parse::<u32>().unwrap_or(0) >= 1) }
        },
    )
    .await
}

#[tokio::test]
async fn logs_of_pods_and_workloads() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    workloads_ready(&stack).await?;

    // From the pod's page, its Logs link: the default container, live, the same lines as kubectl.
    let browser = stack
        .browser(
            Role::Admin,
            &format!("/ns/{NS}/core/v1/pods/two-containers"),
        )
        .await?;
    browser.click("[data-testid=open-logs]").await?;
    browser.wait_for("[data-testid=log-view]").await?;
    // Just after a start the runtime may not serve the log yet: asked again until it does.
    let mut written = String::new();
    poll::until("kubectl logs", Duration::from_secs(90), || {
        let out =
            stack.kubectl_admin(&["logs", "two-containers", "-c", "web", "-n", NS, "--tail=1"]);
        let line = out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
        let done = line.as_ref().is_ok_and(|l| l.starts_with("web line "));
        if let Ok(line) = line {
            written = line;
        }
        async move { Ok(done) }
    })
    .await?;
    line_shown(&browser, "the line kubectl shows", |l| l == written).await?;
    let before = received(&browser).await?;
    poll::until("new lines, live", Duration::from_secs(30), || {
        let now = received(&browser);
        async move { Ok(now.await? >= before + 2) }
    })
    .await?;

    // Another container, then the init container.
    browser
        .wait_for("[data-testid=log-container]")
        .await?
        .select_by_value("sidecar")
        .await?;
    line_shown(&browser, "the sidecar's lines", |l| {
        l.starts_with("sidecar line ")
    })
    .await?;
    assert!(
        lines(&browser)
            .await?
            .iter()
            .all(|l| !l.starts_with("web line")),
        "the web container's lines stayed after switching"
    );
    browser
        .wait_for("[data-testid=log-container]")
        .await?
        .select_by_value("prepare")
        .await?;
    line_shown(&browser, "the init container's line", |l| l == "prepared").await?;

    // The whole log, downloaded through the request core (no token in any URL).
    browser
        .wait_for("[data-testid=log-container]")
        .await?
        .select_by_value("web")
        .await?;
    line_shown(&browser, "the web lines again", |l| {
        l.starts_with("web line ")
    })
    .await?;
    browser.click("[data-testid=log-download]").await?;
    let file = browser.downloads_dir().join("two-containers.log");
    let probe = file.clone();
    poll::until("the downloaded log", Duration::from_secs(20), || {
        let done = std::fs::read_to_string(&probe).is_ok_and(|t| t.contains("web line 2\n"));
        async move { Ok(done) }
    })
    .await?;
    let downloaded = std::fs::read_to_string(&file)?;
    assert!(
        downloaded.starts_with("web line 1\n"),
        "{}",
        &downloaded[..downloaded.len().min(200)]
    );

    // A bad regular expression is a message, and the view goes on.
    let search = browser.wait_for("[data-testid=log-search]").await?;
    search.send_keys("web line (").await?;
    assert!(
        lines(&browser)
            .await?
            .iter()
            .any(|l| l.starts_with("web line"))
    );
    browser.click("[data-testid=log-regex]").await?;
    let error = browser.text_of("[data-testid=log-search-error]").await?;
    assert!(error.contains("regular expression"), "{error}");
    let before = received(&browser).await?;
    poll::until(
        "lines after the bad pattern",
        Duration::from_secs(30),
        || {
            let now = received(&browser);
            async move { Ok(now.await? > before) }
        },
    )
    .await?;

    // The crashing pod: its previous instance, with exit code and reason.
    previous_instance_shown(&browser).await?;
    line_shown(&browser, "its first line", |l| l == "crasher starting").await?;

    // A workload: every pod's lines, tagged; markup and escapes are text, colours are styles.
    browser
        .open(&format!("/ns/{NS}/apps/v1/deployments/chatty/logs"))
        .await?;
    let markup = line_shown(&browser, "the markup line", |l| l.contains("<script>")).await?;
    assert!(
        markup.contains("<b>bold</b><script>alert(1)</script>"),
        "{markup}"
    );
    let origin = browser.text_of("[data-testid=log-origin]").await?;
    assert!(
        origin.starts_with("chatty-") && origin.ends_with("/chatty"),
        "{origin}"
    );
    line_shown(&browser, "the coloured line", |l| l.contains("in orange")).await?;
    let made = browser
        .client
        .execute(
            "const v = document.querySelector('[data-testid=log-view]');
             return [v.querySelectorAll('b, script').length,
                     v.querySelectorAll('.ansi-fg1').length + v.querySelectorAll('[style*=color]').length,
                     [...v.querySelectorAll('.log-text')].some(e => /\\x1b|\\x07/.test(e.textContent))];",
            vec![],
        )
        .await?;
    assert_eq!(made[0], 0, "an element was made from a log line");
    assert!(
        made[1].as_u64().unwrap_or(0) > 0,
        "no coloured piece: {made}"
    );
    assert_eq!(made[2], false, "an escape reached the page: {made}");
    // Wrapped, the 20,000-character line alone fills many rows; scrolling up to it (it came
    // first) pauses following.
    browser.click("[data-testid=log-wrap]").await?;
    poll::until("the wrapped lines overflowing the view", Duration::from_secs(30), || {
        let tall = browser.client.execute(
            "const v = document.querySelector('[data-testid=log-view]'); return v.scrollHeight > v.clientHeight * 2;",
            vec![],
        );
        async move { Ok(tall.await?.as_bool() == Some(true)) }
    })
    .await?;
    // A scroll the page makes itself is no user's intent: the view keeps following.
    browser
        .client
        .execute(
            "const v = document.querySelector('[data-testid=log-view]'); v.scrollTop = 0; v.dispatchEvent(new Event('scroll'));",
            vec![],
        )
        .await?;
    browser
        .wait_for("[data-testid=log-view][data-following=true]")
        .await?;
    assert!(!browser.exists("[data-testid=log-resume]").await?);
    // The user's Home key is: it goes to the first line and pauses.
    browser
        .wait_for("[data-testid=log-view]")
        .await?
        .send_keys(&char::from(Key::Home).to_string())
        .await?;
    browser.wait_for("[data-testid=log-resume]").await?;
    let long = line_shown(&browser, "the 20,000-character line", |l| {
        l.starts_with("long line: ")
    })
    .await?;
    assert_eq!(long.len(), "long line: ".len() + 20_000);
    browser.assert_no_console_errors().await?;
    browser.close().await?;

    // The viewer reads logs too.
    let viewer = stack
        .browser(
            Role::Viewer,
            &format!("/ns/{NS}/core/v1/pods/two-containers/logs"),
        )
        .await?;
    line_shown(&viewer, "a line, as the viewer", |l| {
        l.starts_with("web line ")
    })
    .await?;
    viewer.assert_no_console_errors().await?;
    viewer.close().await
}
