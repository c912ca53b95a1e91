//! The stack's components, one builder each: a component is a command line and a readiness
//! probe. `Stack::start` (stack.rs) launches them in order. A new component (a kubelet, a
//! scheduler) is a file here whose `component(&Setup, …)` returns a [`Component`], its `mod` line
//! below, and a `launch` (and `ready`) line in that sequence; `Setup::client_kubeconfig` gives it
//! an identity towards the kube-apiserver.

pub mod apiserver;
pub mod apiserver_proxy;
pub mod bff;
pub mod containerd;
pub mod controller_manager;
pub mod dex;
pub mod etcd;
pub mod kube_proxy;
pub mod kubelet;
pub mod scheduler;

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::Context;
use base64::Engine;

use crate::{
    DemoUser, StackDescription, StackOptions, node::Node, pki, release, seed, stack::Console, users,
};

/// The console servers' drain window after SIGTERM: nothing routes around a local stack, so a
/// short one, yet long enough for a test to see readiness fail while connections are taken.
pub const SHUTDOWN_DRAIN_SECONDS: &str = "2";

/// One process of the stack: how to start it, and how to tell that it serves.
pub struct Component {
    /// Also the name of its log file and its key in `StackDescription::pids`.
    pub name: &'static str,
    pub command: Command,
    pub ready: Probe,
    /// The SPKI pin of the certificate it shows a browser, if a browser meets it.
    pub browser_pin: Option<String>,
}

/// How a component shows that it is ready.
#[derive(Debug, Clone)]
pub enum Probe {
    /// A GET that answers 2xx, as most components report readiness.
    Answers(String),
    /// etcd's `/health`, whose JSON says `"health": "true"`.
    EtcdHealth(String),
    /// For a component without an endpoint of its own: kubectl with `kubeconfig` lists at least
    /// one object (something the component made).
    Lists {
        kubeconfig: PathBuf,
        args: Vec<&'static str>,
    },
    /// A unix socket accepts connections (containerd's gRPC).
    Socket(PathBuf),
    /// The Node object `name` has its Ready condition True.
    NodeReady { kubeconfig: PathBuf, name: String },
}

impl Probe {
    pub async fn check(&self, http: &reqwest::Client) -> anyhow::Result<bool> {
        match self {
            Probe::Answers(url) => Ok(http.get(url).send().await?.status().is_success()),
            Probe::EtcdHealth(url) => {
                let body: serde_json::Value = http.get(url).send().await?.json().await?;
                Ok(body["health"] == "true")
            }
            Probe::Lists { kubeconfig, args } => {
                let names = seed::kubectl(kubeconfig, args, None).await?;
                Ok(!names.trim().is_empty())
            }
            Probe::Socket(path) => Ok(tokio::net::UnixStream::connect(path).await.is_ok()),
            Probe::NodeReady { kubeconfig, name } => {
                let jsonpath = "-o=jsonpath={.status.conditions[?(@.type==\"Ready\")].status}";
                let status =
                    seed::kubectl(kubeconfig, &["get", "node", name, jsonpath], None).await?;
                Ok(status.trim() == "True")
            }
        }
    }
}

/// What every component's builder reads: the options, the CA, the folders of this start, the
/// demo users and the description of the stack (its URLs).
pub struct Setup<'a> {
    pub options: &'a StackOptions,
    pub ca: pki::Ca,
    /// Configuration and etcd data of this start.
    pub run: PathBuf,
    /// Certificates and keys of this start.
    pub certs: PathBuf,
    /// The demo users with their groups.
    pub users: Vec<(DemoUser, Vec<String>)>,
    /// As the stack will describe itself, before any component runs.
    pub description: StackDescription,
    /// Where the servers that pods must reach (Dex, the kube-apiserver) listen: 127.0.0.1, or
    /// the host's address on the node's bridge when the console runs in the cluster.
    pub host: String,
}

