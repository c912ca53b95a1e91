//! `cargo xtask images`: the console's two container images, made without a registry or a
//! daemon (`devstack::oci`): each one static binary (musl) on an empty base, the BFF's with the
//! built app at /app. They run as user 65532 and write nothing, so a read-only root filesystem
//! suits them. Labels carry the version and the source revision.
//!
//! Reproducible: the layer holds only the binary (and the app) with fixed times and owners, and
//! the binaries are built with the checkout's and cargo's paths remapped, so the same commit gives
//! the same digests wherever it is checked out.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, bail};
use devstack::oci::{Image, Layer};
use serde_json::json;

use crate::{prerequisites, run, step, tools};

const MUSL: &str = "x86_64-unknown-linux-musl";
/// The console's version (the workspace's), in every image's tag and labels.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The unprivileged user the images run as (as distroless' `nonroot`).
const USER: &str = "65532:65532";

/// One written image.
pub struct Written {
    pub name: String,
    pub file: PathBuf,
    pub manifest_digest: String,
    /// The layer's size, uncompressed (as imported) and gzip-compressed (as a registry holds it).
    pub layer_bytes: usize,
    pub layer_gzip_bytes: usize,
}

/// Builds both servers statically and writes their images into `target/images/`; the app must
/// already be built in `dist` (with its precompressed files).
pub fn build(root: &Path, dist: &Path) -> anyhow::Result<Vec<Written>> {
    tools::ensure_rust_target(MUSL)?;
    prerequisites::ensure_musl()?;
    step("building the servers as static binaries (musl, server profile)");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("neither CARGO_HOME nor HOME is set")?;
    // Symbols stripped (a sixth of each image); a panic still names its file and line.
    let remap = format!(
        "-C target-feature=+crt-static -C strip=symbols --remap-path-prefix={}=/src --remap-path-prefix={}=/cargo",
        root.display(),
        cargo_home.display()
    );
    run(Command::new("cargo")
        .args(["build", "--profile", "server", "--target", MUSL])
        .args(["-p", "bff", "-p", "apiserver-proxy"])
        .env("CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS", remap)
        .env("CC_x86_64_unknown_linux_musl", prerequisites::MUSL_GCC))?;
    let binaries = root.join("target").join(MUSL).join("server");

    let revision = revision(root)?;
    let out = root.join("target/images");
    std::fs::create_dir_all(&out)?;
    let mut written = Vec::new();
    for (binary, title, description) in [
        (
            "bff",
            "kube-console-bff",
            "The Kubernetes console's backend-for-frontend, with the app",
        ),
        (
            "apiserver-proxy",
            "kube-console-apiserver-proxy",
            "The Kubernetes console's JWT-validating, impersonating apiserver-proxy",
        ),
    ] {
        let executable = std::fs::read(binaries.join(binary))
            .with_context(|| format!("reading the built {binary}"))?;
        ensure_static(binary, &executable)?;
        let mut layer = Layer::default();
        layer.file(binary, 0o555, &executable)?;
        let mut env = Vec::new();
        if binary == "bff" {
            layer.tree(dist, "app")?;
            env.push("BFF_DIST_DIR=/app");
        }
        let layer = layer.finish()?;
        let name = format!("localhost/{title}:{VERSION}");
        let image = Image {
            name: &name,
            config: json!({
                "Entrypoint": [format!("/{binary}")],
                "Env": env,
                "User": USER,
                "Labels": {
                    "org.opencontainers.image.title": title,
                    "org.opencontainers.image.description": description,
                    "org.opencontainers.image.version": VERSION,
                    "org.opencontainers.image.revision": revision,
                    "org.opencontainers.image.licenses": "Apache-2.0",
                },
            }),
            layer: &layer,
        };
        let layout = image.layout()?;
        let file = out.join(format!("{title}-{VERSION}.oci.tar"));
        std::fs::write(&file, &layout.tar)
            .with_context(|| format!("writing {}", file.display()))?;
        written.push(Written {
            name,
            file,
            manifest_digest: layout.manifest_digest,
            layer_bytes: layer.len(),
            layer_gzip_bytes: gzip_size(&layer)?,
        });
    }
    for image in &written {
        eprintln!(
            "  {} {}\n    {} ({:.1} MiB, gzip {:.1} MiB)",
            image.name,
            image.manifest_digest,
            image.file.display(),
            image.layer_bytes as f64 / (1024.0 * 1024.0),
            image.layer_gzip_bytes as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(written)
}

/// The commit checked out, with `-dirty` when the work tree differs from it: such an image is
/// not that commit's.
fn revision(root: &Path) -> anyhow::Result<String> {
    let git = |args: &[&str]| -> anyhow::Result<String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(args)
            .output()
            .context("running git")?;
        anyhow::ensure!(output.status.success(), "git {args:?} failed");
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty = !git(&["status", "--porcelain", "--untracked-files=no"])?.is_empty();
    Ok(if dirty {
        format!("{commit}-dirty")
    } else {
        commit
    })
}

/// An image on an empty base has no dynamic loader: a binary that asks for one (an ELF
/// `PT_INTERP` program header) could not start there.
fn ensure_static(name: &str, elf: &[u8]) -> anyhow::Result<()> {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        elf.get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u64_at = |at: usize| {
        elf.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    if elf.get(..5) != Some(b"\x7fELF\x02") {
        bail!("{name} is not a 64-bit ELF executable");
    }
    let (Some(table), Some(size), Some(count)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38)) else {
        bail!("{name}'s ELF header is cut short");
    };
    for index in 0..usize::from(count) {
        let at = usize::try_from(table)? + index * usize::from(size);
        let kind = elf
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .with_context(|| format!("{name}'s program headers are cut short"))?;
        if kind == PT_INTERP {
            bail!("{name} is linked dynamically: it cannot run on an empty base");
        }
    }
    Ok(())
}

fn gzip_size(bytes: &[u8]) -> anyhow::Result<usize> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

#[cfg(test)]
mod tests {
    use super::ensure_static;

    #[test]
    fn a_dynamically_linked_binary_is_refused() -> anyhow::Result<()> {
        // The test binary itself is linked against the host's glibc.
        let me = std::fs::read(std::env::current_exe()?)?;
        assert!(ensure_static("this test", &me).is_err());
        assert!(ensure_static("text", b"#!/bin/sh\n").is_err());
        // Debian's busybox-static has no loader.
        if let Ok(busybox) = std::fs::read(devstack::images::BUSYBOX) {
            ensure_static("busybox", &busybox)?;
        }
        Ok(())
    }
}
