use std::{net::SocketAddr, path::PathBuf};

/// The BFF's settings. Every flag can also be given as the environment variable named beside it.
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "bff", about = "Backend-for-frontend of the Kubernetes console")]
pub struct Config {
    /// Address of the HTTPS listener (plain HTTP with `--plain-http`).
    #[arg(long, env = "BFF_LISTEN", default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Serve plain HTTP on `--listen`, for a BFF behind something that ends TLS in front of it
    /// (an Ingress): then no certificate is given, and `--public-url` must still be https, where
    /// the browser meets the console (its cookies are `Secure`).
    #[arg(long, env = "BFF_PLAIN_HTTP")]
    pub plain_http: bool,
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
    /// PEM certificate chain of the HTTPS listener (required unless `--plain-http`).
    #[arg(long, env = "BFF_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the HTTPS listener (required unless `--plain-http`).
    #[arg(long, env = "BFF_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
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
    /// Where the BFF itself reaches the apiserver-proxy, when not at `--apiserver-proxy-url`: in a
    /// cluster, its Service (`https://<service>.<namespace>.svc`), which its certificate must
    /// name too. Kubeconfigs keep the public URL.
    #[arg(long, env = "BFF_APISERVER_PROXY_INTERNAL_URL")]
    pub apiserver_proxy_internal_url: Option<String>,
    /// PEM of the CA that signed the apiserver-proxy's certificate, put into generated kubeconfigs.
    #[arg(long, env = "BFF_APISERVER_PROXY_CA_FILE")]
    pub apiserver_proxy_ca_file: PathBuf,
    /// Namespaces to offer, comma-separated, to users who may not list namespaces: each is
    /// offered to a user whose roles grant anything in it beyond what every user may do. For a
    /// platform team that knows its tenants' namespaces; without it, such users get no choices.
    #[arg(long, env = "BFF_NAMESPACES", value_delimiter = ',')]
    pub namespaces: Vec<String>,
}

/// How the main listener is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listener {
    Https {
        cert: PathBuf,
        key: PathBuf,
    },
    /// TLS ends in front of the BFF.
    PlainHttp,
}

impl Config {
    /// HTTPS with a certificate and key, or plain HTTP when asked for by name, behind an https
    /// public URL; anything in between is a start-up error, never a silent plain listener.
    pub fn listener(&self) -> anyhow::Result<Listener> {
        match (self.plain_http, &self.tls_cert, &self.tls_key) {
            (false, Some(cert), Some(key)) => Ok(Listener::Https {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (false, _, _) => anyhow::bail!(
                "--tls-cert and --tls-key are required (or --plain-http behind a TLS-ending proxy)"
            ),
            (true, None, None) => {
                anyhow::ensure!(
                    self.public_url.starts_with("https://"),
                    "--plain-http needs an https --public-url: the browser must reach the console \
                     over TLS (its cookies are Secure)"
                );
                anyhow::ensure!(
                    self.http_listen.is_none(),
                    "--http-listen redirects to HTTPS; with --plain-http that is the front's job"
                );
                Ok(Listener::PlainHttp)
            }
            (true, _, _) => anyhow::bail!("--plain-http takes no --tls-cert or --tls-key"),
        }
    }
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

    fn listener(args: &[&str]) -> anyhow::Result<super::Listener> {
        let mut all = vec![
            "bff",
            "--oidc-issuer=https://dex.example",
            "--apiserver-proxy-url=https://kube.example",
            "--apiserver-proxy-ca-file=ca",
        ];
        all.extend(args);
        Config::try_parse_from(all)?.listener()
    }

    #[test]
    fn plain_http_only_when_asked_for_and_behind_https() {
        let https = "--public-url=https://console.example";
        assert!(matches!(
            listener(&[https, "--tls-cert=c", "--tls-key=k"]),
            Ok(super::Listener::Https { .. })
        ));
        assert_eq!(
            listener(&[https, "--plain-http"]).expect("plain"),
            super::Listener::PlainHttp
        );
        for refused in [
            &[https][..],
            &[https, "--tls-cert=c"],
            &[https, "--plain-http", "--tls-cert=c", "--tls-key=k"],
            &["--public-url=http://console.example", "--plain-http"],
            &[https, "--plain-http", "--http-listen=127.0.0.1:8080"],
        ] {
            assert!(listener(refused).is_err(), "{refused:?}");
        }
    }
}
