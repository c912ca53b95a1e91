//! The console installed by its Helm chart into the local cluster (`cargo xtask demo
//! --in-cluster`): two replicas of each server on the real node, in a namespace that enforces
//! the `restricted` Pod Security Standard, behind their Services (kube-proxy). Stateless
//! replicas: a login begun on one BFF finishes on the other; rolling restarts of both servers
//! neither log a user out nor lose a list's updates or a half-typed edit; a `kubectl get -w`
//! through the downloaded kubeconfig goes on through the other apiserver-proxy when its pod is
//! deleted and kubectl is run again.

use std::{
    collections::BTreeSet,
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::Path,
    process::{Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use devstack::Role;
use e2e::{TestStack, http_login, kubeconfig_download::download_kubeconfig};
use reqwest::{Url, header};
use serde_json::Value;

const BFF: &str = "kube-console-bff";
const PROXY: &str = "kube-console-apiserver-proxy";
/// The BFF's container port, and the name its certificate gives each replica.
const BFF_PORT: u16 = 8443;

#[tokio::test]
async fn the_console_runs_in_the_cluster_and_rolls_without_logouts() -> anyhow::Result<()> {
    let stack = TestStack::in_cluster().await?;
    let description = stack.description().clone();
    let namespace = description
        .console_namespace
        .clone()
        .expect("an in-cluster stack names its namespace");

    // Installed into a namespace that enforces `restricted`, every pod admitted and Ready.
    let labels = stack.kubectl_ok(&[
        "get",
        "namespace",
        &namespace,
        "-o",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
    ])?;
    assert_eq!(labels, "restricted");
    let bff_pods = ready_pods(&stack, &namespace, BFF)?;
    let proxy_pods = ready_pods(&stack, &namespace, PROXY)?;
    assert_eq!((bff_pods.len(), proxy_pods.len()), (2, 2));
    report_memory("idle");

    login_begun_on_one_replica_finishes_on_the_other(&stack, &namespace).await?;

    // A user with a list open, and another tab with an edit half-typed.
    let list = stack
        .browser_on_list(Role::Admin, "/ns/team-a/core/v1/configmaps")
        .await?;
    list.mark_page_load().await?;
    let edited = e2e::unique("in-cluster-edit");
    stack.kubectl_ok(&[
        "create",
        "configmap",
        &edited,
        "-n",
        "team-a",
        "--from-literal=greeting=hello",
    ])?;
    let editor = stack
        .browser(
            Role::Admin,
            &format!("/ns/team-a/core/v1/configmaps/{edited}"),
        )
        .await?;
    editor.wait_for("[data-testid=object-spec]").await?;
    editor.mark_page_load().await?;
    editor.click_button("Edit YAML").await?;
    let loaded = editor.editor_text().await?;
    assert!(loaded.contains("greeting: hello"), "{loaded}");
    let typed = loaded.replace("greeting: hello", "greeting: typed-before-the-restarts");
    editor.type_into_editor(&typed).await?;

    // Each server rolls (new pods replace both old ones) while objects change.
    let mut created = Vec::new();
    for deployment in [BFF, PROXY] {
        let before = ready_pods(&stack, &namespace, deployment)?;
        stack.kubectl_ok(&[
            "rollout",
            "restart",
            &format!("deployment/{deployment}"),
            "-n",
            &namespace,
        ])?;
        let name = e2e::unique("in-cluster-rolled");
        stack.kubectl_ok(&["create", "configmap", &name, "-n", "team-a"])?;
        created.push(name);
        devstack::poll::until(
            &format!("{deployment} rolled to new pods"),
            Duration::from_secs(180),
            || async {
                let now = ready_pods(&stack, &namespace, deployment)?;
                Ok(now.len() == 2
                    && now.is_disjoint(&before)
                    && devstack::release::rolled_out(&description.admin_kubeconfig).await?)
            },
        )
        .await?;
    }

    // The list caught up with what changed while it reconnected, without a reload or a login.
    for name in &created {
        devstack::poll::until(
            &format!("{name} in the list"),
            Duration::from_secs(60),
            || list.row_shown(name),
        )
        .await?;
    }
    assert!(list.same_page_load().await?, "the list's page was reloaded");
    assert!(
        list.session_token().await?.is_some(),
        "the user was logged out"
    );
    list.list_is_live().await?;

    // The half-typed edit is still there, and saving it goes through the new pods.
    assert!(
        editor.same_page_load().await?,
        "the editor's page was reloaded"
    );
    assert_eq!(editor.editor_text().await?, typed, "the edit was lost");
    editor.click("[data-testid=editor-apply]").await?;
    devstack::poll::until("the saved edit", Duration::from_secs(30), || async {
        let greeting = stack.kubectl_ok(&[
            "get",
            "configmap",
            &edited,
            "-n",
            "team-a",
            "-o",
            "jsonpath={.data.greeting}",
        ])?;
        Ok(greeting == "typed-before-the-restarts")
    })
    .await?;
    editor.close().await?;
    list.close().await?;

    watch_goes_on_through_the_other_proxy(&stack, &namespace).await?;
    report_memory("after the test");

    for name in created.iter().chain([&edited]) {
        stack.kubectl_ok(&["delete", "configmap", name, "-n", "team-a"])?;
    }
    Ok(())
}

/// Starts a login at one BFF replica (its pod's address) and sends Dex's callback to the other:
/// the login's state travels in its sealed cookie, not in a replica's memory.
async fn login_begun_on_one_replica_finishes_on_the_other(
    stack: &TestStack,
    namespace: &str,
) -> anyhow::Result<()> {
    let description = stack.description();
    let ips = pod_ips(stack, namespace, BFF)?;
    anyhow::ensure!(ips.len() == 2, "two BFF pods, not {ips:?}");
    // The name the BFF's certificate carries besides the Service address.
    let name = format!("{BFF}.{namespace}.svc");
    let replica = |ip: &str| -> anyhow::Result<reqwest::Client> {
        let address: SocketAddr = format!("{ip}:{BFF_PORT}").parse()?;
        Ok(e2e::http_client(description)?
            .resolve(&name, address)
            .timeout(Duration::from_secs(20))
            .build()?)
    };
    let (first, second) = (replica(&ips[0])?, replica(&ips[1])?);
    let at = |path: &str| format!("https://{name}:{BFF_PORT}{path}");

    let start = first.get(at("/auth/login")).send().await?;
    let login_cookie =
        http_login::set_cookie_named(&http_login::set_cookies(&start), "__Host-kc-login")
            .map(|c| http_login::cookie_value(&c))
            .ok_or_else(|| anyhow::anyhow!("no login cookie from the first replica"))?;
    let authorize = Url::parse(&http_login::location(&start)?)?;
    let user = description.require_user(Role::Viewer)?;
    let dex = e2e::http_client(description)?
        .timeout(Duration::from_secs(20))
        .build()?;
    let callback = http_login::at_dex(&dex, &description.console_url, &authorize, &user).await?;
    // Dex sends the browser to the public URL; this one goes to the other replica.
    let mut on_second = Url::parse(&at("/auth/callback"))?;
    on_second.set_query(callback.query());
    let finished = second
        .get(on_second)
        .header(header::COOKIE, format!("__Host-kc-login={login_cookie}"))
        .send()
        .await?;
    let cookies = http_login::set_cookies(&finished);
    let handoff = http_login::set_cookie_named(&cookies, "__Host-kc-handoff");
    let refresh = http_login::set_cookie_named(&cookies, "__Host-kc-refresh");
    let (Some(handoff), Some(refresh)) = (handoff, refresh) else {
        anyhow::bail!(
            "the second replica did not finish the login ({}): {cookies:?}",
            finished.status()
        );
    };
    let session: shared::TokenHandoff = first
        .post(at("/auth/session"))
        .header(
            header::COOKIE,
            format!(
                "__Host-kc-handoff={}; __Host-kc-refresh={}",
                http_login::cookie_value(&handoff),
                http_login::cookie_value(&refresh)
            ),
        )
        .header(header::ORIGIN, &description.console_url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    // And the token works through the Service, whichever replica answers.
    let through_service = stack.http()?;
    let me = http_login::me(
        &through_service,
        &description.console_url,
        &session.id_token,
    )
    .await?;
    assert_eq!(me.email.as_deref(), Some(user.email.as_str()));
    // In no log of any component, the pods' included.
    e2e::assert_not_logged(&description.log_dir, &session.id_token);
    Ok(())
}

/// `kubectl get -w` with a user's downloaded kubeconfig, run again whenever it ends (as a
/// script or a person would), while one pod of each server is deleted: the watch goes on, and
/// an object made after the deletions shows in it.
async fn watch_goes_on_through_the_other_proxy(
    stack: &TestStack,
    namespace: &str,
) -> anyhow::Result<()> {
    let (kubeconfig, _token) = download_kubeconfig(stack, Role::Admin).await?;
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let runs = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (lines, runs, stop) = (lines.clone(), runs.clone(), stop.clone());
        let kubeconfig = kubeconfig.clone();
        std::thread::spawn(move || {
            watch_again_and_again(&kubeconfig, &lines, &runs, &stop);
        })
    };
    let watching =
        devstack::poll::until("the watch's first lines", Duration::from_secs(30), || {
            let seen = !lines.lock().map(|l| l.is_empty()).unwrap_or(true);
            async move { Ok(seen) }
        })
        .await;
    let result = async {
        watching?;
        // Both of the apiserver-proxy's pods, one after the other (each once the other is
        // back and it is gone: a deleted pod serves on through its grace period): whichever
        // one kubectl's watch went through is among them.
        for victim in ready_pods(stack, namespace, PROXY)? {
            stack.kubectl_ok(&["delete", "pod", &victim, "-n", namespace, "--wait=false"])?;
            devstack::poll::until(
                &format!("{victim} replaced and gone"),
                Duration::from_secs(120),
                || async {
                    let now = ready_pods(stack, namespace, PROXY)?;
                    let all = pods(stack, namespace, PROXY)?;
                    let gone = !all
                        .iter()
                        .any(|pod| pod["metadata"]["name"] == victim.as_str());
                    Ok(now.len() == 2 && gone)
                },
            )
            .await?;
        }
        let bff = ready_pods(stack, namespace, BFF)?;
        let victim = bff.iter().next().cloned().unwrap_or_default();
        stack.kubectl_ok(&["delete", "pod", &victim, "-n", namespace, "--wait=false"])?;
        let name = e2e::unique("in-cluster-after-failover");
        stack.kubectl_ok(&["create", "configmap", &name, "-n", "team-a"])?;
        devstack::poll::until(
            "the new object in the watch",
            Duration::from_secs(90),
            || {
                let seen = lines
                    .lock()
                    .map(|l| l.iter().any(|line| line.contains(&name)))
                    .unwrap_or(false);
                async move { Ok(seen) }
            },
        )
        .await?;
        stack.kubectl_ok(&["delete", "configmap", &name, "-n", "team-a"])?;
        anyhow::Ok(())
    }
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = watcher.join();
    let runs = runs.lock().map(|r| r.clone()).unwrap_or_default();
    eprintln!("kubectl get -w ran {} times: {runs:?}", runs.len());
    result.map_err(|e| e.context(format!("kubectl's runs: {runs:?}")))?;
    // The last run was ended by this test; at least one before it ended with its pod.
    anyhow::ensure!(
        runs.len() >= 2,
        "the watch never ended while its pod went: {runs:?}"
    );
    Ok(())
}

/// Runs `kubectl get configmaps -w` until `stop`, again each time it ends; its lines go into
/// `lines`, how each run ended into `runs`.
fn watch_again_and_again(
    kubeconfig: &Path,
    lines: &Arc<Mutex<Vec<String>>>,
    runs: &Mutex<Vec<String>>,
    stop: &std::sync::atomic::AtomicBool,
) {
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let child = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["get", "configmaps", "-n", "team-a", "-w", "-o", "name"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            return;
        };
        let stdout = child.stdout.take();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            if let Some(stdout) = stdout {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(mut lines) = sink.lock() {
                        lines.push(line);
                    }
                }
            }
        });
        let started = Instant::now();
        // Polling the child (not a sleep for a result): `stop` must be able to end it.
        let status = loop {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = child.kill();
            }
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => std::thread::sleep(Duration::from_millis(100)),
                Err(_) => return,
            }
        };
        let _ = reader.join();
        let mut stderr = String::new();
        if let Some(mut pipe) = child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        if let Ok(mut runs) = runs.lock() {
            runs.push(format!(
                "ended after {:.1?}: {status}, {}",
                started.elapsed(),
                stderr.trim()
            ));
        }
    }
}

