//! kube-scheduler: puts pods on the node. Its own client certificate; its secure port on
//! loopback only, for the readiness probe.

use super::{Component, Probe, Setup};

pub fn component(setup: &Setup<'_>) -> anyhow::Result<Component> {
    let identity = setup.client_kubeconfig("kube-scheduler", "system:kube-scheduler", &[])?;
    let tls = setup.server_cert("kube-scheduler", &[])?;
    let port = setup.options.ports.scheduler;
    let mut command = setup.options.go.kubernetes.command("kube-scheduler");
    command
        .arg("--kubeconfig")
        .arg(&identity.kubeconfig)
        .arg("--authentication-kubeconfig")
        .arg(&identity.kubeconfig)
        .arg("--authorization-kubeconfig")
        .arg(&identity.kubeconfig)
        .args([
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            &port.to_string(),
        ])
        .arg("--tls-cert-file")
        .arg(&tls.cert_file)
        .arg("--tls-private-key-file")
        .arg(&tls.key_file)
        .args(["--leader-elect=false", "--profiling=false", "--v=1"]);
    Ok(Component {
        name: "kube-scheduler",
        command,
        ready: Probe::Answers(format!("https://127.0.0.1:{port}/readyz")),
        browser_pin: None,
    })
}
