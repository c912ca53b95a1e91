//! Batched permission checks: the app asks "may I do these things?" once per view, and the BFF
//! answers from SelfSubjectRulesReview / SelfSubjectAccessReview made as the user.

use serde::{Deserialize, Serialize};

/// The most checks one request may carry (a view needs a few dozen at most).
pub const MAX_CHECKS: usize = 200;

/// One action on one kind of resource, in one namespace (`None`: cluster-wide or cluster-scoped).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessCheck {
    /// A Kubernetes verb: get, list, watch, create, update, patch, delete, ...
    pub verb: String,
    /// The API group; "" for the core group.
    #[serde(default)]
    pub group: String,
    /// The plural resource name, e.g. "configmaps".
    pub resource: String,
    /// A subresource such as "scale" or "log".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl AccessCheck {
    pub fn new(verb: &str, group: &str, resource: &str, namespace: Option<&str>) -> Self {
        AccessCheck {
            verb: verb.to_string(),
            group: group.to_string(),
            resource: resource.to_string(),
            subresource: None,
            namespace: namespace.map(str::to_string),
        }
    }

    pub fn with_subresource(mut self, subresource: &str) -> Self {
        self.subresource = Some(subresource.to_string());
        self
    }

    /// "delete configmaps in team-a", "list namespaces", "update deployments/scale in team-a".
    pub fn describe(&self) -> String {
        let resource = match &self.subresource {
            Some(sub) => format!("{}/{sub}", self.resource),
            None => self.resource.clone(),
        };
        let resource = if self.group.is_empty() {
            resource
        } else {
            format!("{resource}.{}", self.group)
        };
        match &self.namespace {
            Some(namespace) => format!("{} {resource} in {namespace}", self.verb),
            None => format!("{} {resource}", self.verb),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessQuery {
    pub checks: Vec<AccessCheck>,
}

/// The answer to one check. `reason` is meant for a person ("You may not delete configmaps in team-a.").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessDecision {
    pub allowed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessAnswer {
    /// One decision per check, in the order of the query.
    pub decisions: Vec<AccessDecision>,
    /// How many requests the BFF made to the apiserver for this answer (0 when all were cached).
    pub upstream_requests: u32,
}

/// The namespaces the namespace switcher offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceChoices {
    pub namespaces: Vec<String>,
    /// True when the user may list namespaces (the list is complete); false when it is made of
    /// the configured namespaces in which the user's roles grant something.
    pub complete: bool,
}
