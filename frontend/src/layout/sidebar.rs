//! The sidebar: the kinds discovery reports, in the current namespace and cluster-wide, each shown
//! only when the user may list it there (one permission request for the whole sidebar).

use leptos::prelude::*;
use leptos_router::components::A;
use shared::AccessCheck;

use crate::{
    api,
    app::Page,
    kube::{ResourceType, discovery},
    layout::namespace::{expect_namespace, label, scope},
    permissions::{Permissions, permissions_for},
};

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
                discovery::resource_types().await
            }
        }),
    };
    provide_context(context);
    context
}

pub fn expect_discovery() -> DiscoveryContext {
    expect_context::<DiscoveryContext>()
}

/// May the user list `ty` in `namespace` (or, for `ALL_NAMESPACES` and cluster-scoped kinds,
/// cluster-wide)?
pub fn list_check(ty: &ResourceType, namespace: &str) -> AccessCheck {
    AccessCheck::new(
        "list",
        &ty.group,
        &ty.resource,
        ty.namespaced.then(|| scope(namespace)).flatten(),
    )
}

#[component]
pub fn Sidebar() -> impl IntoView {
    let discovery = expect_discovery();
    let namespace = expect_namespace();
    let permissions = permissions_for(move || {
        let ns = namespace.current.get();
        match discovery.types.get() {
            Some(Ok(types)) => types.iter().map(|ty| list_check(ty, &ns)).collect(),
            _ => Vec::new(),
        }
    });
    view! {
        <nav class="sidebar" aria-label="Resource kinds">
            <A href=Page::Overview.path()>"Overview"</A>
            <Suspense fallback=|| view! { <p class="loading">"Loading kinds…"</p> }>
                {move || Suspend::new(async move {
                    let types = discovery.types.await;
                    let permissions = permissions.await;
                    match (types, permissions) {
                        (Ok(types), Ok(permissions)) => {
                            let ns = namespace.current.get_untracked();
                            view! {
                                <h2>"In " {label(&ns)}</h2>
                                <KindLinks types=types.clone() permissions=permissions.clone() namespaced=true namespace=ns.clone() />
                                <h2>"Cluster"</h2>
                                <KindLinks types=types permissions=permissions namespaced=false namespace=ns />
                            }.into_any()
                        }
                        (Err(error), _) => view! { <p class="error" role="alert">{error.describe()}</p> }.into_any(),
                        (_, Err(error)) => view! { <p class="error" role="alert">{error.describe()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </nav>
    }
}

#[component]
fn KindLinks(
    types: Vec<ResourceType>,
    permissions: Permissions,
    namespaced: bool,
    namespace: String,
) -> impl IntoView {
    let links: Vec<_> = types
        .into_iter()
        .filter(|ty| ty.namespaced == namespaced && permissions.allows(&list_check(ty, &namespace)))
        .map(|ty| {
            let href = Page::list(&ty, ty.namespaced.then_some(namespace.as_str())).path();
            let group = (!ty.group.is_empty())
                .then(|| view! { <span class="muted">{ty.group.clone()}</span> });
            view! { <li><A href=href>{ty.kind.clone()} " " {group}</A></li> }
        })
        .collect();
    if links.is_empty() {
        view! { <p class="muted">"Nothing you may list."</p> }.into_any()
    } else {
        view! { <ul class="kinds">{links}</ul> }.into_any()
    }
}
