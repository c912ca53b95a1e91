//! kube-controller-manager: runs the controllers (a Deployment gets its ReplicaSet), each with
//! its own service account, against the stack's kube-apiserver.

use super::{Component, Probe, Setup};
use crate::pki::ServiceAccountKeys;

pub fn component(
    setup: &Setup<'_>,
    service_account: &ServiceAccountKeys,
) -> anyhow::Result<Component> {
    let identity = setup.client_kubeconfig(
        "kube-controller-manager",
        "system:kube-controller-manager",
        &[],
    )?;
    let mut command = setup
        .options
        .go
        .kubernetes
        .command("kube-controller-manager");
    command
        .arg("--kubeconfig")
        .arg(&identity.kubeconfig)
        .args([
            "--secure-port",
            "0",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
        ])
        .arg("--service-account-private-key-file")
        .arg(&service_account.private)
        .arg("--root-ca-file")
        .arg(&setup.ca.cert_file)
        .args(["--v=1"]);
    Ok(Component {
        name: "kube-controller-manager",
        command,
        // It serves no endpoint here (--secure-port 0): a ReplicaSet for the demo Deployment is
        // the proof that it runs its controllers.
        ready: Probe::Lists {
            kubeconfig: setup.description.admin_kubeconfig.clone(),
            args: vec![
                "get",
                "replicasets",
                "-n",
                "team-a",
                "-l",
                "app=web",
                "-o",
                "name",
            ],
        },
        browser_pin: None,
    })
}
