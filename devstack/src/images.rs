//! The node's images, made without a registry or a daemon: an OCI image layout in a tar, which
//! `ctr images import` reads. Both images have one layer, Debian's busybox-static at
//! /bin/busybox with a link per applet; the pause image only runs it differently. Every byte is
//! fixed (times, owners, order), so the digests are the same on every machine with the same
//! busybox.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::Context;
use serde_json::json;
use sha2::{Digest, Sha256};

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
            std::fs::write(&file, layout(name, config, &layer)?)
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

    let mut tar = tar::Builder::new(Vec::new());
    for dir in [
        "bin/", "dev/", "etc/", "proc/", "root/", "sys/", "tmp/", "var/",
    ] {
        let mode = if dir == "tmp/" { 0o1777 } else { 0o755 };
        append(&mut tar, dir, tar::EntryType::Directory, mode, &[], None)?;
    }
    append(
        &mut tar,
        "bin/busybox",
        tar::EntryType::Regular,
        0o755,
        &busybox,
        None,
    )?;
    for applet in &applets {
        append(
            &mut tar,
            &format!("bin/{applet}"),
            tar::EntryType::Symlink,
            0o777,
            &[],
            Some("busybox"),
        )?;
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
        append(
            &mut tar,
            path,
            tar::EntryType::Regular,
            0o644,
            contents,
            None,
        )?;
    }
    Ok(tar.into_inner()?)
}

fn append(
    tar: &mut tar::Builder<Vec<u8>>,
    path: &str,
    kind: tar::EntryType,
    mode: u32,
    contents: &[u8],
    link: Option<&str>,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header.set_size(contents.len() as u64);
    if let Some(link) = link {
        header.set_link_name(link)?;
    }
    tar.append_data(&mut header, path, contents)?;
    Ok(())
}

fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) of one image, as a tar.
fn layout(name: &str, run: serde_json::Value, layer: &[u8]) -> anyhow::Result<Vec<u8>> {
    let layer_digest = digest(layer);
    let mut config = json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin"], "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
    });
    if let (Some(target), Some(source)) = (config["config"].as_object_mut(), run.as_object()) {
        target.extend(source.clone());
    }
    let config = serde_json::to_vec(&config)?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": digest(&config),
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest,
            "size": layer.len(),
        }],
    }))?;
    let tag = name.rsplit(':').next().unwrap_or("latest");
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest(&manifest),
            "size": manifest.len(),
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {
                "io.containerd.image.name": name,
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }))?;

    let mut tar = tar::Builder::new(Vec::new());
    append(
        &mut tar,
        "blobs/",
        tar::EntryType::Directory,
        0o755,
        &[],
        None,
    )?;
    append(
        &mut tar,
        "blobs/sha256/",
        tar::EntryType::Directory,
        0o755,
        &[],
        None,
    )?;
    for blob in [&config[..], &manifest[..], layer] {
        let path = format!(
            "blobs/sha256/{}",
            digest(blob).trim_start_matches("sha256:")
        );
        append(&mut tar, &path, tar::EntryType::Regular, 0o644, blob, None)?;
    }
    let oci_layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    append(
        &mut tar,
        "oci-layout",
        tar::EntryType::Regular,
        0o644,
        oci_layout,
        None,
    )?;
    append(
        &mut tar,
        "index.json",
        tar::EntryType::Regular,
        0o644,
        &index,
        None,
    )?;
    Ok(tar.into_inner()?)
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
