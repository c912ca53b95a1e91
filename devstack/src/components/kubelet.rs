//! The kubelet of the stack's real node: the node's containerd as its runtime, its root, pod
//! logs and cgroup root of the node's own, loopback only, webhook authentication and
//! authorization (no anonymous access, no read-only port), a serving certificate of the
//! stack's CA for the kube-apiserver to verify, and the label `kube-console.io/node=real`.

use serde_json::json;

use super::{Component, Probe, Setup};
use crate::node::Node;

pub const NODE_LABEL: &str = "kube-console.io/node=real";

pub fn component(setup: &Setup<'_>, node: &Node) -> anyhow::Result<Component> {
    let identity = setup.client_kubeconfig(
        "kubelet",
        &format!("system:node:{}", node.name),
        &["system:nodes"],
    )?;
    let tls = setup.server_cert("kubelet", &[&node.name])?;
    let root_dir = node.kubelet_dir();
    std::fs::create_dir_all(&root_dir)?;
    // Pods get no name servers of the host's: they have no route off the node anyway.
    let resolv_conf = node.dir.join("resolv.conf");
    std::fs::write(&resolv_conf, "")?;
    let config = json!({
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        // Kubernetes 1.34 refuses cgroup v1 unless told; this machine kind has only v1.
        "failCgroupV1": false,
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": node.cgroup_root(),
        "containerRuntimeEndpoint": format!("unix://{}", node.containerd_socket().display()),
        "address": "127.0.0.1",
        "port": setup.options.ports.kubelet,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 0,
        "tlsCertFile": tls.cert_file,
        "tlsPrivateKeyFile": tls.key_file,
        "authentication": {
            "anonymous": {"enabled": false},
            "webhook": {"enabled": true},
            "x509": {"clientCAFile": setup.ca.cert_file},
        },
        "authorization": {"mode": "Webhook"},
        "failSwapOn": false,
        "podLogsDir": node.pod_logs_dir(),
        "resolvConf": resolv_conf,
        "clusterDomain": "cluster.local",
        // The stack runs no cluster DNS. Without a `clusterDNS` the kubelet warns
        // MissingClusterDNS at every sync of every pod, burying the events that matter (the
        // overview lists the latest warnings); the pod's own loopback keeps its lookups in the
        // pod, where nothing answers.
        "clusterDNS": ["127.0.0.1"],
        // A nearly full disk must not make it evict the demo's pods: absolute amounts, since
        // 1% of a large disk is gigabytes.
        "evictionHard": {
            "memory.available": "20Mi",
            "nodefs.available": "50Mi",
            "nodefs.inodesFree": "1%",
            "imagefs.available": "50Mi",
        },
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "maxPods": 30,
        // The demo's crashing pod restarts every few seconds, not every five minutes: its
        // previous instance is then always at most 10 s old. The kubelet removes the instance
        // before last at a crash while the status it reads `previous` from still names that
        // one until the next start, so with the default back-off `kubectl logs -p` (and the
        // console's Logs view) answer "unable to retrieve container logs" for minutes at a time.
        "featureGates": {"KubeletCrashLoopBackOffMax": true},
        "crashLoopBackOff": {"maxContainerRestartPeriod": "10s"},
        "registerNode": true,
    });
    let config_file = setup.run.join("kubelet.yaml");
    std::fs::write(&config_file, serde_json::to_string_pretty(&config)?)?;
    let mut command = setup.options.go.kubernetes.command("kubelet");
    command
        .arg("--config")
        .arg(&config_file)
        .arg("--kubeconfig")
        .arg(&identity.kubeconfig)
        .arg("--root-dir")
        .arg(&root_dir)
        .args(["--hostname-override", &node.name])
        .args(["--node-labels", NODE_LABEL])
        .args(["--v=1"]);
    Ok(Component {
        name: "kubelet",
        command,
        ready: Probe::NodeReady {
            kubeconfig: setup.description.admin_kubeconfig.clone(),
            name: node.name.clone(),
        },
        browser_pin: None,
    })
}
