//! Container images without a registry or a daemon: an OCI image layout (`oci-layout`,
//! `index.json`, `blobs/sha256/…`) in one tar, which `ctr images import` reads. One layer, an
//! uncompressed tar (OCI allows it; containerd imports it as is). Every byte is fixed (times,
//! owners, order, JSON key order), so the same files give the same digest on every machine.

use std::{collections::BTreeMap, path::Path};

use anyhow::Context;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>`, as OCI names a blob.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

/// An image's root filesystem, built in the order entries are added: add them sorted (parents
/// first) to keep the layer the same from run to run. Owner root, time 0, for every entry.
pub struct Layer(tar::Builder<Vec<u8>>);

impl Default for Layer {
    fn default() -> Self {
        Layer(tar::Builder::new(Vec::new()))
    }
}

impl Layer {
    /// A folder; `path` ends with `/`.
    pub fn dir(&mut self, path: &str, mode: u32) -> anyhow::Result<()> {
        self.append(path, tar::EntryType::Directory, mode, &[], None)
    }

    pub fn file(&mut self, path: &str, mode: u32, contents: &[u8]) -> anyhow::Result<()> {
        self.append(path, tar::EntryType::Regular, mode, contents, None)
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> anyhow::Result<()> {
        self.append(path, tar::EntryType::Symlink, 0o777, &[], Some(target))
    }

    /// The files under `source` as `prefix/…` (folders first, names sorted, every file read-only
    /// for everyone): for the built app in the BFF's image.
    pub fn tree(&mut self, source: &Path, prefix: &str) -> anyhow::Result<()> {
        self.dir(&format!("{prefix}/"), 0o555)?;
        let mut entries: Vec<_> = std::fs::read_dir(source)
            .with_context(|| format!("reading {}", source.display()))?
            .collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let name = entry.file_name();
            let name = name
                .to_str()
                .with_context(|| format!("{:?} is not UTF-8", entry.path()))?;
            let path = format!("{prefix}/{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() {
                self.tree(&entry.path(), &path)?;
            } else if kind.is_file() {
                self.file(&path, 0o444, &std::fs::read(entry.path())?)?;
            } else {
                anyhow::bail!("{} is neither a file nor a folder", entry.path().display());
            }
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        Ok(self.0.into_inner()?)
    }

    fn append(
        &mut self,
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
        self.0
            .append_data(&mut header, path, contents)
            .with_context(|| format!("adding {path} to the layer"))
    }
}

/// What an image runs and says about itself: the OCI config's `config` object (`Entrypoint`,
/// `Cmd`, `Env`, `User`, `WorkingDir`, `Labels`, …), merged over `PATH=/bin` and `/`.
pub struct Image<'a> {
    /// `localhost/<name>:<tag>`: the name containerd files it under.
    pub name: &'a str,
    pub config: Value,
    pub layer: &'a [u8],
}

/// The layout of one image, as a tar, and the digest of its manifest (what a pod's `imageID`
/// shows).
pub struct Layout {
    pub tar: Vec<u8>,
    pub manifest_digest: String,
}

impl Image<'_> {
    pub fn layout(&self) -> anyhow::Result<Layout> {
        let layer_digest = digest(self.layer);
        let mut run = json!({"Env": ["PATH=/bin"], "WorkingDir": "/"});
        if let (Some(target), Some(source)) = (run.as_object_mut(), self.config.as_object()) {
            target.extend(source.clone());
        }
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "config": run,
            "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        }))?;
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
                "size": self.layer.len(),
            }],
        }))?;
        let tag = self.name.rsplit(':').next().unwrap_or("latest");
        let manifest_digest = digest(&manifest);
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest.len(),
                "platform": {"architecture": "amd64", "os": "linux"},
                "annotations": {
                    "io.containerd.image.name": self.name,
                    "org.opencontainers.image.ref.name": tag,
                },
            }],
        }))?;

        // The blobs by digest: sorted, and one entry where two are the same.
        let blobs: BTreeMap<String, &[u8]> = [&config[..], &manifest[..], self.layer]
            .into_iter()
            .map(|blob| (digest(blob), blob))
            .collect();
        let mut tar = Layer::default();
        tar.dir("blobs/", 0o755)?;
        tar.dir("blobs/sha256/", 0o755)?;
        for (name, blob) in blobs {
            let path = format!("blobs/sha256/{}", name.trim_start_matches("sha256:"));
            tar.file(&path, 0o644, blob)?;
        }
        tar.file("oci-layout", 0o644, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        tar.file("index.json", 0o644, &index)?;
        Ok(Layout {
            tar: tar.finish()?,
            manifest_digest,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn entries(tar: &[u8]) -> BTreeMap<String, Vec<u8>> {
        let mut archive = tar::Archive::new(tar);
        let mut out = BTreeMap::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            assert_eq!(entry.header().mtime().expect("mtime"), 0);
            let path = entry.path().expect("path").display().to_string();
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).expect("read");
            out.insert(path, bytes);
        }
        out
    }

    /// The entry names in the tar's order.
    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .expect("entries")
            .map(|e| {
                e.expect("entry")
                    .path()
                    .expect("path")
                    .display()
                    .to_string()
            })
            .collect()
    }

    fn blob<'a>(files: &'a BTreeMap<String, Vec<u8>>, digest: &Value) -> &'a [u8] {
        let name = digest
            .as_str()
            .expect("digest")
            .trim_start_matches("sha256:");
        &files[&format!("blobs/sha256/{name}")]
    }

    fn image(layer: &[u8], labels: Value) -> Layout {
        Image {
            name: "localhost/thing:1.0",
            config: json!({"Entrypoint": ["/thing"], "User": "65532:65532", "Labels": labels}),
            layer,
        }
        .layout()
        .expect("layout")
    }

    #[test]
    fn the_layout_is_whole_and_every_digest_names_its_blob() {
        let mut layer = Layer::default();
        layer.dir("bin/", 0o755).expect("dir");
        layer.file("bin/thing", 0o555, b"\x7fELF").expect("file");
        layer.symlink("bin/other", "thing").expect("link");
        let layer = layer.finish().expect("layer");
        let layout = image(&layer, json!({"org.opencontainers.image.revision": "abc"}));
        let files = entries(&layout.tar);

        let index: Value = serde_json::from_slice(&files["index.json"]).expect("index");
        let entry = &index["manifests"][0];
        assert_eq!(entry["digest"], layout.manifest_digest.as_str());
        assert_eq!(
            entry["annotations"]["io.containerd.image.name"],
            "localhost/thing:1.0"
        );
        let manifest_bytes = blob(&files, &entry["digest"]);
        assert_eq!(digest(manifest_bytes), layout.manifest_digest);
        let manifest: Value = serde_json::from_slice(manifest_bytes).expect("manifest");
        let config: Value =
            serde_json::from_slice(blob(&files, &manifest["config"]["digest"])).expect("config");
        assert_eq!(config["config"]["User"], "65532:65532");
        assert_eq!(config["config"]["Env"], json!(["PATH=/bin"]));
        assert_eq!(
            config["config"]["Labels"]["org.opencontainers.image.revision"],
            "abc"
        );
        let layer_digest = &manifest["layers"][0]["digest"];
        assert_eq!(config["rootfs"]["diff_ids"][0], *layer_digest);
        let in_layer = entries(blob(&files, layer_digest));
        assert_eq!(in_layer["bin/thing"], b"\x7fELF");
    }

    #[test]
    fn the_same_files_give_the_same_digest_and_a_changed_label_another() {
        let folder = std::env::temp_dir().join(format!("oci-tree-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&folder);
        std::fs::create_dir_all(folder.join("b")).expect("folder");
        std::fs::write(folder.join("b/z.js"), "z").expect("write");
        std::fs::write(folder.join("a.html"), "a").expect("write");
        let build = || {
            let mut layer = Layer::default();
            layer.tree(&folder, "app").expect("tree");
            layer.finish().expect("layer")
        };
        let (first, second) = (build(), build());
        assert_eq!(first, second);
        assert_eq!(
            names(&first),
            ["app/", "app/a.html", "app/b/", "app/b/z.js"]
        );
        let labels = json!({"org.opencontainers.image.revision": "abc"});
        assert_eq!(
            image(&first, labels.clone()).manifest_digest,
            image(&second, labels).manifest_digest
        );
        assert_ne!(
            image(&first, json!({"org.opencontainers.image.revision": "abd"})).manifest_digest,
            image(&first, json!({"org.opencontainers.image.revision": "abc"})).manifest_digest
        );
        let _ = std::fs::remove_dir_all(&folder);
    }
}
