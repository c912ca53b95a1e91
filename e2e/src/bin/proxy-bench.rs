//! `cargo xtask bench` runs this against a running stack: requests per second through the BFF's
//! Kubernetes API prefix and directly against the apiserver-proxy, in the same run, and the
//! BFF's memory while it holds 200 concurrent connections. Traffic goes to loopback only, and
//! every loop is bounded in time.
//!
//! The comparison runs twice: with every process free to use every core, where the BFF's CPU
//! time is taken from the cluster it forwards to, and with the cluster on a core of its own.

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use devstack::{Role, StackDescription};
use serde_json::json;

const CONCURRENCY: usize = 32;
const ROUND: Duration = Duration::from_secs(5);
const HELD_CONNECTIONS: usize = 200;

/// CPU time (user + system) a process has used, in microseconds.
fn cpu_micros(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(") ")
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    // utime and stime (fields 14 and 15 of proc(5)), counted here from the state field (3).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i)?.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on Linux.
    ticks * 10_000
}

/// Requests per second, and CPU microseconds per request of each named process.
async fn measure(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    pids: &[(&str, u32)],
) -> anyhow::Result<(f64, Vec<(String, f64)>)> {
    let before: Vec<u64> = pids.iter().map(|(_, pid)| cpu_micros(*pid)).collect();
    let (rps, count) = requests_per_second(http, url, token).await?;
    let cpu = pids
        .iter()
        .zip(before)
        .map(|((name, pid), before)| {
            let used = cpu_micros(*pid).saturating_sub(before);
            (name.to_string(), used as f64 / count.max(1) as f64)
        })
        .collect();
    Ok((rps, cpu))
}

