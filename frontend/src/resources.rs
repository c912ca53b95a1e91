//! The resource views: a kind's list, an object's detail, the YAML editor and the actions.

pub mod actions;
pub mod detail;
pub mod editor;
pub mod list_page;
pub mod virtual_table;

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{
    kube::{ResourceType, discovery::expect_discovery},
    layout::namespace::expect_namespace,
    page::{KindRoute, Page},
    scope::NamespaceScope,
};

/// The kind, namespace (None cluster-wide) and (detail pages) name the route names.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTarget {
    pub kind: KindRoute,
    pub namespace: Option<NamespaceScope>,
    pub name: Option<String>,
}

impl RouteTarget {
    fn of(page: Page) -> Option<Self> {
        match page {
            Page::Overview | Page::LoginComplete | Page::LoginFailed | Page::LoggedOut => None,
            Page::List { kind, namespace } => Some(RouteTarget {
                kind,
                namespace,
                name: None,
            }),
            Page::Detail {
                kind,
                namespace,
                name,
            } => Some(RouteTarget {
                kind,
                namespace: namespace.map(NamespaceScope::One),
                name: Some(name),
            }),
            Page::Logs {
                kind,
                namespace,
                name,
            } => Some(RouteTarget {
                kind,
                namespace: Some(NamespaceScope::One(namespace)),
                name: Some(name),
            }),
            Page::Terminal { namespace, pod, .. } => Some(RouteTarget {
                kind: KindRoute::pods(),
                namespace: Some(NamespaceScope::One(namespace)),
                name: Some(pod),
            }),
        }
    }
}

/// The page's target, from its path (None for a moment while leaving the page).
fn use_route_target() -> Memo<Option<RouteTarget>> {
    let location = use_location();
    let namespace = expect_namespace();
    let target = Memo::new(move |_| {
        location
            .pathname
            .with(|path| Page::parse(path))
            .and_then(RouteTarget::of)
    });
    // The page's namespace is the current one (a link or a reload may name another).
    Effect::new(move |_| {
        if let Some(scope) = target.get().and_then(|t| t.namespace)
            && namespace.current.get_untracked() != scope
        {
            namespace.current.set(scope);
        }
    });
    target
}

/// A kind's page: `page` draws it once discovery knows the kind the route names; until then it
/// is loading, and an unknown kind is an error (under `unknown_heading`, if any).
pub fn kind_page(
    unknown_heading: Option<&'static str>,
    page: impl Fn(ResourceType, RouteTarget) -> AnyView + Send + 'static,
) -> impl IntoView {
    let target = use_route_target();
    move || match target
        .get()
        .and_then(|target| Some((resolve_kind(&target)?, target)))
    {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some((Err(message), _)) => view! {
            {unknown_heading.map(|heading| view! { <h1>{heading}</h1> })}
            <p class="error" role="alert">{message}</p>
        }
        .into_any(),
        Some((Ok(ty), target)) => page(ty, target),
    }
}

/// The discovered kind the route names (None while discovery loads; Err when unknown).
fn resolve_kind(target: &RouteTarget) -> Option<Result<ResourceType, String>> {
    let discovery = expect_discovery();
    match discovery.types.get()? {
        Ok(types) if types.is_empty() => None,
        Ok(types) => Some(
            types
                .into_iter()
                .find(|ty| target.kind.matches(ty))
                .ok_or_else(|| {
                    format!(
                        "The cluster serves no kind {} in {}/{}.",
                        target.kind.resource, target.kind.group, target.kind.version
                    )
                }),
        ),
        Err(error) => Some(Err(error.describe())),
    }
}
