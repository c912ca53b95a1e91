use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// One kind of resource the apiserver serves, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// "" for the core group.
    pub group: String,
    pub version: String,
    /// The plural name used in paths, e.g. "configmaps".
    pub resource: String,
    pub kind: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
    pub subresources: Vec<String>,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    fn base(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// The collection's API path, in a namespace for namespaced kinds.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        match (self.namespaced, namespace) {
            (true, Some(namespace)) => format!(
                "{}/namespaces/{}/{}",
                self.base(),
                encode(namespace),
                self.resource
            ),
            _ => format!("{}/{}", self.base(), self.resource),
        }
    }

    pub fn object_path(&self, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", self.collection_path(namespace), encode(name))
    }

    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether the console offers Scale: the kinds registry says so and discovery lists the
    /// scale subresource.
    pub fn scalable(&self) -> bool {
        self.subresources.iter().any(|s| s == "scale") && crate::kinds::spec_of(self).scalable
    }

    /// The route segment that names the group: "core" for the core group.
    pub fn group_segment(&self) -> &str {
        if self.group.is_empty() {
            "core"
        } else {
            &self.group
        }
    }
}

/// What a path segment keeps as it is: RFC 3986's unreserved characters.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes a path segment (names are validated by the apiserver, but never trusted here).
pub fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn configmaps() -> ResourceType {
        ResourceType {
            group: String::new(),
            version: "v1".into(),
            resource: "configmaps".into(),
            kind: "ConfigMap".into(),
            namespaced: true,
            verbs: vec!["list".into()],
            subresources: vec![],
        }
    }

    #[test]
    fn paths_for_core_and_named_groups() {
        let cm = configmaps();
        assert_eq!(
            cm.collection_path(Some("team-a")),
            "/api/v1/namespaces/team-a/configmaps"
        );
        assert_eq!(
            cm.object_path(Some("team-a"), "app-config"),
            "/api/v1/namespaces/team-a/configmaps/app-config"
        );
        let deployments = ResourceType {
            group: "apps".into(),
            resource: "deployments".into(),
            kind: "Deployment".into(),
            ..cm
        };
        assert_eq!(
            deployments.collection_path(None),
            "/apis/apps/v1/deployments"
        );
        assert_eq!(deployments.api_version(), "apps/v1");
    }

    #[test]
    fn hostile_names_cannot_leave_their_segment() {
        assert_eq!(encode("../../healthz"), "..%2F..%2Fhealthz");
        assert_eq!(encode("a?b#c"), "a%3Fb%23c");
    }
}