/// Names of the Deployment's pods that are Ready and not being deleted.
fn ready_pods(
    stack: &TestStack,
    namespace: &str,
    deployment: &str,
) -> anyhow::Result<BTreeSet<String>> {
    Ok(pods(stack, namespace, deployment)?
        .into_iter()
        .filter(|pod| {
            pod["metadata"]["deletionTimestamp"].is_null()
                && pod["status"]["conditions"]
                    .as_array()
                    .is_some_and(|conditions| {
                        conditions
                            .iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
        })
        .filter_map(|pod| pod["metadata"]["name"].as_str().map(str::to_string))
        .collect())
}

fn pod_ips(stack: &TestStack, namespace: &str, deployment: &str) -> anyhow::Result<Vec<String>> {
    let ready = ready_pods(stack, namespace, deployment)?;
    Ok(pods(stack, namespace, deployment)?
        .into_iter()
        .filter(|pod| {
            pod["metadata"]["name"]
                .as_str()
                .is_some_and(|name| ready.contains(name))
        })
        .filter_map(|pod| pod["status"]["podIP"].as_str().map(str::to_string))
        .collect())
}

/// The Deployment's pods (its name is their name's prefix, before the ReplicaSet's hash).
fn pods(stack: &TestStack, namespace: &str, deployment: &str) -> anyhow::Result<Vec<Value>> {
    let list: Value =
        serde_json::from_str(&stack.kubectl_ok(&["get", "pods", "-n", namespace, "-o", "json"])?)?;
    let prefix = format!("{deployment}-");
    Ok(list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|pod| {
            pod["metadata"]["name"].as_str().is_some_and(|name| {
                name.strip_prefix(&prefix)
                    .is_some_and(|rest| rest.matches('-').count() == 1)
            })
        })
        .collect())
}

/// The resident memory of the console's server processes on the node, for the report.
fn report_memory(when: &str) {
    for binary in ["/bff", "/apiserver-proxy"] {
        let rss: Vec<String> = e2e::pids_of_program(binary)
            .into_iter()
            .filter_map(|pid| e2e::rss_kib(pid).ok())
            .map(|kib| format!("{:.1}", kib as f64 / 1024.0))
            .collect();
        eprintln!("memory {when}: {binary} replicas {rss:?} MiB");
    }
}
