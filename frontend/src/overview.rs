//! The overview: the cluster's health at a glance, as pictures the app draws itself (inline SVG,
//! coloured by the theme's CSS variables): pods by phase, workloads short of their replicas,
//! containers restarting, the nodes' condition and the latest Warning events. Each part is live
//! (one watch per list, `feeds`), in the switcher's namespace scope, shown only where the user
//! may list what it counts (otherwise it says so), links to what it counts, and has its numbers
//! as text for screen readers.

mod chart;
mod events;
mod feeds;
mod inventory;
mod nodes;
mod order;
mod pods;
mod workloads;

use leptos::prelude::*;
use serde_json::Value;

use self::feeds::{Access, Watched};
use crate::{
    api,
    kube::{client, discovery::expect_discovery},
    layout::namespace::expect_namespace,
    permissions::permissions_for,
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
        <h2 data-testid="overview-scope">"In " {move || match namespace.current.get() {
            NamespaceScope::One(ns) => format!("namespace {ns}"),
            all => all.label(),
        }}</h2>
        <Health />
        <h2>"Inventory"</h2>
        <inventory::NamespaceCounts />
    }
}

/// The health parts, started again (new watches) when the scope or the permissions change.
#[component]
fn Health() -> impl IntoView {
    let discovery = expect_discovery();
    let namespace = expect_namespace();
    // One permission request for every part.
    let permissions = permissions_for(move || {
        let scope = namespace.current.get();
        match discovery.types.get() {
            Some(Ok(types)) => feeds::checks(&types, &scope),
            _ => Vec::new(),
        }
    });
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let types = discovery.types.await;
                let permissions = permissions.await;
                match (types, permissions) {
                    (Ok(types), Ok(permissions)) => {
                        let access = Access {
                            types,
                            permissions,
                            scope: namespace.current.get_untracked(),
                        };
                        parts(&access)
                    }
                    (Err(error), _) | (_, Err(error)) => view! {
                        <p class="error" role="alert">{error.describe()}</p>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn parts(access: &Access) -> AnyView {
    let pods = access.feed(Watched::Pods);
    let workloads = [
        ("Deployments", access.feed(Watched::Deployments)),
        ("StatefulSets", access.feed(Watched::StatefulSets)),
        ("DaemonSets", access.feed(Watched::DaemonSets)),
    ];
    let nodes = access.feed(Watched::Nodes);
    let events = access.feed(Watched::Events);
    view! {
        <div class="overview" data-testid="overview-health">
            {pods::pods_part(&pods)}
            {workloads::workloads_part(workloads)}
            {pods::restarts_part(&pods)}
            {nodes::nodes_part(&nodes)}
            {events::events_part(&events, access)}
        </div>
    }
    .into_any()
}
