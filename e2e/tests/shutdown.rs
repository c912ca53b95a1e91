//! SIGTERM to the real apiserver-proxy and BFF binaries under load, on a stack of this test's
//! own, as the kubelet sends it when a pod ends: `/readyz` fails at once while connections are
//! still taken for the drain window, a request whose body is still arriving finishes (201), an
//! open watch ends after a whole event (the client watches again), no request in flight fails
//! with a cut connection, the process exits 0 inside its grace period, and once the stack starts
//! it again requests succeed.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use devstack::{Role, Stack};
use tokio::sync::oneshot;

/// The servers' default `--shutdown-grace-seconds`.
const GRACE: Duration = Duration::from_secs(25);
const LOAD_WORKERS: usize = 6;

struct Target {
    /// The name of the service in the stack.
    service: &'static str,
    /// Its base URL, and the prefix its Kubernetes API paths go under.
    base: String,
    api: String,
}

fn targets(stack: &Stack) -> [Target; 2] {
    let description = stack.description();
    [
        Target {
            service: "apiserver-proxy",
            base: description.apiserver_proxy_url.clone(),
            api: description.apiserver_proxy_url.clone(),
        },
        Target {
            service: "bff",
            base: description.console_url.clone(),
            api: format!("{}/api/k8s", description.console_url),
        },
    ]
}

