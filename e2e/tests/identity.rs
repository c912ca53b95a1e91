//! The apiserver-proxy's identity mapping, with the real Dex, kube-apiserver and kubectl: a user
//! whose groups claim holds a whitespace-padded `system:masters` gets through the proxy only what
//! its other groups allow (HTTP would trim the padding, and the kube-apiserver would read
//! `system:masters`).

use std::{path::Path, process::Output};

use anyhow::Context;
use base64::Engine;
use devstack::{DemoUser, Role};
use e2e::{TestStack, http_login};
use shared::kubeconfig::Kubeconfig;

fn kubectl(kubeconfig: &Path, args: &[&str]) -> anyhow::Result<Output> {
    Ok(std::process::Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()?)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// The claims of a token, unverified: the test only looks at what Dex put in.
fn claims_of(token: &str) -> anyhow::Result<serde_json::Value> {
    let payload = token.split('.').nth(1).context("not a JWT")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    Ok(serde_json::from_slice(&bytes)?)
}

#[tokio::test]
async fn a_padded_system_masters_group_grants_nothing_through_the_proxy() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let description = stack.description();
    let padded = description
        .claim_test_users
        .iter()
        .find(|user| {
            user.groups
                .iter()
                .any(|g| g != "system:masters" && g.trim() == "system:masters")
        })
        .context("the stack has no user with a padded system:masters group")?;
    // The login helper reads the email and the password only.
    let login = DemoUser {
        email: padded.email.clone(),
        password: padded.password.clone(),
        role: Role::Viewer,
        namespace: None,
    };
    let token = http_login::id_token(&stack.http()?, &description.console_url, &login).await?;
    // Dex sends the groups as configured, padding included: otherwise this test proves nothing.
    let groups = claims_of(&token)?["groups"].clone();
    assert!(
        groups
            .as_array()
            .is_some_and(|groups| groups.iter().any(|g| g == " system:masters")),
        "Dex did not send the padded group: {groups}"
    );

    let ca = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&description.ca_file)?);
    let kubeconfig = std::env::temp_dir().join(format!(
        "e2e-identity-{}-{}.yaml",
        std::process::id(),
        description.apiserver_proxy_url.replace([':', '/'], "_")
    ));
    std::fs::write(
        &kubeconfig,
        Kubeconfig::for_token("kyma.local", &description.apiserver_proxy_url, &ca, &token)
            .to_yaml()?,
    )?;

    let can_i = kubectl(&kubeconfig, &["auth", "can-i", "*", "*"])?;
    assert_eq!(
        text(&can_i.stdout),
        "no",
        "kubectl auth can-i '*' '*': {}",
        text(&can_i.stderr)
    );
    assert!(!can_i.status.success());

    let secrets = kubectl(&kubeconfig, &["get", "secrets", "--all-namespaces"])?;
    assert!(
        !secrets.status.success() && text(&secrets.stderr).contains("forbidden"),
        "listing secrets cluster-wide: {} {}",
        text(&secrets.stdout),
        text(&secrets.stderr)
    );

    // The request went on as the user, with the groups that were safe to send.
    let whoami = kubectl(&kubeconfig, &["auth", "whoami", "-o", "json"])?;
    assert!(whoami.status.success(), "{}", text(&whoami.stderr));
    let review: serde_json::Value = serde_json::from_slice(&whoami.stdout)?;
    let user = &review["status"]["userInfo"];
    assert_eq!(user["username"], padded.email.as_str(), "{review}");
    let seen: Vec<&str> = user["groups"]
        .as_array()
        .context("no groups")?
        .iter()
        .filter_map(|g| g.as_str())
        .collect();
    assert!(seen.contains(&"claim-test-users"), "{seen:?}");
    assert!(!seen.contains(&"system:masters"), "{seen:?}");

    // The dropped group is in the proxy's log, escaped; the token is not.
    let log = std::fs::read_to_string(description.log_dir.join("apiserver-proxy.log"))?;
    assert!(
        log.contains(r#"" system:masters""#) && log.contains(r#""system:masters\t""#),
        "the dropped groups are not logged, escaped"
    );
    e2e::assert_not_logged(&description.log_dir, &token);
    let _ = std::fs::remove_file(&kubeconfig);
    Ok(())
}
