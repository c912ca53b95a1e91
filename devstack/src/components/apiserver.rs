//! The kube-apiserver: RBAC, etcd as storage, client certificates of the stack's CA, and
//! service-account tokens signed with the stack's key (which kube-controller-manager shares).

use super::{Component, Probe, Setup, etcd};
use crate::pki::ServiceAccountKeys;

pub fn component(
    setup: &Setup<'_>,
    service_account: &ServiceAccountKeys,
) -> anyhow::Result<Component> {
    let tls = setup.server_cert(
        "kube-apiserver",
        &[
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "10.0.0.1",
        ],
    )?;
    let mut command = setup.options.go.kubernetes.command("kube-apiserver");
    command
        .args(["--etcd-servers", &etcd::client_url(setup.options.ports)])
        .args([
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            &setup.options.ports.apiserver.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(&tls.cert_file)
        .arg("--tls-private-key-file")
        .arg(&tls.key_file)
        .arg("--client-ca-file")
        .arg(&setup.ca.cert_file)
        .args(["--authorization-mode", "RBAC"])
        .args(["--service-cluster-ip-range", "10.0.0.0/24"])
        .args(["--disable-admission-plugins", "ServiceAccount"])
        // The stack has no network for the "kubernetes" Service's endpoints to point at.
        .args([
            "--endpoint-reconciler-type",
            "none",
            "--advertise-address",
            "10.0.0.1",
        ])
        .args([
            "--service-account-issuer",
            "https://kubernetes.default.svc.cluster.local",
        ])
        .arg("--service-account-key-file")
        .arg(&service_account.public)
        .arg("--service-account-signing-key-file")
        .arg(&service_account.private)
        .args(["--profiling=false", "--v=1"]);
    Ok(Component {
        name: "kube-apiserver",
        command,
        ready: Probe::Answers(format!("{}/readyz", setup.description.apiserver_url)),
        browser_pin: None,
    })
}
