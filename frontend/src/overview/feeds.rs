//! What the overview watches (whole objects, by the app's one list-then-watch, `kube/reflector`),
//! in the namespace scope of the switcher, and only what the user may list: a part whose list
//! the user may not read says so instead of failing.

use leptos::prelude::*;
use serde_json::Value;
use shared::AccessCheck;

use crate::{
    kube::{
        ResourceType,
        reflector::{self, Mode, Phase, ReflectorState, Source},
    },
    layout::sidebar::list_check,
    page::Page,
    permissions::Permissions,
    scope::NamespaceScope,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watched {
    Pods,
    Deployments,
    StatefulSets,
    DaemonSets,
    Nodes,
    Events,
}

impl Watched {
    pub const ALL: [Watched; 6] = [
        Watched::Pods,
        Watched::Deployments,
        Watched::StatefulSets,
        Watched::DaemonSets,
        Watched::Nodes,
        Watched::Events,
    ];

    fn group_resource(self) -> (&'static str, &'static str) {
        match self {
            Watched::Pods => ("", "pods"),
            Watched::Deployments => ("apps", "deployments"),
            Watched::StatefulSets => ("apps", "statefulsets"),
            Watched::DaemonSets => ("apps", "daemonsets"),
            Watched::Nodes => ("", "nodes"),
            Watched::Events => ("", "events"),
        }
    }
}

/// A list the overview watches, or why it has none.
#[derive(Clone)]
pub enum Feed {
    Live {
        ty: ResourceType,
        /// The list page of what it counts, in the overview's scope.
        list: String,
        state: ReadSignal<ReflectorState>,
    },
    /// The user may not list it in this scope: a sentence that says so.
    Refused(String),
    /// The apiserver does not serve it.
    Unserved(&'static str),
}

/// The kinds the apiserver serves and what the user may list in `scope`.
#[derive(Clone)]
pub struct Access {
    pub types: Vec<ResourceType>,
    pub permissions: Permissions,
    pub scope: NamespaceScope,
}

fn find(types: &[ResourceType], what: Watched) -> Option<&ResourceType> {
    let (group, resource) = what.group_resource();
    types
        .iter()
        .find(|t| t.group == group && t.resource == resource)
}

/// The list checks of everything the overview watches that the apiserver serves: one request.
pub fn checks(types: &[ResourceType], scope: &NamespaceScope) -> Vec<AccessCheck> {
    Watched::ALL
        .iter()
        .filter_map(|what| find(types, *what))
        .map(|ty| list_check(ty, scope))
        .collect()
}

impl Access {
    /// Starts watching `what` for as long as the calling view lives, if the user may list it.
    pub fn feed(&self, what: Watched) -> Feed {
        let Some(ty) = find(&self.types, what) else {
            return Feed::Unserved(what.group_resource().1);
        };
        let check = list_check(ty, &self.scope);
        if !self.permissions.allows(&check) {
            return Feed::Refused(format!("You may not {}.", check.describe()));
        }
        let query = match what {
            Watched::Events => "fieldSelector=type%3DWarning",
            _ => "",
        };
        let state = reflector::reflect(Source {
            path: ty.collection_path(self.scope.namespace()),
            query: query.to_string(),
            mode: Mode::Objects,
        });
        Feed::Live {
            list: Page::list(ty, ty.namespaced.then(|| self.scope.clone())).path(),
            ty: ty.clone(),
            state,
        }
    }

    /// The kind an `apiVersion` and `kind` name, for links to objects (events' subjects).
    pub fn type_of(&self, api_version: &str, kind: &str) -> Option<&ResourceType> {
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        self.types
            .iter()
            .find(|t| t.group == group && t.kind == kind)
    }
}

/// An object by namespace (empty for cluster-scoped ones) and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// The object's own, from its metadata.
    pub fn of(object: &Value) -> Self {
        ObjectRef {
            namespace: text(object, "/metadata/namespace"),
            name: text(object, "/metadata/name"),
        }
    }

    /// Orders by namespace, then name (no name holds a NUL).
    pub fn key(&self) -> String {
        format!("{}\0{}", self.namespace, self.name)
    }

    /// "team-a/web", or the bare name of a cluster-scoped object.
    pub fn label(&self) -> String {
        if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        }
    }
}

/// The string at `pointer`, or "".
pub fn text(value: &Value, pointer: &str) -> String {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The number at `pointer`, or `default`.
pub fn number(value: &Value, pointer: &str, default: u64) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or(default)
}

/// An object's page, for links from what the overview counts.
pub fn detail_path(ty: &ResourceType, object: &ObjectRef) -> String {
    let namespace =
        (ty.namespaced && !object.namespace.is_empty()).then_some(object.namespace.as_str());
    Page::detail(ty, namespace, &object.name).path()
}

/// Why a live feed shows nothing (yet), or is perhaps out of date; None when it is current.
pub fn feed_note(state: ReadSignal<ReflectorState>) -> impl IntoView {
    move || {
        let note = match state.with(|s| s.phase.clone()) {
            Phase::Loading | Phase::Partial => "Loading…".to_string(),
            Phase::Current => return None,
            Phase::Reconnecting(_) => "Reconnecting… (this may be out of date)".to_string(),
            Phase::Failed(error) => error.describe(),
        };
        Some(view! { <p class="muted" data-testid="feed-note">{note}</p> })
    }
}

/// What a part shows instead of its picture when it has no feed.
pub fn no_feed(feed: &Feed) -> Option<AnyView> {
    match feed {
        Feed::Live { .. } => None,
        Feed::Refused(sentence) => {
            Some(view! { <p class="muted" data-testid="refused">{sentence.clone()}</p> }.into_any())
        }
        Feed::Unserved(resource) => Some(
            view! { <p class="muted">{format!("This cluster does not serve {resource}.")}</p> }
                .into_any(),
        ),
    }
}

/// A part drawn from one feed: `draw` makes its body from the feed's kind, list page and
/// objects, again whenever they change (the view is rebuilt in place, so only what changed is
/// touched in the page).
pub fn live_part(
    title: &'static str,
    testid: &'static str,
    feed: &Feed,
    draw: impl Fn(&ResourceType, &str, &ReflectorState) -> AnyView + Send + Sync + 'static,
) -> AnyView {
    let Feed::Live { ty, list, state } = feed.clone() else {
        return part(title, testid, None, no_feed(feed).into_any());
    };
    let href = list.clone();
    let body = view! { {feed_note(state)} {move || state.with(|s| draw(&ty, &href, s))} };
    part(title, testid, Some(list), body.into_any())
}

/// One part of the overview: a heading (a link to the list it counts, when there is one) and
/// what it shows.
pub fn part(
    title: &'static str,
    testid: &'static str,
    list: Option<String>,
    body: AnyView,
) -> AnyView {
    let heading = match list {
        Some(href) => view! { <a href=href>{title}</a> }.into_any(),
        None => title.into_any(),
    };
    view! {
        <section class="ov-part" data-testid=testid>
            <h3>{heading}</h3>
            {body}
        </section>
    }
    .into_any()
}
