//! The Helm chart (`charts/kube-console/`), with Helm built from source: it lints strictly and
//! renders with its default values and with the local stack's; its schema refuses bad values;
//! the real kube-apiserver accepts every rendered manifest in a namespace that enforces the
//! `restricted` Pod Security Standard, without a warning; the apiserver-proxy may impersonate
//! users and groups and do nothing else.

use std::{path::Path, time::Duration};

use anyhow::Context;
use e2e::{
    TestStack,
    helm::{Helm, path_str},
};
use serde::Deserialize;
use serde_json::{Value, json};

/// The values files and switches the chart is checked with: its defaults, the local stack's
/// values, and TLS at an Ingress (the BFF then serves plain HTTP).
fn variants() -> anyhow::Result<Vec<Vec<String>>> {
    let local = path_str(&Helm::local_values())?.to_string();
    Ok(vec![
        vec![],
        vec!["-f".into(), local],
        vec!["--set".into(), "ingress.enabled=true".into()],
    ])
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The rendered documents, without the empty ones.
fn documents(rendered: &str) -> anyhow::Result<Vec<Value>> {
    let mut documents = Vec::new();
    for document in serde_yaml::Deserializer::from_str(rendered) {
        let value = Value::deserialize(document)?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}

fn of_kind<'a>(documents: &'a [Value], kind: &str) -> Vec<&'a Value> {
    documents.iter().filter(|d| d["kind"] == kind).collect()
}

