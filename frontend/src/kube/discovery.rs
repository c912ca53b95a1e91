//! The resource kinds the apiserver serves, from aggregated discovery (two requests: `/api` and
//! `/apis`), in the order the sidebar shows them: core and apps first, then the rest by group.

use serde::Deserialize;

use super::{ResourceType, client};
use crate::api;

const AGGREGATED: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

#[derive(Deserialize)]
struct GroupList {
    #[serde(default)]
    items: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    versions: Vec<Version>,
}

#[derive(Deserialize, Default)]
struct Meta {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct Version {
    version: String,
    #[serde(default)]
    resources: Vec<Resource>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Resource {
    resource: String,
    #[serde(default)]
    response_kind: Option<Kind>,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    verbs: Vec<String>,
    #[serde(default)]
    subresources: Vec<Subresource>,
}

#[derive(Deserialize)]
struct Kind {
    #[serde(default)]
    kind: String,
}

#[derive(Deserialize)]
struct Subresource {
    subresource: String,
}

pub async fn resource_types() -> Result<Vec<ResourceType>, api::Error> {
    let core: GroupList = client::get("/api", AGGREGATED).await?;
    let named: GroupList = client::get("/apis", AGGREGATED).await?;
    Ok(sorted(core.items.into_iter().chain(named.items)))
}

fn sorted(groups: impl Iterator<Item = Group>) -> Vec<ResourceType> {
    let mut types: Vec<ResourceType> = groups
        .filter_map(|group| {
            // Discovery lists the preferred version first.
            let version = group.versions.into_iter().next()?;
            let name = group.metadata.name;
            Some(version.resources.into_iter().filter_map(move |r| {
                let kind = r.response_kind?.kind;
                (r.verbs.iter().any(|v| v == "list") && !kind.is_empty()).then(|| ResourceType {
                    group: name.clone(),
                    version: version.version.clone(),
                    resource: r.resource,
                    kind,
                    namespaced: r.scope == "Namespaced",
                    verbs: r.verbs,
                    subresources: r.subresources.into_iter().map(|s| s.subresource).collect(),
                })
            }))
        })
        .flatten()
        .collect();
    types.sort_by(|a, b| {
        (rank(&a.group), &a.group, &a.kind).cmp(&(rank(&b.group), &b.group, &b.kind))
    });
    types
}

fn rank(group: &str) -> u8 {
    match group {
        "" => 0,
        "apps" => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn core_and_apps_come_first_and_unlistable_kinds_are_left_out() {
        let json = r#"{"items":[
          {"metadata":{"name":"batch"},"versions":[{"version":"v1","resources":[
            {"resource":"jobs","responseKind":{"kind":"Job"},"scope":"Namespaced","verbs":["list"]}]}]},
          {"metadata":{"name":"apps"},"versions":[{"version":"v1","resources":[
            {"resource":"deployments","responseKind":{"kind":"Deployment"},"scope":"Namespaced","verbs":["list","get"],
             "subresources":[{"subresource":"scale"}]}]}]},
          {"metadata":{"name":""},"versions":[{"version":"v1","resources":[
            {"resource":"namespaces","responseKind":{"kind":"Namespace"},"scope":"Cluster","verbs":["list"]},
            {"resource":"bindings","responseKind":{"kind":"Binding"},"scope":"Namespaced","verbs":["create"]}]}]}
        ]}"#;
        let list: super::GroupList = serde_json::from_str(json).expect("discovery");
        let types = super::sorted(list.items.into_iter());
        let kinds: Vec<_> = types.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds, ["Namespace", "Deployment", "Job"]);
        assert!(!types[0].namespaced);
        assert!(types[1].scalable());
    }
}
