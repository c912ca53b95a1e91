//! The resource kinds the apiserver serves, from aggregated discovery (two requests: `/api` and
//! `/apis`), in the order the sidebar shows them: core and apps first, then the rest by group.
//! Discovered once per session for the whole app (`provide_discovery_context` at the app's root);
//! the sidebar, the pages and the overview read it with `expect_discovery`.

use leptos::prelude::*;
use serde::Deserialize;

use super::{ResourceType, client};
use crate::api;

#[derive(Clone, Copy)]
pub struct DiscoveryContext {
    pub types: LocalResource<Result<Vec<ResourceType>, api::Error>>,
}

pub fn provide_discovery_context(active: Memo<bool>) -> DiscoveryContext {
    let context = DiscoveryContext {
        types: LocalResource::new(move || {
            let active = active.get();
            async move {
                // Nothing to discover before the session is confirmed (and no 401 to react to).
                if !active {
                    return Ok(Vec::new());
                }
                resource_types().await
            }
        }),
    };
    provide_context(context);
    context
}

pub fn expect_discovery() -> DiscoveryContext {
    expect_context::<DiscoveryContext>()
}

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
