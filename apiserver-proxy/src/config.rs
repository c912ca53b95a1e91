use std::{net::SocketAddr, path::PathBuf};

/// The apiserver-proxy's settings; every flag can also be given as the environment variable
/// named beside it.
#[derive(Debug, Clone, clap::Parser)]
#[command(
    name = "apiserver-proxy",
    about = "JWT-validating, impersonating proxy in front of the kube-apiserver"
)]
pub struct Config {
    /// Address of the TLS listener that kubeconfigs point at.
    #[arg(long, env = "PROXY_LISTEN", default_value = "127.0.0.1:9443")]
    pub listen: SocketAddr,
    /// Address of the plain-HTTP metrics listener (Prometheus text format at /metrics); keep it
    /// off the public network.
    #[arg(long, env = "PROXY_METRICS_LISTEN", default_value = "127.0.0.1:9444")]
    pub metrics_listen: SocketAddr,
    /// Connections served at once per listener; past it, further connections wait to be
    /// accepted (in the kernel's queue) until one ends.
    #[arg(long, env = "PROXY_MAX_CONNECTIONS", default_value_t = server_common::serve::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a request may take from its head to the last byte of its body, however paced;
    /// past it the request is answered 408 and its connection closed.
    #[arg(long, env = "PROXY_REQUEST_BODY_TIMEOUT_SECONDS", default_value_t = 60)]
    pub request_body_timeout_seconds: u64,
    /// Seconds after SIGTERM during which /readyz answers 503 while new connections are still
    /// accepted, so that the endpoints controller and the ingress take the pod out first.
    #[arg(long, env = "PROXY_SHUTDOWN_DRAIN_SECONDS", default_value_t = 5)]
    pub shutdown_drain_seconds: u64,
    /// Seconds after SIGTERM by which the process exits (keep it below the pod's
    /// terminationGracePeriodSeconds): requests in flight finish, watches end after their
    /// current event, upgraded connections are closed; whatever is still open then is cut.
    #[arg(long, env = "PROXY_SHUTDOWN_GRACE_SECONDS", default_value_t = 25)]
    pub shutdown_grace_seconds: u64,
    /// PEM certificate chain of the TLS listener.
    #[arg(long, env = "PROXY_TLS_CERT")]
    pub tls_cert: PathBuf,
    /// PEM private key of the TLS listener.
    #[arg(long, env = "PROXY_TLS_KEY")]
    pub tls_key: PathBuf,
    /// The kube-apiserver's URL, such as https://127.0.0.1:6443.
    #[arg(long, env = "PROXY_UPSTREAM")]
    pub upstream: String,
    /// PEM CA that signed the kube-apiserver's certificate.
    #[arg(long, env = "PROXY_UPSTREAM_CA_FILE")]
    pub upstream_ca_file: PathBuf,
    /// The proxy's own client certificate at the kube-apiserver; its identity needs only
    /// `impersonate` on users and groups. Give this and `--upstream-client-key`, or
    /// `--upstream-token-file`.
    #[arg(long, env = "PROXY_UPSTREAM_CLIENT_CERT")]
    pub upstream_client_cert: Option<PathBuf>,
    /// The key of `--upstream-client-cert`.
    #[arg(long, env = "PROXY_UPSTREAM_CLIENT_KEY")]
    pub upstream_client_key: Option<PathBuf>,
    /// A file holding the proxy's own bearer token at the kube-apiserver instead of a client
    /// certificate: in a cluster, the ServiceAccount's projected token
    /// (/var/run/secrets/kubernetes.io/serviceaccount/token), which the kubelet rotates; it is
    /// read again every minute.
    #[arg(long, env = "PROXY_UPSTREAM_TOKEN_FILE")]
    pub upstream_token_file: Option<PathBuf>,
    /// The OIDC issuer whose ID tokens are accepted.
    #[arg(long, env = "PROXY_OIDC_ISSUER")]
    pub oidc_issuer: String,
    /// Accepted audiences (client ids), comma-separated.
    #[arg(
        long,
        env = "PROXY_OIDC_CLIENT_IDS",
        value_delimiter = ',',
        default_value = "kube-console"
    )]
    pub oidc_client_ids: Vec<String>,
    /// PEM CA bundle to trust for the issuer.
    #[arg(long, env = "PROXY_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
    /// The claim the Kubernetes user name comes from (as the kube-apiserver's --oidc-username-claim).
    #[arg(long, env = "PROXY_OIDC_USERNAME_CLAIM", default_value = "email")]
    pub oidc_username_claim: String,
    /// Prefix put before every user name (as --oidc-username-prefix): when empty and the claim is
    /// not `email`, the issuer URL and `#`, so that a claim users may choose cannot take another
    /// user's name; `-` for no prefix at all.
    #[arg(long, env = "PROXY_OIDC_USERNAME_PREFIX", default_value = "")]
    pub oidc_username_prefix: String,
    /// The claim the groups come from (as --oidc-groups-claim).
    #[arg(long, env = "PROXY_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
    /// Prefix put before every group (as --oidc-groups-prefix).
    #[arg(long, env = "PROXY_OIDC_GROUPS_PREFIX", default_value = "")]
    pub oidc_groups_prefix: String,
}

/// How the proxy proves its own identity to the kube-apiserver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamCredential {
    ClientCertificate { cert: PathBuf, key: PathBuf },
    TokenFile(PathBuf),
}

impl Config {
    /// Exactly one credential: a certificate with its key, or a token file. Anything else is a
    /// start-up error, never a proxy that forwards without an identity of its own.
    pub fn upstream_credential(&self) -> anyhow::Result<UpstreamCredential> {
        match (
            &self.upstream_client_cert,
            &self.upstream_client_key,
            &self.upstream_token_file,
        ) {
            (Some(cert), Some(key), None) => Ok(UpstreamCredential::ClientCertificate {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None, Some(file)) => Ok(UpstreamCredential::TokenFile(file.clone())),
            (None, None, None) => anyhow::bail!(
                "the proxy needs a credential at the kube-apiserver: --upstream-client-cert with \
                 --upstream-client-key, or --upstream-token-file"
            ),
            (_, _, Some(_)) => {
                anyhow::bail!("give --upstream-token-file or a client certificate, not both")
            }
            _ => anyhow::bail!("--upstream-client-cert and --upstream-client-key go together"),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::{Config, UpstreamCredential};

    fn credential(extra: &[&str]) -> anyhow::Result<UpstreamCredential> {
        let mut args = vec![
            "apiserver-proxy",
            "--tls-cert=c",
            "--tls-key=k",
            "--upstream=https://127.0.0.1:6443",
            "--upstream-ca-file=ca",
            "--oidc-issuer=https://127.0.0.1:5556/dex",
        ];
        args.extend(extra);
        Config::try_parse_from(args)?.upstream_credential()
    }

    #[test]
    fn exactly_one_upstream_credential() {
        assert_eq!(
            credential(&["--upstream-token-file=t"]).expect("token"),
            UpstreamCredential::TokenFile("t".into())
        );
        assert!(matches!(
            credential(&["--upstream-client-cert=c", "--upstream-client-key=k"]),
            Ok(UpstreamCredential::ClientCertificate { .. })
        ));
        for refused in [
            &[][..],
            &["--upstream-client-cert=c"],
            &["--upstream-client-key=k"],
            &[
                "--upstream-client-cert=c",
                "--upstream-client-key=k",
                "--upstream-token-file=t",
            ],
            &["--upstream-client-cert=c", "--upstream-token-file=t"],
        ] {
            assert!(credential(refused).is_err(), "{refused:?}");
        }
    }
}
