//! The stack's real node: a kubelet with its own containerd, runc and the CNI bridge plugin.
//! Several node stacks may run at once (the demo beside the e2e stack): each holds a slot, a
//! lock file under [`SLOTS_DIR`] kept while it runs, and its slot gives it a containerd, a
//! kubelet cgroup root, a bridge and a pod subnet of its own (two kubelets sharing a containerd
//! or a cgroup root kill each other's pods as orphans). What the node changes on the host is
//! undone when the stack stops, and again when a slot is taken (what a killed owner left).

pub mod cni;
pub mod host;

use std::{
    fs::File,
    os::fd::AsRawFd,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};

/// Where the slot locks (and the record of the host's sysctls) live: machine-wide, in tmpfs,
/// so that a reboot forgets them with the processes that held them.
pub const SLOTS_DIR: &str = "/run/kube-console/node-slots";
/// 198.18.0.0/15 is reserved for benchmarking (RFC 2544): no real host answers there. Slot n
/// takes 198.18.n.0/24 for its pods, the host keeping 198.18.n.1 on the node's bridge;
/// 198.19.0.0/24 is every stack's service range (virtual addresses: only a stack that runs
/// kube-proxy routes them, to its own bridge).
const SLOTS: u8 = 64;

/// The kube-apiserver's `--service-cluster-ip-range`.
pub const SERVICE_RANGE: &str = "198.19.0.0/24";

/// One node stack's share of the host, and the folders of its kubelet and containerd.
pub struct Node {
    pub slot: u8,
    /// The node's name: the host's name, which resolves to 127.0.0.1 here, so that the
    /// kube-apiserver reaches the kubelet on loopback (`--kubelet-preferred-address-types`).
    pub name: String,
    /// `<state>/node`: containerd's root, state and socket, the kubelet's root and pod logs.
    pub dir: PathBuf,
    /// Held (flock) while the stack runs; released by the kernel when its process ends.
    /// `None` once it has cleaned up.
    lock: Option<File>,
}

impl Node {
    /// Takes a free slot, undoes what an earlier holder of it may have left (an owner killed
    /// before it could clean up), and makes the node's folders anew under `state_dir`.
    pub fn take_slot(state_dir: &Path) -> anyhow::Result<Node> {
        anyhow::ensure!(
            is_root(),
            "the real node (kubelet, containerd) needs root; run as root or start the stack without the node"
        );
        std::fs::create_dir_all(SLOTS_DIR)?;
        let name = hostname()?;
        let _host = host_lock()?;
        // Free slots whose owner record remains: their owner was killed before it could clean
        // up. Its folder is in the record.
        for slot in 0..SLOTS {
            let Ok(previous) = std::fs::read_to_string(owner_record(slot)) else {
                continue;
            };
            if let Some(lock) = lock_slot(slot)? {
                let mut stale = Node {
                    slot,
                    name: name.clone(),
                    dir: PathBuf::from(previous.trim()),
                    lock: Some(lock),
                };
                host::undo_node(&stale, &stale.dir);
                let _ = std::fs::remove_file(owner_record(slot));
                stale.lock = None;
            }
        }
        if !(0..SLOTS).any(held) {
            host::undo_shared();
        }
        for slot in 0..SLOTS {
            let Some(lock) = lock_slot(slot)? else {
                continue;
            };
            let node = Node {
                slot,
                name,
                dir: state_dir.join("node"),
                lock: Some(lock),
            };
            // The folder is made anew; anything still mounted in it goes first.
            host::undo_node(&node, &node.dir);
            std::fs::write(owner_record(slot), node.dir.as_os_str().as_encoded_bytes())?;
            std::fs::create_dir_all(&node.dir)?;
            host::prepare(&node)?;
            return Ok(node);
        }
        bail!("all {SLOTS} node slots are taken: stop a stack with a node first")
    }

    /// The bridge the pods of this node attach to (at most 15 characters).
    pub fn bridge(&self) -> String {
        format!("kc-node{}", self.slot)
    }

    /// The CNI network's name (host-local keeps its leases under it).
    pub fn network(&self) -> String {
        format!("kube-console-{}", self.slot)
    }

    pub fn pod_subnet(&self) -> String {
        format!("198.18.{}.0/24", self.slot)
    }

