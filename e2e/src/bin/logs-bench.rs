//! `cargo xtask bench` runs this against a running stack with the real node: a pod writing
//! well over 10,000 lines a second, its Logs view open in headless Chromium and following.
//! Reports the lines per second the view received and showed, the input latency while it
//! streams (a key into the search box until the next frame), the frame rate, and the tab's
//! memory (JS heap + the app's wasm memory, after a garbage collection; DOM nodes and listeners)
//! sampled over the run (10 minutes by default, `--seconds N` for another length), failing if
//! the memory or the DOM keeps growing once the view holds its maximum of lines. Every wait is a
//! polled condition with a deadline.

use std::{
    path::PathBuf,
    time::{Duration, Instant},
};

use anyhow::Context;
use devstack::{Role, StackDescription};
use e2e::browser::Browser;
use serde_json::{Value, json};

const NAMESPACE: &str = "team-a";
/// Seconds between memory samples (each runs the garbage collector first).
const MEMORY_EVERY: u64 = 10;
/// 2,000 lines every 0.1 s at most: the kubelet and containerd set the real pace.
const POD: &str = r#"{"apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "NAME", "labels": {"app": "logs-bench"}},
  "spec": {"terminationGracePeriodSeconds": 1, "containers": [{"name": "bench",
    "image": "localhost/busybox:local", "imagePullPolicy": "Never",
    "command": ["sh", "-c", "trap 'exit 0' TERM; while :; do seq 1 2000 | sed 's/^/bench line /'; usleep 100000; done"]}]}}"#;

/// The view's counters: lines received and lines held.
async fn counters(browser: &Browser) -> anyhow::Result<(u64, u64)> {
    let value = browser
        .client
        .execute(
            "const v = document.querySelector('[data-testid=log-view]');
             return [Number(v.dataset.received), Number(v.dataset.shown)];",
            vec![],
        )
        .await?;
    let n = |i: usize| value.get(i).and_then(Value::as_u64).unwrap_or(0);
    Ok((n(0), n(1)))
}

/// What the tab holds once the garbage collector has run: so that a growth is what the page
/// keeps, not when the collector last ran.
struct Memory {
    js_heap: u64,
    wasm: u64,
    dom_nodes: u64,
    listeners: u64,
}

impl Memory {
    fn total(&self) -> u64 {
        self.js_heap + self.wasm
    }
}

async fn memory(browser: &Browser) -> anyhow::Result<Memory> {
    browser
        .cdp("HeapProfiler.collectGarbage", json!({}))
        .await?;
    let heap = browser.cdp("Runtime.getHeapUsage", json!({})).await?;
    let dom = browser.cdp("Memory.getDOMCounters", json!({})).await?;
    let wasm = browser
        .client
        .execute(
            "return Number(document.querySelector('[data-testid=log-view]').dataset.wasmBytes);",
            vec![],
        )
        .await?;
    let n = |v: &Value| v.as_f64().unwrap_or(0.0) as u64;
    Ok(Memory {
        js_heap: n(&heap["usedSize"]),
        wasm: n(&wasm),
        dom_nodes: n(&dom["nodes"]),
        listeners: n(&dom["jsEventListeners"]),
    })
}

/// A key into the search box, until the frame after it (milliseconds).
async fn input_latency(browser: &Browser, text: &str) -> anyhow::Result<f64> {
    let value = browser
        .client
        .execute_async(
            "const [text, done] = arguments;
             const input = document.querySelector('[data-testid=log-search]');
             const started = performance.now();
             input.value = text;
             input.dispatchEvent(new InputEvent('input', {bubbles: true, data: text.slice(-1)}));
             requestAnimationFrame(() => setTimeout(() => done(performance.now() - started), 0));",
            vec![json!(text)],
        )
        .await?;
    value.as_f64().context("no latency")
}

