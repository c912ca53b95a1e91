//! RBAC's rule matching, for the rules a SelfSubjectRulesReview lists.

use serde::Deserialize;
use shared::AccessCheck;

/// What every authenticated user may do anyway (`system:basic-user`): rules on these alone do not
/// make a namespace one the user works in.
const EVERYONES_GROUPS: [&str; 2] = ["authorization.k8s.io", "authentication.k8s.io"];
const EVERYONES_RESOURCES: [&str; 3] = [
    "selfsubjectaccessreviews",
    "selfsubjectrulesreviews",
    "selfsubjectreviews",
];

/// One entry of a SelfSubjectRulesReview's `status.resourceRules`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceRule {
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default)]
    pub resource_names: Vec<String>,
}

impl ResourceRule {
    /// RBAC's matching (VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches in
    /// `pkg/apis/rbac/v1/evaluation_helpers.go`) for a request that names no object.
    pub fn grants(&self, check: &AccessCheck) -> bool {
        // A rule limited to named objects grants nothing on the kind as a whole.
        self.resource_names.is_empty()
            && self.verbs.iter().any(|v| v == "*" || *v == check.verb)
            && self
                .api_groups
                .iter()
                .any(|g| g == "*" || *g == check.group)
            && self
                .resources
                .iter()
                .any(|r| resource_matches(r, &check.resource, check.subresource.as_deref()))
    }

    /// Grants anything beyond what every authenticated user gets.
    pub fn grants_something_of_note(&self) -> bool {
        let everyones = !self.api_groups.is_empty()
            && self
                .api_groups
                .iter()
                .all(|g| EVERYONES_GROUPS.contains(&g.as_str()))
            && !self.resources.is_empty()
            && self
                .resources
                .iter()
                .all(|r| EVERYONES_RESOURCES.contains(&r.as_str()));
        !everyones
            && !self.verbs.is_empty()
            && !self.api_groups.is_empty()
            && !self.resources.is_empty()
    }
}

fn resource_matches(rule: &str, resource: &str, subresource: Option<&str>) -> bool {
    if rule == "*" {
        return true;
    }
    match subresource {
        None => rule == resource,
        // "deployments" does not cover "deployments/scale"; "*/scale" covers every kind's scale.
        Some(sub) => rule
            .split_once('/')
            .is_some_and(|(r, s)| s == sub && (r == resource || r == "*")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
        ResourceRule {
            verbs: strings(verbs),
            api_groups: strings(groups),
            resources: strings(resources),
            resource_names: strings(names),
        }
    }

    fn check(verb: &str, group: &str, resource: &str) -> AccessCheck {
        AccessCheck::new(verb, group, resource, Some("team-a"))
    }

    #[test]
    fn exact_rules_grant_exactly() {
        let configmaps = rule(&["get", "list"], &[""], &["configmaps"], &[]);
        assert!(configmaps.grants(&check("list", "", "configmaps")));
        assert!(
            !configmaps.grants(&check("delete", "", "configmaps")),
            "verb"
        );
        assert!(
            !configmaps.grants(&check("list", "", "secrets")),
            "resource"
        );
        assert!(
            !configmaps.grants(&check("list", "apps", "configmaps")),
            "group"
        );
        let deployments = rule(&["get"], &["apps"], &["deployments"], &[]);
        assert!(deployments.grants(&check("get", "apps", "deployments")));
        assert!(
            !deployments.grants(&check("get", "", "deployments")),
            "the core group is a group of its own"
        );
    }

    #[test]
    fn wildcards_match_any_verb_group_or_resource() {
        let admin = rule(&["*"], &["*"], &["*"], &[]);
        assert!(admin.grants(&check("delete", "", "configmaps")));
        assert!(admin.grants(&check("update", "apps", "deployments").with_subresource("scale")));
        let any_verb = rule(&["*"], &[""], &["pods"], &[]);
        assert!(any_verb.grants(&check("deletecollection", "", "pods")));
        assert!(!any_verb.grants(&check("get", "", "services")));
        let any_group = rule(&["get"], &["*"], &["widgets"], &[]);
        assert!(any_group.grants(&check("get", "example.com", "widgets")));
        assert!(!any_group.grants(&check("list", "example.com", "widgets")));
    }

    #[test]
    fn subresources_need_their_own_rule() {
        let deployments = rule(&["update"], &["apps"], &["deployments"], &[]);
        let scale = check("update", "apps", "deployments").with_subresource("scale");
        assert!(
            !deployments.grants(&scale),
            "the kind does not cover its subresources"
        );
        let deployment_scale = rule(&["update"], &["apps"], &["deployments/scale"], &[]);
        assert!(deployment_scale.grants(&scale));
        assert!(!deployment_scale.grants(&check("update", "apps", "deployments")));
        assert!(
            !deployment_scale
                .grants(&check("update", "apps", "replicasets").with_subresource("scale"))
        );
        let any_scale = rule(&["update"], &["apps"], &["*/scale"], &[]);
        assert!(any_scale.grants(&scale));
        assert!(
            any_scale.grants(&check("update", "apps", "replicasets").with_subresource("scale"))
        );
        assert!(
            !any_scale.grants(&check("update", "apps", "deployments").with_subresource("status"))
        );
        assert!(!any_scale.grants(&check("update", "apps", "deployments")));
        let logs = rule(&["get"], &[""], &["pods/log"], &[]);
        assert!(logs.grants(&check("get", "", "pods").with_subresource("log")));
        assert!(!logs.grants(&check("get", "", "pods")));
    }

    #[test]
    fn rules_for_named_objects_grant_nothing_on_the_kind() {
        let one_map = rule(&["get", "update"], &[""], &["configmaps"], &["settings"]);
        assert!(!one_map.grants(&check("get", "", "configmaps")));
        assert!(!one_map.grants(&check("update", "", "configmaps")));
    }

    #[test]
    fn rules_every_user_has_are_not_of_note() {
        assert!(
            !rule(
                &["create"],
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(
            !rule(
                &["create"],
                &["authentication.k8s.io"],
                &["selfsubjectreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(rule(&["get"], &[""], &["configmaps"], &[]).grants_something_of_note());
        assert!(
            rule(&["*"], &["*"], &["*"], &[]).grants_something_of_note(),
            "a wildcard is more than the self reviews"
        );
        assert!(
            rule(
                &["create"],
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews"],
                &[]
            )
            .grants_something_of_note()
        );
        assert!(!rule(&[], &[""], &["configmaps"], &[]).grants_something_of_note());
    }
}
