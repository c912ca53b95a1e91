//! Builds the Go components (Dex, etcd, one multi-call binary for the Kubernetes components, and
//! Helm) from the Go module proxy, through the wrapper modules in `xtask/go/`, into the versioned
//! cache. A build runs only when its binary is missing; a cold build of Kubernetes takes many
//! minutes on two cores, so it reports progress as packages compile.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{Context, bail};

use crate::cache;

/// A Go program built from one of the wrapper modules.
pub struct GoProgram {
    /// Folder under `xtask/go/` holding the wrapper module.
    pub module_dir: &'static str,
    pub version: &'static str,
    pub package: &'static str,
    pub binary: &'static str,
    pub ldflags: &'static str,
}

const KUBERNETES_LDFLAGS: &str = "-s -w \
    -X k8s.io/component-base/version.gitVersion=v1.34.12 \
    -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=34 \
    -X k8s.io/client-go/pkg/version.gitVersion=v1.34.12";

pub const DEX: GoProgram = GoProgram {
    module_dir: "dex",
    version: "v2.45.1",
    package: "github.com/dexidp/dex/cmd/dex",
    binary: "dex",
    ldflags: "-s -w -X main.version=v2.45.1",
};
pub const ETCD: GoProgram = GoProgram {
    module_dir: "etcd",
    version: "v3.6.16",
    package: "go.etcd.io/etcd/server/v3",
    binary: "etcd",
    ldflags: "-s -w",
};
/// Helm, for the chart's tests (`charts/kube-console/`) and for installing it.
pub const HELM: GoProgram = GoProgram {
    module_dir: "helm",
    version: "v4.3.1",
    package: "helm.sh/helm/v4/cmd/helm",
    binary: "helm",
    ldflags: "-s -w -X helm.sh/helm/v4/internal/version.version=v4.3.1",
};
/// kube-apiserver, kube-controller-manager, kube-scheduler, the kubelet and kube-proxy in one binary
/// (`xtask/go/kubernetes/main.go`, as hyperkube was): they share most of their packages, and
/// linking them once instead of four times saves minutes of a cold build. Its first argument
/// names the component (`Kubernetes::command`).
pub const KUBERNETES: GoProgram = GoProgram {
    module_dir: "kubernetes",
    version: "v1.34.12",
    package: ".",
    binary: "kubernetes",
    ldflags: KUBERNETES_LDFLAGS,
};

/// Paths of the built Go components.
#[derive(Debug, Clone)]
pub struct GoComponents {
    pub dex: PathBuf,
    pub etcd: PathBuf,
    pub kubernetes: Kubernetes,
    pub helm: PathBuf,
}

/// The multi-call binary of the Kubernetes components.
#[derive(Debug, Clone)]
pub struct Kubernetes(pub PathBuf);

impl Kubernetes {
    /// A command that runs `component` (`kube-apiserver`, `kube-controller-manager`,
    /// `kube-scheduler`, `kubelet` or `kube-proxy`); its flags follow.
    pub fn command(&self, component: &str) -> std::process::Command {
        let mut command = std::process::Command::new(&self.0);
        command.arg(component);
        command
    }
}

/// Builds whatever is missing and returns where everything is. `repo_root` holds `xtask/go/`.
pub fn ensure_all(repo_root: &Path) -> anyhow::Result<GoComponents> {
    Ok(GoComponents {
        dex: ensure(repo_root, &DEX)?,
        etcd: ensure(repo_root, &ETCD)?,
        kubernetes: Kubernetes(ensure(repo_root, &KUBERNETES)?),
        helm: ensure(repo_root, &HELM)?,
    })
}

/// Where `program` lives in the cache: named by version and by a stamp of its wrapper module and
/// build flags, so that a changed recipe is built anew instead of reusing a stale binary.
pub fn cached_path(repo_root: &Path, program: &GoProgram) -> anyhow::Result<PathBuf> {
    let module = repo_root.join("xtask/go").join(program.module_dir);
    let go_mod = std::fs::read(module.join("go.mod"))
        .with_context(|| format!("reading {}/go.mod", module.display()))?;
    let go_sum = std::fs::read(module.join("go.sum"))
        .with_context(|| format!("reading {}/go.sum", module.display()))?;
    // A wrapper's own Go files (the multi-call main.go) are part of the recipe too.
    let mut sources: Vec<PathBuf> = std::fs::read_dir(&module)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    sources.retain(|path| path.extension().is_some_and(|ext| ext == "go"));
    sources.sort();
    let sources = sources
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    let mut parts: Vec<&[u8]> = vec![
        &go_mod,
        &go_sum,
        program.ldflags.as_bytes(),
        program.package.as_bytes(),
    ];
    parts.extend(sources.iter().map(Vec::as_slice));
    let stamp = cache::stamp(&parts);
    Ok(cache::cache_dir()
        .join("go")
        .join(format!("{}-{}-{stamp}", program.binary, program.version))
        .join(program.binary))
}

pub fn ensure(repo_root: &Path, program: &GoProgram) -> anyhow::Result<PathBuf> {
    let target = cached_path(repo_root, program)?;
    if target.is_file() {
        return Ok(target);
    }
    which("go").context(
        "Go is needed to build Dex and Kubernetes: install Go 1.25 or newer (https://go.dev/doc/install, \
         or `apt-get install golang-go` where it is new enough)",
    )?;
    let module = repo_root.join("xtask/go").join(program.module_dir);
    eprintln!(
        "building {} {} from the Go module proxy into {} (once; a cold build of Kubernetes takes several minutes)",
        program.binary,
        program.version,
        target.display()
    );
    let started = Instant::now();
    run_go(&module, &["mod", "download"], "downloading modules")?;
    let partial = target.with_extension("partial");
    let output = partial.to_string_lossy().into_owned();
    run_go(
        &module,
        &[
            "build",
            "-v",
            "-trimpath",
            "-pgo=off",
            "-ldflags",
            program.ldflags,
            "-o",
            &output,
            program.package,
        ],
        "compiled",
    )?;
    std::fs::rename(&partial, &target)?;
    eprintln!("built {} in {:.0?}", program.binary, started.elapsed());
    Ok(target)
}

/// Runs `go` with the environment that keeps it on the module proxy (never a VCS host), checks
/// modules against the committed go.sum, and prints a progress line every 25 lines of `-v` output.
fn run_go(module: &Path, args: &[&str], progress: &str) -> anyhow::Result<()> {
    let mut child = Command::new("go")
        .args(args)
        .current_dir(module)
        .env("GOPROXY", "https://proxy.golang.org")
        .env("GOSUMDB", "off")
        .env("GOFLAGS", "-mod=readonly")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting go")?;
    let started = Instant::now();
    let mut tail = Vec::new();
    if let Some(stderr) = child.stderr.take() {
        for (count, line) in BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .enumerate()
        {
            if (count + 1) % 25 == 0 {
                eprintln!(
                    "  [{:>4.0?}] {progress} {} packages, now {line}",
                    started.elapsed(),
                    count + 1
                );
            }
            tail.push(line);
            if tail.len() > 40 {
                tail.remove(0);
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!(
            "go {} failed in {}:\n{}",
            args.join(" "),
            module.display(),
            tail.join("\n")
        );
    }
    Ok(())
}

pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
