//! The local CA and the certificates of the stack. The CA is made once per state folder and kept,
//! so that a browser told to trust it keeps trusting it; leaf certificates are made at each start.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use sha2::{Digest, Sha256};

const CA_NAME: &str = "kube-console local CA";

pub struct Ca {
    pub cert_file: PathBuf,
    pub cert_pem: String,
    key: KeyPair,
}

/// A certificate and key written to disk.
#[derive(Debug, Clone)]
pub struct Leaf {
    /// base64 of the SHA-256 of the SubjectPublicKeyInfo, as Chromium's
    /// `--ignore-certificate-errors-spki-list` names a key it is told to trust.
    pub spki_sha256: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
}

fn ca_params() -> anyhow::Result<CertificateParams> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "kube-console");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(params)
}

impl Ca {
    /// Loads the CA from `dir`, or makes and stores one there.
    pub fn load_or_create(dir: &Path) -> anyhow::Result<Ca> {
        std::fs::create_dir_all(dir)?;
        let cert_file = dir.join("ca.crt");
        let key_file = dir.join("ca.key");
        if cert_file.is_file() && key_file.is_file() {
            let key_pem = std::fs::read_to_string(&key_file)?;
            let key = KeyPair::from_pem(&key_pem).context("parsing the CA key")?;
            let cert_pem = std::fs::read_to_string(&cert_file)?;
            return Ok(Ca {
                cert_file,
                cert_pem,
                key,
            });
        }
        let key = KeyPair::generate()?;
        let cert = ca_params()?.self_signed(&key)?;
        let cert_pem = cert.pem();
        write_private(&key_file, &key.serialize_pem())?;
        std::fs::write(&cert_file, &cert_pem)?;
        Ok(Ca {
            cert_file,
            cert_pem,
            key,
        })
    }

    /// A server certificate for 127.0.0.1 and localhost (and `extra_names`).
    pub fn server_cert(
        &self,
        dir: &Path,
        name: &str,
        extra_names: &[&str],
    ) -> anyhow::Result<Leaf> {
        let mut names = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        names.extend(extra_names.iter().map(|n| n.to_string()));
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(dir, name, params)
    }

    /// A client certificate the kube-apiserver reads as user `user` in `groups`.
    pub fn client_cert(
        &self,
        dir: &Path,
        file_name: &str,
        user: &str,
        groups: &[&str],
    ) -> anyhow::Result<Leaf> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, user);
        for group in groups {
            name.push(DnType::OrganizationName, *group);
        }
        params.distinguished_name = name;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.sign(dir, file_name, params)
    }

    fn sign(&self, dir: &Path, file_name: &str, params: CertificateParams) -> anyhow::Result<Leaf> {
        std::fs::create_dir_all(dir)?;
        let key = KeyPair::generate()?;
        // The issuer is rebuilt from the same name and key as the stored CA certificate, which is
        // all a verifier matches a leaf against.
        let issuer = Issuer::new(ca_params()?, &self.key);
        let cert = params.signed_by(&key, &issuer)?;
        let leaf = Leaf {
            spki_sha256: base64::engine::general_purpose::STANDARD.encode(Sha256::digest(
                rcgen::PublicKeyData::subject_public_key_info(&key),
            )),
            cert_file: dir.join(format!("{file_name}.crt")),
            key_file: dir.join(format!("{file_name}.key")),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        };
        std::fs::write(&leaf.cert_file, &leaf.cert_pem)?;
        write_private(&leaf.key_file, &leaf.key_pem)?;
        Ok(leaf)
    }
}

/// The files of the key pair that signs service-account tokens.
pub struct ServiceAccountKeys {
    pub private: PathBuf,
    pub public: PathBuf,
}

/// A key pair for signing service-account tokens, written to `dir`.
pub fn service_account_keys(dir: &Path) -> anyhow::Result<ServiceAccountKeys> {
    let key = KeyPair::generate()?;
    let keys = ServiceAccountKeys {
        private: dir.join("service-account.key"),
        public: dir.join("service-account.pub"),
    };
    write_private(&keys.private, &key.serialize_pem())?;
    std::fs::write(&keys.public, key.public_key_pem())?;
    Ok(keys)
}

/// Writes a secret (a key, a token) readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}