/// Frames per second over `seconds`.
async fn frame_rate(browser: &Browser, seconds: u32) -> anyhow::Result<f64> {
    let value = browser
        .client
        .execute_async(
            "const [seconds, done] = arguments; let frames = 0; const started = performance.now();
             const frame = () => { frames++; if (performance.now() - started < seconds * 1000) requestAnimationFrame(frame);
                                   else done(frames / ((performance.now() - started) / 1000)); };
             requestAnimationFrame(frame);",
            vec![json!(seconds)],
        )
        .await?;
    value.as_f64().context("no frame rate")
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = ((values.len() as f64 - 1.0) * p).round() as usize;
    values.get(index).copied().unwrap_or(0.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .context("usage: logs-bench <stack.json> [--seconds N]")?,
    );
    let mut seconds = 600u64;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().context("--seconds N")?.parse()?,
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let stack = StackDescription::read(&path)?;
    let name = e2e::unique("logs-bench");
    let manifest = POD.replace("NAME", &name);
    let file = std::env::temp_dir().join(format!("{name}.json"));
    std::fs::write(&file, manifest)?;
    e2e::kubectl_admin_ok(
        &stack,
        &["apply", "-n", NAMESPACE, "-f", &file.to_string_lossy()],
    )?;
    let result = measure(&stack, &name, seconds).await;
    let _ = e2e::kubectl_admin(
        &stack,
        &["delete", "pod", &name, "-n", NAMESPACE, "--wait=false"],
    );
    let _ = std::fs::remove_file(&file);
    let report = result?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

async fn measure(stack: &StackDescription, name: &str, seconds: u64) -> anyhow::Result<Value> {
    e2e::kubectl_admin_ok(
        stack,
        &[
            "wait",
            "--for=condition=Ready",
            &format!("pod/{name}"),
            "-n",
            NAMESPACE,
            "--timeout=180s",
        ],
    )?;
    let browser = Browser::logged_in(
        stack,
        Role::Admin,
        &format!("/ns/{NAMESPACE}/core/v1/pods/{name}/logs"),
    )
    .await?;
    browser
        .wait_for("[data-testid=log-view][data-following=true]")
        .await?;
    let started = Instant::now();
    loop {
        if counters(&browser).await?.0 > 0 {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "no line arrived in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let (first_received, _) = counters(&browser).await?;
    let began = Instant::now();
    let mut memory_curve: Vec<(u64, Memory)> = Vec::new();
    let mut latencies = Vec::new();
    let mut max_shown = 0;
    let mut tick = 0u64;
    while began.elapsed() < Duration::from_secs(seconds) {
        let (_, shown) = counters(&browser).await?;
        max_shown = max_shown.max(shown);
        if tick.is_multiple_of(MEMORY_EVERY) {
            memory_curve.push((began.elapsed().as_secs(), memory(&browser).await?));
        }
        // A search typed while the lines stream, then cleared.
        let text = ["b", "be", "bench line 1", ""][(tick % 4) as usize];
        latencies.push(input_latency(&browser, text).await?);
        tick += 1;
        let next = Duration::from_secs(tick);
        if let Some(wait) = next.checked_sub(began.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let fps = frame_rate(&browser, 5).await?;
    let (last_received, _) = counters(&browser).await?;
    memory_curve.push((began.elapsed().as_secs(), memory(&browser).await?));
    let elapsed = began.elapsed().as_secs_f64();
    let following = browser
        .wait_for("[data-testid=log-view]")
        .await?
        .attr("data-following")
        .await?;
    browser.close().await?;
    // Nobody scrolled: the view must still be following after the whole run.
    anyhow::ensure!(
        following.as_deref() == Some("true"),
        "the Logs view stopped following while nobody scrolled (data-following={following:?})"
    );

    let mib = |b: u64| (b as f64 / (1024.0 * 1024.0) * 10.0).round() / 10.0;
    let half = memory_curve.len() / 2;
    let max_of = |part: &[(u64, Memory)], f: fn(&Memory) -> u64| {
        part.iter().map(|(_, m)| f(m)).max().unwrap_or(0)
    };
    let (first, second) = memory_curve.split_at(half);
    let report_curve = |f: fn(&Memory) -> u64, scale: fn(u64) -> f64| -> Vec<Value> {
        memory_curve
            .iter()
            .step_by((memory_curve.len() / 20).max(1))
            .map(|(s, m)| json!([s, scale(f(m))]))
            .collect()
    };
    // Bounded: once the view holds its maximum of lines, what the tab keeps stops growing (a
    // margin for the allocators' own pace).
    let (total_first, total_second) = (max_of(first, Memory::total), max_of(second, Memory::total));
    anyhow::ensure!(
        total_second <= total_first + total_first / 4 + 8 * 1024 * 1024,
        "the tab's memory kept growing: {} MiB in the first half, {} MiB in the second (JS heap {} → {} MiB, wasm {} → {} MiB)",
        mib(total_first),
        mib(total_second),
        mib(max_of(first, |m| m.js_heap)),
        mib(max_of(second, |m| m.js_heap)),
        mib(max_of(first, |m| m.wasm)),
        mib(max_of(second, |m| m.wasm)),
    );
    let (nodes_first, nodes_second) = (
        max_of(first, |m| m.dom_nodes),
        max_of(second, |m| m.dom_nodes),
    );
    anyhow::ensure!(
        nodes_second <= nodes_first + nodes_first / 4 + 1000,
        "the page's DOM kept growing: {nodes_first} nodes in the first half, {nodes_second} in the second"
    );
    let lines_per_second = (last_received - first_received) as f64 / elapsed;
    Ok(json!({
        "seconds": seconds,
        "lines_received_per_second": lines_per_second.round(),
        "lines_held_max": max_shown,
        "still_following": following.as_deref() == Some("true"),
        "input_to_next_frame_ms": {
            "median": (percentile(&mut latencies, 0.5) * 10.0).round() / 10.0,
            "p95": (percentile(&mut latencies, 0.95) * 10.0).round() / 10.0,
            "max": (percentile(&mut latencies, 1.0) * 10.0).round() / 10.0,
        },
        "frames_per_second_while_streaming": (fps * 10.0).round() / 10.0,
        "tab_memory_after_gc_mib": {
            "max": mib(max_of(&memory_curve, Memory::total)),
            "last": mib(memory_curve.last().map_or(0, |(_, m)| m.total())),
            "js_heap_curve_s_mib": report_curve(|m| m.js_heap, mib),
            "wasm_curve_s_mib": report_curve(|m| m.wasm, mib),
        },
        "dom_nodes_curve": report_curve(|m| m.dom_nodes, |n| n as f64),
        "js_event_listeners_curve": report_curve(|m| m.listeners, |n| n as f64),
    }))
}
