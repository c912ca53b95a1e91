//! What the node changes on the host, and its undo. The kubelet sets three sysctls (the stack a
//! fourth, `IPV6_OFF_FOR_NEW`) and adds iptables chains; containerd and runc make cgroups, mounts
//! (overlay root filesystems, the kubelet's bind mount of its root, network namespaces: all under
//! the node's folder), shims that outlive containerd, and the CNI bridge. `undo` runs when the
//! stack stops and when a slot is taken again (an owner killed with SIGKILL cannot clean up);
//! every step is idempotent.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Node, SLOTS_DIR};

/// The sysctls the kubelet sets (`protectKernelDefaults: false`), and `IPV6_OFF_FOR_NEW`.
const SYSCTLS: [&str; 4] = [
    "vm/overcommit_memory",
    "kernel/panic",
    "kernel/panic_on_oops",
    IPV6_OFF_FOR_NEW,
];

/// No IPv6 on interfaces made from now on (the bridge, the pods' host-side veths; those that
/// exist keep theirs). Each veth would get a link-local address as its pod starts and lose it as
/// the pod goes, and a browser on this machine takes every address change for a network change:
/// Chromium then fails its requests in flight, the console's own on loopback included, with
/// ERR_NETWORK_CHANGED. The pods' network is IPv4 only.
const IPV6_OFF_FOR_NEW: &str = "net/ipv6/conf/default/disable_ipv6";
/// The chains the kubelet makes, in these tables, for IPv4 and IPv6.
const CHAINS: [(&str, &str); 5] = [
    ("filter", "KUBE-FIREWALL"),
    ("filter", "KUBE-KUBELET-CANARY"),
    ("nat", "KUBE-KUBELET-CANARY"),
    ("mangle", "KUBE-KUBELET-CANARY"),
    ("mangle", "KUBE-IPTABLES-HINT"),
];

/// Folders the kubelet and CNI make at fixed places whatever they are told: the device
/// plugins' socket, the container log links, and libcni's result cache.
const FIXED_DIRS: [&str; 3] = ["/var/lib/kubelet", "/var/log/containers", "/var/lib/cni"];

/// What the host was like before the first node stack of those running now changed it.
#[derive(Serialize, Deserialize)]
struct Before {
    sysctls: BTreeMap<String, String>,
    /// Which of `FIXED_DIRS` did not exist (removed again with the last node stack).
    absent: Vec<PathBuf>,
}

fn before_record() -> PathBuf {
    Path::new(SLOTS_DIR).join("host-before.json")
}

/// Before the kubelet starts: records the sysctls and which fixed folders exist (unless an earlier node stack that still
/// runs did), and makes the kubelet's cgroup root in every hierarchy (it must exist).
pub fn prepare(node: &Node) -> anyhow::Result<()> {
    let record = before_record();
    if !record.exists() {
        let sysctls = SYSCTLS
            .iter()
            .map(|name| {
                let value = std::fs::read_to_string(proc_sys(name))?;
                Ok((name.to_string(), value.trim().to_string()))
            })
            .collect::<anyhow::Result<_>>()?;
        let absent = FIXED_DIRS
            .iter()
            .map(PathBuf::from)
            .filter(|dir| !dir.exists())
            .collect();
        std::fs::write(&record, serde_json::to_vec(&Before { sysctls, absent })?)?;
    }
    std::fs::write(proc_sys(IPV6_OFF_FOR_NEW), "1")
        .map_err(|e| anyhow::anyhow!("turning IPv6 off for new interfaces: {e}"))?;
    make_bridge(node)?;
    for hierarchy in cgroup_hierarchies() {
        let dir = hierarchy.join(node.cgroup_root().trim_start_matches('/'));
        std::fs::create_dir_all(&dir)?;
        // A v1 cpuset starts with no CPUs and no memory nodes: give it its parent's.
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if let Ok(value) = std::fs::read_to_string(hierarchy.join(file)) {
                std::fs::write(dir.join(file), value.trim())?;
            }
        }
    }
    Ok(())
}

