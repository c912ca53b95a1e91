//! Where the object sits: its owners, and the pods it selects (the kinds registry says where a
//! kind keeps its pod selector).

use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

use super::pods::SelectedPods;
use crate::{
    kinds,
    kube::{ResourceType, discovery::expect_discovery},
    page::Page,
};

/// An object's owners (apiVersion, kind, name) and, for workloads and Services, its pod selector.
pub type Links = (Vec<(String, String, String)>, Option<String>);

pub fn related_of(ty: &ResourceType, object: &Value) -> Links {
    let owners: Vec<(String, String, String)> = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| {
                    let get = |k: &str| {
                        r.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (get("apiVersion"), get("kind"), get("name"))
                })
                .collect()
        })
        .unwrap_or_default();
    let selector = kinds::spec_of(ty).pod_selector_of(object);
    (owners, selector)
}

/// Owners (from ownerReferences) and, for workloads and services, the pods they select.
#[component]
pub fn Related(
    namespace: Option<String>,
    owners: Vec<(String, String, String)>,
    selector: Option<String>,
) -> impl IntoView {
    let discovery = expect_discovery();
    let owner_links = {
        let namespace = namespace.clone();
        move || {
            let types = discovery
                .types
                .get()
                .and_then(Result::ok)
                .unwrap_or_default();
            owners
                .clone()
                .into_iter()
                .map(|(api_version, kind, name)| {
                    let owner_ty = types
                        .iter()
                        .find(|t| t.kind == kind && t.api_version() == api_version);
                    match owner_ty {
                        Some(t) => {
                            let href = Page::detail(
                                t,
                                namespace.as_deref().filter(|_| t.namespaced),
                                &name,
                            )
                            .path();
                            view! { <li>"Owned by " {kind} " " <A href=href>{name}</A></li> }
                                .into_any()
                        }
                        None => view! { <li>"Owned by " {kind} " " {name}</li> }.into_any(),
                    }
                })
                .collect_view()
        }
    };
    view! {
        <section>
            <h2>"Related"</h2>
            <ul class="related">{owner_links}</ul>
            {match (selector, namespace) {
                (Some(selector), Some(ns)) => Some(view! { <SelectedPods namespace=ns selector=selector /> }),
                _ => None,
            }}
        </section>
    }
}
