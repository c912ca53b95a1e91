//! Logs and exec on the real node with each demo user's downloaded kubeconfig: what `kubectl logs`
//! and `kubectl exec` may do through the apiserver-proxy is what the console's permission checks
//! say, and both are what the demo RBAC grants.

use std::{process::Output, time::Duration};

use devstack::Role;
use e2e::{
    TestStack,
    kubeconfig_download::{download_kubeconfig, kubeconfig_token},
    kubectl,
};
use shared::{AccessAnswer, AccessCheck, AccessQuery};

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

/// The running pod of the demo Deployment `chatty` in `namespace`, once it has logged a line.
async fn chatty_pod(stack: &TestStack, namespace: &str) -> anyhow::Result<String> {
    let mut found = String::new();
    devstack::poll::until(
        &format!("a running chatty pod in {namespace} that has logged"),
        Duration::from_secs(120),
        || {
            let pods = stack.kubectl_admin(&[
                "get",
                "pods",
                "-n",
                namespace,
                "-l",
                "app=chatty",
                "--field-selector=status.phase=Running",
                "-o",
                "jsonpath={.items[0].metadata.name}",
            ]);
            let name = pods
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            let logged = !name.is_empty()
                && stack
                    .kubectl_admin(&["logs", "-n", namespace, &name, "--tail=1"])
                    .map(|o| String::from_utf8_lossy(&o.stdout).contains("chatty"))
                    .unwrap_or(false);
            if logged {
                found.clone_from(&name);
            }
            async move { Ok(logged) }
        },
    )
    .await?;
    Ok(found)
}

async fn console_allows(
    stack: &TestStack,
    token: &str,
    namespace: &str,
) -> anyhow::Result<(bool, bool)> {
    let checks = vec![
        AccessCheck::new("get", "", "pods", Some(namespace)).with_subresource("log"),
        AccessCheck::new("create", "", "pods", Some(namespace)).with_subresource("exec"),
    ];
    let answer: AccessAnswer = stack
        .http()?
        .post(format!(
            "{}/api/permissions",
            stack.description().console_url
        ))
        .bearer_auth(token)
        .json(&AccessQuery { checks })
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok((answer.decisions[0].allowed, answer.decisions[1].allowed))
}

#[tokio::test]
async fn kubectl_logs_and_exec_agree_with_what_the_console_allows() -> anyhow::Result<()> {
    let stack = TestStack::with_node().await?;
    let description = stack.description();
    let pods = [
        ("team-a", chatty_pod(&stack, "team-a").await?),
        ("team-b", chatty_pod(&stack, "team-b").await?),
    ];
    // (role, namespace) → (may read logs, may exec), as devstack/manifests/rbac.yaml grants.
    let expected = |role: Role, namespace: &str| match role {
        Role::Admin => (true, true),
        Role::Viewer => (true, false),
        _ => (namespace == "team-a", namespace == "team-a"),
    };
    let mut tokens = Vec::new();
    for role in [Role::Admin, Role::Viewer, Role::Developer] {
        let (kubeconfig, token) = download_kubeconfig(&stack, role).await?;
        assert_eq!(kubeconfig_token(&kubeconfig)?, token);
        for (namespace, pod) in &pods {
            let console = console_allows(&stack, &token, namespace).await?;
            assert_eq!(
                console,
                expected(role, namespace),
                "the console's answer for {role:?} in {namespace}"
            );
            let logs = kubectl(&kubeconfig, &["logs", "-n", namespace, pod, "--tail=3"])?;
            if console.0 {
                assert!(logs.status.success(), "{role:?} logs: {}", stderr(&logs));
                assert!(
                    String::from_utf8_lossy(&logs.stdout).contains("chatty line"),
                    "{role:?} logs: {}",
                    String::from_utf8_lossy(&logs.stdout)
                );
            } else {
                assert!(
                    !logs.status.success() && stderr(&logs).contains("forbidden"),
                    "{role:?} logs in {namespace}: {}",
                    stderr(&logs)
                );
            }
            let said = format!("exec-as-{role:?}-in-{namespace}");
            let exec = kubectl(
                &kubeconfig,
                &["exec", "-n", namespace, pod, "--", "echo", &said],
            )?;
            if console.1 {
                assert!(exec.status.success(), "{role:?} exec: {}", stderr(&exec));
                assert_eq!(String::from_utf8_lossy(&exec.stdout).trim(), said);
            } else {
                assert!(
                    !exec.status.success() && stderr(&exec).contains("forbidden"),
                    "{role:?} exec in {namespace}: {}",
                    stderr(&exec)
                );
            }
        }
        // An exit code travels back through both proxies (exec's status channel).
        if role == Role::Admin {
            let (_, pod) = &pods[0];
            let failing = kubectl(
                &kubeconfig,
                &["exec", "-n", "team-a", pod, "--", "sh", "-c", "exit 7"],
            )?;
            assert_eq!(failing.status.code(), Some(7), "{}", stderr(&failing));
        }
        tokens.push(token);
        let _ = std::fs::remove_file(kubeconfig);
    }
    for token in &tokens {
        e2e::assert_not_logged(&description.log_dir, token);
    }
    Ok(())
}
