//! The sidebar: the kinds discovery reports, in the current namespace and cluster-wide, each shown
//! only when the user may list it there (one permission request for the whole sidebar).

use leptos::prelude::*;
use leptos_router::components::A;
use shared::AccessCheck;

use crate::{
    kube::{ResourceType, discovery::expect_discovery},
    layout::namespace::expect_namespace,
    page::Page,
    permissions::{Permissions, permissions_for},
    scope::NamespaceScope,
};

/// May the user list `ty` in the scope's namespace (or, for all namespaces and cluster-scoped
/// kinds, cluster-wide)?
pub fn list_check(ty: &ResourceType, scope: &NamespaceScope) -> AccessCheck {
    AccessCheck::new(
        "list",
        &ty.group,
        &ty.resource,
        ty.namespaced.then(|| scope.namespace()).flatten(),
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
                                <h2>"In " {ns.label()}</h2>
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
    namespace: NamespaceScope,
) -> impl IntoView {
    let links: Vec<_> = types
        .into_iter()
        .filter(|ty| ty.namespaced == namespaced && permissions.allows(&list_check(ty, &namespace)))
        .map(|ty| {
            let href = Page::list(&ty, ty.namespaced.then(|| namespace.clone())).path();
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
