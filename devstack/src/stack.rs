use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use anyhow::Context;
use base64::Engine;

use crate::{
    ClaimTestUser, DemoUser, Role, StackDescription, dex, gobuild::GoComponents, pki, poll,
    process::Service, random, seed,
};

/// The console's own binaries and the built app.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub bff: PathBuf,
    pub apiserver_proxy: PathBuf,
    pub dist_dir: PathBuf,
}

/// The loopback ports of the stack.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    pub etcd_client: u16,
    pub etcd_peer: u16,
    pub apiserver: u16,
    pub dex: u16,
    pub apiserver_proxy: u16,
    pub apiserver_proxy_metrics: u16,
    pub bff_https: u16,
    pub bff_http: u16,
    pub bff_metrics: u16,
}

impl Ports {
    /// The demo's well-known ports.
    pub fn demo() -> Ports {
        Ports {
            etcd_client: 2379,
            etcd_peer: 2380,
            apiserver: 6443,
            dex: 5556,
            apiserver_proxy: 9443,
            apiserver_proxy_metrics: 9444,
            bff_https: 8443,
            bff_http: 8080,
            bff_metrics: 8444,
        }
    }

    /// Free ports chosen by the kernel, so that several stacks (a demo and tests) can run at once.
    pub fn ephemeral() -> anyhow::Result<Ports> {
        // Hold every listener until all are chosen, so that no two are the same.
        let listeners = (0..9)
            .map(|_| TcpListener::bind("127.0.0.1:0"))
            .collect::<Result<Vec<_>, _>>()?;
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().map(|a| a.port()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Ports {
            etcd_client: ports[0],
            etcd_peer: ports[1],
            apiserver: ports[2],
            dex: ports[3],
            apiserver_proxy: ports[4],
            bff_https: ports[5],
            bff_http: ports[6],
            apiserver_proxy_metrics: ports[7],
            bff_metrics: ports[8],
        })
    }
}

#[derive(Debug, Clone)]
pub struct StackOptions {
    /// Holds the CA (kept across starts), the demo users' passwords (kept), and the per-start
    /// certificates, configuration, etcd data and logs (made anew).
    pub state_dir: PathBuf,
    pub ports: Ports,
    pub go: GoComponents,
    pub binaries: Binaries,
    /// Dex's `expiry.idTokens`.
    pub id_token_lifetime: String,
    /// How often Dex rotates its signing key (`signer.config.keysRotationPeriod`, formerly
    /// `expiry.signingKeys`); `None` keeps Dex's default, 6h. Dex v2.45.1 checks every 30 s
    /// whether the period has passed, so "1m" rotates every 60 to 90 s; a rotated-out key stays
    /// published for at least the ID token lifetime (it is removed at the first rotation after).
    pub signing_key_rotation: Option<String>,
    /// `RUST_LOG` of the console's servers; the tests run them at `trace` to show that no token
    /// is logged at any level.
    pub server_log_filter: String,
}

/// A running stack. Dropping it stops every component, in the reverse order of their start.
pub struct Stack {
    services: Vec<Service>,
    description: StackDescription,
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some(mut service) = self.services.pop() {
            service.stop(Duration::from_secs(5));
        }
    }
}

const START_DEADLINE: Duration = Duration::from_secs(120);
/// The console servers' drain window after SIGTERM: nothing routes around a local stack, so a
/// short one, yet long enough for a test to see readiness fail while connections are taken.
pub const SHUTDOWN_DRAIN_SECONDS: &str = "2";

/// (email, role, namespace, groups) of each demo user.
const DEMO_USERS: [(&str, Role, Option<&str>, &str); 4] = [
    ("admin@example.com", Role::Admin, None, "console-admins"),
    ("viewer@example.com", Role::Viewer, None, "console-viewers"),
    (
        "developer@example.com",
        Role::Developer,
        Some("team-a"),
        "team-a-developers",
    ),
    // A viewer in 100 groups (console-viewers and 99 more, see `groups_of`).
    (
        "many-groups@example.com",
        Role::ManyGroups,
        None,
        "console-viewers",
    ),
];

/// How many groups the `ManyGroups` user is in.
pub const MANY_GROUPS: usize = 100;

/// A demo user's groups: one, or for the `ManyGroups` user 100, named like those of a large
/// organisation's directory.
fn groups_of(role: Role, group: &str) -> Vec<String> {
    let mut groups = vec![group.to_string()];
    if role == Role::ManyGroups {
        groups.extend(
            (1..MANY_GROUPS).map(|n| format!("org:platform-engineering:team-{n:03}-members")),
        );
    }
    groups
}

