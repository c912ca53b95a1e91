//! An in-cluster console: the chart (`charts/kube-console/`) installed with Helm into a
//! namespace that enforces the `restricted` Pod Security Standard, on the stack's real node,
//! from the images `cargo xtask` builds. Its Services have fixed addresses from the service
//! range, which kube-proxy routes for the host (the browser, kubectl) and for the pods; the pods
//! reach Dex and the kube-apiserver on the host's address on the node's bridge. No cluster DNS:
//! the BFF is given the apiserver-proxy's Service address instead of its name.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use anyhow::Context;
use base64::Engine;
use serde_json::json;

use crate::{components::Setup, images, node::Node, poll, random};

/// The release's name and namespace.
pub const RELEASE: &str = "kube-console";
pub const NAMESPACE: &str = "kube-console";
/// Fixed Service addresses (`<component>.service.clusterIP`): the console's public URLs must
/// be known before Dex starts (its redirect URI), and there is no DNS to give names.
pub const CONSOLE_SERVICE_IP: &str = "198.19.0.10";
pub const PROXY_SERVICE_IP: &str = "198.19.0.11";

/// What the stack needs to install the console.
#[derive(Debug, Clone)]
pub struct InCluster {
    /// Helm, built from the Go module proxy.
    pub helm: PathBuf,
    /// The chart's folder.
    pub chart: PathBuf,
    /// The chart's values for the local stack (`ci/local-values.yaml`); the stack's own
    /// addresses are set over them.
    pub values: PathBuf,
    /// The console's images (OCI layouts), imported into the node's containerd.
    pub images: Vec<PathBuf>,
}

/// Installs the release and waits until both Deployments have every replica ready and both
/// Services answer. Returns the BFF certificate's SPKI pin (for a test browser).
pub async fn install(
    setup: &Setup<'_>,
    node: &Node,
    in_cluster: &InCluster,
    client_secret: &str,
    http: &reqwest::Client,
) -> anyhow::Result<String> {
    let admin = &setup.description.admin_kubeconfig;
    images::import(&node.containerd_socket(), &in_cluster.images).await?;
    // Its Service's name too: a test reaches each replica by it (at the pod's address).
    let bff_service_name = format!("{RELEASE}-bff.{NAMESPACE}.svc");
    let bff_tls = setup.server_cert("in-cluster-bff", &[CONSOLE_SERVICE_IP, &bff_service_name])?;
    let proxy_service_name = format!("{RELEASE}-apiserver-proxy.{NAMESPACE}.svc");
    let proxy_tls = setup.server_cert(
        "in-cluster-apiserver-proxy",
        &[PROXY_SERVICE_IP, &proxy_service_name],
    )?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let ca = b64(&setup.ca.cert_pem);
    let secret = |name: &str, kind: &str, data: serde_json::Value| {
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": kind,
            "metadata": {"name": name, "namespace": NAMESPACE},
            "data": data,
        })
    };
    let tls_secret = |name: &str, leaf: &crate::pki::Leaf| {
        secret(
            name,
            "kubernetes.io/tls",
            json!({"tls.crt": b64(&leaf.cert_pem), "tls.key": b64(&leaf.key_pem), "ca.crt": ca}),
        )
    };
    // The Secrets the local values name, as an administrator would create them before
    // installing (the chart renders none).
    let objects = [
        json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": NAMESPACE, "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            }},
        }),
        secret("kube-console-stack-ca", "Opaque", json!({"ca.crt": ca})),
        secret(
            "kube-console-oidc-client",
            "Opaque",
            json!({"client-secret": b64(client_secret)}),
        ),
        secret(
            "kube-console-cookie-key",
            "Opaque",
            json!({"cookie-key": b64(&random::hex_secret(32)?)}),
        ),
        tls_secret("kube-console-tls", &bff_tls),
        tls_secret("kube-console-apiserver-proxy-tls", &proxy_tls),
    ];
    let manifest =
        serde_json::to_string(&json!({"apiVersion": "v1", "kind": "List", "items": objects}))?;
    // Not `seed::apply`: its arguments, never a Secret's contents, go into an error.
    crate::seed::kubectl(admin, &["apply", "-f", "-"], Some(&manifest))
        .await
        .context("creating the release's namespace and Secrets")?;

    let description = &setup.description;
    let log_filter = &setup.options.server_log_filter;
    let settings = [
        ("oidc.issuerUrl", description.dex_issuer.as_str()),
        ("console.publicUrl", &description.console_url),
        ("console.service.clusterIP", CONSOLE_SERVICE_IP),
        ("console.logFilter", log_filter),
        ("apiserverProxy.publicUrl", &description.apiserver_proxy_url),
        (
            "apiserverProxy.internalUrl",
            &description.apiserver_proxy_url,
        ),
        ("apiserverProxy.service.clusterIP", PROXY_SERVICE_IP),
        ("apiserverProxy.upstream", &description.apiserver_url),
        ("apiserverProxy.logFilter", log_filter),
    ];
    let mut helm = helm_command(&in_cluster.helm, &setup.run.join("helm"));
    helm.args(["upgrade", "--install", RELEASE])
        .arg(&in_cluster.chart)
        .args(["--namespace", NAMESPACE, "--values"])
        .arg(&in_cluster.values)
        .arg("--kubeconfig")
        .arg(admin);
    for (key, value) in settings {
        helm.args(["--set-string", &format!("{key}={value}")]);
    }
    let started = Instant::now();
    let output = tokio::process::Command::from(helm)
        .output()
        .await
        .context("running helm")?;
    anyhow::ensure!(
        output.status.success(),
        "helm install: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    wait_ready(admin, http, description).await?;
    eprintln!(
        "the console's release is Ready {:.1?} after helm install",
        started.elapsed()
    );
    Ok(bff_tls.spki_sha256)
}

