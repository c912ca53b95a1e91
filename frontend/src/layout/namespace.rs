//! The current namespace, shared by the sidebar, the switcher and the pages, and remembered
//! across reloads. The choices come from the BFF: every namespace when the user may list them,
//! otherwise the ones the user's roles grant something in.

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use shared::NamespaceChoices;

use crate::{api, page::Page, scope::NamespaceScope};

const NAMESPACE_KEY: &str = "kc.namespace";

#[derive(Clone, Copy)]
pub struct NamespaceContext {
    pub current: RwSignal<NamespaceScope>,
    pub choices: LocalResource<Result<NamespaceChoices, api::Error>>,
}

pub fn provide_namespace_context(active: Memo<bool>) -> NamespaceContext {
    let stored = LocalStorage::get::<String>(NAMESPACE_KEY).unwrap_or_else(|_| "default".into());
    let context = NamespaceContext {
        current: RwSignal::new(NamespaceScope::from_value(&stored)),
        choices: LocalResource::new(move || {
            let active = active.get();
            async move {
                if !active {
                    return Err(api::Error::not_logged_in());
                }
                api::namespaces().await
            }
        }),
    };
    Effect::new(move |_| {
        let _ = LocalStorage::set(NAMESPACE_KEY, context.current.read().value());
    });
    // A remembered namespace the user has no business in: start in the first one they have.
    Effect::new(move |_| {
        if let Some(Ok(choices)) = context.choices.get() {
            let current = context.current.get_untracked();
            if !choices.complete
                && !choices
                    .namespaces
                    .iter()
                    .any(|ns| Some(ns.as_str()) == current.namespace())
                && let Some(first) = choices.namespaces.first()
            {
                context.current.set(NamespaceScope::One(first.clone()));
            }
        }
    });
    provide_context(context);
    context
}

pub fn expect_namespace() -> NamespaceContext {
    expect_context::<NamespaceContext>()
}

/// The same page in another namespace (or all of them): see `Page::in_namespace`.
fn route_in(path: &str, scope: &NamespaceScope) -> Option<String> {
    Some(Page::parse(path)?.in_namespace(scope)?.path())
}

#[component]
pub fn NamespaceSwitcher() -> impl IntoView {
    let context = expect_namespace();
    let location = use_location();
    let navigate = use_navigate();
    let change = move |event: leptos::ev::Event| {
        let scope = NamespaceScope::from_value(&event_target_value(&event));
        context.current.set(scope.clone());
        if let Some(route) = route_in(&location.pathname.get_untracked(), &scope) {
            navigate(&route, Default::default());
        }
    };
    view! {
        <label class="namespace-switcher">
            <span>"Namespace"</span>
            <Suspense fallback=|| view! { <select disabled=true><option>"…"</option></select> }>
                {move || { let change = change.clone(); Suspend::new(async move {
                    match context.choices.await {
                        Ok(choices) => {
                            let mut scopes: Vec<NamespaceScope> =
                                choices.namespaces.iter().cloned().map(NamespaceScope::One).collect();
                            let current = context.current.get();
                            // Who may list namespaces may look across them; the sidebar still
                            // offers only the kinds they may list cluster-wide.
                            if choices.complete {
                                scopes.insert(0, NamespaceScope::All);
                            }
                            if !scopes.contains(&current) {
                                scopes.insert(0, current.clone());
                            }
                            view! {
                                <select data-testid="namespace-switcher" on:change=change
                                    prop:value=move || context.current.read().value().to_string()>
                                    {scopes.into_iter().map(|scope| {
                                        let selected = scope == current;
                                        let text = match &scope {
                                            NamespaceScope::All => "All namespaces".to_string(),
                                            NamespaceScope::One(name) => name.clone(),
                                        };
                                        view! { <option value=scope.value().to_string() selected=selected>{text}</option> }
                                    }).collect_view()}
                                </select>
                            }.into_any()
                        }
                        Err(error) => view! {
                            <span class="error" role="alert">{error.describe()}</span>
                        }.into_any(),
                    }
                })}}
            </Suspense>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use crate::scope::NamespaceScope;

    #[test]
    fn switching_keeps_the_kind_and_leaves_the_object() {
        let team = |name: &str| NamespaceScope::One(name.into());
        assert_eq!(
            super::route_in("/ns/team-a/core/v1/configmaps/app", &team("team-b")).as_deref(),
            Some("/ns/team-b/core/v1/configmaps")
        );
        assert_eq!(super::route_in("/", &team("team-b")), None);
        assert_eq!(
            super::route_in("/ns/team-a/apps/v1/deployments/web", &NamespaceScope::All).as_deref(),
            Some("/all/apps/v1/deployments")
        );
        assert_eq!(
            super::route_in("/all/core/v1/pods", &team("team-a")).as_deref(),
            Some("/ns/team-a/core/v1/pods")
        );
        assert_eq!(
            super::route_in("/cluster/core/v1/namespaces", &team("team-b")),
            None
        );
    }
}
