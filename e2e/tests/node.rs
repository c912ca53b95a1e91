//! The stack's real node: Ready, runs a pod from the local busybox image, `kubectl logs` shows
//! what it wrote (also through the apiserver-proxy with a user's token, which then is in no
//! log of the node), and a stopped stack leaves nothing of the node on the host.

use std::{path::Path, time::Duration};

use anyhow::Context;
use devstack::{Role, StackDescription};
use e2e::{OwnStack, TestStack, http_login, kubectl, kubectl_admin_ok, unique};

/// Starts a pod in team-a that writes `line` and then waits; returns when it is Running.
fn run_pod(description: &StackDescription, name: &str, line: &str) -> anyhow::Result<()> {
    kubectl_admin_ok(
        description,
        &[
            "run",
            name,
            "-n",
            "team-a",
            "--image=localhost/busybox:local",
            "--image-pull-policy=Never",
            "--restart=Never",
            "--",
            "sh",
            "-c",
            &format!("echo '{line}'; trap 'exit 0' TERM; while :; do sleep 1; done"),
        ],
    )?;
    kubectl_admin_ok(
        description,
        &[
            "wait",
            "-n",
            "team-a",
            "--for=condition=Ready",
            &format!("pod/{name}"),
            "--timeout=120s",
        ],
    )
    .map(drop)
}

/// Polls `kubectl logs` (the log reaches the file a moment after the container starts).
async fn logs_contain(kubeconfig: &Path, pod: &str, line: &str) -> anyhow::Result<String> {
    let mut last = String::new();
    for _ in 0..100 {
        let output = kubectl(kubeconfig, &["logs", "-n", "team-a", pod])?;
        last = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if output.status.success() && last.contains(line) {
            return Ok(last);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("kubectl logs {pod} never showed {line:?}: {last}")
}

#[tokio::test]
async fn the_node_runs_a_pod_whose_log_kubectl_shows() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    let description = stack.description();
    assert!(description.node);
    let node = description.node_name.clone().context("no node name")?;
    let ready = stack.kubectl_ok(&[
        "get",
        "node",
        &node,
        "-o=jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
    ])?;
    assert_eq!(ready, "True");
    let labelled = stack.kubectl_ok(&[
        "get",
        "nodes",
        "-l",
        "kube-console.io/node=real",
        "-o",
        "name",
    ])?;
    assert_eq!(labelled, format!("node/{node}"));

    let pod = unique("node-echo");
    let line = format!("hello from {pod}");
    run_pod(description, &pod, &line)?;
    let ip = stack.kubectl_ok(&[
        "get",
        "pod",
        "-n",
        "team-a",
        &pod,
        "-o=jsonpath={.status.podIP}",
    ])?;
    assert!(
        ip.starts_with("198.18."),
        "pod IP {ip} is not in the node's subnet"
    );

    let logs = logs_contain(&description.admin_kubeconfig, &pod, &line).await?;
    assert_eq!(logs.trim(), line);

    // The same through the apiserver-proxy with the admin's ID token: the token is in no log,
    // the kubelet's and containerd's included.
    let admin = description.require_user(Role::Admin)?;
    let token = http_login::id_token(&stack.http()?, &description.console_url, &admin).await?;
    let kubeconfig = e2e::token_kubeconfig(description, &token, &pod)?;
    logs_contain(&kubeconfig, &pod, &line).await?;
    let kubelet_log = std::fs::read_to_string(description.log_dir.join("kubelet.log"))?;
    assert!(!kubelet_log.is_empty(), "the kubelet's log is empty");
    e2e::assert_not_logged(&description.log_dir, &token);
    let signature = token.rsplit('.').next().context("not a JWT")?;
    for component in ["kubelet", "containerd", "kube-scheduler"] {
        let log = std::fs::read_to_string(description.log_dir.join(format!("{component}.log")))?;
        assert!(
            !log.contains(signature),
            "a token is in the {component} log"
        );
    }
    let _ = std::fs::remove_file(&kubeconfig);

    stack.kubectl_ok(&["delete", "pod", "-n", "team-a", &pod, "--wait=false"])?;
    Ok(())
}

/// An image that is not on the node is never fetched: containerd's only way out is a proxy
/// address on loopback where nothing listens, so the pull fails there, without a name lookup
/// or a packet to a registry.
#[tokio::test]
async fn the_node_pulls_no_image() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    let pod = unique("node-pull");
    stack.kubectl_ok(&[
        "run",
        &pod,
        "-n",
        "team-a",
        "--image=registry.example.com/not-here:1",
        "--image-pull-policy=Always",
        "--restart=Never",
    ])?;
    let mut message = String::new();
    for _ in 0..300 {
        message = stack.kubectl_ok(&[
            "get",
            "pod",
            "-n",
            "team-a",
            &pod,
            "-o=jsonpath={.status.containerStatuses[0].state.waiting.message}",
        ])?;
        if !message.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        message.contains("127.0.0.1:9") && message.contains("connection refused"),
        "the pull did not end at the loopback proxy: {message:?}"
    );
    stack.kubectl_ok(&["delete", "pod", "-n", "team-a", &pod, "--wait=false"])?;
    Ok(())
}

