//! The downloaded kubeconfig, used with the real kubectl against the apiserver-proxy: RBAC holds
//! for every demo user, on plain requests and on upgraded ones (exec, port-forward).

use std::{process::Output, time::Duration};

use base64::Engine;
use devstack::Role;
use e2e::{
    TestStack,
    kubeconfig_download::{download_kubeconfig, kubeconfig_token},
    kubectl,
};
use shared::kubeconfig::Kubeconfig;

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[tokio::test]
async fn the_downloaded_kubeconfig_works_with_kubectl_and_rbac_holds() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();

    // The admin: the file has the documented shape and lists namespaces through the proxy.
    let (admin, admin_token) = download_kubeconfig(&stack, Role::Admin).await?;
    let parsed: Kubeconfig = serde_yaml::from_str(&std::fs::read_to_string(&admin)?)?;
    assert_eq!(parsed.current_context, "kyma.local");
    assert_eq!(
        parsed.clusters[0].cluster.server,
        description.apiserver_proxy_url
    );
    assert_eq!(parsed.users[0].name, "OIDCUser");
    assert_eq!(parsed.users[0].user.token, admin_token);
    let ca = base64::engine::general_purpose::STANDARD
        .decode(&parsed.clusters[0].cluster.certificate_authority_data)?;
    assert_eq!(ca, std::fs::read(&description.ca_file)?);
    let namespaces = kubectl(&admin, &["get", "namespaces", "-o", "name"])?;
    assert!(namespaces.status.success(), "{}", stderr(&namespaces));
    assert!(String::from_utf8_lossy(&namespaces.stdout).contains("namespace/team-a"));

    // The viewer: reads, but may not delete, exec or port-forward (upgraded connections carry
    // the viewer's identity too, and the apiserver refuses them).
    let (viewer, _) = download_kubeconfig(&stack, Role::Viewer).await?;
    let list = kubectl(
        &viewer,
        &["get", "configmaps", "-n", "team-a", "-o", "name"],
    )?;
    assert!(list.status.success(), "{}", stderr(&list));
    let delete = kubectl(
        &viewer,
        &["delete", "configmap", "feature-flags", "-n", "team-a"],
    )?;
    assert!(
        !delete.status.success() && stderr(&delete).to_lowercase().contains("forbidden"),
        "{}",
        stderr(&delete)
    );
    let pods =
        stack.kubectl_admin(&["get", "pods", "-n", "team-a", "-l", "app=web", "-o", "name"])?;
    let pod = String::from_utf8_lossy(&pods.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(pod.starts_with("pod/"), "no demo pod: {pod:?}");
    let exec = kubectl(&viewer, &["exec", "-n", "team-a", &pod, "--", "true"])?;
    assert!(
        !exec.status.success() && stderr(&exec).contains("forbidden"),
        "exec: {}",
        stderr(&exec)
    );
    // kubectl port-forward stops at a Pending pod before it asks, so ask as it would: an
    // upgrade request to the portforward subresource, through the proxy, with the viewer's token.
    let http = stack.http()?;
    let pod_name = pod.trim_start_matches("pod/");
    let portforward = format!(
        "{}/api/v1/namespaces/team-a/pods/{pod_name}/portforward?ports=80",
        description.apiserver_proxy_url
    );
    let upgrade = |token: &str| {
        http.post(&portforward)
            .bearer_auth(token)
            .header("Connection", "Upgrade")
            .header("Upgrade", "SPDY/3.1")
            .header("X-Stream-Protocol-Version", "portforward.k8s.io")
    };
    let viewer_token = kubeconfig_token(&viewer)?;
    let refused = upgrade(&viewer_token).send().await?;
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    let body = refused.text().await?;
    assert!(
        body.contains("viewer@example.com") && body.contains("portforward"),
        "{body}"
    );
    let as_admin = upgrade(&kubeconfig_token(&admin)?).send().await?;
    assert_ne!(
        as_admin.status(),
        reqwest::StatusCode::FORBIDDEN,
        "the admin may port-forward"
    );
    assert_ne!(as_admin.status(), reqwest::StatusCode::UNAUTHORIZED);
    // As the admin, the same exec is authorized: it fails later, for want of a node.
    let admin_exec = kubectl(&admin, &["exec", "-n", "team-a", &pod, "--", "true"])?;
    assert!(
        !stderr(&admin_exec).contains("forbidden"),
        "admin exec: {}",
        stderr(&admin_exec)
    );

    // The developer: changes things in team-a only.
    let (developer, _) = download_kubeconfig(&stack, Role::Developer).await?;
    let name = format!("e2e-dev-{}", std::process::id());
    let create = kubectl(
        &developer,
        &[
            "create",
            "configmap",
            &name,
            "-n",
            "team-a",
            "--from-literal=a=b",
        ],
    )?;
    assert!(create.status.success(), "{}", stderr(&create));
    let elsewhere = kubectl(
        &developer,
        &[
            "create",
            "configmap",
            &name,
            "-n",
            "team-b",
            "--from-literal=a=b",
        ],
    )?;
    assert!(
        stderr(&elsewhere).to_lowercase().contains("forbidden"),
        "{}",
        stderr(&elsewhere)
    );
    let cleanup = kubectl(&developer, &["delete", "configmap", &name, "-n", "team-a"])?;
    assert!(cleanup.status.success(), "{}", stderr(&cleanup));
    for file in [&admin, &viewer, &developer] {
        e2e::assert_not_logged(&description.log_dir, &kubeconfig_token(file)?);
    }
    for file in [admin, viewer, developer] {
        let _ = std::fs::remove_file(file);
    }
    Ok(())
}

