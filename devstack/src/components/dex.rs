//! Dex, the stack's identity provider, and its configuration: storage in the stack's etcd (so
//! that a restarted Dex keeps its signing keys and refresh tokens), TLS on loopback, one
//! confidential client for the BFF, and two connectors (the password database with the demo
//! users, and mockCallback) so that the login page lists them.

use std::process::Command;

use serde_json::json;

use super::{Component, Probe, Setup, etcd};
use crate::{ClaimTestUser, DemoUser, pki::Leaf};

pub const CLIENT_ID: &str = "kube-console";

/// Needs etcd to answer first. `client_secret` is the one the BFF logs in with.
pub fn component(setup: &Setup<'_>, client_secret: &str) -> anyhow::Result<Component> {
    let options = setup.options;
    let description = &setup.description;
    let tls = setup.host_server_cert("dex", &[])?;
    let config_file = setup.run.join("dex.yaml");
    std::fs::write(
        &config_file,
        config(&DexSettings {
            issuer: &description.dex_issuer,
            listen: &format!("{}:{}", setup.host, options.ports.dex),
            tls: &tls,
            client_secret,
            redirect_uri: &format!("{}/auth/callback", description.console_url),
            users: &setup.users,
            claim_test_users: &description.claim_test_users,
            id_token_lifetime: &options.id_token_lifetime,
            signing_key_rotation: options.signing_key_rotation.as_deref(),
            etcd_endpoint: &etcd::client_url(options.ports),
        })?,
    )?;
    let mut command = Command::new(&options.go.dex);
    command.arg("serve").arg(&config_file);
    Ok(Component {
        name: "dex",
        command,
        ready: Probe::Answers(format!(
            "{}/.well-known/openid-configuration",
            description.dex_issuer
        )),
        browser_pin: Some(tls.spki_sha256),
    })
}

pub struct DexSettings<'a> {
    pub issuer: &'a str,
    pub listen: &'a str,
    pub tls: &'a Leaf,
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
    pub users: &'a [(DemoUser, Vec<String>)],
    pub claim_test_users: &'a [ClaimTestUser],
    /// `expiry.idTokens`, such as "24h" (Dex's default) or "30s" for a test of renewal.
    pub id_token_lifetime: &'a str,
    /// How often Dex rotates its signing key, such as "1m" for a test of rotation; `None` keeps
    /// Dex's default (6h). See `StackOptions::signing_key_rotation`.
    pub signing_key_rotation: Option<&'a str>,
    /// The stack's etcd (plain HTTP on loopback), where Dex keeps its state under `dex/`.
    pub etcd_endpoint: &'a str,
}

/// Dex reads YAML, of which JSON is a subset; building it as JSON keeps every value quoted right.
pub fn config(settings: &DexSettings<'_>) -> anyhow::Result<String> {
    let claim_test_users = settings
        .claim_test_users
        .iter()
        .map(|user| (&user.email, &user.password, &user.groups));
    let static_passwords = settings
        .users
        .iter()
        .map(|(user, groups)| (&user.email, &user.password, groups))
        .chain(claim_test_users)
        .enumerate()
        .map(|(index, (email, password, groups))| {
            // Dex rejects bcrypt costs below 10.
            let hash = bcrypt::hash_with_result(password, 10)
                .map(|h| h.format_for_version(bcrypt::Version::TwoA))?;
            let username = email.split('@').next().unwrap_or(email).to_string();
            Ok(json!({
                "email": email,
                "hash": hash,
                "username": username,
                "name": username,
                "userID": format!("00000000-0000-4000-8000-{index:012}"),
                "groups": groups,
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut config = json!({
        "issuer": settings.issuer,
        // Not memory: a Dex restarted with memory storage forgets every refresh token and makes
        // new signing keys, which logs every user out. The kube-apiserver's keys live under
        // /registry; Dex's under its own prefix.
        "storage": {
            "type": "etcd",
            "config": {"endpoints": [settings.etcd_endpoint], "namespace": "dex/"},
        },
        "web": {
            "https": settings.listen,
            "tlsCert": settings.tls.cert_file,
            "tlsKey": settings.tls.key_file,
            // Dex sends no anti-framing headers unless told to.
            "headers": {
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff",
                "Strict-Transport-Security": "max-age=31536000",
            },
        },
        "logger": {"level": "info", "format": "text"},
        "oauth2": {
            "skipApprovalScreen": true,
            "responseTypes": ["code"],
        },
        "expiry": {"idTokens": settings.id_token_lifetime},
        "staticClients": [{
            "id": CLIENT_ID,
            "name": "Kubernetes Console",
            "secret": settings.client_secret,
            "redirectURIs": [settings.redirect_uri],
        }],
        "enablePasswordDB": true,
        "staticPasswords": static_passwords,
        "connectors": [{
            "type": "mockCallback",
            "id": "mock",
            "name": "Example (mock connector)",
        }],
    });
    if let Some(period) = settings.signing_key_rotation {
        // Dex v2.45's successor of `expiry.signingKeys` (which it still reads, with a
        // deprecation warning): the local signer, keys in Dex's storage.
        config["signer"] = json!({"type": "local", "config": {"keysRotationPeriod": period}});
    }
    Ok(serde_json::to_string_pretty(&config)?)
}
