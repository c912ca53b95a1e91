//! The kube-apiserver: RBAC, etcd as storage, client certificates of the stack's CA, and
//! service-account tokens signed with the stack's key (which kube-controller-manager shares).

use super::{Component, Probe, Setup, etcd};
use crate::pki::ServiceAccountKeys;

use crate::node::SERVICE_RANGE;

/// The `kubernetes` Service's address, the first of the range.
const SERVICE_IP: &str = "198.19.0.1";

pub fn component(
    setup: &Setup<'_>,
    service_account: &ServiceAccountKeys,
) -> anyhow::Result<Component> {
    let tls = setup.host_server_cert(
        "kube-apiserver",
        &[
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            SERVICE_IP,
        ],
    )?;
    let kubelet_client = setup.ca.client_cert(
        &setup.certs,
        "kube-apiserver-kubelet-client",
        "kube-apiserver-kubelet-client",
        &["system:masters"],
    )?;
    let mut command = setup.options.go.kubernetes.command("kube-apiserver");
    command
        .args(["--etcd-servers", &etcd::client_url(setup.options.ports)])
        .args([
            "--bind-address",
            &setup.host,
            "--secure-port",
            &setup.options.ports.apiserver.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(&tls.cert_file)
        .arg("--tls-private-key-file")
        .arg(&tls.key_file)
        .arg("--client-ca-file")
        .arg(&setup.ca.cert_file)
        // Node: a kubelet may read and change only what belongs to its own node and pods.
        .args(["--authorization-mode", "Node,RBAC"])
        .args(["--enable-admission-plugins", "NodeRestriction"])
        .args(["--service-cluster-ip-range", SERVICE_RANGE])
        .args(["--disable-admission-plugins", "ServiceAccount"])
        // Logs, exec and port-forward: to the kubelet by its host name (which resolves to
        // loopback here; the kubelet reports the machine's interface address as InternalIP),
        // verified against the stack's CA, with a client certificate of its own.
        .arg("--kubelet-client-certificate")
        .arg(&kubelet_client.cert_file)
        .arg("--kubelet-client-key")
        .arg(&kubelet_client.key_file)
        .arg("--kubelet-certificate-authority")
        .arg(&setup.ca.cert_file)
        .args(["--kubelet-preferred-address-types", "Hostname,InternalIP"])
        // The stack has no network for the "kubernetes" Service's endpoints to point at.
        .args([
            "--endpoint-reconciler-type",
            "none",
            "--advertise-address",
            SERVICE_IP,
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