#[tokio::test]
async fn a_stopped_node_leaves_nothing_on_the_host() -> anyhow::Result<()> {
    let stack = OwnStack::new("24h").node().start().await?;
    let description = stack.description().clone();
    let node = stack.node().context("no node")?;
    let (bridge, cgroup_root, node_dir) = (node.bridge(), node.cgroup_root(), node.dir.clone());
    let socket = node.containerd_socket();
    let pod = unique("node-left");
    run_pod(&description, &pod, "running")?;
    // What there is to undo, so that the checks below can fail.
    assert!(
        Path::new("/sys/class/net").join(&bridge).exists(),
        "no bridge {bridge}"
    );
    assert!(!shims(&socket).is_empty(), "no shim");
    assert!(
        !mounts_under(&node_dir).is_empty(),
        "no mounts under {}",
        node_dir.display()
    );
    assert!(!cgroups(&cgroup_root).is_empty());
    let sandboxes: Vec<String> =
        std::fs::read_dir(node_dir.join("containerd/root/io.containerd.grpc.v1.cri/sandboxes"))?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
    assert!(!sandboxes.is_empty(), "no sandbox");
    // No IPv6 address comes and goes with a pod: a browser on this machine would take it for a
    // network change and fail its requests in flight (ERR_NETWORK_CHANGED).
    let ports: Vec<String> =
        std::fs::read_dir(Path::new("/sys/class/net").join(&bridge).join("brif"))?
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
    assert!(!ports.is_empty(), "the pod has no port on {bridge}");
    let ipv6 = std::fs::read_to_string("/proc/net/if_inet6")?;
    for interface in ports.iter().chain([&bridge]) {
        assert!(
            !ipv6
                .lines()
                .any(|line| line.split_whitespace().last() == Some(interface.as_str())),
            "{interface} has an IPv6 address: {ipv6}"
        );
    }
    let pod_pids = std::fs::read_to_string(
        Path::new("/sys/fs/cgroup/pids")
            .join(cgroup_root.trim_start_matches('/'))
            .join("kubepods/cgroup.procs"),
    )
    .unwrap_or_default();

    drop(stack);

    assert!(
        !Path::new("/sys/class/net").join(&bridge).exists(),
        "the bridge {bridge} is left"
    );
    assert_eq!(shims(&socket), Vec::<String>::new(), "shims are left");
    assert_eq!(
        mounts_under(&node_dir),
        Vec::<String>::new(),
        "mounts are left"
    );
    assert_eq!(
        cgroups(&cgroup_root),
        Vec::<String>::new(),
        "cgroups are left"
    );
    assert!(!node_dir.exists(), "{} is left", node_dir.display());
    for pid in pod_pids.lines() {
        assert!(
            !Path::new("/proc").join(pid.trim()).exists(),
            "a pod's process {pid} is left"
        );
    }
    let cni_results: Vec<String> = std::fs::read_dir("/var/lib/cni/results")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| sandboxes.iter().any(|id| name.contains(id.as_str())))
        .collect();
    assert_eq!(cni_results, Vec::<String>::new(), "CNI results are left");
    let netns = std::fs::read_dir("/run/netns")
        .map(|entries| entries.flatten().count())
        .unwrap_or(0);
    assert_eq!(netns, 0, "network namespaces are left in /run/netns");
    Ok(())
}

/// Command lines of containerd shims serving the containerd at `socket`.
fn shims(socket: &Path) -> Vec<String> {
    let address = socket.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains("containerd-shim") && cmdline.contains(&address))
        .collect()
}

fn mounts_under(dir: &Path) -> Vec<String> {
    let prefix = dir.to_string_lossy().into_owned();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.split(' ').nth(4).map(str::to_string))
        .filter(|point| point.starts_with(&prefix))
        .collect()
}

/// The node's cgroup root in any hierarchy.
fn cgroups(root: &str) -> Vec<String> {
    std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|hierarchy| hierarchy.path().join(root.trim_start_matches('/')))
        .filter(|dir| dir.exists())
        .map(|dir| dir.display().to_string())
        .collect()
}
