//! Fixtures for the end-to-end tests: the real local stack and a headless Chromium.
//!
//! `cargo xtask test` starts one stack and points every test at it through `KCONSOLE_STACK`
//! (the path of its `stack.json`). Run on its own, each test starts (and on drop stops) a stack
//! of its own, which needs the app and servers built first (`cargo xtask build`).

pub mod browser;
pub mod first_load;
pub mod helm;
pub mod http_login;
pub mod kubeconfig_download;

use std::{
    path::{Path, PathBuf},
    process::Output,
    time::Duration,
};

use anyhow::Context;
use base64::Engine;
use devstack::{Binaries, Ports, ProxyIdentity, Role, Stack, StackDescription, StackOptions};

pub enum TestStack {
    Shared(Box<StackDescription>),
    Own(Box<Stack>),
}

impl TestStack {
    pub async fn get() -> anyhow::Result<TestStack> {
        if let Some(path) = std::env::var_os("KCONSOLE_STACK") {
            let description = StackDescription::read(&PathBuf::from(path))?;
            return Ok(TestStack::Shared(Box::new(description)));
        }
        Ok(TestStack::Own(Box::new(start_own_stack("24h").await?)))
    }

    /// A stack with a real node, for tests that need pods to run: the shared one (which must
    /// have the node), or one of this test's own with a node.
    pub async fn with_node() -> anyhow::Result<TestStack> {
        if let Some(path) = std::env::var_os("KCONSOLE_STACK") {
            let description = StackDescription::read(&PathBuf::from(path))?;
            anyhow::ensure!(
                description.node,
                "this test needs pods to run, and the stack of KCONSOLE_STACK has no node"
            );
            return Ok(TestStack::Shared(Box::new(description)));
        }
        Ok(TestStack::Own(Box::new(
            OwnStack::new("24h").node().start().await?,
        )))
    }

    /// A stack whose console runs in the cluster: the one of KCONSOLE_STACK if its console does
    /// (`cargo xtask demo --in-cluster`), or else one of this test's own.
    pub async fn in_cluster() -> anyhow::Result<TestStack> {
        if let Some(path) = std::env::var_os("KCONSOLE_STACK") {
            let description = StackDescription::read(&PathBuf::from(path))?;
            if description.console_namespace.is_some() {
                return Ok(TestStack::Shared(Box::new(description)));
            }
        }
        Ok(TestStack::Own(Box::new(
            OwnStack::new("24h").in_cluster().start().await?,
        )))
    }

    pub fn description(&self) -> &StackDescription {
        match self {
            TestStack::Shared(description) => description,
            TestStack::Own(stack) => stack.description(),
        }
    }

    /// An HTTP client that trusts the stack's CA and follows no redirects.
    pub fn http(&self) -> anyhow::Result<reqwest::Client> {
        Ok(http_client(self.description())?
            .timeout(Duration::from_secs(20))
            .build()?)
    }

    /// A new browser logged in as the demo user with `role`, on `path` of the console.
    pub async fn browser(&self, role: Role, path: &str) -> anyhow::Result<browser::Browser> {
        browser::Browser::logged_in(self.description(), role, path).await
    }

    /// `browser` on the resource list at `path`, once the list is complete and watching.
    pub async fn browser_on_list(
        &self,
        role: Role,
        path: &str,
    ) -> anyhow::Result<browser::Browser> {
        let browser = self.browser(role, path).await?;
        browser.list_is_live().await?;
        Ok(browser)
    }

    /// Creates the ConfigMap `name` in `namespace` holding `key=value`, with kubectl as the admin.
    pub fn create_configmap(
        &self,
        namespace: &str,
        name: &str,
        key_value: &str,
    ) -> anyhow::Result<()> {
        self.kubectl_ok(&[
            "create",
            "configmap",
            name,
            "-n",
            namespace,
            &format!("--from-literal={key_value}"),
        ])
        .map(drop)
    }

    /// The real kubectl with the admin kubeconfig; returns its output whatever the exit code.
    pub fn kubectl_admin(&self, args: &[&str]) -> anyhow::Result<Output> {
        kubectl_admin(self.description(), args)
    }