impl Stack {
    pub fn description(&self) -> &StackDescription {
        &self.description
    }

    /// Process ids of the running components (each leads its own process group).
    pub fn pids(&self) -> Vec<u32> {
        self.services.iter().map(Service::pid).collect()
    }

    pub async fn start(options: &StackOptions) -> anyhow::Result<Stack> {
        let state = &options.state_dir;
        let ports = options.ports;
        for dir in ["run", "logs"] {
            let _ = std::fs::remove_dir_all(state.join(dir));
        }
        let run = state.join("run");
        let certs = run.join("certs");
        let log_dir = state.join("logs");
        std::fs::create_dir_all(&certs)?;

        let ca = pki::Ca::load_or_create(&state.join("pki"))?;
        let users = demo_users(state)?;
        let claim_test_users = claim_test_users()?;
        let http = checker(&ca.cert_pem)?;

        let mut stack = Stack {
            services: Vec::new(),
            description: StackDescription {
                console_url: format!("https://127.0.0.1:{}", ports.bff_https),
                console_http_url: format!("http://127.0.0.1:{}", ports.bff_http),
                dex_issuer: format!("https://127.0.0.1:{}/dex", ports.dex),
                apiserver_url: format!("https://127.0.0.1:{}", ports.apiserver),
                apiserver_proxy_url: format!("https://127.0.0.1:{}", ports.apiserver_proxy),
                bff_metrics_url: format!("http://127.0.0.1:{}/metrics", ports.bff_metrics),
                apiserver_proxy_metrics_url: format!(
                    "http://127.0.0.1:{}/metrics",
                    ports.apiserver_proxy_metrics
                ),
                ca_file: ca.cert_file.clone(),
                admin_kubeconfig: run.join("admin.kubeconfig"),
                users: users.iter().map(|(user, _)| user.clone()).collect(),
                claim_test_users: claim_test_users.clone(),
                browser_spki_pins: Vec::new(),
                log_dir: log_dir.clone(),
                pids: Default::default(),
            },
        };
        let description = stack.description.clone();

        // etcd does not depend on anything: start it first.
        let etcd_url = format!("http://127.0.0.1:{}", ports.etcd_client);
        let peer_url = format!("http://127.0.0.1:{}", ports.etcd_peer);
        stack.spawn(
            "etcd",
            Command::new(&options.go.etcd)
                .args(["--name", "default", "--log-level", "warn"])
                .arg("--data-dir")
                .arg(run.join("etcd"))
                .args([
                    "--listen-client-urls",
                    &etcd_url,
                    "--advertise-client-urls",
                    &etcd_url,
                ])
                .args([
                    "--listen-peer-urls",
                    &peer_url,
                    "--initial-advertise-peer-urls",
                    &peer_url,
                ])
                .args(["--initial-cluster", &format!("default={peer_url}")]),
            &log_dir,
        )?;

        stack
            .wait("etcd", || {
                let http = http.clone();
                let url = format!("{etcd_url}/health");
                async move {
                    let body: serde_json::Value = http.get(url).send().await?.json().await?;
                    Ok(body["health"] == "true")
                }
            })
            .await?;

        // Dex keeps its state in etcd: started once etcd answers.
        let dex_tls = ca.server_cert(&certs, "dex", &[])?;
        stack
            .description
            .browser_spki_pins
            .push(dex_tls.spki_sha256.clone());
        let client_secret = random::hex_secret(24)?;
        let dex_config = run.join("dex.yaml");
        std::fs::write(
            &dex_config,
            dex::config(&dex::DexSettings {
                issuer: &description.dex_issuer,
                listen: &format!("127.0.0.1:{}", ports.dex),
                tls: &dex_tls,
                client_secret: &client_secret,
                redirect_uri: &format!("{}/auth/callback", description.console_url),
                users: &users,
                claim_test_users: &claim_test_users,
                id_token_lifetime: &options.id_token_lifetime,
                signing_key_rotation: options.signing_key_rotation.as_deref(),
                etcd_endpoint: &etcd_url,
            })?,
        )?;
        stack.spawn(
            "dex",
            Command::new(&options.go.dex).arg("serve").arg(&dex_config),
            &log_dir,
        )?;

        let apiserver_tls = ca.server_cert(
            &certs,
            "kube-apiserver",
            &[
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "10.0.0.1",
            ],
        )?;
        let (sa_private, sa_public) = pki::service_account_keys(&certs)?;
        stack.spawn(
            "kube-apiserver",
            Command::new(&options.go.kube_apiserver)
                .args(["--etcd-servers", &etcd_url])
                .args([
                    "--bind-address",
                    "127.0.0.1",
                    "--secure-port",
                    &ports.apiserver.to_string(),
                ])
                .arg("--tls-cert-file")
                .arg(&apiserver_tls.cert_file)
                .arg("--tls-private-key-file")
                .arg(&apiserver_tls.key_file)
                .arg("--client-ca-file")
                .arg(&ca.cert_file)
                .args(["--authorization-mode", "RBAC"])
                .args(["--service-cluster-ip-range", "10.0.0.0/24"])
                .args(["--disable-admission-plugins", "ServiceAccount"])
                // The stack has no network for the "kubernetes" Service's endpoints to point at.
                .args([
                    "--endpoint-reconciler-type",
                    "none",
                    "--advertise-address",
                    "10.0.0.1",
                ])
                .args([
                    "--service-account-issuer",
                    "https://kubernetes.default.svc.cluster.local",
                ])
                .arg("--service-account-key-file")
                .arg(&sa_public)
                .arg("--service-account-signing-key-file")
                .arg(&sa_private)
                .args(["--profiling=false", "--v=1"]),
            &log_dir,
        )?;
        stack
            .wait("kube-apiserver", || {
                answers_ok(
                    http.clone(),
                    format!("{}/readyz", description.apiserver_url),
                )
            })
            .await?;

        let admin = ca.client_cert(&certs, "admin", "kube-console:admin", &["system:masters"])?;
        write_kubeconfig(
            &description.admin_kubeconfig,
            &description.apiserver_url,
            &ca.cert_pem,
            &admin,
        )?;
        let kcm = ca.client_cert(
            &certs,
            "kube-controller-manager",
            "system:kube-controller-manager",
            &[],
        )?;
        let kcm_kubeconfig = run.join("kube-controller-manager.kubeconfig");
        write_kubeconfig(
            &kcm_kubeconfig,
            &description.apiserver_url,
            &ca.cert_pem,
            &kcm,
        )?;
        let proxy_client = ca.client_cert(
            &certs,
            "apiserver-proxy-client",
            "kube-console:apiserver-proxy",
            &[],
        )?;
        let proxy_kubeconfig = run.join("apiserver-proxy.kubeconfig");
        write_kubeconfig(
            &proxy_kubeconfig,
            &description.apiserver_url,
            &ca.cert_pem,
            &proxy_client,
        )?;

        stack.spawn(
            "kube-controller-manager",
            Command::new(&options.go.kube_controller_manager)
                .arg("--kubeconfig")
                .arg(&kcm_kubeconfig)
                .args([
                    "--secure-port",
                    "0",
                    "--leader-elect=false",
                    "--use-service-account-credentials=true",
                ])
                .arg("--service-account-private-key-file")
                .arg(&sa_private)
                .arg("--root-ca-file")
                .arg(&ca.cert_file)
                .args(["--v=1"]),
            &log_dir,
        )?;

        seed::apply(&description.admin_kubeconfig, seed::RBAC).await?;
        seed::apply(&description.admin_kubeconfig, seed::DEMO_OBJECTS).await?;
        seed::apply_custom_resources(&description.admin_kubeconfig).await?;
        // A ReplicaSet for the demo Deployment is proof that kube-controller-manager runs its
        // controllers, each with its own service account, against this apiserver.
        stack
            .wait("kube-controller-manager", || {
                let kubeconfig = description.admin_kubeconfig.clone();
                async move {
                    let names = seed::kubectl(
                        &kubeconfig,
                        &[
                            "get",
                            "replicasets",
                            "-n",
                            "team-a",
                            "-l",
                            "app=web",
                            "-o",
                            "name",
                        ],
                        None,
                    )
                    .await?;
                    Ok(!names.trim().is_empty())
                }
            })
            .await?;

        stack
            .wait("dex", || {
                answers_ok(
                    http.clone(),
                    format!(
                        "{}/.well-known/openid-configuration",
                        description.dex_issuer
                    ),
                )
            })
            .await?;

        let proxy_tls = ca.server_cert(&certs, "apiserver-proxy", &["apiserver.kyma.local"])?;
        stack.spawn(
            "apiserver-proxy",
            Command::new(&options.binaries.apiserver_proxy)
                .args(["--listen", &format!("127.0.0.1:{}", ports.apiserver_proxy)])
                .arg("--tls-cert")
                .arg(&proxy_tls.cert_file)
                .arg("--tls-key")
                .arg(&proxy_tls.key_file)
                .args([
                    "--metrics-listen",
                    &format!("127.0.0.1:{}", ports.apiserver_proxy_metrics),
                ])
                .args(["--shutdown-drain-seconds", SHUTDOWN_DRAIN_SECONDS])
                .args(["--upstream", &description.apiserver_url])
                .arg("--upstream-ca-file")
                .arg(&ca.cert_file)
                .arg("--upstream-client-cert")
                .arg(&proxy_client.cert_file)
                .arg("--upstream-client-key")
                .arg(&proxy_client.key_file)
                .args([
                    "--oidc-issuer",
                    &description.dex_issuer,
                    "--oidc-client-ids",
                    dex::CLIENT_ID,
                ])
                .arg("--oidc-ca-file")
                .arg(&ca.cert_file)
                .env("RUST_LOG", &options.server_log_filter),
            &log_dir,
        )?;

        let bff_tls = ca.server_cert(&certs, "bff", &[])?;
        stack
            .description
            .browser_spki_pins
            .push(bff_tls.spki_sha256.clone());
        stack.spawn(
            "bff",
            Command::new(&options.binaries.bff)
                .args(["--listen", &format!("127.0.0.1:{}", ports.bff_https)])
                .args(["--http-listen", &format!("127.0.0.1:{}", ports.bff_http)])
                .args([
                    "--metrics-listen",
                    &format!("127.0.0.1:{}", ports.bff_metrics),
                ])
                .args(["--shutdown-drain-seconds", SHUTDOWN_DRAIN_SECONDS])
                .args(["--public-url", &description.console_url])
                .arg("--tls-cert")
                .arg(&bff_tls.cert_file)
                .arg("--tls-key")
                .arg(&bff_tls.key_file)
                .arg("--dist-dir")
                .arg(&options.binaries.dist_dir)
                .args([
                    "--oidc-issuer",
                    &description.dex_issuer,
                    "--oidc-client-id",
                    dex::CLIENT_ID,
                ])
                .arg("--oidc-ca-file")
                .arg(&ca.cert_file)
                .args(["--apiserver-proxy-url", &description.apiserver_proxy_url])
                .arg("--apiserver-proxy-ca-file")
                .arg(&ca.cert_file)
                // A secret goes by environment, never on a command line that `ps` shows.
                .env("BFF_OIDC_CLIENT_SECRET", &client_secret)
                .env("BFF_COOKIE_KEY", random::hex_secret(32)?)
                // The demo namespaces of manifests/rbac.yaml, for users who may not list namespaces.
                .env("BFF_NAMESPACES", "team-a,team-b,shared-services")
                .env("RUST_LOG", &options.server_log_filter),
            &log_dir,
        )?;

        stack
            .wait("apiserver-proxy", || {
                answers_ok(
                    http.clone(),
                    format!("{}/readyz", description.apiserver_proxy_url),
                )
            })
            .await?;
        stack
            .wait("bff", || {
                answers_ok(http.clone(), format!("{}/readyz", description.console_url))
            })
            .await?;
        Ok(stack)
    }

