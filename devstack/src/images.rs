//! The node's images, made without a registry or a daemon (`oci`). Both have one layer,
//! Debian's busybox-static at /bin/busybox with a link per applet; the pause image only runs it
//! differently. Their digests are the same on every machine with the same busybox.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;
use serde_json::json;

use crate::oci::{Image, Layer};

/// Debian's busybox-static.
pub const BUSYBOX: &str = "/bin/busybox";
pub const BUSYBOX_IMAGE: &str = "localhost/busybox:local";
pub const PAUSE_IMAGE: &str = "localhost/pause:local";

/// A pod's sandbox holds its namespaces: it waits until told to stop (TERM or INT), at once.
const PAUSE_SCRIPT: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// Writes the two image layouts into `dir`; returns their paths.
pub fn write_all(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let layer = busybox_layer()?;
    let images = [
        (BUSYBOX_IMAGE, json!({"Cmd": ["sh"]})),
        (
            PAUSE_IMAGE,
            json!({"Entrypoint": ["/bin/sh", "-c", PAUSE_SCRIPT]}),
        ),
    ];
    images
        .into_iter()
        .map(|(name, config)| {
            let file = dir.join(format!(
                "{}.oci.tar",
                name.trim_start_matches("localhost/").replace(':', "-")
            ));
            let image = Image {
                name,
                config,
                layer: &layer,
            };
            std::fs::write(&file, image.layout()?.tar)
                .with_context(|| format!("writing {}", file.display()))?;
            Ok(file)
        })
        .collect()
}

/// The image's root filesystem as an uncompressed tar (a layer may be plain tar).
fn busybox_layer() -> anyhow::Result<Vec<u8>> {
    let busybox = std::fs::read(BUSYBOX).with_context(|| {
        format!("reading {BUSYBOX} (Debian's busybox-static package; cargo xtask installs it)")
    })?;
    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .context("listing busybox's applets")?;
    let mut applets: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty() && *a != "busybox" && !a.contains('/'))
        .map(str::to_string)
        .collect();
    applets.sort();
    applets.dedup();

    let mut layer = Layer::default();
    for dir in [
        "bin/", "dev/", "etc/", "proc/", "root/", "sys/", "tmp/", "var/",
    ] {
        layer.dir(dir, if dir == "tmp/" { 0o1777 } else { 0o755 })?;
    }
    layer.file("bin/busybox", 0o755, &busybox)?;
    for applet in &applets {
        layer.symlink(&format!("bin/{applet}"), "busybox")?;
    }
    let files: [(&str, &[u8]); 3] = [
        (
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
        ("etc/group", b"root:x:0:\nnobody:x:65534:\n"),
        ("etc/hosts", b"127.0.0.1 localhost\n"),
    ];
    for (path, contents) in files {
        layer.file(path, 0o644, contents)?;
    }
    layer.finish()
}

/// Imports the layouts into the `k8s.io` namespace of the containerd at `socket` (where the
/// kubelet's CRI looks), unpacked for its snapshotter.
pub async fn import(socket: &Path, tars: &[PathBuf]) -> anyhow::Result<()> {
    for tar in tars {
        let output = tokio::process::Command::new("ctr")
            .arg("-a")
            .arg(socket)
            .args(["-n", "k8s.io", "images", "import"])
            .arg(tar)
            .output()
            .await
            .context("running ctr (Debian's containerd package)")?;
        anyhow::ensure!(
            output.status.success(),
            "ctr images import {}: {}",
            tar.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
