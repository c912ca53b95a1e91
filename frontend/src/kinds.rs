//! The one registry of what differs between kinds: which sections an object's page shows,
//! which pods it selects, whether it scales, whether the overview counts it, and the manifest
//! "Create" starts from. Kinds not listed get `DEFAULT`.
//!
//! A new kind-specific view is one file in `resources/detail/` (a section, drawn by
//! `resources/detail/sections.rs`) plus its `Section` in the entries of the kinds that show it.

use serde_json::Value;

use crate::kube::ResourceType;

/// A part of an object's page drawn from the object itself, in the order a kind lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Metadata,
    /// A Secret's values, hidden until revealed; the other sections show them masked.
    SecretData,
    /// `spec`, or for kinds without one their `data`.
    Spec,
    Status,
    Yaml,
}

#[derive(Debug, PartialEq, Eq)]
pub struct KindSpec {
    /// The API group ("" for core) and resource this entry is for.
    pub group: &'static str,
    pub resource: &'static str,
    pub sections: &'static [Section],
    /// Where an object holds the labels of the pods it selects (None: it selects none).
    pub pod_selector: Option<&'static str>,
    /// Has a Logs page: a pod's own, or (for workloads) those of the pods it selects.
    pub logs: bool,
    /// Offers Scale (when discovery also lists the scale subresource).
    pub scalable: bool,
    /// Counted on the overview, in the order of `KINDS`.
    pub counted: bool,
    /// What follows `metadata` in the manifest "Create" starts from.
    pub template: &'static str,
}

const SECTIONS: &[Section] = &[
    Section::Metadata,
    Section::Spec,
    Section::Status,
    Section::Yaml,
];

/// Workloads select their pods with a label selector's matchLabels.
const MATCH_LABELS: Option<&str> = Some("/spec/selector/matchLabels");

pub const DEFAULT: KindSpec = KindSpec {
    group: "",
    resource: "",
    sections: SECTIONS,
    pod_selector: MATCH_LABELS,
    logs: false,
    scalable: false,
    counted: false,
    template: "spec: {}\n",
};

pub const KINDS: &[KindSpec] = &[
    KindSpec {
        resource: "pods",
        pod_selector: None,
        logs: true,
        counted: true,
        ..DEFAULT
    },
    KindSpec {
        group: "apps",
        resource: "deployments",
        logs: true,
        scalable: true,
        counted: true,
        ..DEFAULT
    },
    KindSpec {
        group: "apps",
        resource: "statefulsets",
        logs: true,
        scalable: true,
        counted: true,
        ..DEFAULT
    },
    KindSpec {
        resource: "services",
        // A plain label map, not a label selector.
        pod_selector: Some("/spec/selector"),
        counted: true,
        ..DEFAULT
    },
    KindSpec {
        resource: "configmaps",
        counted: true,
        template: "data:\n  key: value\n",
        ..DEFAULT
    },
    KindSpec {
        resource: "secrets",
        sections: &[
            Section::Metadata,
            Section::SecretData,
            Section::Spec,
            Section::Status,
            Section::Yaml,
        ],
        template: "type: Opaque\nstringData:\n  key: value\n",
        ..DEFAULT
    },
    KindSpec {
        group: "apps",
        resource: "replicasets",
        logs: true,
        scalable: true,
        ..DEFAULT
    },
    KindSpec {
        group: "apps",
        resource: "daemonsets",
        logs: true,
        ..DEFAULT
    },
    KindSpec {
        group: "batch",
        resource: "jobs",
        logs: true,
        ..DEFAULT
    },
];

/// What the views of `ty` have.
pub fn spec_of(ty: &ResourceType) -> &'static KindSpec {
    KINDS
        .iter()
        .find(|spec| spec.group == ty.group && spec.resource == ty.resource)
        .unwrap_or(&DEFAULT)
}

impl KindSpec {
    /// Whether the values stay hidden until the user reveals them.
    pub fn hides_values(&self) -> bool {
        self.sections.contains(&Section::SecretData)
    }

    /// The label selector (`k=v,…`) of the pods `object` selects, if it selects any.
    pub fn pod_selector_of(&self, object: &Value) -> Option<String> {
        self.pod_selector
            .and_then(|pointer| object.pointer(pointer))
            .and_then(Value::as_object)
            .filter(|labels| !labels.is_empty())
            .map(|labels| {
                labels
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
                    .join(",")
            })
    }
}

/// A starting manifest for "Create".
pub fn template(ty: &ResourceType, namespace: Option<&str>) -> String {
    let namespace_line = namespace
        .map(|ns| format!("  namespace: {ns}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: {}\nkind: {}\nmetadata:\n  name: example\n{namespace_line}{}",
        ty.api_version(),
        ty.kind,
        spec_of(ty).template
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(resource: &str, kind: &str) -> ResourceType {
        ResourceType {
            group: String::new(),
            version: "v1".into(),
            resource: resource.into(),
            kind: kind.into(),
            namespaced: true,
            verbs: vec!["list".into()],
            subresources: vec![],
        }
    }

    #[test]
    fn secrets_hide_their_values_and_other_kinds_do_not() {
        assert!(spec_of(&core("secrets", "Secret")).hides_values());
        assert!(!spec_of(&core("configmaps", "ConfigMap")).hides_values());
        assert_eq!(spec_of(&core("widgets", "Widget")), &DEFAULT);
    }

    #[test]
    fn templates_name_the_kind_and_namespace() {
        assert_eq!(
            template(&core("secrets", "Secret"), Some("team-a")),
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: example\n  namespace: team-a\ntype: Opaque\nstringData:\n  key: value\n"
        );
        assert!(template(&core("widgets", "Widget"), None).ends_with("name: example\nspec: {}\n"));
    }

    #[test]
    fn each_kind_is_registered_once() {
        for (i, a) in KINDS.iter().enumerate() {
            assert!(
                KINDS[i + 1..]
                    .iter()
                    .all(|b| (a.group, a.resource) != (b.group, b.resource)),
                "{}/{}",
                a.group,
                a.resource
            );
        }
    }
}
