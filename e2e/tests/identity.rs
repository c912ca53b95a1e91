//! The apiserver-proxy's identity mapping, with the real Dex, kube-apiserver and kubectl: a user
//! whose groups claim holds a whitespace-padded `system:masters` gets through the proxy only what
//! its other groups allow (HTTP would trim the padding, and the kube-apiserver would read
//! `system:masters`).

use anyhow::Context;
use devstack::{DemoUser, Role};
use e2e::{TestStack, http_login, kubectl};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
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
    let groups = e2e::token_part(&token, 1)?["groups"].clone();
    assert!(
        groups
            .as_array()
            .is_some_and(|groups| groups.iter().any(|g| g == " system:masters")),
        "Dex did not send the padded group: {groups}"
    );

    let kubeconfig = e2e::token_kubeconfig(
        description,
        &token,
        &format!(
            "identity-{}",
            description.apiserver_proxy_url.replace([':', '/'], "_")
        ),
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
