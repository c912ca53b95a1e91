//! kube-proxy, in iptables mode: Service addresses (198.19.0.0/24) to the pods behind them, for
//! the host (a browser, kubectl) and for the pods, so that an in-cluster console's replicas
//! share their Services as in any cluster. Only one stack at a time runs it
//! (`node::ServiceNetwork`): its rules are the host's. It changes no sysctl: conntrack sizes
//! are left as they are, and NodePorts are never served on loopback (`route_localnet`).

use serde_json::json;

use super::{Component, Probe, Setup};
use crate::node::Node;

pub fn component(setup: &Setup<'_>, node: &Node) -> anyhow::Result<Component> {
    // The user the default ClusterRoleBinding system:node-proxier names.
    let identity = setup.client_kubeconfig("kube-proxy", "system:kube-proxy", &[])?;
    let ports = setup.options.ports;
    let healthz = format!("127.0.0.1:{}", ports.kube_proxy_healthz);
    let config = json!({
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": identity.kubeconfig},
        "mode": "iptables",
        "hostnameOverride": node.name,
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": healthz,
        "metricsBindAddress": format!("127.0.0.1:{}", ports.kube_proxy_metrics),
        "clusterCIDR": node.pod_subnet(),
        "detectLocalMode": "ClusterCIDR",
        // NodePorts only on the bridge's host address (the chart uses none).
        "nodePortAddresses": [format!("{}/32", node.host_address())],
        "iptables": {
            // Every packet to a Service is masqueraded: a pod's packet to a Service whose pod
            // sits on the same bridge then comes back through the host, without br_netfilter.
            "masqueradeAll": true,
            "localhostNodePorts": false,
            "syncPeriod": "30s",
            "minSyncPeriod": "0s",
        },
        // Zero: leave the host's conntrack settings alone.
        "conntrack": {
            "maxPerCore": 0,
            "min": 0,
            "tcpEstablishedTimeout": "0s",
            "tcpCloseWaitTimeout": "0s",
            "udpTimeout": "0s",
            "udpStreamTimeout": "0s",
        },
        // This VM withholds CAP_SYS_RESOURCE (as for containerd's pause container).
        "oomScoreAdj": 0,
    });
    let config_file = setup.run.join("kube-proxy.yaml");
    std::fs::write(&config_file, serde_json::to_string_pretty(&config)?)?;
    let mut command = setup.options.go.kubernetes.command("kube-proxy");
    command.arg("--config").arg(&config_file).arg("--v=1");
    Ok(Component {
        name: "kube-proxy",
        command,
        // 200 once it has synced its rules.
        ready: Probe::Answers(format!("http://{healthz}/healthz")),
        browser_pin: None,
    })
}