/// The node's bridge, made before the CNI plugin meets it: the host's address on it must exist
/// before servers listen there. Forwarding is on for packets that come in on it only (a pod's
/// packet to a Service address goes back out to the pod behind it); the host's other
/// interfaces keep their setting. Deleting the bridge undoes both.
fn make_bridge(node: &Node) -> anyhow::Result<()> {
    let bridge = node.bridge();
    let address = format!("{}/24", node.host_address());
    for args in [
        &["link", "add", "name", &bridge, "type", "bridge"][..],
        &["addr", "add", &address, "dev", &bridge],
        &["link", "set", &bridge, "up"],
    ] {
        let output = Command::new("ip").args(args).output()?;
        anyhow::ensure!(
            output.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    std::fs::write(proc_sys(&format!("net/ipv4/conf/{bridge}/forwarding")), "1")
        .map_err(|e| anyhow::anyhow!("turning forwarding on for {bridge}: {e}"))?;
    Ok(())
}

/// Routes the service range to the node's bridge, so that the host's packets to a Service
/// address (which kube-proxy rewrites to a pod's) never take the default route off the machine,
/// even before kube-proxy's rules are there. One stack at a time (`ServiceProxyLock`).
pub fn route_services(node: &Node) -> anyhow::Result<()> {
    let output = Command::new("ip")
        .args([
            "route",
            "replace",
            super::SERVICE_RANGE,
            "dev",
            &node.bridge(),
            "src",
            &node.host_address(),
        ])
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "routing {} to {}: {}",
        super::SERVICE_RANGE,
        node.bridge(),
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Undoes what the node whose folder is `dir` changed for itself; best effort, step by step,
/// each step whatever the one before did. The kubelet and containerd must have stopped (or
/// died).
pub fn undo_node(node: &Node, dir: &Path) {
    kill_pods(node);
    kill_shims(&dir.join("containerd/containerd.sock"));
    remove_cni_results(dir);
    unmount_under(dir);
    remove_cgroups(node);
    if Path::new("/sys/class/net").join(node.bridge()).exists() {
        quiet(Command::new("ip").args(["link", "del", &node.bridge()]));
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Undoes what node stacks changed for all of them (chains, sysctls, fixed folders): only
/// when none runs any more.
pub fn undo_shared() {
    remove_chains();
    restore_host();
}

fn proc_sys(name: &str) -> PathBuf {
    Path::new("/proc/sys").join(name)
}

/// Puts back the sysctls and removes the fixed folders that were not there before.
fn restore_host() {
    let record = before_record();
    let Ok(text) = std::fs::read(&record) else {
        return;
    };
    let Ok(before) = serde_json::from_slice::<Before>(&text) else {
        eprintln!("node: {} is unreadable", record.display());
        return;
    };
    for (name, value) in before.sysctls {
        if let Err(err) = std::fs::write(proc_sys(&name), &value) {
            eprintln!("node: could not restore sysctl {name}={value}: {err}");
        }
    }
    for dir in before.absent {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_file(record);
}

/// libcni caches each sandbox's result in /var/lib/cni/results whatever containerd is told:
/// those of this node's sandboxes go (their ids are the CRI's sandbox folders).
fn remove_cni_results(dir: &Path) {
    let sandboxes = dir.join("containerd/root/io.containerd.grpc.v1.cri/sandboxes");
    let ids: Vec<String> = std::fs::read_dir(sandboxes)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let results = Path::new("/var/lib/cni/results");
    for entry in std::fs::read_dir(results).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if ids.iter().any(|id| name.contains(&format!("-{id}-"))) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Mount points of the cgroup hierarchies (v1 controllers, named ones, and the unified one).
fn cgroup_hierarchies() -> Vec<PathBuf> {
    mounts()
        .into_iter()
        .filter(|(_, fstype)| fstype == "cgroup" || fstype == "cgroup2")
        .map(|(point, _)| point)
        .collect()
}

/// (mount point, filesystem type) of every mount this process sees.
fn mounts() -> Vec<(PathBuf, String)> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            let point = fields.get(4)?;
            let separator = fields.iter().position(|f| *f == "-")?;
            let fstype = fields.get(separator + 1)?;
            Some((PathBuf::from(unescape(point)), fstype.to_string()))
        })
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as octal escapes.
fn unescape(field: &str) -> String {
    field
        .replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\012", "\n")
        .replace("\\134", "\\")
}

/// Every cgroup below the node's root, deepest first, in every hierarchy.
fn node_cgroups(node: &Node) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    walk(&entry.path(), out);
                }
            }
        }
        out.push(dir.to_path_buf());
    }
    let mut out = Vec::new();
    for hierarchy in cgroup_hierarchies() {
        let root = hierarchy.join(node.cgroup_root().trim_start_matches('/'));
        if root.is_dir() {
            walk(&root, &mut out);
        }
    }
    out
}

