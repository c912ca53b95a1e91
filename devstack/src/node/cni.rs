//! The pod network: one bridge of the node's own, addresses from its slot's subnet in
//! 198.18.0.0/15, no gateway, no masquerading and no iptables rules. A pod can reach other pods
//! of its node and its own loopback (containerd adds that), and nothing else: it has no default
//! route.

use std::path::Path;

use serde_json::json;

use super::Node;

/// Writes the conflist into `conf_dir` (containerd's CNI configuration folder); host-local
/// keeps its leases under `data_dir` (in the node's folder, not /var/lib/cni).
pub fn write_conflist(node: &Node, conf_dir: &Path, data_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(conf_dir)?;
    let conflist = json!({
        "cniVersion": "1.0.0",
        "name": node.network(),
        "plugins": [
            {
                "type": "bridge",
                "bridge": node.bridge(),
                "isGateway": false,
                "ipMasq": false,
                "hairpinMode": false,
                "ipam": {
                    "type": "host-local",
                    "dataDir": data_dir,
                    "ranges": [[{"subnet": node.pod_subnet()}]],
                },
            },
        ],
    });
    std::fs::write(
        conf_dir.join("10-kube-console.conflist"),
        serde_json::to_string_pretty(&conflist)?,
    )?;
    Ok(())
}