impl<'a> Setup<'a> {
    /// Makes the per-start folders anew, and loads (or makes) what is kept across starts: the CA
    /// and the demo users' passwords.
    pub fn prepare(options: &'a StackOptions, node: Option<&Node>) -> anyhow::Result<Setup<'a>> {
        let state = &options.state_dir;
        let ports = options.ports;
        for dir in ["run", "logs"] {
            let _ = std::fs::remove_dir_all(state.join(dir));
        }
        let run = state.join("run");
        let certs = run.join("certs");
        std::fs::create_dir_all(&certs)?;

        let ca = pki::Ca::load_or_create(&state.join("pki"))?;
        let users = users::demo_users(state)?;
        let in_cluster = matches!(options.console, Console::InCluster(_));
        let host = match (in_cluster, node) {
            (false, _) => "127.0.0.1".to_string(),
            (true, Some(node)) => node.host_address(),
            (true, None) => anyhow::bail!("an in-cluster console needs the stack's real node"),
        };
        // The browser and kubectl reach an in-cluster console through its Services' fixed
        // addresses (kube-proxy), on the ports its chart gives them.
        let (console_url, console_http_url, bff_metrics_url) = if in_cluster {
            let ip = release::CONSOLE_SERVICE_IP;
            (
                format!("https://{ip}"),
                String::new(),
                format!("http://{ip}:8444/metrics"),
            )
        } else {
            (
                format!("https://127.0.0.1:{}", ports.bff_https),
                format!("http://127.0.0.1:{}", ports.bff_http),
                format!("http://127.0.0.1:{}/metrics", ports.bff_metrics),
            )
        };
        let (apiserver_proxy_url, apiserver_proxy_metrics_url) = if in_cluster {
            let ip = release::PROXY_SERVICE_IP;
            (format!("https://{ip}"), format!("http://{ip}:9444/metrics"))
        } else {
            (
                format!("https://127.0.0.1:{}", ports.apiserver_proxy),
                format!("http://127.0.0.1:{}/metrics", ports.apiserver_proxy_metrics),
            )
        };
        let description = StackDescription {
            console_url,
            console_http_url,
            dex_issuer: format!("https://{host}:{}/dex", ports.dex),
            apiserver_url: format!("https://{host}:{}", ports.apiserver),
            apiserver_proxy_url,
            bff_metrics_url,
            apiserver_proxy_metrics_url,
            ca_file: ca.cert_file.clone(),
            admin_kubeconfig: run.join("admin.kubeconfig"),
            users: users.iter().map(|(user, _)| user.clone()).collect(),
            claim_test_users: users::claim_test_users()?,
            browser_spki_pins: Vec::new(),
            log_dir: state.join("logs"),
            pids: Default::default(),
            node: options.node,
            node_name: None,
            console_namespace: in_cluster.then(|| release::NAMESPACE.to_string()),
        };
        Ok(Setup {
            options,
            ca,
            run,
            certs,
            users,
            description,
            host,
        })
    }

    /// A server certificate for 127.0.0.1, localhost and `extra_names`.
    pub fn server_cert(&self, name: &str, extra_names: &[&str]) -> anyhow::Result<pki::Leaf> {
        self.ca.server_cert(&self.certs, name, extra_names)
    }

    /// A server certificate for a server that listens on `host` (and 127.0.0.1, localhost and
    /// `extra_names`).
    pub fn host_server_cert(&self, name: &str, extra_names: &[&str]) -> anyhow::Result<pki::Leaf> {
        let mut names = vec![self.host.as_str()];
        names.extend_from_slice(extra_names);
        names.retain(|n| *n != "127.0.0.1");
        self.server_cert(name, &names)
    }

    /// A client certificate for `user` in `groups`, and a kubeconfig with it for the
    /// kube-apiserver at `run/<name>.kubeconfig`.
    pub fn client_kubeconfig(
        &self,
        name: &str,
        user: &str,
        groups: &[&str],
    ) -> anyhow::Result<ClientIdentity> {
        let cert = self.ca.client_cert(&self.certs, name, user, groups)?;
        let kubeconfig = self.run.join(format!("{name}.kubeconfig"));
        write_kubeconfig(
            &kubeconfig,
            &self.description.apiserver_url,
            &self.ca.cert_pem,
            &cert,
        )?;
        Ok(ClientIdentity { cert, kubeconfig })
    }

    /// The admin's kubeconfig (`system:masters`), at `StackDescription::admin_kubeconfig`: for
    /// the seeding, the tests and people.
    pub fn admin_kubeconfig(&self) -> anyhow::Result<PathBuf> {
        let admin = self.client_kubeconfig("admin", "kube-console:admin", &["system:masters"])?;
        Ok(admin.kubeconfig)
    }
}

/// A client certificate of the kube-apiserver's CA and a kubeconfig that uses it.
pub struct ClientIdentity {
    pub cert: pki::Leaf,
    pub kubeconfig: PathBuf,
}

/// An HTTP client for readiness checks that trusts only the stack's CA.
pub fn checker(ca_pem: &str) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()?)
}

fn write_kubeconfig(
    path: &Path,
    server: &str,
    ca_pem: &str,
    client: &pki::Leaf,
) -> anyhow::Result<()> {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\n\
         users:\n- name: local\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n\
         contexts:\n- name: local\n  context:\n    cluster: local\n    user: local\ncurrent-context: local\n",
        b64(ca_pem),
        b64(&client.cert_pem),
        b64(&client.key_pem),
    );
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