async fn requests_per_second(
    http: &reqwest::Client,
    url: &str,
    token: &str,
) -> anyhow::Result<(f64, u64)> {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (http, url, token) = (http.clone(), url.to_string(), token.to_string());
            let (done, failed) = (done.clone(), failed.clone());
            tokio::spawn(async move {
                while started.elapsed() < ROUND {
                    match http.get(&url).bearer_auth(&token).send().await {
                        Ok(response) if response.status().is_success() => {
                            let _ = response.bytes().await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        anyhow::bail!("{failed} requests to {url} failed");
    }
    let count = done.load(Ordering::Relaxed);
    Ok((count as f64 / started.elapsed().as_secs_f64(), count))
}

/// Requests per second directly and through the BFF, for each endpoint, in interleaved rounds so
/// that drift in the machine's load hits both alike.
async fn compare(
    http: &reqwest::Client,
    stack: &StackDescription,
    token: &str,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let pids: Vec<(&str, u32)> = ["bff", "apiserver-proxy", "kube-apiserver"]
        .iter()
        .filter_map(|name| stack.pids.get(*name).map(|pid| (*name, *pid)))
        .collect();
    let mut results = serde_json::Map::new();
    for (name, path) in [
        ("version", "/version"),
        ("configmaps", "/api/v1/namespaces/team-a/configmaps"),
    ] {
        let direct_url = format!("{}{path}", stack.apiserver_proxy_url);
        let bff_url = format!("{}/api/k8s{path}", stack.console_url);
        let mut direct = Vec::new();
        let mut through_bff = Vec::new();
        let (mut cpu_direct, mut cpu_bff) = (Vec::new(), Vec::new());
        for _ in 0..2 {
            let (rps, cpu) = measure(http, &direct_url, token, &pids).await?;
            direct.push(rps);
            cpu_direct = cpu;
            let (rps, cpu) = measure(http, &bff_url, token, &pids).await?;
            through_bff.push(rps);
            cpu_bff = cpu;
        }
        let direct = direct.iter().sum::<f64>() / direct.len() as f64;
        let through_bff = through_bff.iter().sum::<f64>() / through_bff.len() as f64;
        println!(
            "  {name:<11} direct {direct:>8.0} req/s   through the BFF {through_bff:>8.0} req/s   ratio {:.3}",
            through_bff / direct
        );
        let show = |cpu: &[(String, f64)]| {
            cpu.iter()
                .map(|(n, us)| format!("{n} {us:.0} µs"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "              CPU per request, direct:  {}",
            show(&cpu_direct)
        );
        println!("              CPU per request, via BFF: {}", show(&cpu_bff));
        let cpu_json = |cpu: &[(String, f64)]| {
            cpu.iter()
                .map(|(n, us)| (n.clone(), json!(us)))
                .collect::<serde_json::Map<_, _>>()
        };
        results.insert(
            name.into(),
            json!({
                "direct_rps": direct,
                "bff_rps": through_bff,
                "ratio": through_bff / direct,
                "cpu_micros_per_request_direct": cpu_json(&cpu_direct),
                "cpu_micros_per_request_via_bff": cpu_json(&cpu_bff),
            }),
        );
    }
    Ok(results)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The cluster's processes on core 0 and the console's side (both proxies and the load
/// generator) on the others, as when the console runs on nodes of its own: the comparison then
/// shows whether the BFF limits throughput rather than what its CPU time takes from a cluster
/// sharing its cores. Every thread of each process is moved (`taskset -a`; threads started later
/// inherit it), and each gets the cores it had back on drop.
struct OwnCores {
    cluster: String,
    console: String,
    /// Each moved process, with the cores it was allowed before.
    moved: Vec<(u32, String)>,
}

impl OwnCores {
    fn pin(stack: &StackDescription) -> anyhow::Result<Option<OwnCores>> {
        let cores = cores();
        let taskset = Command::new("taskset")
            .arg("-V")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if cores < 2 || !taskset {
            return Ok(None);
        }
        let mut pinned = OwnCores {
            cluster: "0".into(),
            console: if cores == 2 {
                "1".into()
            } else {
                format!("1-{}", cores - 1)
            },
            moved: Vec::new(),
        };
        let pid_of = |name: &str| {
            stack
                .pids
                .get(name)
                .copied()
                .with_context(|| format!("no {name} pid in the stack description"))
        };
        for name in ["etcd", "kube-apiserver", "kube-controller-manager", "dex"] {
            let pid = pid_of(name)?;
            pinned.moved.push((pid, affinity(pid)?));
            set_affinity(pid, &pinned.cluster)?;
        }
        for pid in [
            pid_of("bff")?,
            pid_of("apiserver-proxy")?,
            std::process::id(),
        ] {
            pinned.moved.push((pid, affinity(pid)?));
            set_affinity(pid, &pinned.console)?;
        }
        Ok(Some(pinned))
    }
}

impl Drop for OwnCores {
    fn drop(&mut self) {
        for (pid, cores) in &self.moved {
            if let Err(err) = set_affinity(*pid, cores) {
                eprintln!("could not give process {pid} its cores ({cores}) back: {err:#}");
            }
        }
    }
}

/// The cores a process may run on, as a list (`taskset -c -p`: "pid 7's current affinity list: 0,1").
fn affinity(pid: u32) -> anyhow::Result<String> {
    let output = Command::new("taskset")
        .args(["-c", "-p", &pid.to_string()])
        .output()
        .context("running taskset")?;
    anyhow::ensure!(
        output.status.success(),
        "taskset -c -p {pid}: {}",
        output.status
    );
    String::from_utf8_lossy(&output.stdout)
        .rsplit(": ")
        .next()
        .map(|list| list.trim().to_string())
        .filter(|list| !list.is_empty())
        .with_context(|| format!("no affinity list for process {pid}"))
}

fn set_affinity(pid: u32, cores: &str) -> anyhow::Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cores, &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    anyhow::ensure!(status.success(), "taskset -a -p -c {cores} {pid}: {status}");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = PathBuf::from(
        std::env::args()
            .nth(1)
            .context("usage: proxy-bench <stack.json>")?,
    );
    let stack = StackDescription::read(&path)?;
    let http = e2e::http_client(&stack)?
        .pool_max_idle_per_host(HELD_CONNECTIONS)
        .timeout(Duration::from_secs(30))
        .build()?;
    let admin = stack.user(Role::Admin).context("no admin")?;
    let token = e2e::http_login::id_token(&http, &stack.console_url, admin).await?;

    // An in-cluster console's replicas are found by their program; a local one by its pid.
    let rss = |program: &str| -> anyhow::Result<u64> {
        match stack.pids.get(program.trim_start_matches('/')) {
            Some(pid) => e2e::rss_kib(*pid),
            None => e2e::pids_of_program(program)
                .into_iter()
                .map(e2e::rss_kib)
                .sum(),
        }
    };
    let proxy_idle = rss("/apiserver-proxy")?;
    let mut results = serde_json::Map::new();
    println!("All processes on all {} cores:", cores());
    results.insert(
        "shared_cores".into(),
        compare(&http, &stack, &token).await?.into(),
    );
    // An in-cluster console's servers are pods: pinning them is the node's business.
    let pinned = match stack.console_namespace {
        Some(_) => None,
        None => OwnCores::pin(&stack)?,
    };
    match pinned {
        Some(pinned) => {
            println!(
                "The cluster (etcd, kube-apiserver, kube-controller-manager, Dex) on CPU {}, \
                 the console's proxies and this load generator on {}:",
                pinned.cluster,
                if pinned.console.contains('-') {
                    format!("CPUs {}", pinned.console)
                } else {
                    format!("CPU {}", pinned.console)
                }
            );
            let measured = compare(&http, &stack, &token).await;
            drop(pinned);
            results.insert("own_cores".into(), measured?.into());
        }
        None => println!(
            "(fewer than 2 cores, no taskset, or an in-cluster console: the own-cores comparison is skipped)"
        ),
    }

    let proxy_loaded = rss("/apiserver-proxy")?;
    let idle = rss("/bff")?;
    let watch = format!(
        "{}/api/k8s/api/v1/namespaces/team-a/configmaps?watch=1",
        stack.console_url
    );
    let mut held = Vec::new();
    for _ in 0..HELD_CONNECTIONS {
        // A client each, so that each watch holds a connection of its own.
        let client = e2e::http_client(&stack)?.build()?;
        let response = client.get(&watch).bearer_auth(&token).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "watch refused: {}",
            response.status()
        );
        held.push((client, response));
    }
    let loaded = rss("/bff")?;
    let replicas = if stack.console_namespace.is_some() {
        " (both replicas)"
    } else {
        ""
    };
    println!(
        "BFF memory{replicas}: {:.1} MiB idle, {:.1} MiB holding {HELD_CONNECTIONS} open watch connections",
        idle as f64 / 1024.0,
        loaded as f64 / 1024.0
    );
    println!(
        "apiserver-proxy memory{replicas}: {:.1} MiB idle, {:.1} MiB after the load",
        proxy_idle as f64 / 1024.0,
        proxy_loaded as f64 / 1024.0
    );
    results.insert(
        "bff_rss_kib".into(),
        json!({"idle": idle, "held_connections": HELD_CONNECTIONS, "loaded": loaded}),
    );
    results.insert(
        "apiserver_proxy_rss_kib".into(),
        json!({"idle": proxy_idle, "after_load": proxy_loaded}),
    );
    drop(held);
    let out = path.with_file_name("bench.json");
    std::fs::write(&out, serde_json::to_string_pretty(&results)?)?;
    println!("results: {}", out.display());
    Ok(())
}
