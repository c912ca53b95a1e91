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
