use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;
use shared::AccessCheck;

use crate::{
    api, kinds,
    kube::{ResourceType, client, discovery::expect_discovery},
    layout::{namespace::expect_namespace, sidebar::list_check},
    page::Page,
    permissions::check,
    scope::NamespaceScope,
};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let config = LocalResource::new(api::console_config);
    let version = LocalResource::new(|| client::get::<Value>("/version", client::JSON));
    let namespace = expect_namespace();
    view! {
        <h1>"Cluster overview"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match config.await {
                    Ok(config) => view! {
                        <p data-testid="cluster-name">"Cluster " <strong>{config.cluster_name}</strong></p>
                        <p>"API endpoint for kubectl: " <code>{config.apiserver_proxy_url}</code></p>
                    }.into_any(),
                    Err(error) => view! {
                        <p class="error" role="alert">{error.describe()}</p>
                    }.into_any(),
                }
            })}
            {move || Suspend::new(async move {
                match version.await {
                    Ok(v) => view! { <p>"Kubernetes " <span data-testid="kube-version">{v.get("gitVersion").and_then(Value::as_str).unwrap_or_default().to_string()}</span></p> }.into_any(),
                    Err(error) => view! { <p class="error" role="alert">{error.describe()}</p> }.into_any(),
                }
            })}
        </Suspense>
        <h2>"In " {move || match namespace.current.get() {
            NamespaceScope::One(ns) => format!("namespace {ns}"),
            all => all.label(),
        }}</h2>
        <NamespaceCounts />
    }
}

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
fn NamespaceCounts() -> impl IntoView {
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
