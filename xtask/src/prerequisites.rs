//! System packages: installed with apt-get when running as root on Debian, otherwise named.

use std::{path::Path, process::Command};

use anyhow::bail;

use crate::{run, step};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub fn ensure_browser() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).is_file() && Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    apt_install(&["chromium", "chromium-driver"])
}

/// The real node's runtime and network (Debian's packages; none starts a service without
/// systemd): containerd (with ctr), runc, the CNI plugins, busybox-static for the node's images,
/// and iptables, which the kubelet calls.
const NODE_PACKAGES: [(&str, &str); 6] = [
    ("/usr/bin/containerd", "containerd"),
    ("/usr/bin/ctr", "containerd"),
    ("/usr/sbin/runc", "runc"),
    ("/usr/lib/cni/bridge", "containernetworking-plugins"),
    ("/bin/busybox", "busybox-static"),
    ("/usr/sbin/iptables", "iptables"),
];

pub fn ensure_node_packages() -> anyhow::Result<()> {
    let mut missing: Vec<&str> = NODE_PACKAGES
        .iter()
        .filter(|(file, _)| !Path::new(file).exists())
        .map(|(_, package)| *package)
        .collect();
    missing.dedup();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// musl's C compiler wrapper, for the C and assembly in ring when the servers are built as static
/// musl binaries for the images.
pub const MUSL_GCC: &str = "/usr/bin/musl-gcc";

pub fn ensure_musl() -> anyhow::Result<()> {
    if Path::new(MUSL_GCC).is_file() {
        return Ok(());
    }
    apt_install(&["musl-tools"])
}

pub fn ensure_kubectl() -> anyhow::Result<()> {
    if devstack::gobuild::which("kubectl").is_some() {
        return Ok(());
    }
    bail!(
        "kubectl is needed: install kubectl 1.32 or newer from the Kubernetes package repository \
         (Debian's kubernetes-client package is 1.20, too old)"
    )
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root || devstack::gobuild::which("apt-get").is_none() {
        bail!(
            "missing system packages; install them with: sudo apt-get install {}",
            packages.join(" ")
        );
    }
    step(&format!("installing {} with apt-get", packages.join(" ")));
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