    /// Stops one of the console's servers (`apiserver-proxy` or `bff`) or Dex, as an outage
    /// would; the stack still stops everything on drop.
    pub fn stop_service(&mut self, name: &str) -> anyhow::Result<()> {
        self.console_server(name)?.stop(Duration::from_secs(5));
        Ok(())
    }

    /// Starts one of the console's servers again, on the same address and with the same
    /// settings, and waits until it is ready.
    pub async fn start_service_again(&mut self, name: &str) -> anyhow::Result<()> {
        let service = self.console_server(name)?;
        service.restart(Duration::from_secs(5))?;
        let pid = service.pid();
        self.description.pids.insert(name.to_string(), pid);
        let ready_url = match name {
            "bff" => format!("{}/readyz", self.description.console_url),
            "dex" => format!(
                "{}/.well-known/openid-configuration",
                self.description.dex_issuer
            ),
            _ => format!("{}/readyz", self.description.apiserver_proxy_url),
        };
        let http = checker(&std::fs::read_to_string(&self.description.ca_file)?)?;
        self.wait(name, || answers_ok(http.clone(), ready_url.clone()))
            .await
    }

    /// Sends SIGTERM to one of the console's servers, as the kubelet does when a pod ends, and
    /// waits up to `deadline` for it to exit; past it, kills it and fails. Starts nothing again
    /// (`start_service_again` does).
    pub async fn terminate_service(
        &mut self,
        name: &str,
        deadline: Duration,
    ) -> anyhow::Result<crate::process::Exit> {
        self.console_server(name)?.terminate(deadline).await
    }

