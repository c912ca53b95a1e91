//! Helm, built from the Go module proxy like the stack's other Go components, run on the
//! repository's chart (`charts/kube-console/`).

use std::{
    path::{Path, PathBuf},
    process::Output,
};

use anyhow::Context;

use crate::repo_root;

pub struct Helm {
    binary: PathBuf,
    /// Helm's cache, configuration and data folders: its own, never the user's.
    home: PathBuf,
}

impl Helm {
    /// The cached build (`cargo xtask` makes it; built here if missing).
    pub fn get() -> anyhow::Result<Helm> {
        let root = repo_root();
        let binary = devstack::gobuild::ensure(&root, &devstack::gobuild::HELM)?;
        let home = root.join("target/helm-home");
        std::fs::create_dir_all(&home)?;
        Ok(Helm { binary, home })
    }

    /// The chart's folder.
    pub fn chart() -> PathBuf {
        repo_root().join("charts/kube-console")
    }

    /// The chart's values for the local stack.
    pub fn local_values() -> PathBuf {
        Self::chart().join("ci/local-values.yaml")
    }

    /// `helm <args>`; its output whatever the exit code.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<Output> {
        devstack::release::helm_command(&self.binary, &self.home)
            .args(args)
            .output()
            .context("running helm")
    }

    /// `helm template` of the chart as release `kube-console` in `namespace`, with the values
    /// files and `--set` arguments in `extra`; the rendered manifests, or helm's error.
    pub fn template(&self, namespace: &str, extra: &[&str]) -> anyhow::Result<String> {
        let chart = Self::chart();
        let mut args = vec![
            "template",
            "kube-console",
            path_str(&chart)?,
            "--namespace",
            namespace,
        ];
        args.extend_from_slice(extra);
        let output = self.run(&args)?;
        anyhow::ensure!(
            output.status.success(),
            "helm {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?)
    }
}

pub fn path_str(path: &Path) -> anyhow::Result<&str> {
    path.to_str().context("a path that is not UTF-8")
}
