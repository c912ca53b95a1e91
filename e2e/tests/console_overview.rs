//! The overview in Chromium against the real stack: pods by phase as a picture whose numbers (and
//! their text for screen readers) are what the apiserver says, changing live as kubectl changes
//! the cluster; workloads short of replicas, Warning events and nodes shown only to who may list
//! them, each linking to what it counts; colours from the theme. Holds with or without a real
//! node: the checks compare with kubectl, not with fixed phases; one test asks for the node (the
//! demo workloads: team-a's crasher restarting, BackOff warnings, the node Ready).

use std::time::Duration;

use devstack::Role;
use e2e::{TestStack, browser::Browser};
use fantoccini::Locator;
use serde_json::Value;

const PHASES: [&str; 5] = ["Running", "Pending", "Succeeded", "Failed", "Unknown"];
/// Long enough for a watch event to reach the page on a busy machine.
const LIVE: Duration = Duration::from_secs(30);

/// The donut's text as the app must write it for the pods kubectl lists in `namespace`.
fn phases_label(stack: &TestStack, namespace: &str) -> anyhow::Result<String> {
    let pods: Value =
        serde_json::from_str(&stack.kubectl_ok(&["get", "pods", "-n", namespace, "-o", "json"])?)?;
    let mut counts = [0u64; 5];
    for pod in pods["items"].as_array().into_iter().flatten() {
        let phase = pod["status"]["phase"].as_str().unwrap_or_default();
        let index = PHASES.iter().position(|p| *p == phase).unwrap_or(4);
        counts[index] += 1;
    }
    Ok(label(counts))
}

/// The donut's accessible name for these counts (in the order of `PHASES`).
fn label(counts: [u64; 5]) -> String {
    let parts: Vec<String> = PHASES
        .iter()
        .zip(counts)
        .map(|(name, n)| format!("{n} {name}"))
        .collect();
    format!(
        "Pods by phase: {}; {} in all",
        parts.join(", "),
        counts.iter().sum::<u64>()
    )
}

/// The counts the legend shows, in the order of `PHASES`.
async fn legend_counts(browser: &Browser) -> anyhow::Result<[u64; 5]> {
    let mut counts = [0; 5];
    for (count, phase) in counts.iter_mut().zip(PHASES) {
        *count = browser
            .text_of(&format!(
                "[data-testid=pods-by-phase] li[data-phase={phase}] .count"
            ))
            .await?
            .trim()
            .parse()?;
    }
    Ok(counts)
}

/// The figures the legend shows, written as the donut's label: what a sighted user reads must
/// be what a screen reader says.
async fn legend_as_label(browser: &Browser) -> anyhow::Result<String> {
    Ok(label(legend_counts(browser).await?))
}

/// What the pods donut says to a screen reader (its accessible name).
async fn donut_label(browser: &Browser) -> anyhow::Result<String> {
    Ok(browser
        .wait_for("[data-testid=pods-donut]")
        .await?
        .attr("aria-label")
        .await?
        .unwrap_or_default())
}

/// Waits until the donut says what kubectl says about `namespace` (read in the same round, as
/// pods may change phase meanwhile), and its legend says the same; returns the label.
async fn donut_matches_kubectl(
    stack: &TestStack,
    browser: &Browser,
    namespace: &str,
) -> anyhow::Result<String> {
    let seen = std::cell::RefCell::new(String::new());
    let result = devstack::poll::until("the donut to match kubectl", LIVE, || {
        let seen = &seen;
        async move {
            let label = donut_label(browser).await?;
            let expected = phases_label(stack, namespace)?;
            let legend = legend_as_label(browser).await?;
            *seen.borrow_mut() =
                format!("donut {label:?}, legend {legend:?}, kubectl {expected:?}");
            Ok(label == expected && legend == expected)
        }
    })
    .await;
    let seen = seen.into_inner();
    anyhow::ensure!(result.is_ok(), "{seen}");
    Ok(seen)
}

fn apply(stack: &TestStack, name: &str, manifest: &str) -> anyhow::Result<()> {
    let file = std::env::temp_dir().join(format!("{name}.yaml"));
    std::fs::write(&file, manifest)?;
    let applied = stack.kubectl_ok(&["apply", "-f", &file.to_string_lossy()]);
    std::fs::remove_file(&file)?;
    applied.map(drop)
}

