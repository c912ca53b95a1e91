//! The console's apiserver-proxy: verifies Dex's ID tokens and impersonates their user towards
//! the kube-apiserver, with a client certificate of its own.

use std::process::Command;

use super::{Component, Probe, SHUTDOWN_DRAIN_SECONDS, Setup, dex};

pub fn component(setup: &Setup<'_>) -> anyhow::Result<Component> {
    let options = setup.options;
    let description = &setup.description;
    let client = setup.client_kubeconfig(
        "apiserver-proxy-client",
        "kube-console:apiserver-proxy",
        &[],
    )?;
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
        .arg("--upstream-client-cert")
        .arg(&client.cert.cert_file)
        .arg("--upstream-client-key")
        .arg(&client.cert.key_file)
        .args([
            "--oidc-issuer",
            &description.dex_issuer,
            "--oidc-client-ids",
            dex::CLIENT_ID,
        ])
        .arg("--oidc-ca-file")
        .arg(&setup.ca.cert_file)
        .env("RUST_LOG", &options.server_log_filter);
    Ok(Component {
        name: "apiserver-proxy",
        command,
        ready: Probe::Answers(format!("{}/readyz", description.apiserver_proxy_url)),
        browser_pin: None,
    })
}
