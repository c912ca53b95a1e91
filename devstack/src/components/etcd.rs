//! etcd: the kube-apiserver's storage, and Dex's (under its own prefix). It depends on nothing.

use std::process::Command;

use super::{Component, Probe, Setup};
use crate::Ports;

/// Plain HTTP on loopback.
pub fn client_url(ports: Ports) -> String {
    format!("http://127.0.0.1:{}", ports.etcd_client)
}

pub fn component(setup: &Setup<'_>) -> Component {
    let ports = setup.options.ports;
    let client_url = client_url(ports);
    let peer_url = format!("http://127.0.0.1:{}", ports.etcd_peer);
    let mut command = Command::new(&setup.options.go.etcd);
    command
        .args(["--name", "default", "--log-level", "warn"])
        .arg("--data-dir")
        .arg(data_dir(setup))
        .args([
            "--listen-client-urls",
            &client_url,
            "--advertise-client-urls",
            &client_url,
        ])
        .args([
            "--listen-peer-urls",
            &peer_url,
            "--initial-advertise-peer-urls",
            &peer_url,
        ])
        .args(["--initial-cluster", &format!("default={peer_url}")]);
    Component {
        name: "etcd",
        command,
        ready: Probe::EtcdHealth(format!("{client_url}/health")),
        browser_pin: None,
    }
}

/// Where etcd keeps its data: in the folder of this start.
pub fn data_dir(setup: &Setup<'_>) -> std::path::PathBuf {
    setup.run.join("etcd")
}
