use std::{fs::File, io::BufReader, path::Path, sync::Arc};

use anyhow::{Context, anyhow};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// What a server offers in ALPN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocols {
    Http1,
    /// HTTP/2 first. A browser holds at most six HTTP/1.1 connections to one origin, and the
    /// console keeps a watch open per thing it shows: over HTTP/1.1 a page with six watches left
    /// every other request (a download, logging out) queued until a watch ended, minutes later.
    /// WebSockets (the terminal) still come over HTTP/1.1 connections of their own.
    Http2AndHttp1,
}

/// A rustls server configuration from PEM files, using the ring provider (the one crypto provider
/// of this workspace) and offering `protocols`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    protocols: Protocols,
) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let certs = load_certs(cert)?;
    let key = load_key(key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .context("TLS certificate and key do not match")?;
    config.alpn_protocols = match protocols {
        Protocols::Http1 => vec![b"http/1.1".to_vec()],
        Protocols::Http2AndHttp1 => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
    };
    Ok(Arc::new(config))
}

pub fn load_certs(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificates in {}", path.display()))?;
    if certs.is_empty() {
        return Err(anyhow!("no certificate in {}", path.display()));
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> anyhow::Result<PrivateKeyDer<'static>> {
    let file = File::open(path).with_context(|| format!("reading {}", path.display()))?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .with_context(|| format!("parsing private key in {}", path.display()))?
        .ok_or_else(|| anyhow!("no private key in {}", path.display()))
}

/// A rustls client configuration (ring provider) that trusts the CAs in `ca_file` only and, when
/// given, presents a client certificate.
pub fn client_config(
    ca_file: &Path,
    client_auth: Option<(&Path, &Path)>,
) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in load_certs(ca_file)? {
        roots
            .add(cert)
            .with_context(|| format!("adding the CA in {}", ca_file.display()))?;
    }
    client_config_trusting(roots, client_auth)
}

pub fn client_config_trusting(
    roots: rustls::RootCertStore,
    client_auth: Option<(&Path, &Path)>,
) -> anyhow::Result<rustls::ClientConfig> {
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots);
    Ok(match client_auth {
        Some((cert, key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .context("the client certificate and key do not match")?,
        None => builder.with_no_client_auth(),
    })
}