fn deployment<'a>(documents: &'a [Value], component: &str) -> anyhow::Result<&'a Value> {
    of_kind(documents, "Deployment")
        .into_iter()
        .find(|d| d["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        .ok_or_else(|| anyhow::anyhow!("no Deployment of {component}"))
}

#[test]
fn chart_lints_strictly_and_renders() -> anyhow::Result<()> {
    let helm = Helm::get()?;
    let chart = Helm::chart();
    for variant in variants()? {
        let mut args = vec!["lint", "--strict", path_str(&chart)?];
        args.extend(strs(&variant));
        let lint = helm.run(&args)?;
        let out = String::from_utf8_lossy(&lint.stdout);
        assert!(lint.status.success(), "helm {args:?}: {out}");
        assert!(out.contains("0 chart(s) failed"), "helm {args:?}: {out}");

        let docs = documents(&helm.template("kube-console", &strs(&variant))?)?;
        // Secrets come from existing Secrets only: nothing secret is rendered.
        assert!(of_kind(&docs, "Secret").is_empty());
        for config in of_kind(&docs, "ConfigMap") {
            let text = config["data"].to_string();
            for secret in ["COOKIE_KEY", "CLIENT_SECRET", "TLS_KEY\":\"-----"] {
                assert!(!text.contains(secret), "{secret} in {config}");
            }
        }
        for component in ["bff", "apiserver-proxy"] {
            let spec = &deployment(&docs, component)?["spec"];
            assert_eq!(spec["replicas"], 2, "{component}");
            let container = &spec["template"]["spec"]["containers"][0];
            assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
            assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
        }
        let budgets = of_kind(&docs, "PodDisruptionBudget");
        assert_eq!(budgets.len(), 2);
        assert!(budgets.iter().all(|b| b["spec"]["maxUnavailable"] == 1));
        let bff = &deployment(&docs, "bff")?["spec"]["template"]["spec"];
        assert_eq!(bff["automountServiceAccountToken"], false);
        // The proxy's token is mounted by name (where its configuration reads it), whether or
        // not the cluster runs the ServiceAccount admission plugin; the BFF has none.
        let proxy = &deployment(&docs, "apiserver-proxy")?["spec"]["template"]["spec"];
        assert_eq!(proxy["automountServiceAccountToken"], false);
        let projected = proxy["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == "kube-api-access")
            .context("the proxy's token volume")?;
        let sources = projected["projected"]["sources"].to_string();
        assert!(sources.contains("serviceAccountToken") && sources.contains("kube-root-ca.crt"));
        assert!(
            bff["volumes"]
                .to_string()
                .find("serviceAccountToken")
                .is_none()
        );
        let plain = variant.iter().any(|a| a == "ingress.enabled=true");
        let scheme = &bff["containers"][0]["readinessProbe"]["httpGet"]["scheme"];
        assert_eq!(scheme, if plain { "HTTP" } else { "HTTPS" });
        assert_eq!(of_kind(&docs, "Ingress").len(), usize::from(plain));
        // The BFF reaches the proxy through its Service; kubeconfigs keep the public URL.
        let config = of_kind(&docs, "ConfigMap")
            .into_iter()
            .find(|c| c["data"]["BFF_PUBLIC_URL"].is_string())
            .context("the BFF's ConfigMap")?;
        assert_eq!(
            config["data"]["BFF_APISERVER_PROXY_INTERNAL_URL"],
            "https://kube-console-apiserver-proxy.kube-console.svc"
        );
        assert_ne!(
            config["data"]["BFF_APISERVER_PROXY_URL"],
            config["data"]["BFF_APISERVER_PROXY_INTERNAL_URL"]
        );
    }
    Ok(())
}

/// A changed configuration, or a Secret changed by name, changes the pod template: the pods roll.
#[test]
fn a_changed_configuration_or_secret_rolls_the_pods() -> anyhow::Result<()> {
    let helm = Helm::get()?;
    let template = |set: &[&str]| -> anyhow::Result<(Value, Value)> {
        let docs = documents(&helm.template("kube-console", set)?)?;
        Ok((
            deployment(&docs, "bff")?["spec"]["template"].clone(),
            deployment(&docs, "apiserver-proxy")?["spec"]["template"].clone(),
        ))
    };
    let (bff, proxy) = template(&[])?;
    assert_eq!(
        template(&[])?,
        (bff.clone(), proxy.clone()),
        "rendering is stable"
    );
    let (bff_issuer, proxy_issuer) = template(&["--set", "oidc.issuerUrl=https://idp.example"])?;
    assert_ne!(bff_issuer, bff);
    assert_ne!(proxy_issuer, proxy);
    let (bff_key, _) = template(&["--set", "console.cookieKey.name=cookie-key-2"])?;
    assert_ne!(bff_key, bff);
    Ok(())
}

#[test]
fn the_schema_refuses_bad_values() -> anyhow::Result<()> {
    let helm = Helm::get()?;
    let chart = Helm::chart();
    // Each value, and where the schema must say it is wrong.
    for (bad, at) in [
        ("unknown=1", "at '': additional properties 'unknown'"),
        (
            "console.replica=3",
            "at '/console': additional properties 'replica'",
        ),
        (
            "oidc.claims.user=sub",
            "at '/oidc/claims': additional properties 'user'",
        ),
        ("oidc.issuerUrl=not-a-url", "at '/oidc/issuerUrl'"),
        (
            "oidc.issuerUrl=http://dex.example.com",
            "at '/oidc/issuerUrl'",
        ),
        (
            "console.publicUrl=https://console.example.com/",
            "at '/console/publicUrl'",
        ),
        ("console.replicas=0", "at '/console/replicas'"),
        (
            "apiserverProxy.internalUrl=http://proxy",
            "at '/apiserverProxy/internalUrl'",
        ),
        (
            "console.image.pullPolicy=Sometimes",
            "at '/console/image/pullPolicy'",
        ),
        (
            "console.cookieKey.name=Not_A_Name",
            "at '/console/cookieKey/name'",
        ),
        (
            "apiserverProxy.service.clusterIP=198.19.0.256",
            "at '/apiserverProxy/service/clusterIP'",
        ),
    ] {
        let output = helm.run(&["template", "kube-console", path_str(&chart)?, "--set", bad])?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{bad} was accepted");
        assert!(
            stderr.contains("schema") && stderr.contains(at),
            "{bad}: {stderr}"
        );
    }
    Ok(())
}

const RESTRICTED_VIOLATION: &str = "would violate PodSecurity \"restricted";

#[tokio::test]
async fn every_manifest_passes_a_server_side_dry_run_in_a_restricted_namespace()
-> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let helm = Helm::get()?;
    let namespace = e2e::unique("chart");
    let work = std::env::temp_dir().join(&namespace);
    std::fs::create_dir_all(&work)?;
    stack.kubectl_ok(&["create", "namespace", &namespace])?;
    stack.kubectl_ok(&[
        "label",
        "namespace",
        &namespace,
        "pod-security.kubernetes.io/enforce=restricted",
        "pod-security.kubernetes.io/warn=restricted",
    ])?;
    create_secrets(&stack, &namespace, &work)?;

    // The warning this test looks for does come: a Deployment that is not restricted.
    let loose = work.join("loose.yaml");
    std::fs::write(&loose, LOOSE_DEPLOYMENT)?;
    let output = stack.kubectl_admin(&[
        "apply",
        "--dry-run=server",
        "-n",
        &namespace,
        "-f",
        path_str(&loose)?,
    ])?;
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains(RESTRICTED_VIOLATION));

    for (index, variant) in variants()?.iter().enumerate() {
        let rendered = work.join(format!("rendered-{index}.yaml"));
        std::fs::write(&rendered, helm.template(&namespace, &strs(variant))?)?;
        let output = stack.kubectl_admin(&[
            "apply",
            "--dry-run=server",
            "-o",
            "json",
            "-f",
            path_str(&rendered)?,
        ])?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{variant:?}: {stderr}");
        assert!(!stderr.contains("Warning"), "{variant:?}: {stderr}");
        // The kube-apiserver kept the preStop sleep (a field behind a feature gate is dropped).
        let accepted: Value = serde_json::from_slice(&output.stdout)?;
        let items = accepted["items"].as_array().cloned().unwrap_or_default();
        let deployments = of_kind(&items, "Deployment");
        assert_eq!(deployments.len(), 2, "{variant:?}");
        for deployment in deployments {
            let container = &deployment["spec"]["template"]["spec"]["containers"][0];
            let sleep = &container["lifecycle"]["preStop"]["sleep"]["seconds"];
            assert!(sleep.as_u64().is_some_and(|s| s > 0), "{deployment}");
        }
    }

    // Enforced, not only warned of: created for real with the local values, the ReplicaSets'
    // pods are admitted (a refused pod would be a FailedCreate event, and no pod).
    let local = work.join("rendered-1.yaml");
    stack.kubectl_ok(&["apply", "-f", path_str(&local)?])?;
    let admitted = devstack::poll::until("the chart's pods", Duration::from_secs(60), || async {
        let pods = stack.kubectl_ok(&["get", "pods", "-n", &namespace, "-o", "name"])?;
        Ok(pods.lines().count() == 4)
    })
    .await;
    if let Err(error) = admitted {
        let events = stack.kubectl_ok(&["get", "events", "-n", &namespace])?;
        anyhow::bail!("{error:#}\n{events}");
    }

    stack.kubectl_ok(&["delete", "-f", path_str(&local)?, "--wait=false"])?;
    stack.kubectl_ok(&["delete", "namespace", &namespace, "--wait=false"])?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// The proxy's ClusterRole as rendered, then as the real kube-apiserver authorizes its
/// ServiceAccount: impersonating users and groups, and nothing else.
#[tokio::test]
async fn the_apiserver_proxy_may_only_impersonate_users_and_groups() -> anyhow::Result<()> {
    let stack = TestStack::get().await?;
    let helm = Helm::get()?;
    let namespace = e2e::unique("chart-rbac");
    let docs = documents(&helm.template(&namespace, &[])?)?;

    let roles = of_kind(&docs, "ClusterRole");
    assert_eq!(roles.len(), 1);
    assert_eq!(
        roles[0]["rules"],
        json!([{"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}])
    );
    assert!(of_kind(&docs, "Role").is_empty() && of_kind(&docs, "RoleBinding").is_empty());
    let bindings = of_kind(&docs, "ClusterRoleBinding");
    assert_eq!(bindings.len(), 1);
    let proxy_account =
        deployment(&docs, "apiserver-proxy")?["spec"]["template"]["spec"]["serviceAccountName"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    assert_eq!(
        bindings[0]["subjects"],
        json!([{"kind": "ServiceAccount", "name": proxy_account, "namespace": namespace}])
    );
    assert_eq!(bindings[0]["roleRef"]["name"], roles[0]["metadata"]["name"]);

    let rbac = std::env::temp_dir().join(format!("{namespace}.yaml"));
    let rbac_docs = [roles[0], bindings[0]]
        .iter()
        .map(serde_yaml::to_string)
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::write(&rbac, rbac_docs.join("---\n"))?;
    stack.kubectl_ok(&["apply", "-f", path_str(&rbac)?])?;
    let user = format!("system:serviceaccount:{namespace}:{proxy_account}");
    let can = |args: &[&str]| -> anyhow::Result<bool> {
        let mut full = vec!["auth", "can-i", "--as", &user];
        full.extend_from_slice(args);
        let output = stack.kubectl_admin(&full)?;
        Ok(String::from_utf8_lossy(&output.stdout).trim() == "yes")
    };
    // RBAC propagates to the authorizer's cache at once, but poll in case it is busy.
    devstack::poll::until(
        "the binding takes effect",
        Duration::from_secs(10),
        || async { can(&["impersonate", "users"]) },
    )
    .await?;
    assert!(can(&["impersonate", "groups"])?);
    for denied in [
        &["impersonate", "serviceaccounts", "-A"][..],
        &["impersonate", "uids.authentication.k8s.io"],
        &[
            "impersonate",
            "userextras.authentication.k8s.io",
            "--subresource",
            "scopes",
        ],
        &["get", "pods", "-A"],
        &["list", "secrets", "-A"],
        &["create", "pods", "-A"],
        &["get", "nodes"],
        &["*", "*"],
    ] {
        assert!(!can(denied)?, "the apiserver-proxy may {denied:?}");
    }
    let name = |document: &Value| document["metadata"]["name"].as_str().map(str::to_string);
    let role = format!("clusterrole/{}", name(roles[0]).unwrap_or_default());
    let binding = format!(
        "clusterrolebinding/{}",
        name(bindings[0]).unwrap_or_default()
    );
    stack.kubectl_ok(&["delete", &role, &binding])?;
    let _ = std::fs::remove_file(&rbac);
    Ok(())
}

/// The Secrets the local values name, as an administrator would create them, with a CA and
/// certificates of their own in `work`.
fn create_secrets(stack: &TestStack, namespace: &str, work: &Path) -> anyhow::Result<()> {
    let ca = devstack::pki::Ca::load_or_create(work)?;
    let ca_file = format!("ca.crt={}", path_str(&ca.cert_file)?);
    let tls = |name: &str| -> anyhow::Result<()> {
        let leaf = ca.server_cert(work, name, &[])?;
        stack.kubectl_ok(&[
            "create",
            "secret",
            "generic",
            name,
            "-n",
            namespace,
            "--type=kubernetes.io/tls",
            &format!("--from-file=tls.crt={}", path_str(&leaf.cert_file)?),
            &format!("--from-file=tls.key={}", path_str(&leaf.key_file)?),
            &format!("--from-file={ca_file}"),
        ])?;
        Ok(())
    };
    tls("kube-console-tls")?;
    tls("kube-console-apiserver-proxy-tls")?;
    let cookie_key = format!("--from-literal=cookie-key={}", "0f".repeat(32));
    for (name, data) in [
        ("kube-console-stack-ca", format!("--from-file={ca_file}")),
        ("kube-console-cookie-key", cookie_key),
        (
            "kube-console-oidc-client",
            "--from-literal=client-secret=s".into(),
        ),
    ] {
        stack.kubectl_ok(&["create", "secret", "generic", name, "-n", namespace, &data])?;
    }
    Ok(())
}

const LOOSE_DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: loose}
spec:
  selector: {matchLabels: {app: loose}}
  template:
    metadata: {labels: {app: loose}}
    spec:
      containers: [{name: loose, image: localhost/busybox:local}]
";
