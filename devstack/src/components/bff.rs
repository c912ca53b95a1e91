//! The console's BFF: serves the app, logs users in at Dex, and forwards the API to the
//! apiserver-proxy.

use std::process::Command;

use super::{Component, Probe, SHUTDOWN_DRAIN_SECONDS, Setup, dex};
use crate::random;

/// `client_secret` is the one Dex knows the BFF by.
pub fn component(setup: &Setup<'_>, client_secret: &str) -> anyhow::Result<Component> {
    let options = setup.options;
    let ports = options.ports;
    let description = &setup.description;
    let tls = setup.server_cert("bff", &[])?;
    let mut command = Command::new(&options.binaries.bff);
    command
        .args(["--listen", &format!("127.0.0.1:{}", ports.bff_https)])
        .args(["--http-listen", &format!("127.0.0.1:{}", ports.bff_http)])
        .args([
            "--metrics-listen",
            &format!("127.0.0.1:{}", ports.bff_metrics),
        ])
        .args(["--shutdown-drain-seconds", SHUTDOWN_DRAIN_SECONDS])
        .args(["--public-url", &description.console_url])
        .arg("--tls-cert")
        .arg(&tls.cert_file)
        .arg("--tls-key")
        .arg(&tls.key_file)
        .arg("--dist-dir")
        .arg(&options.binaries.dist_dir)
        .args([
            "--oidc-issuer",
            &description.dex_issuer,
            "--oidc-client-id",
            dex::CLIENT_ID,
        ])
        .arg("--oidc-ca-file")
        .arg(&setup.ca.cert_file)
        .args(["--apiserver-proxy-url", &description.apiserver_proxy_url])
        .arg("--apiserver-proxy-ca-file")
        .arg(&setup.ca.cert_file)
        // A secret goes by environment, never on a command line that `ps` shows.
        .env("BFF_OIDC_CLIENT_SECRET", client_secret)
        .env("BFF_COOKIE_KEY", random::hex_secret(32)?)
        // The demo namespaces of manifests/rbac.yaml, for users who may not list namespaces.
        .env("BFF_NAMESPACES", "team-a,team-b,shared-services")
        .env("RUST_LOG", &options.server_log_filter);
    Ok(Component {
        name: "bff",
        command,
        ready: Probe::Answers(format!("{}/readyz", description.console_url)),
        browser_pin: Some(tls.spki_sha256),
    })
}