    /// The host's address on the node's bridge, its pods' gateway: where pods reach the
    /// stack's servers that listen beside loopback (an in-cluster console's Dex and
    /// kube-apiserver).
    pub fn host_address(&self) -> String {
        format!("198.18.{}.1", self.slot)
    }

    /// The kubelet's `cgroupRoot`: its pods' cgroups are below it in every hierarchy.
    pub fn cgroup_root(&self) -> String {
        format!("/kube-console-node{}", self.slot)
    }

    pub fn containerd_dir(&self) -> PathBuf {
        self.dir.join("containerd")
    }

    pub fn containerd_socket(&self) -> PathBuf {
        self.containerd_dir().join("containerd.sock")
    }

    pub fn kubelet_dir(&self) -> PathBuf {
        self.dir.join("kubelet")
    }

    pub fn pod_logs_dir(&self) -> PathBuf {
        self.dir.join("pod-logs")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if self.lock.is_none() {
            return;
        }
        host::undo_node(self, &self.dir);
        let _ = std::fs::remove_file(owner_record(self.slot));
        // Its slot is free before it looks for others, under the host lock, so that of two
        // stacks stopping at once one sees the other gone.
        self.lock = None;
        match host_lock() {
            Ok(_host) => {
                if !(0..SLOTS).any(held) {
                    host::undo_shared();
                }
            }
            Err(err) => eprintln!("node: the host's changes stay: {err:#}"),
        }
    }
}

/// The host's share of Service networking: kube-proxy's iptables rules and the route of the
/// service range to one node's bridge. One stack at a time holds it (the rules and the route
/// are the host's); taking it removes what a killed holder left, and dropping it (after
/// kube-proxy has stopped) removes the rules. The route goes with the node's bridge.
pub struct ServiceNetwork {
    /// Held (flock) while the stack runs.
    _lock: File,
}

impl ServiceNetwork {
    pub fn take(node: &Node) -> anyhow::Result<ServiceNetwork> {
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(Path::new(SLOTS_DIR).join("service-network.lock"))?;
        anyhow::ensure!(
            try_lock(&lock),
            "another stack runs kube-proxy (an in-cluster console, such as `cargo xtask demo --in-cluster`): stop it first"
        );
        host::remove_proxy_chains();
        host::route_services(node)?;
        Ok(ServiceNetwork { _lock: lock })
    }
}

impl Drop for ServiceNetwork {
    fn drop(&mut self) {
        host::remove_proxy_chains();
    }
}

/// The state folder of the slot's holder, written when it takes the slot and removed once it
/// has cleaned up.
fn owner_record(slot: u8) -> PathBuf {
    Path::new(SLOTS_DIR).join(format!("{slot}.owner"))
}

/// Taking a slot (and recording the host) and undoing the host's shared changes exclude each
/// other: a blocking flock, held while the guard lives.
fn host_lock() -> anyhow::Result<File> {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(Path::new(SLOTS_DIR).join("host.lock"))?;
    // SAFETY: flock(2) on a descriptor this File owns.
    #[allow(unsafe_code)]
    let locked = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    anyhow::ensure!(
        locked == 0,
        "locking the node host lock: {}",
        std::io::Error::last_os_error()
    );
    Ok(lock)
}

fn lock_file(slot: u8) -> PathBuf {
    Path::new(SLOTS_DIR).join(format!("{slot}.lock"))
}

/// The slot's lock, if no one holds it.
fn lock_slot(slot: u8) -> anyhow::Result<Option<File>> {
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_file(slot))?;
    Ok(try_lock(&lock).then_some(lock))
}

/// Whether a stack holds the slot (without making lock files for slots never taken).
fn held(slot: u8) -> bool {
    File::options()
        .write(true)
        .open(lock_file(slot))
        .is_ok_and(|lock| !try_lock(&lock))
}

/// A non-blocking exclusive flock; released when the file is closed (also by a killed process).
fn try_lock(file: &File) -> bool {
    // SAFETY: flock(2) on a descriptor this File owns.
    #[allow(unsafe_code)]
    unsafe {
        libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0
    }
}

pub fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    #[allow(unsafe_code)]
    unsafe {
        libc::geteuid() == 0
    }
}

pub fn hostname() -> anyhow::Result<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .context("reading the host's name")?
        .trim()
        .to_lowercase();
    anyhow::ensure!(!name.is_empty(), "the host has no name");
    Ok(name)
}
