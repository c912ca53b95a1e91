//! The resource views: a kind's list, an object's detail, the YAML editor and the actions.

pub mod actions;
pub mod detail_page;
pub mod editor;
pub mod list_page;
pub mod virtual_table;

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};

use crate::{
    app::KindRoute,
    kube::ResourceType,
    layout::{
        namespace::{ALL_NAMESPACES, expect_namespace},
        sidebar::expect_discovery,
    },
};

/// The kind, namespace (`ALL_NAMESPACES` on `/all/` routes) and (detail pages) name the route
/// names.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteTarget {
    pub kind: KindRoute,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

pub fn use_route_target() -> Memo<RouteTarget> {
    let params = use_params_map();
    let location = use_location();
    let namespace = expect_namespace();
    let target = Memo::new(move |_| {
        let params = params.read();
        let get = |key: &str| params.get(key).unwrap_or_default();
        let all = location.pathname.with(|p| p.starts_with("/all/"));
        RouteTarget {
            kind: KindRoute {
                group: get("group"),
                version: get("version"),
                resource: get("resource"),
            },
            namespace: if all {
                Some(ALL_NAMESPACES.to_string())
            } else {
                params.get("namespace")
            },
            name: params.get("name"),
        }
    });
    // The page's namespace is the current one (a link or a reload may name another).
    Effect::new(move |_| {
        if let Some(ns) = target.get().namespace
            && namespace.current.get_untracked() != ns
        {
            namespace.current.set(ns);
        }
    });
    target
}

/// The discovered kind the route names (None while discovery loads; Err when unknown).
pub fn resolve_kind(target: &RouteTarget) -> Option<Result<ResourceType, String>> {
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
