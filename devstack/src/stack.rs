//! The stack as a whole: its options, its ports, and the order in which its components start.
//! Each component's command line is built in `components/`.

use std::{net::TcpListener, path::PathBuf, time::Duration};

use anyhow::Context;

pub use crate::components::{SHUTDOWN_DRAIN_SECONDS, apiserver_proxy::ProxyIdentity};
pub use crate::users::MANY_GROUPS;
use crate::{
    StackDescription,
    components::{
        Component, Probe, Setup, apiserver, apiserver_proxy, bff, checker, containerd,
        controller_manager, dex, etcd, kube_proxy, kubelet, scheduler,
    },
    gobuild::GoComponents,
    images,
    node::{Node, ServiceNetwork},
    pki, poll,
    process::Service,
    random,
    release::{self, InCluster},
    seed,
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
    /// The real node's kubelet and the kube-scheduler (both on loopback).
    pub kubelet: u16,
    pub scheduler: u16,
    /// kube-proxy's health and metrics (on loopback; only an in-cluster console runs it).
    pub kube_proxy_healthz: u16,
    pub kube_proxy_metrics: u16,
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
            kubelet: 10250,
            scheduler: 10259,
            kube_proxy_healthz: 10256,
            kube_proxy_metrics: 10249,
        }
    }

    /// Free ports chosen by the kernel, so that several stacks (a demo and tests) can run at once.
    pub fn ephemeral() -> anyhow::Result<Ports> {
        // Hold every listener until all are chosen, so that no two are the same.
        let listeners = (0..13)
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
            kubelet: ports[9],
            scheduler: ports[10],
            kube_proxy_healthz: ports[11],
            kube_proxy_metrics: ports[12],
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
    /// A real node (kubelet, containerd, kube-scheduler), so that pods run: for the demo, the
    /// shared e2e stack, the benchmarks and tests that need pods (`node.rs`: several may run).
    pub node: bool,
    /// The apiserver-proxy's own identity at the kube-apiserver.
    pub proxy_identity: ProxyIdentity,
    /// How the console's own servers run.
    pub console: Console,
}

/// How the console's servers (the BFF and the apiserver-proxy) run.
#[derive(Debug, Clone)]
pub enum Console {
    /// As processes on loopback, from `StackOptions::binaries`: the demo, the tests, the
    /// benchmarks.
    Processes,
    /// As the chart's release on the stack's real node (which it must then have), from the
    /// images, behind kube-proxy (`release.rs`).
    InCluster(InCluster),
}

/// A running stack. Dropping it stops every component, in the reverse order of their start.
pub struct Stack {
    services: Vec<Running>,
    /// Dropped after the services (kube-proxy) have stopped: removes kube-proxy's rules.
    service_network: Option<ServiceNetwork>,
    /// Dropped after the services have stopped: undoes the node's changes to the host.
    node: Option<Node>,
    description: StackDescription,
    /// Trusts only the stack's CA; for the readiness probes.
    http: reqwest::Client,
    /// etcd's data of this start (never read by another start), removed once it has stopped:
    /// its write-ahead log takes 64 MB at once, and a test run starts many stacks.
    etcd_data: PathBuf,
}

/// A component's process and how to tell that it is ready (again, after a restart).
struct Running {
    service: Service,
    ready: Probe,
}

impl Drop for Stack {
    fn drop(&mut self) {
        while let Some(mut running) = self.services.pop() {
            running.service.stop(Duration::from_secs(5));
        }
        let _ = std::fs::remove_dir_all(&self.etcd_data);
    }
}

const START_DEADLINE: Duration = Duration::from_secs(120);

impl Stack {
    pub fn description(&self) -> &StackDescription {
        &self.description
    }

    /// The real node's share of the host, if the stack has a node.
    pub fn node(&self) -> Option<&Node> {
        self.node.as_ref()
    }

    /// Process ids of the running components (each leads its own process group).
    pub fn pids(&self) -> Vec<u32> {
        self.services.iter().map(|r| r.service.pid()).collect()
    }