/// A pod that sleeps (Running with a node, Pending without one).
fn sleeper(namespace: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  containers:\n  - name: main\n    image: localhost/busybox:local\n    imagePullPolicy: Never\n    command: [sleep, \"3600\"]\n"
    )
}

/// A Deployment that never becomes ready: its image is nowhere, and nothing is pulled.
fn never_ready(namespace: &str, name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n      - name: main\n        image: localhost/nowhere:none\n        imagePullPolicy: Never\n"
    )
}

/// Opens the overview the way a user does: from a list in `namespace`, by the sidebar's link.
async fn overview_in(browser: &Browser, namespace: &str) -> anyhow::Result<()> {
    browser
        .open(&format!("/ns/{namespace}/core/v1/configmaps"))
        .await?;
    browser.list_is_live().await?;
    browser.click("nav.sidebar a[href='/']").await?;
    let scope = browser.text_of("[data-testid=overview-scope]").await?;
    anyhow::ensure!(scope.contains(namespace), "{scope}");
    Ok(())
}

async fn path(browser: &Browser) -> anyhow::Result<String> {
    Ok(browser.client.current_url().await?.path().to_string())
}

#[tokio::test]
async fn the_overview_draws_the_namespace_live_and_links_to_what_it_counts() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let namespace = e2e::unique("e2e-overview");
    stack.kubectl_ok(&["create", "namespace", &namespace])?;
    apply(&stack, &namespace, &sleeper(&namespace, "first"))?;

    let browser = stack
        .browser_on_list(Role::Admin, &format!("/ns/{namespace}/core/v1/configmaps"))
        .await?;
    overview_in(&browser, &namespace).await?;
    let before = donut_matches_kubectl(&stack, &browser, &namespace).await?;
    assert!(before.contains("; 1 in all"), "{before}");
    browser.mark_page_load().await?;

    // Live, without a reload: two more pods, and a workload short of its replicas.
    apply(
        &stack,
        &format!("{namespace}-short"),
        &never_ready(&namespace, "short", 2),
    )?;
    devstack::poll::until("the new pods on the donut", LIVE, || async {
        Ok(donut_label(&browser).await?.ends_with("; 3 in all"))
    })
    .await?;
    donut_matches_kubectl(&stack, &browser, &namespace).await?;
    assert!(browser.same_page_load().await?, "the overview reloaded");
    // One arc per phase that has pods, each coloured by the theme.
    let drawn = browser
        .client
        .find_all(Locator::Css("[data-testid=pods-donut] circle:not(.track)"))
        .await?
        .len();
    let counts = legend_counts(&browser).await?;
    let nonzero = counts.iter().filter(|n| **n > 0).count();
    assert_eq!(drawn, nonzero, "{counts:?}");

    let short = browser
        .wait_for("[data-testid=workloads] li[data-name=short]")
        .await?;
    let bar = short
        .find(Locator::Css("svg[role=img]"))
        .await?
        .attr("aria-label")
        .await?
        .unwrap_or_default();
    assert_eq!(bar, format!("Deployment {namespace}/short: 0 of 2 ready"));
    assert!(short.text().await?.contains("0/2"));

    // A Warning event made with kubectl shows, newest first, linking to its object.
    let reason = "E2eOverviewWarning";
    let date = std::process::Command::new("date")
        .arg("-u")
        .arg("+%FT%TZ")
        .output()?;
    let now = String::from_utf8(date.stdout)?;
    let now = now.trim();
    apply(
        &stack,
        &format!("{namespace}-event"),
        &format!(
            "apiVersion: v1\nkind: Event\nmetadata:\n  name: first.e2e\n  namespace: {namespace}\ntype: Warning\nreason: {reason}\nmessage: \"<b>not markup</b>\"\ncount: 2\nfirstTimestamp: \"{now}\"\nlastTimestamp: \"{now}\"\ninvolvedObject:\n  apiVersion: v1\n  kind: Pod\n  name: first\n  namespace: {namespace}\nsource:\n  component: e2e\n"
        ),
    )?;
    // The part redraws its list in place as events come (the kubelet's own Warnings too), so an
    // element found once may show another event by the time it is read: look it up each time.
    let item = format!("[data-testid=warnings] li[data-reason={reason}]");
    let shows_event = |text: &str| {
        text.contains(&format!("Pod {namespace}/first"))
            && text.contains("<b>not markup</b>")
            && text.contains("×2")
    };
    let last_text = std::cell::RefCell::new(String::new());
    devstack::poll::until("the Warning event in the overview", LIVE, || async {
        let text = browser.text_of(&item).await?;
        let shown = shows_event(&text);
        *last_text.borrow_mut() = text;
        Ok(shown)
    })
    .await
    .map_err(|error| error.context(format!("the event showed {:?}", last_text.borrow())))?;
    browser.click(&format!("{item} a")).await?;
    devstack::poll::until("the event's pod page", LIVE, || async {
        Ok(path(&browser).await? == format!("/ns/{namespace}/core/v1/pods/first"))
    })
    .await?;
    browser.wait_for("[data-testid=object-spec]").await?;

    // Each part's heading leads to the list it counts.
    for (part, list) in [
        ("pods-by-phase", format!("/ns/{namespace}/core/v1/pods")),
        ("warnings", format!("/ns/{namespace}/core/v1/events")),
    ] {
        browser.click("nav.sidebar a[href='/']").await?;
        browser.click(&format!("[data-testid={part}] h3 a")).await?;
        browser.list_is_live().await?;
        assert_eq!(path(&browser).await?, list);
    }
    browser.click("nav.sidebar a[href='/']").await?;
    browser
        .click("[data-testid=workloads] li[data-kind=Deployments] > a")
        .await?;
    browser.list_is_live().await?;
    assert_eq!(
        path(&browser).await?,
        format!("/ns/{namespace}/apps/v1/deployments")
    );
    assert!(browser.row_shown("short").await?);

    // Both themes colour the arcs from their own variables.
    browser.click("nav.sidebar a[href='/']").await?;
    browser
        .wait_for("[data-testid=pods-donut] circle:not(.track)")
        .await?;
    let stroke = "return getComputedStyle(document.querySelector('[data-testid=pods-donut] circle:not(.track)')).stroke;";
    let light = browser.client.execute(stroke, vec![]).await?;
    browser.click("[data-testid=theme-toggle]").await?;
    devstack::poll::until("the arcs in the other theme's colour", LIVE, || async {
        Ok(browser.client.execute(stroke, vec![]).await? != light)
    })
    .await?;

    browser.assert_no_console_errors().await?;
    browser.close().await?;
    stack.kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"])?;
    Ok(())
}