    /// `kubectl_admin` that must succeed; returns its standard output, trimmed.
    pub fn kubectl_ok(&self, args: &[&str]) -> anyhow::Result<String> {
        kubectl_admin_ok(self.description(), args)
    }
}

/// A name no other test (or earlier run against the same stack) uses: every test file is a
/// binary of its own, and `cargo xtask test` runs them all against one stack.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    )
}

/// The real kubectl with `kubeconfig`; returns its output whatever the exit code.
pub fn kubectl(kubeconfig: &Path, args: &[&str]) -> anyhow::Result<Output> {
    std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .context("running kubectl")
}

/// The real kubectl with the stack's admin kubeconfig (straight at the kube-apiserver); returns
/// its output whatever the exit code.
pub fn kubectl_admin(description: &StackDescription, args: &[&str]) -> anyhow::Result<Output> {
    kubectl(&description.admin_kubeconfig, args)
}

/// Part `index` of a JWT (0 the header, 1 the payload), read without verification: the tests
/// look at what Dex put in, the servers verify.
pub fn token_part(token: &str, index: usize) -> anyhow::Result<serde_json::Value> {
    let part = token.split('.').nth(index).context("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part)?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// A kubeconfig for the apiserver-proxy with `token`, as the app's download builds it, in a
/// temporary file named after `name` and this process.
pub fn token_kubeconfig(
    description: &StackDescription,
    token: &str,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let ca = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&description.ca_file)?);
    let config = shared::kubeconfig::Kubeconfig::for_token(
        "kyma.local",
        &description.apiserver_proxy_url,
        &ca,
        token,
    );
    let path = std::env::temp_dir().join(format!("e2e-{name}-{}.yaml", std::process::id()));
    std::fs::write(&path, config.to_yaml()?)?;
    Ok(path)
}

/// A process's resident memory (`VmRSS`), in KiB.
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("no VmRSS")
}

/// Process ids of the programs run as `program` (their first argument): an in-cluster
/// console's replicas on the node (each image runs its one binary, `/bff` or
/// `/apiserver-proxy`).
pub fn pids_of_program(program: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let first = cmdline.split(|b| *b == 0).next()?;
            (first == program.as_bytes()).then_some(pid)
        })
        .collect()
}

/// `kubectl_admin` that must succeed; returns its standard output, trimmed.
pub fn kubectl_admin_ok(description: &StackDescription, args: &[&str]) -> anyhow::Result<String> {
    let output = kubectl_admin(description, args)?;
    anyhow::ensure!(
        output.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// An HTTP client builder that trusts the stack's CA (and nothing else) and follows no redirects.
pub fn http_client(description: &StackDescription) -> anyhow::Result<reqwest::ClientBuilder> {
    let pem = std::fs::read(&description.ca_file)?;
    Ok(reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem)?)
        .redirect(reqwest::redirect::Policy::none()))
}

/// A stack of this test's own, on free ports, in a state folder of its own (without a node).
pub async fn start_own_stack(id_token_lifetime: &str) -> anyhow::Result<Stack> {
    OwnStack::new(id_token_lifetime).start().await
}

/// `start_own_stack` whose Dex rotates its signing key every `signing_key_rotation` (such as
/// "1m"; `None` is Dex's default, 6h).
pub async fn start_own_stack_rotating_keys(
    id_token_lifetime: &str,
    signing_key_rotation: Option<&str>,
) -> anyhow::Result<Stack> {
    let mut own = OwnStack::new(id_token_lifetime);
    own.signing_key_rotation = signing_key_rotation.map(str::to_string);
    own.start().await
}

/// What a test's own stack differs in.
pub struct OwnStack {
    pub id_token_lifetime: String,
    pub signing_key_rotation: Option<String>,
    /// A real node (kubelet, containerd; needs root): pods run.
    pub node: bool,
    /// The app the BFF serves, if not the repository's `dist/`.
    pub dist_dir: Option<PathBuf>,
    /// The console as the chart's release on the node (implies `node`), from the images in
    /// `target/images/` (`cargo xtask images`; `cargo xtask test` builds them).
    pub in_cluster: bool,
}

impl OwnStack {
    pub fn new(id_token_lifetime: &str) -> OwnStack {
        OwnStack {
            id_token_lifetime: id_token_lifetime.to_string(),
            signing_key_rotation: None,
            node: false,
            dist_dir: None,
            in_cluster: false,
        }
    }