    /// Starts every component, each once what it needs answers, and returns when all are ready.
    /// Components start while earlier ones are still getting ready where nothing waits on them.
    pub async fn start(options: &StackOptions) -> anyhow::Result<Stack> {
        // First, before the state folder is made anew: it undoes what a killed stack left.
        let node = options
            .node
            .then(|| Node::take_slot(&options.state_dir))
            .transpose()?;
        let in_cluster = match &options.console {
            Console::InCluster(in_cluster) => Some(in_cluster),
            Console::Processes => None,
        };
        let service_network = match (in_cluster, &node) {
            (Some(_), Some(node)) => Some(ServiceNetwork::take(node)?),
            _ => None,
        };
        let mut setup = Setup::prepare(options, node.as_ref())?;
        setup.description.node_name = node.as_ref().map(|n| n.name.clone());
        let mut stack = Stack {
            services: Vec::new(),
            service_network: None,
            node: None,
            description: setup.description.clone(),
            http: checker(&setup.ca.cert_pem)?,
            etcd_data: etcd::data_dir(&setup),
        };

        let etcd = stack.launch(etcd::component(&setup))?;
        let runtime = match &node {
            Some(node) => {
                let image_tars = images::write_all(&options.state_dir.join("images"))?;
                Some((stack.launch(containerd::component(node)?)?, image_tars))
            }
            None => None,
        };
        stack.ready(etcd).await?;

        // Dex keeps its state in etcd; it gets ready while the cluster starts.
        let client_secret = random::hex_secret(24)?;
        let dex = stack.launch(dex::component(&setup, &client_secret)?)?;

        let service_account = pki::service_account_keys(&setup.certs)?;
        let apiserver = stack.launch(apiserver::component(&setup, &service_account)?)?;
        stack.ready(apiserver).await?;
        let admin_kubeconfig = setup.admin_kubeconfig()?;
        let controller_manager =
            stack.launch(controller_manager::component(&setup, &service_account)?)?;
        // The node's images are in its containerd before the kubelet starts, so that pods of
        // images that are never pulled run as soon as the node is Ready.
        let node_components = match (&node, runtime) {
            (Some(node), Some((containerd, image_tars))) => {
                stack.ready(containerd).await?;
                images::import(&node.containerd_socket(), &image_tars).await?;
                let scheduler = stack.launch(scheduler::component(&setup)?)?;
                let kubelet = stack.launch(kubelet::component(&setup, node)?)?;
                let kube_proxy = in_cluster
                    .map(|_| stack.launch(kube_proxy::component(&setup, node)?))
                    .transpose()?;
                Some((scheduler, kubelet, kube_proxy))
            }
            _ => None,
        };
        // Its readiness is a ReplicaSet for a seeded Deployment.
        seed::cluster(&admin_kubeconfig).await?;
        if node_components.is_some() {
            seed::workloads(&admin_kubeconfig).await?;
        }
        stack.ready(controller_manager).await?;

        // The console's servers verify tokens of Dex and forward to the kube-apiserver.
        stack.ready(dex).await?;
        // An in-cluster console's servers are the release's pods (installed below).
        if in_cluster.is_none() {
            let proxy_token = match options.proxy_identity {
                ProxyIdentity::ServiceAccountToken => {
                    Some(seed::service_account_token(&admin_kubeconfig, &setup.run).await?)
                }
                ProxyIdentity::ClientCertificate => None,
            };
            let apiserver_proxy =
                stack.launch(apiserver_proxy::component(&setup, proxy_token.as_deref())?)?;
            let bff = stack.launch(bff::component(&setup, &client_secret)?)?;
            stack.ready(apiserver_proxy).await?;
            stack.ready(bff).await?;
        }
        if let Some((scheduler, kubelet, kube_proxy)) = node_components {
            stack.ready(scheduler).await?;
            stack.ready(kubelet).await?;
            if let Some(kube_proxy) = kube_proxy {
                stack.ready(kube_proxy).await?;
            }
        }
        if let (Some(in_cluster), Some(node)) = (in_cluster, &node) {
            let pin =
                release::install(&setup, node, in_cluster, &client_secret, &stack.http).await?;
            stack.description.browser_spki_pins.push(pin);
        }
        stack.service_network = service_network;
        stack.node = node;
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
        self.ready(name).await
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
        Ok(&mut self.running(name)?.service)
    }

    fn running(&mut self, name: &str) -> anyhow::Result<&mut Running> {
        self.services
            .iter_mut()
            .find(|r| r.service.name == name)
            .with_context(|| format!("no service {name}"))
    }

    /// Starts the component's process (logging to its file in the log folder); returns its name
    /// for `ready`.
    fn launch(&mut self, component: Component) -> anyhow::Result<&'static str> {
        let Component {
            name,
            mut command,
            ready,
            browser_pin,
        } = component;
        let service = Service::spawn(name, &mut command, &self.description.log_dir)?;
        self.description
            .pids
            .insert(name.to_string(), service.pid());
        self.description.browser_spki_pins.extend(browser_pin);
        self.services.push(Running { service, ready });
        Ok(name)
    }

    /// Polls the readiness probe of the component called `name` until it answers; fails at
    /// once, with the end of its log, if the process ends first.
    async fn ready(&mut self, name: &str) -> anyhow::Result<()> {
        let http = self.http.clone();
        let Running { service, ready } = self.running(name)?;
        let ready: &Probe = ready;
        let result = poll::until(name, START_DEADLINE, || {
            let exited = service.exited();
            let check = ready.check(&http);
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