/// SIGKILL to every process in the node's cgroups (the pods' containers, pause included),
/// until none is left: the kubelet leaves its containers running when it stops.
fn kill_pods(node: &Node) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids: Vec<i32> = node_cgroups(node)
            .iter()
            .filter_map(|cgroup| std::fs::read_to_string(cgroup.join("cgroup.procs")).ok())
            .flat_map(|procs| {
                procs
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            return;
        }
        for pid in pids {
            kill(pid);
        }
        // Waiting for the kernel to reap them: cgroup.procs is the condition polled.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// containerd's shims (one per pod) live on after containerd: find those of this node's
/// containerd by the address on their command line, kill them, and remove their sockets
/// (`/run/containerd/s/<sha256 of address/namespace/id>`, containerd 1.6).
fn kill_shims(socket: &Path) {
    let address = socket.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_shim = args
            .first()
            .is_some_and(|program| program.contains("containerd-shim"));
        let value = |flag: &str| {
            args.iter()
                .position(|a| a == flag)
                .and_then(|i| args.get(i + 1))
                .cloned()
        };
        if !is_shim || value("-address").as_deref() != Some(address.as_str()) {
            continue;
        }
        kill(pid);
        if let (Some(namespace), Some(id)) = (value("-namespace"), value("-id")) {
            let hash = Sha256::digest(format!("{address}/{namespace}/{id}").as_bytes());
            let _ =
                std::fs::remove_file(Path::new("/run/containerd/s").join(crate::oci::hex(&hash)));
        }
    }
    // Empty folders only: a containerd of the machine's own keeps its files there.
    for dir in ["/run/containerd/s", "/run/containerd"] {
        let _ = std::fs::remove_dir(dir);
    }
}

/// Lazily unmounts everything mounted under `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let mut points: Vec<PathBuf> = mounts()
        .into_iter()
        .map(|(point, _)| point)
        .filter(|point| point.starts_with(dir))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    points.dedup();
    for point in points {
        let Ok(path) = std::ffi::CString::new(point.as_os_str().as_encoded_bytes()) else {
            continue;
        };
        // SAFETY: umount2(2) with a NUL-terminated path this function owns.
        #[allow(unsafe_code)]
        unsafe {
            libc::umount2(path.as_ptr(), libc::MNT_DETACH);
        }
    }
}

fn remove_cgroups(node: &Node) {
    for cgroup in node_cgroups(node) {
        if let Err(err) = std::fs::remove_dir(&cgroup) {
            eprintln!("node: could not remove cgroup {}: {err}", cgroup.display());
        }
    }
}

/// Removes the kubelet's chains: first every rule that jumps to one, then the chain.
fn remove_chains() {
    remove_chains_where(|table, chain| CHAINS.contains(&(table, chain)));
}

/// Removes kube-proxy's chains (`KUBE-SERVICES`, `KUBE-SVC-…`, …: every `KUBE-` chain that is
/// not the kubelet's), as `kube-proxy --cleanup` would; for when it has stopped, or was killed.
pub fn remove_proxy_chains() {
    remove_chains_where(|table, chain| {
        chain.starts_with("KUBE-") && !CHAINS.contains(&(table, chain))
    });
}

/// Removes the chains `owned` picks, in the filter, nat and mangle tables for IPv4 and IPv6:
/// first every rule elsewhere that jumps to one, then their rules, then the chains.
fn remove_chains_where(owned: impl Fn(&str, &str) -> bool) {
    for tool in ["iptables", "ip6tables"] {
        for table in ["filter", "nat", "mangle"] {
            let Ok(output) = Command::new(tool).args(["-w", "-t", table, "-S"]).output() else {
                continue;
            };
            let rules = String::from_utf8_lossy(&output.stdout);
            let chains: Vec<&str> = rules
                .lines()
                .filter_map(|rule| rule.strip_prefix("-N "))
                .filter(|chain| owned(table, chain))
                .collect();
            if chains.is_empty() {
                continue;
            }
            for rule in rules.lines() {
                let Some(spec) = rule.strip_prefix("-A ") else {
                    continue;
                };
                let in_owned = spec
                    .split(' ')
                    .next()
                    .is_some_and(|chain| chains.contains(&chain));
                let jumps = chains.iter().any(|chain| {
                    rule.ends_with(&format!(" -j {chain}"))
                        || rule.contains(&format!(" -j {chain} "))
                });
                if jumps && !in_owned {
                    // `-S` quotes comments the way a shell reads them.
                    quiet(
                        Command::new("sh")
                            .arg("-c")
                            .arg(format!("{tool} -w -t {table} -D {spec}")),
                    );
                }
            }
            for chain in &chains {
                quiet(Command::new(tool).args(["-w", "-t", table, "-F", chain]));
            }
            for chain in &chains {
                quiet(Command::new(tool).args(["-w", "-t", table, "-X", chain]));
            }
        }
    }
}

fn kill(pid: i32) {
    // SAFETY: kill(2) with plain integers.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Runs a clean-up command; its failure is reported, not fatal.
fn quiet(command: &mut Command) {
    match command.output() {
        Ok(output) if !output.status.success() => eprintln!(
            "node: {:?} failed: {}",
            command,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(err) => eprintln!("node: {:?} failed: {err}", command),
        Ok(_) => {}
    }
}