    fn console_server(&mut self, name: &str) -> anyhow::Result<&mut Service> {
        anyhow::ensure!(
            matches!(name, "apiserver-proxy" | "bff" | "dex"),
            "only the console's own servers and Dex can be stopped and started again, not {name}"
        );
        self.services
            .iter_mut()
            .find(|s| s.name == name)
            .with_context(|| format!("no service {name}"))
    }

    fn spawn(
        &mut self,
        name: &'static str,
        command: &mut Command,
        log_dir: &Path,
    ) -> anyhow::Result<()> {
        let service = Service::spawn(name, command, log_dir)?;
        self.description
            .pids
            .insert(name.to_string(), service.pid());
        self.services.push(service);
        Ok(())
    }

    /// Polls `check` until the service called `name` is ready; fails at once, with the end of
    /// its log, if the process ends first.
    async fn wait<F, Fut>(&mut self, name: &str, mut check: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<bool>>,
    {
        let service = self
            .services
            .iter_mut()
            .find(|s| s.name == name)
            .with_context(|| format!("no service {name}"))?;
        let result = poll::until(name, START_DEADLINE, || {
            let exited = service.exited();
            let check = check();
            async move {
                if let Some(status) = exited {
                    return Err(anyhow::anyhow!("{name} exited ({status})")).map_err(fatal);
                }
                check.await
            }
        })
        .await;
        result.with_context(|| {
            format!(
                "{name} did not start; log {}:\n{}",
                service.log_file.display(),
                service.log_tail()
            )
        })
    }
}

fn fatal(err: anyhow::Error) -> anyhow::Error {
    err.context(poll::Fatal)
}

/// The Dex users for the tests of the apiserver-proxy's identity mapping, with a new password on
/// every start (nothing keeps them). The padded `system:masters` would be cluster-admin if it
/// reached the kube-apiserver as sent: HTTP trims the spaces around a header value.
fn claim_test_users() -> anyhow::Result<Vec<ClaimTestUser>> {
    Ok(vec![ClaimTestUser {
        email: "padded-groups@example.com".into(),
        password: random::hex_secret(8)?,
        groups: vec![
            " system:masters".into(),
            "system:masters\t".into(),
            "claim-test-users".into(),
        ],
    }])
}

/// The demo users, with passwords made on first start and kept in the state folder (a user added
/// to the stack later gets one on the next start).
fn demo_users(state: &Path) -> anyhow::Result<Vec<(DemoUser, Vec<String>)>> {
    let path = state.join("users.json");
    let mut stored: Vec<DemoUser> = match std::fs::read_to_string(&path) {
        Ok(text) => {
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?
        }
        Err(_) => Vec::new(),
    };
    let mut users = Vec::new();
    let mut added = false;
    for (email, role, namespace, group) in DEMO_USERS {
        let user = match stored.iter().find(|u| u.email == email) {
            Some(user) => user.clone(),
            None => {
                let user = DemoUser {
                    email: email.to_string(),
                    password: random::hex_secret(8)?,
                    role,
                    namespace: namespace.map(str::to_string),
                };
                stored.push(user.clone());
                added = true;
                user
            }
        };
        users.push((user, groups_of(role, group)));
    }
    if added {
        std::fs::create_dir_all(state)?;
        std::fs::write(&path, serde_json::to_string_pretty(&stored)?)?;
    }
    Ok(users)
}

/// Readiness as most components report it: a GET that answers 2xx.
async fn answers_ok(http: reqwest::Client, url: String) -> anyhow::Result<bool> {
    Ok(http.get(url).send().await?.status().is_success())
}

/// An HTTP client for readiness checks that trusts only the stack's CA.
fn checker(ca_pem: &str) -> anyhow::Result<reqwest::Client> {
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