/// Helm at `binary` with its cache, configuration and data under `home`: its own, never the
/// user's.
pub fn helm_command(binary: &Path, home: &Path) -> Command {
    let mut command = Command::new(binary);
    for (variable, folder) in [
        ("HELM_CACHE_HOME", "cache"),
        ("HELM_CONFIG_HOME", "config"),
        ("HELM_DATA_HOME", "data"),
    ] {
        command.env(variable, home.join(folder));
    }
    command
}

/// Both Deployments rolled out (every replica of the newest ReplicaSet ready), and both
/// Services answering through kube-proxy.
async fn wait_ready(
    admin: &Path,
    http: &reqwest::Client,
    description: &crate::StackDescription,
) -> anyhow::Result<()> {
    let ready = poll::until(
        "the console's Deployments",
        Duration::from_secs(180),
        || async { rolled_out(admin).await },
    )
    .await;
    if let Err(error) = ready {
        let events = crate::seed::kubectl(admin, &["get", "events", "-n", NAMESPACE], None)
            .await
            .unwrap_or_default();
        anyhow::bail!("{error:#}\nevents in {NAMESPACE}:\n{events}");
    }
    for url in [&description.console_url, &description.apiserver_proxy_url] {
        let readyz = format!("{url}/readyz");
        poll::until(&readyz, Duration::from_secs(60), || async {
            Ok(http.get(&readyz).send().await?.status().is_success())
        })
        .await?;
    }
    Ok(())
}

/// Whether every Deployment of the release has all its replicas updated, ready and available,
/// and none of an older ReplicaSet left (what `kubectl rollout status` waits for).
pub async fn rolled_out(admin: &Path) -> anyhow::Result<bool> {
    let text = crate::seed::kubectl(
        admin,
        &["get", "deployments", "-n", NAMESPACE, "-o", "json"],
        None,
    )
    .await?;
    let list: serde_json::Value = serde_json::from_str(&text)?;
    let deployments = list["items"].as_array().cloned().unwrap_or_default();
    Ok(deployments.len() == 2
        && deployments.iter().all(|d| {
            let wanted = &d["spec"]["replicas"];
            let status = &d["status"];
            status["observedGeneration"] == d["metadata"]["generation"]
                && &status["updatedReplicas"] == wanted
                && &status["readyReplicas"] == wanted
                && &status["availableReplicas"] == wanted
                && &status["replicas"] == wanted
        }))
}
