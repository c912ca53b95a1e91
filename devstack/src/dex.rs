//! Dex's configuration for the stack: storage in the stack's etcd (so that a restarted Dex keeps
//! its signing keys and refresh tokens), TLS on loopback, one confidential client
//! for the BFF, and two connectors (the password database with the demo users, and mockCallback)
//! so that the login page lists them.

use serde_json::json;

use crate::{DemoUser, pki::Leaf};

pub const CLIENT_ID: &str = "kube-console";

pub struct DexSettings<'a> {
    pub issuer: &'a str,
    pub listen: &'a str,
    pub tls: &'a Leaf,
    pub client_secret: &'a str,
    pub redirect_uri: &'a str,
    pub users: &'a [(DemoUser, Vec<String>)],
    /// `expiry.idTokens`, such as "24h" (Dex's default) or "30s" for a test of renewal.
    pub id_token_lifetime: &'a str,
    /// The stack's etcd (plain HTTP on loopback), where Dex keeps its state under `dex/`.
    pub etcd_endpoint: &'a str,
}

/// Dex reads YAML, of which JSON is a subset; building it as JSON keeps every value quoted right.
pub fn config(settings: &DexSettings<'_>) -> anyhow::Result<String> {
    let static_passwords = settings
        .users
        .iter()
        .enumerate()
        .map(|(index, (user, groups))| {
            // Dex rejects bcrypt costs below 10.
            let hash = bcrypt::hash_with_result(&user.password, 10)
                .map(|h| h.format_for_version(bcrypt::Version::TwoA))?;
            let username = user
                .email
                .split('@')
                .next()
                .unwrap_or(&user.email)
                .to_string();
            Ok(json!({
                "email": user.email,
                "hash": hash,
                "username": username,
                "name": username,
                "userID": format!("00000000-0000-4000-8000-{index:012}"),
                "groups": groups,
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = json!({
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
    Ok(serde_json::to_string_pretty(&config)?)
}
