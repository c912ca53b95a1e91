//! The kubeconfig file the console generates, in the shape `kubectl` reads.

use serde::{Deserialize, Serialize};

/// kubectl's field names mix styles (`apiVersion`, `current-context`), so each is named here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kubeconfig {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub clusters: Vec<NamedCluster>,
    pub contexts: Vec<NamedContext>,
    #[serde(rename = "current-context")]
    pub current_context: String,
    pub kind: String,
    pub preferences: Preferences,
    pub users: Vec<NamedUser>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCluster {
    pub cluster: Cluster,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    /// Base64 of the CA's PEM.
    pub certificate_authority_data: String,
    pub server: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedContext {
    pub context: Context,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    pub cluster: String,
    pub user: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedUser {
    pub name: String,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub token: String,
}

/// The user name the generated file gives the token's owner, as the Kyma design names it.
pub const OIDC_USER: &str = "OIDCUser";

impl Kubeconfig {
    /// A kubeconfig with one cluster, one context and one token user, all tied together.
    pub fn for_token(
        cluster_name: &str,
        server: &str,
        certificate_authority_data: &str,
        token: &str,
    ) -> Self {
        Kubeconfig {
            api_version: "v1".into(),
            clusters: vec![NamedCluster {
                cluster: Cluster {
                    certificate_authority_data: certificate_authority_data.into(),
                    server: server.into(),
                },
                name: cluster_name.into(),
            }],
            contexts: vec![NamedContext {
                context: Context {
                    cluster: cluster_name.into(),
                    user: OIDC_USER.into(),
                },
                name: cluster_name.into(),
            }],
            current_context: cluster_name.into(),
            kind: "Config".into(),
            preferences: Preferences {},
            users: vec![NamedUser {
                name: OIDC_USER.into(),
                user: User {
                    token: token.into(),
                },
            }],
        }
    }

    pub fn to_yaml(&self) -> Result<String, serde_yaml::Error> {
        serde_yaml::to_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn has_the_documented_shape() {
        let yaml = Kubeconfig::for_token(
            "kyma.local",
            "https://apiserver.kyma.local:9443",
            "Q0E=",
            "tok",
        )
        .to_yaml()
        .expect("serialize");
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml).expect("parse");
        assert_eq!(value["apiVersion"], "v1");
        assert_eq!(value["kind"], "Config");
        assert_eq!(value["current-context"], "kyma.local");
        assert_eq!(value["clusters"][0]["name"], "kyma.local");
        assert_eq!(
            value["clusters"][0]["cluster"]["server"],
            "https://apiserver.kyma.local:9443"
        );
        assert_eq!(
            value["clusters"][0]["cluster"]["certificate-authority-data"],
            "Q0E="
        );
        assert_eq!(value["contexts"][0]["context"]["cluster"], "kyma.local");
        assert_eq!(value["contexts"][0]["context"]["user"], "OIDCUser");
        assert_eq!(value["users"][0]["name"], "OIDCUser");
        assert_eq!(value["users"][0]["user"]["token"], "tok");
        assert!(
            value["preferences"]
                .as_mapping()
                .is_some_and(|m| m.is_empty())
        );
    }

    #[test]
    fn yaml_significant_text_stays_a_scalar() {
        let hostile = "x\nusers: [{name: evil}]\n# ";
        let yaml = Kubeconfig::for_token(hostile, "https://h:1", "Q0E=", "a: b")
            .to_yaml()
            .expect("serialize");
        let back: Kubeconfig = serde_yaml::from_str(&yaml).expect("parse");
        assert_eq!(back.clusters[0].name, hostile);
        assert_eq!(back.users.len(), 1);
        assert_eq!(back.users[0].user.token, "a: b");
    }
}