#[tokio::test]
async fn each_user_sees_the_parts_they_may_list() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    // The developer, who may list in team-a only, is shown team-a; nodes are cluster-wide.
    let browser = stack.browser(Role::Developer, "/").await?;
    // The app starts in "default" and moves to team-a once it knows the developer's namespaces.
    devstack::poll::until("the overview of team-a", LIVE, || async {
        Ok(browser
            .text_of("[data-testid=overview-scope]")
            .await?
            .contains("team-a"))
    })
    .await?;
    donut_matches_kubectl(&stack, &browser, "team-a").await?;
    let refused = browser
        .text_of("[data-testid=nodes] [data-testid=refused]")
        .await?;
    assert_eq!(refused, "You may not list nodes.");
    for part in ["workloads", "restarts", "warnings"] {
        browser.wait_for(&format!("[data-testid={part}]")).await?;
        assert!(
            !browser
                .exists(&format!("[data-testid={part}] [data-testid=refused]"))
                .await?,
            "{part} refused to the developer in team-a"
        );
    }
    // Nothing the developer may not list was asked for: no error on the page.
    assert!(
        !browser
            .exists("[data-testid=overview-health] .error")
            .await?
    );
    browser.assert_no_console_errors().await?;
    browser.close().await?;

    // The admin sees the nodes, as kubectl reports them.
    let browser = stack.browser(Role::Admin, "/").await?;
    let nodes: Value = serde_json::from_str(&stack.kubectl_ok(&["get", "nodes", "-o", "json"])?)?;
    let total = nodes["items"].as_array().map_or(0, Vec::len);
    // The donut is drawn while the nodes are still loading ("Loading…" beside it): poll.
    let expected = format!("; {total} in all");
    let label = || async {
        Ok::<_, anyhow::Error>(
            browser
                .wait_for("[data-testid=nodes-donut]")
                .await?
                .attr("aria-label")
                .await?
                .unwrap_or_default(),
        )
    };
    let counted = devstack::poll::until("the nodes as kubectl counts them", LIVE, || async {
        Ok(label().await?.ends_with(&expected))
    })
    .await;
    if counted.is_err() {
        anyhow::bail!("the nodes donut says {:?}, not …{expected}", label().await?);
    }
    for node in nodes["items"].as_array().into_iter().flatten() {
        let name = node["metadata"]["name"].as_str().unwrap_or_default();
        let ready = node["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["type"] == "Ready")
            .and_then(|c| c["status"].as_str())
            .unwrap_or_default()
            .to_string();
        let shown = browser
            .wait_for(&format!(
                "[data-testid=nodes] li[data-name='{name}'] li[data-condition=Ready]"
            ))
            .await?
            .attr("data-status")
            .await?
            .unwrap_or_default();
        assert_eq!(shown, ready, "node {name}");
    }
    browser.close().await
}

