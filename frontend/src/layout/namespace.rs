//! The current namespace, shared by the sidebar, the switcher and the pages, and remembered
//! across reloads. The choices come from the BFF: every namespace when the user may list them,
//! otherwise the ones the user's roles grant something in.

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use shared::NamespaceChoices;

use crate::api;

const NAMESPACE_KEY: &str = "kc.namespace";

/// The switcher's value for "every namespace": no namespace name can contain `*`.
pub const ALL_NAMESPACES: &str = "*";

/// The namespace a request is scoped to: None for all namespaces.
pub fn scope(namespace: &str) -> Option<&str> {
    (namespace != ALL_NAMESPACES).then_some(namespace)
}

/// How a heading names the current namespace.
pub fn label(namespace: &str) -> String {
    match scope(namespace) {
        Some(ns) => ns.to_string(),
        None => "all namespaces".to_string(),
    }
}

#[derive(Clone, Copy)]
pub struct NamespaceContext {
    pub current: RwSignal<String>,
    pub choices: LocalResource<Result<NamespaceChoices, api::Error>>,
}

pub fn provide_namespace_context(active: Memo<bool>) -> NamespaceContext {
    let stored = LocalStorage::get::<String>(NAMESPACE_KEY).unwrap_or_else(|_| "default".into());
    let context = NamespaceContext {
        current: RwSignal::new(stored),
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
        let _ = LocalStorage::set(NAMESPACE_KEY, context.current.get());
    });
    // A remembered namespace the user has no business in: start in the first one they have.
    Effect::new(move |_| {
        if let Some(Ok(choices)) = context.choices.get() {
            let current = context.current.get_untracked();
            if !choices.complete
                && !choices.namespaces.contains(&current)
                && let Some(first) = choices.namespaces.first()
            {
                context.current.set(first.clone());
            }
        }
    });
    provide_context(context);
    context
}

pub fn expect_namespace() -> NamespaceContext {
    expect_context::<NamespaceContext>()
}

/// The same page in another namespace (or all of them): a namespaced route keeps its kind,
/// others stay put.
fn route_in(path: &str, namespace: &str) -> Option<String> {
    let kind = match (path.strip_prefix("/ns/"), path.strip_prefix("/all/")) {
        (Some(rest), _) => rest.split_once('/')?.1,
        (None, Some(rest)) => rest,
        (None, None) => return None,
    };
    let mut segments = kind.split('/');
    let (group, version, resource) = (segments.next()?, segments.next()?, segments.next()?);
    Some(match scope(namespace) {
        Some(ns) => format!("/ns/{ns}/{group}/{version}/{resource}"),
        None => format!("/all/{group}/{version}/{resource}"),
    })
}

#[component]
pub fn NamespaceSwitcher() -> impl IntoView {
    let context = expect_namespace();
    let location = use_location();
    let navigate = use_navigate();
    let change = move |event: leptos::ev::Event| {
        let namespace = event_target_value(&event);
        context.current.set(namespace.clone());
        if let Some(route) = route_in(&location.pathname.get_untracked(), &namespace) {
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
                            let mut names = choices.namespaces.clone();
                            let current = context.current.get();
                            // Who may list namespaces may look across them; the sidebar still
                            // offers only the kinds they may list cluster-wide.
                            if choices.complete {
                                names.insert(0, ALL_NAMESPACES.to_string());
                            }
                            if !names.contains(&current) {
                                names.insert(0, current.clone());
                            }
                            view! {
                                <select data-testid="namespace-switcher" on:change=change
                                    prop:value=move || context.current.get()>
                                    {names.into_iter().map(|name| {
                                        let selected = name == current;
                                        let text = if scope(&name).is_none() { "All namespaces".to_string() } else { name.clone() };
                                        view! { <option value=name.clone() selected=selected>{text}</option> }
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
    #[test]
    fn switching_keeps_the_kind_and_leaves_the_object() {
        assert_eq!(
            super::route_in("/ns/team-a/core/v1/configmaps/app", "team-b").as_deref(),
            Some("/ns/team-b/core/v1/configmaps")
        );
        assert_eq!(super::route_in("/", "team-b"), None);
        assert_eq!(
            super::route_in("/ns/team-a/apps/v1/deployments/web", super::ALL_NAMESPACES).as_deref(),
            Some("/all/apps/v1/deployments")
        );
        assert_eq!(
            super::route_in("/all/core/v1/pods", "team-a").as_deref(),
            Some("/ns/team-a/core/v1/pods")
        );
        assert_eq!(
            super::route_in("/cluster/core/v1/namespaces", "team-b"),
            None
        );
    }
}