#[tokio::test]
async fn the_proxy_refuses_bad_tokens_and_ignores_client_impersonation() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let (viewer, token) = download_kubeconfig(&stack, Role::Viewer).await?;
    let _ = std::fs::remove_file(viewer);
    let http = stack.http()?;
    let url = format!(
        "{}/api/v1/namespaces/team-a/secrets",
        description.apiserver_proxy_url
    );

    // The viewer may not read Secrets; saying "I am the admin" changes nothing.
    for (name, value) in [
        ("Impersonate-User", "admin@example.com"),
        ("Impersonate-Group", "system:masters"),
        ("Impersonate-Uid", "0"),
        ("Impersonate-Extra-Scopes", "all"),
    ] {
        let response = http
            .get(&url)
            .bearer_auth(&token)
            .header(name, value)
            .send()
            .await?;
        assert_eq!(response.status(), reqwest::StatusCode::FORBIDDEN, "{name}");
        let status: serde_json::Value = response.json().await?;
        assert!(
            status["message"]
                .as_str()
                .unwrap_or_default()
                .contains("viewer@example.com"),
            "{status}"
        );
    }

    // The same token through the BFF's API prefix: reads pass, the apiserver's own refusal comes
    // back as its Status, path tricks never leave the BFF, and a watch streams event by event.
    let console = &description.console_url;
    let list = http
        .get(format!(
            "{console}/api/k8s/api/v1/namespaces/team-a/configmaps"
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(list.status(), reqwest::StatusCode::OK);
    let list: serde_json::Value = list.json().await?;
    assert_eq!(list["kind"], "ConfigMapList");
    let delete = http
        .delete(format!(
            "{console}/api/k8s/api/v1/namespaces/team-a/configmaps/feature-flags"
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(delete.status(), reqwest::StatusCode::FORBIDDEN);
    let refusal: serde_json::Value = delete.json().await?;
    assert_eq!(refusal["kind"], "Status");
    for trick in [
        "/api/k8s/healthz",
        "/api/k8s/api/v1/../../healthz",
        "/api/k8s/api/v1%2f..%2fhealthz",
    ] {
        let response = http
            .get(format!("{console}{trick}"))
            .bearer_auth(&token)
            .send()
            .await?;
        assert!(
            response.status().is_client_error(),
            "{trick}: {}",
            response.status()
        );
    }
    let mut watch = http
        .get(format!(
            "{console}/api/k8s/api/v1/namespaces/team-a/configmaps?watch=1"
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    assert_eq!(watch.status(), reqwest::StatusCode::OK);
    let first_event = tokio::time::timeout(Duration::from_secs(10), watch.chunk()).await??;
    let event: serde_json::Value = serde_json::from_slice(
        first_event
            .as_deref()
            .unwrap_or_default()
            .split(|b| *b == b'\n')
            .next()
            .unwrap_or_default(),
    )?;
    assert_eq!(
        event["type"], "ADDED",
        "a watch event arrived while the watch stays open"
    );
    drop(watch);

    // Tampered payload, foreign or missing token: 401 with a Kubernetes Status, never the
    // proxy's own identity.
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = e2e::token_part(&token, 1)?;
    payload["email"] = serde_json::json!("admin@example.com");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload)?),
        parts[2]
    );
    let mut foreign_header = e2e::token_part(&token, 0)?;
    foreign_header["kid"] = serde_json::json!("a-key-of-another-issuer");
    let foreign = format!(
        "{}.{}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&foreign_header)?),
        parts[1],
        parts[2]
    );
    for (what, bearer) in [
        ("tampered", Some(forged)),
        ("foreign key", Some(foreign)),
        ("garbage", Some("x.y.z".into())),
        ("none", None),
    ] {
        let mut request = http.get(&url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await?;
        assert_eq!(
            response.status(),
            reqwest::StatusCode::UNAUTHORIZED,
            "{what}"
        );
        let status: serde_json::Value = response.json().await?;
        assert_eq!(status["kind"], "Status", "{what}");
        assert_eq!(status["code"], 401, "{what}");
    }
    e2e::assert_not_logged(&description.log_dir, &token);
    Ok(())
}