/// The crasher's restart count as kubectl reports it.
fn crasher_restarts(stack: &TestStack) -> anyhow::Result<u64> {
    let jsonpath = "jsonpath={.status.containerStatuses[0].restartCount}";
    let count = stack.kubectl_ok(&["get", "pod", "crasher", "-n", "team-a", "-o", jsonpath])?;
    Ok(count.parse().unwrap_or(0))
}

#[tokio::test]
async fn with_the_node_running_pods_restarts_and_the_node_show() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    devstack::poll::until(
        "the crasher to restart",
        Duration::from_secs(120),
        || async { Ok(crasher_restarts(&stack)? > 0) },
    )
    .await?;
    let browser = stack
        .browser_on_list(Role::Admin, "/ns/team-a/core/v1/configmaps")
        .await?;
    overview_in(&browser, "team-a").await?;
    let seen = donut_matches_kubectl(&stack, &browser, "team-a").await?;
    assert!(!seen.contains(": 0 Running"), "{seen}");

    // The crasher is among the restarting containers, with kubectl's count, linking to its pod.
    devstack::poll::until(
        "the crasher's restarts as kubectl counts them",
        LIVE,
        || async {
            let shown = browser
                .text_of("[data-testid=restarts] li[data-pod=crasher] .count")
                .await?;
            Ok(shown.trim() == crasher_restarts(&stack)?.to_string())
        },
    )
    .await?;
    // CrashLoopBackOff is called out, and the kubelet's BackOff warnings are listed.
    browser
        .wait_for("[data-testid=pods-by-phase] [data-reason=CrashLoopBackOff]")
        .await?;
    // Only the newest ten are listed, and the kubelet rate-limits repeated events per object, so
    // on a busy shared stack the crasher's may take a while to be among them: poll.
    let shown = devstack::poll::until(
        "a BackOff warning of Pod team-a/crasher among the latest",
        Duration::from_secs(180),
        || async {
            let rows = browser
                .client
                .execute(
                    "return [...document.querySelectorAll('[data-testid=warnings] li[data-reason=BackOff]')]
                       .map(li => li.textContent);",
                    vec![],
                )
                .await?;
            Ok(rows
                .as_array()
                .is_some_and(|rows| rows.iter().any(|r| r.as_str().is_some_and(|t| t.contains("Pod team-a/crasher")))))
        },
    )
    .await;
    if shown.is_err() {
        let events = stack.kubectl_admin(&[
            "get",
            "events",
            "-n",
            "team-a",
            "--field-selector",
            "type=Warning",
        ])?;
        let listed = browser
            .text_of("[data-testid=warnings]")
            .await
            .unwrap_or_default();
        anyhow::bail!(
            "no BackOff warning of the crasher listed: {listed}\nkubectl: {}",
            String::from_utf8_lossy(&events.stdout)
        );
    }

    // The node is Ready, as kubectl says.
    let node = stack.kubectl_ok(&[
        "get",
        "nodes",
        "-l",
        "kube-console.io/node=real",
        "-o",
        "jsonpath={.items[0].metadata.name}",
    ])?;
    browser
        .wait_for(&format!(
            "[data-testid=nodes] li[data-name='{node}'] li[data-condition=Ready][data-status=True]"
        ))
        .await?;

    browser
        .click("[data-testid=restarts] li[data-pod=crasher] a")
        .await?;
    browser.wait_for("[data-testid=object-spec]").await?;
    assert_eq!(path(&browser).await?, "/ns/team-a/core/v1/pods/crasher");
    browser.assert_no_console_errors().await?;
    browser.close().await
}
