//! What the stack puts into the fresh cluster, through the real `kubectl`.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;

/// Demo identities, their RBAC, and the apiserver-proxy's impersonation rights.
pub const RBAC: &str = include_str!("../manifests/rbac.yaml");
/// ConfigMaps, Secrets, Services and Deployments in the demo namespaces.
pub const DEMO_OBJECTS: &str = include_str!("../manifests/demo-objects.yaml");
/// A CustomResourceDefinition (Database), and one object of it once the kind is served.
pub const CUSTOM_RESOURCES: &str = include_str!("../manifests/custom-resources.yaml");
pub const CUSTOM_OBJECTS: &str = include_str!("../manifests/custom-objects.yaml");
/// Pods for the real node: a chatty Deployment, a pod with an init container and two
/// containers, a crashing pod and a Job (their names and lines are what tests look for).
pub const WORKLOADS: &str = include_str!("../manifests/workloads.yaml");

/// Runs `kubectl --kubeconfig <kubeconfig> <args>`, with `stdin` piped in when given, and returns
/// its standard output; a non-zero exit is an error carrying kubectl's message.
pub async fn kubectl(
    kubeconfig: &Path,
    args: &[&str],
    stdin: Option<&str>,
) -> anyhow::Result<String> {
    let mut child = tokio::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting kubectl (is it installed and on PATH?)")?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes()).await?;
    }
    let output = child.wait_with_output().await?;
    if !output.status.success() {
        bail!(
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Applies the custom resource definitions, waits until the apiserver serves them, then their objects.
pub async fn apply_custom_resources(kubeconfig: &Path) -> anyhow::Result<()> {
    apply(kubeconfig, CUSTOM_RESOURCES).await?;
    kubectl(
        kubeconfig,
        &[
            "wait",
            "--for=condition=Established",
            "crd/databases.demo.kube-console.io",
            "--timeout=60s",
        ],
        None,
    )
    .await?;
    apply(kubeconfig, CUSTOM_OBJECTS).await
}

pub async fn apply(kubeconfig: &Path, manifest: &str) -> anyhow::Result<()> {
    kubectl(
        kubeconfig,
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        Some(manifest),
    )
    .await
    .map(drop)
}

/// Everything the demo and the tests expect in a fresh cluster: the RBAC, the demo objects, and
/// the custom resources.
pub async fn cluster(admin_kubeconfig: &Path) -> anyhow::Result<()> {
    apply(admin_kubeconfig, RBAC).await?;
    apply(admin_kubeconfig, DEMO_OBJECTS).await?;
    apply_custom_resources(admin_kubeconfig).await
}

/// The workloads that need the real node (a stack without one would only show them Pending).
pub async fn workloads(admin_kubeconfig: &Path) -> anyhow::Result<()> {
    apply(admin_kubeconfig, WORKLOADS).await
}

/// A token of the apiserver-proxy's ServiceAccount (made by the seeded RBAC), written to
/// `<run>/apiserver-proxy.token` (owner-only), where the proxy reads it as it would the projected
/// token in a pod. It outlives any demo session; it is never printed or logged.
pub async fn service_account_token(admin_kubeconfig: &Path, run: &Path) -> anyhow::Result<PathBuf> {
    let token = kubectl(
        admin_kubeconfig,
        &[
            "create",
            "token",
            crate::components::apiserver_proxy::SERVICE_ACCOUNT,
            "-n",
            "kube-system",
            "--duration=168h",
        ],
        None,
    )
    .await?;
    let file = run.join("apiserver-proxy.token");
    crate::pki::write_private(&file, token.trim())?;
    Ok(file)
}