/// A ConfigMap create whose body arrives in pieces over about three seconds: in flight across
/// the signal and past the drain window. `sent_some` fires once the first piece has gone out.
fn slowly_sent_configmap(name: &str, sent_some: oneshot::Sender<()>) -> reqwest::Body {
    let json = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "team-a"},
        "data": {"sent": "slowly"},
    })
    .to_string()
    .into_bytes();
    let pieces: Vec<Vec<u8>> = json
        .chunks(json.len().div_ceil(6))
        .map(<[u8]>::to_vec)
        .collect();
    let state = (pieces.into_iter(), Some(sent_some), true);
    reqwest::Body::wrap_stream(futures::stream::unfold(
        state,
        |(mut pieces, mut sent_some, first)| async move {
            let piece = pieces.next()?;
            if !first {
                if let Some(sent_some) = sent_some.take() {
                    let _ = sent_some.send(());
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Some((Ok::<_, std::io::Error>(piece), (pieces, sent_some, false)))
        },
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_load_finishes_what_is_in_flight_and_exits_inside_the_grace_period()
-> anyhow::Result<()> {
    let mut stack = e2e::start_own_stack("24h").await?;
    let description = stack.description().clone();
    let admin = description.require_user(Role::Admin)?;
    let http = e2e::http_client(&description)?
        .timeout(Duration::from_secs(30))
        .build()?;
    let token = e2e::http_login::id_token(&http, &description.console_url, &admin).await?;

    for target in targets(&stack) {
        let name = target.service;
        let list = format!("{}/api/v1/namespaces/team-a/configmaps", target.api);
        // Each probe on a connection of its own: a new connection must still be taken.
        let fresh = || -> anyhow::Result<reqwest::Client> {
            Ok(e2e::http_client(&description)?
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(10))
                .build()?)
        };

        // An open watch, past its initial events.
        let mut watch = http
            .get(format!("{list}?watch=1"))
            .bearer_auth(&token)
            .timeout(GRACE + Duration::from_secs(10))
            .send()
            .await?
            .error_for_status()?;
        let first = watch.chunk().await?.unwrap_or_default();
        anyhow::ensure!(!first.is_empty(), "{name}: the watch sent nothing");
        let watch_rest = tokio::spawn(async move {
            let mut whole = first.to_vec();
            while let Some(chunk) = watch.chunk().await? {
                whole.extend_from_slice(&chunk);
            }
            anyhow::Ok(whole)
        });

        // Load: workers that send requests until the pod would be out of the endpoints (half
        // the drain window after the signal); every request they start must be answered.
        let out_of_rotation = Arc::new(AtomicBool::new(false));
        let answered = Arc::new(AtomicUsize::new(0));
        let answered_after_signal = Arc::new(AtomicUsize::new(0));
        let signalled = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::new();
        for _ in 0..LOAD_WORKERS {
            let (http, token, list) = (http.clone(), token.clone(), list.clone());
            let (out, answered, after, signalled) = (
                out_of_rotation.clone(),
                answered.clone(),
                answered_after_signal.clone(),
                signalled.clone(),
            );
            workers.push(tokio::spawn(async move {
                let started = Instant::now();
                while !out.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(60) {
                    let was_signalled = signalled.load(Ordering::Relaxed);
                    let response = http.get(&list).bearer_auth(&token).send().await;
                    let status = response
                        .map_err(|err| anyhow::anyhow!("a request in flight failed: {err:?}"))?
                        .status();
                    anyhow::ensure!(status.is_success(), "a request was answered {status}");
                    answered.fetch_add(1, Ordering::Relaxed);
                    if was_signalled {
                        after.fetch_add(1, Ordering::Relaxed);
                    }
                }
                anyhow::Ok(())
            }));
        }
        devstack::poll::until("load to flow", Duration::from_secs(20), || {
            let answered = answered.clone();
            async move { Ok(answered.load(Ordering::Relaxed) >= LOAD_WORKERS) }
        })
        .await?;

        let (sent_some, sent_some_rx) = oneshot::channel();
        let slow_name = format!("sent-slowly-to-{name}");
        let slow = http
            .post(&list)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(slowly_sent_configmap(&slow_name, sent_some))
            .send();
        let slow = tokio::spawn(slow);
        sent_some_rx.await?;

        // SIGTERM, and what must hold while the process drains.
        let signal_at = Instant::now();
        signalled.store(true, Ordering::Relaxed);
        let terminated = {
            let stack = &mut stack;
            async move { stack.terminate_service(name, GRACE).await }
        };
        let during = async {
            let readyz = format!("{}/readyz", target.base);
            devstack::poll::until(
                &format!("{name}'s readyz to fail after SIGTERM"),
                Duration::from_secs(1),
                || {
                    let (client, readyz) = (fresh(), readyz.clone());
                    async move { Ok(client?.get(readyz).send().await?.status() == 503) }
                },
            )
            .await?;
            let readyz_failed_after = signal_at.elapsed();
            // Not a wait for a condition: the time an ingress takes to drop the pod after its
            // readiness fails, inside the drain window, while the load goes on.
            tokio::time::sleep(Duration::from_secs(1)).await;
            out_of_rotation.store(true, Ordering::Relaxed);
            for worker in workers {
                worker.await??;
            }
            anyhow::Ok(readyz_failed_after)
        };
        let (exit, readyz_failed_after) = tokio::join!(terminated, during);
        let exit = exit?;
        let readyz_failed_after = readyz_failed_after?;
        eprintln!(
            "{name}: readyz failed {readyz_failed_after:.1?} after SIGTERM; {} requests answered, \
             {} of them after the signal; exited {} after {:.1?}",
            answered.load(Ordering::Relaxed),
            answered_after_signal.load(Ordering::Relaxed),
            exit.status,
            exit.after
        );
        assert!(exit.status.success(), "{name} exited {}", exit.status);
        assert!(exit.after < GRACE, "{name} took {:?}", exit.after);
        assert!(
            answered_after_signal.load(Ordering::Relaxed) > 0,
            "{name}: no request was served during the drain window"
        );

        let slow = slow.await??;
        assert_eq!(
            slow.status(),
            reqwest::StatusCode::CREATED,
            "{name}: the slowly sent create: {}",
            slow.text().await?
        );
        let whole = watch_rest.await??;
        let events = read_watch_to_its_end_bytes(whole)?;
        assert!(events > 0, "{name}: the watch had no events");

        let refused = fresh()?.get(format!("{}/readyz", target.base)).send().await;
        assert!(
            refused.as_ref().is_err_and(reqwest::Error::is_connect),
            "{name} still takes connections after it exited: {refused:?}"
        );

        stack.start_service_again(name).await?;
        let again = http.get(&list).bearer_auth(&token).send().await?;
        assert!(
            again.status().is_success(),
            "{name} after its restart: {}",
            again.status()
        );
        let names = e2e::kubectl_admin_ok(
            &description,
            &["get", "configmap", &slow_name, "-n", "team-a", "-o", "name"],
        )?;
        assert_eq!(names, format!("configmap/{slow_name}"));
    }
    Ok(())
}

/// The events of a watch that ended; fails if it ended inside an event.
fn read_watch_to_its_end_bytes(whole: Vec<u8>) -> anyhow::Result<usize> {
    let text = String::from_utf8(whole)?;
    anyhow::ensure!(
        text.ends_with('\n'),
        "the watch ended inside an event: {:?}",
        &text[text.len().saturating_sub(200)..]
    );
    let mut events = 0;
    for line in text.lines() {
        let event: serde_json::Value = serde_json::from_str(line)?;
        anyhow::ensure!(event["type"].is_string(), "not a watch event: {line}");
        events += 1;
    }
    Ok(events)
}
