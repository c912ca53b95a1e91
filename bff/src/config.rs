use std::{net::SocketAddr, path::PathBuf};

/// The BFF's settings. Every flag can also be given as the environment variable named beside it.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "bff", about = "Backend-for-frontend of the Kubernetes console")]
pub struct Config {
    /// Address of the HTTPS listener.
    #[arg(long, env = "BFF_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Address of a plain-HTTP listener that only redirects to `--public-url`.
    #[arg(long, env = "BFF_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// Address of the plain-HTTP metrics listener (Prometheus text format at /metrics); keep it
    /// off the public network.
    #[arg(long, env = "BFF_METRICS_LISTEN", default_value = "127.0.0.1:8444")]
    pub metrics_listen: SocketAddr,
    /// Connections served at once per listener; past it, further connections wait to be
    /// accepted (in the kernel's queue) until one ends.
    #[arg(long, env = "BFF_MAX_CONNECTIONS", default_value_t = server_common::serve::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Seconds a request may take from its head to the last byte of its body, however paced;
    /// past it the request is answered 408 and its connection closed.
    #[arg(long, env = "BFF_REQUEST_BODY_TIMEOUT_SECONDS", default_value_t = 60)]
    pub request_body_timeout_seconds: u64,
    /// Seconds after SIGTERM during which /readyz answers 503 while new connections are still
    /// accepted, so that the endpoints controller and the ingress take the pod out first.
    #[arg(long, env = "BFF_SHUTDOWN_DRAIN_SECONDS", default_value_t = 5)]
    pub shutdown_drain_seconds: u64,
    /// Seconds after SIGTERM by which the process exits (keep it below the pod's
    /// terminationGracePeriodSeconds): requests in flight finish, watches end after their
    /// current event, upgraded connections are closed; whatever is still open then is cut.
    #[arg(long, env = "BFF_SHUTDOWN_GRACE_SECONDS", default_value_t = 25)]
    pub shutdown_grace_seconds: u64,
    /// The console's public base URL, such as https://127.0.0.1:8443 (no trailing slash).
    #[arg(long, env = "BFF_PUBLIC_URL")]
    pub public_url: String,
    /// PEM certificate chain of the HTTPS listener.
    #[arg(long, env = "BFF_TLS_CERT")]
    pub tls_cert: PathBuf,
    /// PEM private key of the HTTPS listener.
    #[arg(long, env = "BFF_TLS_KEY")]
    pub tls_key: PathBuf,
    /// Folder with the built app (trunk's dist).
    #[arg(long, env = "BFF_DIST_DIR", default_value = "dist")]
    pub dist_dir: PathBuf,
    /// The OIDC issuer URL (Dex).
    #[arg(long, env = "BFF_OIDC_ISSUER")]
    pub oidc_issuer: String,
    /// The OAuth2 client id the console is registered with at the issuer.
    #[arg(long, env = "BFF_OIDC_CLIENT_ID", default_value = "kube-console")]
    pub oidc_client_id: String,
    /// The client secret registered at the issuer (environment only, to keep it out of `ps`).
    #[arg(long, env = "BFF_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
    /// 64 hex digits: the key that seals the login and refresh cookies. Give every replica the
    /// same key; without one, a random key is made and logins in flight end with a restart.
    #[arg(long, env = "BFF_COOKIE_KEY", hide_env_values = true)]
    pub cookie_key: Option<String>,
    /// PEM CA bundle to trust for the issuer; the system has no roots here, so this is required for https issuers.
    #[arg(long, env = "BFF_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
    /// Name of the cluster, used in generated kubeconfigs.
    #[arg(long, env = "BFF_CLUSTER_NAME", default_value = "kyma.local")]
    pub cluster_name: String,
    /// The apiserver-proxy's public URL, which generated kubeconfigs point at.
    #[arg(long, env = "BFF_APISERVER_PROXY_URL")]
    pub apiserver_proxy_url: String,
    /// PEM of the CA that signed the apiserver-proxy's certificate, put into generated kubeconfigs.
    #[arg(long, env = "BFF_APISERVER_PROXY_CA_FILE")]
    pub apiserver_proxy_ca_file: PathBuf,
    /// Namespaces to offer, comma-separated, to users who may not list namespaces: each is
    /// offered to a user whose roles grant anything in it beyond what every user may do. For a
    /// platform team that knows its tenants' namespaces; without it, such users get no choices.
    #[arg(long, env = "BFF_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Config;

    #[test]
    fn namespaces_are_a_comma_separated_list() {
        let required = [
            "bff",
            "--public-url",
            "https://console.example",
            "--tls-cert",
            "c",
            "--tls-key",
            "k",
            "--oidc-issuer",
            "https://dex.example",
            "--apiserver-proxy-url",
            "https://kube.example",
            "--apiserver-proxy-ca-file",
            "ca",
        ];
        let config = Config::try_parse_from(
            required
                .iter()
                .copied()
                .chain(["--namespaces", "team-a,team-b"]),
        )
        .expect("parse");
        assert_eq!(config.namespaces, ["team-a", "team-b"]);
    }
}
