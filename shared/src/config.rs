use serde::{Deserialize, Serialize};

/// What the BFF tells the app about the deployment it belongs to. Public by design: it is served
/// to anyone who loads the page, so it holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleConfig {
    /// Name of the cluster, used for the kubeconfig's cluster and context names.
    pub cluster_name: String,
    /// The apiserver-proxy's public URL, which a downloaded kubeconfig points at.
    pub apiserver_proxy_url: String,
    /// PEM of the CA that signed the apiserver-proxy's certificate.
    pub apiserver_proxy_ca_pem: String,
    /// The OIDC issuer the console logs users in with.
    pub oidc_issuer: String,
}
