//! How many objects of each counted kind (`kinds.rs`) the scope holds: one small request each,
//! without reading the lists.

use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;
use shared::AccessCheck;

use crate::{
    kinds,
    kube::{ResourceType, client, discovery::expect_discovery},
    layout::{namespace::expect_namespace, sidebar::list_check},
    page::Page,
    permissions::check,
    scope::NamespaceScope,
};

/// How many objects a list holds, without reading them all: one item and the remaining count.
async fn count(ty: ResourceType, scope: NamespaceScope) -> Option<u64> {
    let page: Value = client::get(
        &format!("{}?limit=1", ty.collection_path(scope.namespace())),
        client::JSON,
    )
    .await
    .ok()?;
    let items = page
        .get("items")
        .and_then(Value::as_array)
        .map_or(0, Vec::len) as u64;
    let remaining = page
        .pointer("/metadata/remainingItemCount")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Some(items + remaining)
}

#[component]
pub fn NamespaceCounts() -> impl IntoView {
    let discovery = expect_discovery();
    let namespace = expect_namespace();
    let counted = Memo::new(move |_| {
        let types = discovery
            .types
            .get()
            .and_then(Result::ok)
            .unwrap_or_default();
        kinds::KINDS
            .iter()
            .filter(|spec| spec.counted)
            .filter_map(|spec| {
                types
                    .iter()
                    .find(|t| t.group == spec.group && t.resource == spec.resource)
                    .cloned()
            })
            .collect::<Vec<_>>()
    });
    // One permission request, then a count only of what the user may list.
    let counts = LocalResource::new(move || {
        let ns = namespace.current.get();
        let types = counted.get();
        async move {
            let checks: Vec<AccessCheck> = types.iter().map(|t| list_check(t, &ns)).collect();
            let permissions = check(checks).await.unwrap_or_default();
            let listable = types
                .into_iter()
                .filter(|ty| permissions.allows(&list_check(ty, &ns)));
            // Side by side: the page waits for the slowest count, not for their sum.
            futures::future::join_all(listable.map(|ty| {
                let ns = ns.clone();
                async move {
                    let n = count(ty.clone(), ns).await;
                    (ty, n)
                }
            }))
            .await
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Counting…"</p> }>
            {move || Suspend::new(async move {
                let ns = namespace.current.get_untracked();
                let counts = counts.await;
                view! {
                    <ul class="counts">
                        {counts.into_iter().map(|(ty, n)| {
                            let href = Page::list(&ty, Some(ns.clone())).path();
                            view! { <li><A href=href>{ty.resource.clone()}</A> ": " {n.map_or_else(|| "?".to_string(), |n| n.to_string())}</li> }
                        }).collect_view()}
                    </ul>
                }
            })}
        </Suspense>
    }
}
