//! The node's containerd: root, state, sockets, CNI configuration and the opt folder all under
//! the node's folder (never the machine's /var/lib/containerd or /run/containerd), runc's state too, the
//! CRI with the local pause image, and no way to pull: a proxy address where nothing listens
//! keeps an image that is not local from sending anything off the machine.

use std::process::Command;

use super::{Component, Probe};
use crate::{images, node::Node, node::cni};

/// Where nothing listens (the discard port on loopback): every pull fails here, at once.
const NO_REGISTRY: &str = "http://127.0.0.1:9";

pub fn component(node: &Node) -> anyhow::Result<Component> {
    let dir = node.containerd_dir();
    let cni_conf = dir.join("cni");
    cni::write_conflist(node, &cni_conf, &dir.join("cni-leases"))?;
    let quote = |path: &std::path::Path| -> anyhow::Result<String> {
        Ok(serde_json::to_string(path.to_str().ok_or_else(|| {
            anyhow::anyhow!("not UTF-8: {}", path.display())
        })?)?)
    };
    let socket = node.containerd_socket();
    let config = format!(
        r#"version = 2
root = {root}
state = {state}
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = {socket}
[ttrpc]
  address = {ttrpc}
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "{pause}"
    disable_apparmor = true
    # This VM withholds CAP_SYS_RESOURCE: the pause container's oom_score_adj of -998 cannot be
    # written, and without this every pod fails in runc.
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          # runc's state, /run/containerd/runc by default.
          Root = {runc_root}
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = {cni_conf}
      max_conf_num = 1
  [plugins."io.containerd.internal.v1.opt"]
    path = {opt}
"#,
        root = quote(&dir.join("root"))?,
        state = quote(&dir.join("state"))?,
        socket = quote(&socket)?,
        ttrpc = quote(&dir.join("containerd.sock.ttrpc"))?,
        pause = images::PAUSE_IMAGE,
        cni_conf = quote(&cni_conf)?,
        opt = quote(&dir.join("opt"))?,
        runc_root = quote(&dir.join("runc"))?,
    );
    let config_file = dir.join("config.toml");
    std::fs::write(&config_file, config)?;
    let mut command = Command::new("containerd");
    command
        .arg("--config")
        .arg(&config_file)
        .args(["--log-level", "warn"])
        .env("HTTP_PROXY", NO_REGISTRY)
        .env("HTTPS_PROXY", NO_REGISTRY)
        .env("NO_PROXY", "")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("no_proxy");
    Ok(Component {
        name: "containerd",
        command,
        ready: Probe::Socket(socket),
        browser_pin: None,
    })
}