    pub fn in_cluster(mut self) -> OwnStack {
        self.node = true;
        self.in_cluster = true;
        self
    }

    pub fn node(mut self) -> OwnStack {
        self.node = true;
        self
    }

    /// Starts it, on free ports, in a state folder of its own.
    pub async fn start(self) -> anyhow::Result<Stack> {
        start_own(self).await
    }
}

async fn start_own(own: OwnStack) -> anyhow::Result<Stack> {
    let root = repo_root();
    let go = devstack::gobuild::ensure_all(&root)?;
    // Another target folder's servers, for work on them beside a build in this one.
    let bin_dir = std::env::var_os("KCONSOLE_SERVER_BIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/debug"));
    let binaries = Binaries {
        bff: bin_dir.join("bff"),
        apiserver_proxy: bin_dir.join("apiserver-proxy"),
        dist_dir: own.dist_dir.clone().unwrap_or_else(|| root.join("dist")),
    };
    // An in-cluster console runs from its images instead.
    if !own.in_cluster
        && (!binaries.bff.is_file() || !binaries.dist_dir.join("index.html").is_file())
    {
        anyhow::bail!(
            "build the app and servers first (cargo xtask build, or run cargo xtask test)"
        );
    }
    let console = if own.in_cluster {
        let images = in_cluster_images(&root)?;
        devstack::Console::InCluster(devstack::release::InCluster {
            helm: go.helm.clone(),
            chart: root.join("charts/kube-console"),
            values: root.join("charts/kube-console/ci/local-values.yaml"),
            images,
        })
    } else {
        devstack::Console::Processes
    };
    let ports = Ports::ephemeral()?;
    let state_dir = root.join(format!(
        "target/e2e-own-{}-{}",
        std::process::id(),
        ports.apiserver
    ));
    Stack::start(&StackOptions {
        state_dir,
        ports,
        go,
        binaries,
        id_token_lifetime: own.id_token_lifetime,
        signing_key_rotation: own.signing_key_rotation,
        server_log_filter: "trace".into(),
        node: own.node,
        // The shared stack uses a ServiceAccount token: both identities are exercised.
        proxy_identity: ProxyIdentity::ClientCertificate,
        console,
    })
    .await
}

/// The console's images as `cargo xtask images` (or `cargo xtask test`) wrote them.
fn in_cluster_images(root: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
    let images: Vec<PathBuf> = ["kube-console-bff", "kube-console-apiserver-proxy"]
        .iter()
        // Named by the workspace's version, which is this crate's.
        .map(|name| {
            root.join(format!(
                "target/images/{name}-{}.oci.tar",
                env!("CARGO_PKG_VERSION")
            ))
        })
        .collect();
    if let Some(missing) = images.iter().find(|image| !image.is_file()) {
        anyhow::bail!(
            "{} is missing: build the images first (cargo xtask images, or run cargo xtask test)",
            missing.display()
        );
    }
    Ok(images)
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Neither the token nor its signature (the part that cannot be guessed) is in any component's
/// log: etcd, the kube-apiserver, Dex, both proxies, and on a stack with the real node the
/// kubelet, containerd, the scheduler and the pods (an in-cluster console's servers log there).
pub fn assert_not_logged(log_dir: &std::path::Path, token: &str) {
    fn files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut logs = Vec::new();
    files(log_dir, &mut logs);
    if let Some(state) = log_dir.parent() {
        files(&state.join("node/pod-logs"), &mut logs);
    }
    // The BFF's own log (bff.log), or a BFF pod's (…/kube-console_kube-console-bff-…/bff/0.log).
    let bff_logged = logs.iter().any(|log| {
        let path = log.to_string_lossy();
        (path.ends_with("/bff.log") || path.contains("-bff-"))
            && std::fs::metadata(log).is_ok_and(|m| m.len() > 0)
    });
    assert!(bff_logged, "the BFF's log is empty: is it logging at all?");
    let signature = token.rsplit('.').next().unwrap_or(token);
    for log in logs {
        let text = std::fs::read(&log).unwrap_or_default();
        assert!(
            !text
                .windows(signature.len())
                .any(|w| w == signature.as_bytes()),
            "a token is in {}",
            log.display()
        );
    }
}
