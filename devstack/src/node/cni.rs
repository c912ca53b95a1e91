//! The pod network: one bridge of the node's own (made by `host::prepare`, with the host's
//! address on it), addresses from its slot's subnet in 198.18.0.0/15, no masquerading and no
//! iptables rules of its own. A pod reaches other pods of its node, the host's bridge address,
//! the service range through it (where kube-proxy runs), and its own loopback (containerd adds
//! that); nothing else: it has no default route.

use std::path::Path;

use serde_json::json;

use super::{Node, SERVICE_RANGE};

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
                    // The gateway is reserved for the host; `isGateway` would have the plugin
                    // turn on forwarding for every interface of the host.
                    "ranges": [[{"subnet": node.pod_subnet(), "gateway": node.host_address()}]],
                    "routes": [{"dst": SERVICE_RANGE, "gw": node.host_address()}],
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
