//! The console's apiserver-proxy: verifies Dex's ID tokens and impersonates their user towards
//! the kube-apiserver, with an identity of its own: a client certificate, or as in a cluster a
//! ServiceAccount's token (`ProxyIdentity`).

use std::{path::Path, process::Command};

use super::{Component, Probe, SHUTDOWN_DRAIN_SECONDS, Setup, dex};

/// The ServiceAccount (in `kube-system`, made by the seeded RBAC) the proxy runs as when its
/// identity is a token.
pub const SERVICE_ACCOUNT: &str = "kube-console-apiserver-proxy";

/// How the proxy proves its own identity to the kube-apiserver: both are impersonate-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyIdentity {
    /// A client certificate for the user `kube-console:apiserver-proxy`.
    ClientCertificate,
    /// The ServiceAccount `kube-system/kube-console-apiserver-proxy`'s token in a file, as the
    /// chart runs it in a cluster (`--upstream-token-file`).
    ServiceAccountToken,
}

/// `token_file` holds the ServiceAccount's token when the options ask for that identity.
pub fn component(setup: &Setup<'_>, token_file: Option<&Path>) -> anyhow::Result<Component> {
    let options = setup.options;
    let description = &setup.description;
    let tls = setup.server_cert("apiserver-proxy", &["apiserver.kyma.local"])?;
    let mut command = Command::new(&options.binaries.apiserver_proxy);
    command
        .args([
            "--listen",
            &format!("127.0.0.1:{}", options.ports.apiserver_proxy),
        ])
        .arg("--tls-cert")
        .arg(&tls.cert_file)
        .arg("--tls-key")
        .arg(&tls.key_file)
        .args([
            "--metrics-listen",
            &format!("127.0.0.1:{}", options.ports.apiserver_proxy_metrics),
        ])
        .args(["--shutdown-drain-seconds", SHUTDOWN_DRAIN_SECONDS])
        .args(["--upstream", &description.apiserver_url])
        .arg("--upstream-ca-file")
        .arg(&setup.ca.cert_file)
        .args([
            "--oidc-issuer",
            &description.dex_issuer,
            "--oidc-client-ids",
            dex::CLIENT_ID,
        ])
        .arg("--oidc-ca-file")
        .arg(&setup.ca.cert_file)
        .env("RUST_LOG", &options.server_log_filter);
    match (options.proxy_identity, token_file) {
        (ProxyIdentity::ServiceAccountToken, Some(file)) => {
            command.arg("--upstream-token-file").arg(file);
        }
        (ProxyIdentity::ServiceAccountToken, None) => {
            anyhow::bail!("the apiserver-proxy's ServiceAccount token was not made")
        }
        (ProxyIdentity::ClientCertificate, _) => {
            let client = setup.client_kubeconfig(
                "apiserver-proxy-client",
                "kube-console:apiserver-proxy",
                &[],
            )?;
            command
                .arg("--upstream-client-cert")
                .arg(&client.cert.cert_file)
                .arg("--upstream-client-key")
                .arg(&client.cert.key_file);
        }
    }
    Ok(Component {
        name: "apiserver-proxy",
        command,
        ready: Probe::Answers(format!("{}/readyz", description.apiserver_proxy_url)),
        browser_pin: None,
    })
}
