//! `cargo xtask <task>`: the project's task runner. `demo` and `test` do all set-up themselves.

mod images;
mod precompress;
mod prerequisites;
mod split;
mod tools;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

use anyhow::{Context, bail};
use clap::Parser;
use devstack::{Binaries, Ports, ProxyIdentity, Stack, StackOptions};

#[derive(Parser)]
#[command(name = "cargo xtask")]
enum Task {
    /// Build everything, start the real local stack with demo users, and run until Ctrl-C.
    Demo {
        /// Run the console in the local cluster instead: its images on the real node, installed
        /// with the Helm chart (charts/kube-console) behind kube-proxy.
        #[arg(long)]
        in_cluster: bool,
    },
    /// fmt check, clippy, unit and integration tests, and the e2e suite against the real stack.
    Test,
    /// Install missing tools and build the Go components, the app and the servers.
    Build,
    /// Benchmark the BFF's API proxy against the apiserver-proxy directly, and its memory; the
    /// console with 10,000 objects; the app's first and second visit.
    Bench,
    /// Build the app and the console's two container images (OCI layouts in target/images/).
    Images,
    /// trunk's post-build hook (Trunk.toml): splits the app's wasm at its lazy routes.
    SplitWasm,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let root = repo_root();
    std::env::set_current_dir(&root)?;
    match Task::parse() {
        Task::Demo { in_cluster } => demo(&root, in_cluster).await,
        Task::Test => test(&root).await,
        Task::Build => build(&root, Profile::Release).map(drop),
        Task::Bench => bench(&root).await,
        Task::Images => {
            build_app(&root)?;
            images::build(&root, &root.join("dist")).map(drop)
        }
        Task::SplitWasm => split::split_wasm(&root),
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn step(what: &str) {
    eprintln!("==> {what}");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// What the tests use: the servers in the dev profile (shared with `cargo test`).
    Test,
    /// What the demo runs: optimised servers.
    Release,
}

struct Built {
    go: devstack::gobuild::GoComponents,
    binaries: Binaries,
}

/// What every stack needs: kubectl, the node's packages, the Go components and the app.
fn build_stack(root: &Path) -> anyhow::Result<devstack::gobuild::GoComponents> {
    prerequisites::ensure_kubectl()?;
    prerequisites::ensure_node_packages()?;
    step("building the Go components (cached outside the repository)");
    let go = devstack::gobuild::ensure_all(root)?;
    build_app(root)?;
    Ok(go)
}

fn build(root: &Path, profile: Profile) -> anyhow::Result<Built> {
    let started = Instant::now();
    let go = build_stack(root)?;

    step("building the servers");
    let (cargo_profile, dir) = match profile {
        Profile::Test => ("dev", "debug"),
        Profile::Release => ("server", "server"),
    };
    run(Command::new("cargo").args([
        "build",
        "--profile",
        cargo_profile,
        "-p",
        "bff",
        "-p",
        "apiserver-proxy",
    ]))?;
    let target = root.join("target").join(dir);
    eprintln!("built in {:.0?}", started.elapsed());
    Ok(Built {
        go,
        binaries: Binaries {
            bff: target.join("bff"),
            apiserver_proxy: target.join("apiserver-proxy"),
            dist_dir: root.join("dist"),
        },
    })
}

/// The app in `dist/`, split and precompressed, with the tools it needs.
fn build_app(root: &Path) -> anyhow::Result<()> {
    let tools = tools::ensure(root)?;
    step("building the app (trunk, release)");
    run(Command::new("cargo").args(["fetch", "--target", "wasm32-unknown-unknown"]))?;
    run(Command::new(&tools.trunk)
        .args(["build", "--release"])
        .env("PATH", tools.path_with_tools()?)
        // trunk honours NO_COLOR; keep CI logs readable.
        .env("NO_COLOR", "true"))?;
    step("compressing the app (brotli 11, gzip 9)");
    report_sizes(&precompress::precompress(&root.join("dist"))?);
    Ok(())
}

/// Each file's size as sent: what a first visit costs, before anything else is measured.
fn report_sizes(sizes: &[precompress::Sizes]) {
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    let (mut raw, mut brotli, mut gzip) = (0, 0, 0);
    for file in sizes {
        eprintln!(
            "  {:<44} {:>8.1} KiB, brotli {:>7.1} KiB, gzip {:>7.1} KiB",
            file.path.display(),
            kib(file.raw),
            kib(file.brotli),
            kib(file.gzip)
        );
        (raw, brotli, gzip) = (raw + file.raw, brotli + file.brotli, gzip + file.gzip);
    }
    eprintln!(
        "  {:<44} {:>8.1} KiB, brotli {:>7.1} KiB, gzip {:>7.1} KiB",
        "all",
        kib(raw),
        kib(brotli),
        kib(gzip)
    );
}

async fn demo(root: &Path, in_cluster: bool) -> anyhow::Result<()> {
    let (built, console) = if in_cluster {
        let go = build_stack(root)?;
        let images = images::build(root, &root.join("dist"))?;
        let console = in_cluster_console(root, &go, &images);
        // The servers run from the images: no binaries of theirs are started.
        let binaries = Binaries {
            bff: PathBuf::new(),
            apiserver_proxy: PathBuf::new(),
            dist_dir: root.join("dist"),
        };
        (Built { go, binaries }, console)
    } else {
        (build(root, Profile::Release)?, devstack::Console::Processes)
    };
    step("starting the stack");
    let started = Instant::now();
    let (stack, description_file) = start_stack(
        root.join("target/demo"),
        Ports::demo(),
        built,
        console,
        "info",
    )
    .await?;
    let node = stack.description().node_name.as_deref().unwrap_or("none");
    let description = stack.description();
    println!();
    println!(
        "The console is up (started in {:.1?}): {}",
        started.elapsed(),
        description.console_url
    );
    println!("  Dex issuer:        {}", description.dex_issuer);
    println!("  apiserver-proxy:   {}", description.apiserver_proxy_url);
    println!(
        "  kube-apiserver:    {} (admin: kubectl --kubeconfig {})",
        description.apiserver_url,
        description.admin_kubeconfig.display()
    );
    println!("  CA to trust:       {}", description.ca_file.display());
    println!("  logs:              {}", description.log_dir.display());
    println!("  node:              {node} (kubelet + containerd; pods run)");
    if let Some(namespace) = &description.console_namespace {
        println!(
            "  the console:       Helm release {} in namespace {namespace} (kubectl -n {namespace} get pods)",
            devstack::release::RELEASE
        );
    }
    println!("Demo users (log in with \"Log in with Email\"):");
    for user in &description.users {
        let scope = user
            .namespace
            .as_deref()
            .map_or("cluster-wide".to_string(), |ns| format!("namespace {ns}"));
        println!(
            "  {:<24} password {:<18} {:?}, {scope}",
            user.email, user.password, user.role
        );
    }
    println!("stack description: {}", description_file.display());
    println!("Press Ctrl-C to stop.");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    eprintln!("stopping the stack");
    drop(stack);
    Ok(())
}

async fn test(root: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    step("cargo fmt --check");
    run(Command::new("cargo").args(["fmt", "--all", "--", "--check"]))?;
    step("cargo clippy");
    run(Command::new("cargo").args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    prerequisites::ensure_browser()?;
    let built = build(root, Profile::Test)?;
    // The images people run, for the in-cluster test (e2e/tests/in_cluster.rs).
    images::build(root, &root.join("dist"))?;
    step("cargo clippy for the app's real target (wasm32)");
    run(Command::new("cargo").args([
        "clippy",
        "-p",
        "frontend",
        "-p",
        "shared",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("unit and integration tests");
    run(Command::new("cargo").args(["test", "--workspace", "--exclude", "e2e"]))?;

    step("starting the stack for the e2e suite");
    // Trace-level server logs: the suite checks that no token is logged at any level.
    let (stack, description_file) = start_stack(
        root.join("target/e2e-stack"),
        Ports::ephemeral()?,
        built,
        devstack::Console::Processes,
        "trace",
    )
    .await?;

    step("e2e tests (headless Chromium against the real stack)");
    let result = run(Command::new("cargo")
        // Every failing binary in one run: a CI log then shows all that failed, not the first.
        .args(["test", "-p", "e2e", "--no-fail-fast"])
        .env("KCONSOLE_STACK", &description_file));
    drop(stack);
    result?;
    eprintln!("all tests passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Starts the stack and writes its description beside its state.
async fn start_stack(
    state_dir: PathBuf,
    ports: Ports,
    built: Built,
    console: devstack::Console,
    server_log_filter: &str,
) -> anyhow::Result<(Stack, PathBuf)> {
    let stack = Stack::start(&StackOptions {
        state_dir: state_dir.clone(),
        ports,
        go: built.go,
        binaries: built.binaries,
        id_token_lifetime: "24h".into(),
        signing_key_rotation: None,
        server_log_filter: server_log_filter.into(),
        // The demo, the shared e2e stack and the benchmarks have a real node.
        node: true,
        // As the chart runs it in a cluster.
        proxy_identity: ProxyIdentity::ServiceAccountToken,
        console,
    })
    .await?;
    let description_file = state_dir.join("stack.json");
    stack.description().write(&description_file)?;
    Ok((stack, description_file))
}

async fn bench(root: &Path) -> anyhow::Result<()> {
    let built = build(root, Profile::Release)?;
    step("building the benchmark client");
    run(Command::new("cargo").args([
        "build",
        "--profile",
        "server",
        "-p",
        "e2e",
        "--bin",
        "proxy-bench",
        "--bin",
        "console-bench",
        "--bin",
        "first-load-bench",
        "--bin",
        "logs-bench",
    ]))?;
    step("starting the stack (optimised servers)");
    let (stack, description_file) = start_stack(
        root.join("target/bench-stack"),
        Ports::ephemeral()?,
        built,
        devstack::Console::Processes,
        "warn",
    )
    .await?;
    step("benchmark: the BFF's proxy against the apiserver-proxy");
    let result = run(Command::new(root.join("target/server/proxy-bench")).arg(&description_file))
        .and_then(|()| {
            step("benchmark: 10,000 ConfigMaps in the console and in kubectl");
            run(Command::new(root.join("target/server/console-bench")).arg(&description_file))
        })
        .and_then(|()| {
            step("benchmark: the app's first and second visit (Resource Timing)");
            run(Command::new(root.join("target/server/first-load-bench")).arg(&description_file))
        })
        .and_then(|()| {
            step("benchmark: a pod writing 10,000+ lines a second in the Logs view");
            run(Command::new(root.join("target/server/logs-bench")).arg(&description_file))
        });
    drop(stack);
    result
}

/// The chart's release on the node, from `images`, with the local stack's values.
fn in_cluster_console(
    root: &Path,
    go: &devstack::gobuild::GoComponents,
    images: &[images::Written],
) -> devstack::Console {
    let chart = root.join("charts/kube-console");
    devstack::Console::InCluster(devstack::release::InCluster {
        helm: go.helm.clone(),
        values: chart.join("ci/local-values.yaml"),
        chart,
        images: images.iter().map(|image| image.file.clone()).collect(),
    })
}

pub fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    if !status.success() {
        let args: Vec<_> = command.get_args().map(|a| a.to_string_lossy()).collect();
        bail!(
            "{} {} failed ({status})",
            command.get_program().to_string_lossy(),
            args.join(" ")
        );
    }
    Ok(())
}
