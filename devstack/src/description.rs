use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// The machine-readable description of a running stack (`target/demo/stack.json` for the demo).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackDescription {
    pub console_url: String,
    /// The BFF's plain-HTTP listener, which only redirects to `console_url`.
    pub console_http_url: String,
    pub dex_issuer: String,
    pub apiserver_url: String,
    pub apiserver_proxy_url: String,
    /// The BFF's and the apiserver-proxy's plain-HTTP Prometheus endpoints.
    #[serde(default)]
    pub bff_metrics_url: String,
    #[serde(default)]
    pub apiserver_proxy_metrics_url: String,
    pub ca_file: PathBuf,
    pub admin_kubeconfig: PathBuf,
    pub users: Vec<DemoUser>,
    /// Dex users whose claims hold values an identity provider should not send (a group
    /// " system:masters"), for the tests of the apiserver-proxy's identity mapping. They are
    /// not demo users: nothing lists them for people, and no RBAC names them.
    #[serde(default)]
    pub claim_test_users: Vec<ClaimTestUser>,
    /// SPKI pins of the certificates a browser meets (the BFF's and Dex's), for a test browser
    /// that is not told to trust the CA.
    pub browser_spki_pins: Vec<String>,
    /// Where each component's log file is.
    pub log_dir: PathBuf,
    /// Process id of each component, by name (for benchmarks that read their memory).
    #[serde(default)]
    pub pids: std::collections::BTreeMap<String, u32>,
    /// Whether the stack runs a real node (kubelet + containerd), so that pods run.
    #[serde(default)]
    pub node: bool,
    /// The real node's name (the host's name), when there is one.
    #[serde(default)]
    pub node_name: Option<String>,
    /// The namespace of the console's Helm release when the console runs in the cluster
    /// (`cargo xtask demo --in-cluster`); `None` when its servers run as processes. An
    /// in-cluster stack has no `console_http_url` and no `pids` of the console's servers.
    #[serde(default)]
    pub console_namespace: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
    pub role: Role,
    /// The one namespace the role applies to; `None` where it is cluster-wide.
    pub namespace: Option<String>,
}

/// A Dex user for the tests of hostile claim values, with the groups Dex puts in its tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ClaimTestUser {
    pub email: String,
    pub password: String,
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Viewer,
    Developer,
    /// A viewer who is also in 99 more groups: an ID token of the size large organisations issue,
    /// for the tests of cookie and header sizes.
    ManyGroups,
}

impl StackDescription {
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let json = serde_json::to_string_pretty(self)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    pub fn user(&self, role: Role) -> Option<&DemoUser> {
        self.users.iter().find(|user| user.role == role)
    }

    /// The demo user of `role`, which every stack has.
    pub fn require_user(&self, role: Role) -> anyhow::Result<DemoUser> {
        self.user(role)
            .cloned()
            .with_context(|| format!("the stack has no {role:?} user"))
    }
}
