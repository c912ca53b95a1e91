//! The Logs view: a pod's containers (init and ephemeral included, the previous instance where
//! there is one), or every pod a workload selects merged in time order, each line tagged with
//! its pod and container. Followed live by default; search, timestamps, wrapping, download.
//!
//! One concern per file: `ansi` (escapes to styles), `buffer` (the bounded, time-ordered
//! lines), `feed` (lines batched per animation frame, pausing), `streams` (the log requests),
//! `containers` (what a pod's status says), `search`, `window` (which lines are drawn), `row`
//! (one line), `viewer` (the view and its toolbar), `download` (the whole log, saved from a Blob).

mod ansi;
mod buffer;
mod containers;
mod download;
mod feed;
mod row;
mod search;
mod streams;
mod viewer;
mod window;

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    kinds,
    kube::{
        ResourceType,
        reflector::{self, Mode, Phase, ReflectorState, Source},
        resource_type::encode,
    },
    lazy_route::lazy_route,
    page::Page,
    resources::{RouteTarget, kind_page},
};
use containers::{Container, ContainerKind, containers_of, default_container};
use feed::Feed;
use streams::{StreamKey, Streams};
use viewer::LogViewer;

lazy_route!(LogsRoute, logs_page, LogsPage);

#[component]
pub fn LogsPage() -> impl IntoView {
    kind_page(Some("Logs"), |ty, target| {
        view! { <LogsOf ty=ty target=target /> }.into_any()
    })
}

/// A link to the Logs page of an object whose kind has one (None otherwise).
pub fn logs_link(ty: &ResourceType, namespace: Option<&str>, name: &str) -> Option<AnyView> {
    let namespace = namespace?;
    kinds::spec_of(ty).logs.then(|| {
        let href = Page::logs(ty, namespace, name).path();
        view! { <A href=href attr:class="button-link" attr:data-testid="open-logs">"Logs"</A> }
            .into_any()
    })
}

#[component]
fn LogsOf(ty: ResourceType, target: RouteTarget) -> impl IntoView {
    let namespace = target
        .namespace
        .and_then(|scope| scope.namespace().map(str::to_string));
    let name = target.name.unwrap_or_default();
    let (Some(namespace), true) = (namespace, kinds::spec_of(&ty).logs) else {
        return view! {
            <h1>"Logs"</h1>
            <p class="error" role="alert">{format!("A {} has no logs in the console.", ty.kind)}</p>
        }
        .into_any();
    };
    let back = Page::detail(&ty, Some(&namespace), &name).path();
    let link_text = name.clone();
    let heading = view! {
        <h1 data-testid="logs-title">"Logs of " {ty.kind.clone()} " " <A href=back>{link_text}</A></h1>
    };
    let body = if ty.group.is_empty() && ty.resource == "pods" {
        view! { <PodLogs namespace=namespace name=name /> }.into_any()
    } else {
        view! { <WorkloadLogs ty=ty namespace=namespace name=name /> }.into_any()
    };
    view! { {heading} {body} }.into_any()
}

fn pods_path(namespace: &str) -> String {
    format!("/api/v1/namespaces/{}/pods", encode(namespace))
}

fn key_of(pod: &str, container: &Container, previous: bool) -> StreamKey {
    StreamKey {
        pod: pod.to_string(),
        container: container.name.clone(),
        restarts: container.restarts,
        started: container.started,
        previous,
    }
}

#[component]
fn PodLogs(namespace: String, name: String) -> impl IntoView {
    let (pod, phase) = reflector::reflect_one(pods_path(&namespace), &name);
    let containers =
        Memo::new(move |_| pod.with(|p| p.as_ref().map(containers_of).unwrap_or_default()));
    let chosen = RwSignal::new(None::<String>);
    let previous = RwSignal::new(false);
    // The container kubectl would pick, once the pod is known.
    Effect::new(move |_| {
        if chosen.get_untracked().is_none()
            && let Some(pod) = pod.get()
        {
            chosen.set(default_container(&pod, &containers.get_untracked()));
        }
    });
    let container = Memo::new(move |_| {
        let name = chosen.get()?;
        containers.with(|all| all.iter().find(|c| c.name == name).cloned())
    });
    let feed = Feed::new();
    let streams = Streams::new(namespace.clone(), feed);
    let shown = Memo::new(move |_| {
        container.get().map(|c| {
            let previous = previous.get() && c.previous.is_some();
            // A new instance's previous log is another log: that one is shown afresh.
            (
                c.name.clone(),
                previous,
                if previous { c.restarts } else { 0 },
            )
        })
    });
    Effect::new({
        let name = name.clone();
        move |before: Option<Option<(String, bool, i64)>>| {
            let now = shown.get();
            if before.is_some_and(|b| b != now) {
                feed.clear();
            }
            // Tracked too: a restart is a new instance, so another stream.
            let wanted = container
                .get()
                .zip(now.as_ref())
                .map(|(c, now)| key_of(&name, &c, now.1));
            streams.set(wanted.into_iter().collect());
            now
        }
    });
    let chooser = move || {
        let all = containers.get();
        (!all.is_empty())
            .then(|| view! { <ContainerChoice containers=all chosen=chosen previous=previous /> })
    };
    let missing = move || {
        match (pod.with(Option::is_none), phase.get()) {
        (true, Phase::Current) => Some(view! { <p class="empty" data-testid="logs-missing">"This pod does not exist (any more)."</p> }.into_any()),
        (true, Phase::Failed(error)) => Some(view! { <p class="error" role="alert">{error.describe()}</p> }.into_any()),
        _ => None,
    }
    };
    view! {
        {missing}
        <LogViewer feed=feed streams=streams tagged=false file_name=name toolbar=chooser />
    }
}

#[component]
fn ContainerChoice(
    containers: Vec<Container>,
    chosen: RwSignal<Option<String>>,
    previous: RwSignal<bool>,
) -> impl IntoView {
    let options = containers
        .iter()
        .map(|c| {
            let label = match (c.kind, c.restarts) {
                (ContainerKind::Regular, 0) => c.name.clone(),
                (ContainerKind::Regular, n) => format!("{} ({n} restarts)", c.name),
                (kind, _) => format!("{} ({})", c.name, kind.label()),
            };
            let selected = Some(&c.name) == chosen.get_untracked().as_ref();
            view! { <option value=c.name.clone() selected=selected>{label}</option> }
        })
        .collect_view();
    // Follows the choice: the default container is chosen after the first render.
    let previous_choice = move || {
        let current = containers
            .iter()
            .find(|c| chosen.with(|chosen| Some(&c.name) == chosen.as_ref()))?;
        let summary = current.previous_summary()?;
        Some(view! {
            <label class="log-previous">
                <input type="checkbox" data-testid="log-previous" prop:checked=move || previous.get()
                    on:change=move |ev| previous.set(event_target_checked(&ev)) />
                " Previous container"
            </label>
            <span class="log-exit" data-testid="log-previous-reason">{summary}</span>
        })
    };
    view! {
        <label>
            "Container "
            <select data-testid="log-container" on:change=move |ev| {
                previous.set(false);
                chosen.set(Some(event_target_value(&ev)));
            }>{options}</select>
        </label>
        {previous_choice}
    }
}

#[component]
fn WorkloadLogs(ty: ResourceType, namespace: String, name: String) -> impl IntoView {
    let (object, phase) = reflector::reflect_one(ty.collection_path(Some(&namespace)), &name);
    let selector = Memo::new({
        let ty = ty.clone();
        move |_| {
            object.with(|o| {
                o.as_ref()
                    .and_then(|o| kinds::spec_of(&ty).pod_selector_of(o))
            })
        }
    });
    let feed = Feed::new();
    let streams = Streams::new(namespace.clone(), feed);
    let status = {
        let namespace = namespace.clone();
        move || {
            match (selector.get(), phase.get()) {
            (Some(selector), _) => {
                view! { <SelectedPodsLogs namespace=namespace.clone() selector=selector streams=streams /> }.into_any()
            }
            (None, Phase::Failed(error)) => view! { <p class="error" role="alert">{error.describe()}</p> }.into_any(),
            (None, Phase::Current) if object.with(Option::is_some) => {
                view! { <p class="empty">"It selects no pods."</p> }.into_any()
            }
            (None, Phase::Current) => view! { <p class="empty" data-testid="logs-missing">"This object does not exist (any more)."</p> }.into_any(),
            _ => view! { <p class="loading">"Loading…"</p> }.into_any(),
        }
        }
    };
    view! {
        {status}
        <LogViewer feed=feed streams=streams tagged=true file_name=name toolbar=|| () />
    }
}

/// Streams every container of every pod `selector` matches, as the pods come and go.
#[component]
fn SelectedPodsLogs(namespace: String, selector: String, streams: Streams) -> impl IntoView {
    let state: ReadSignal<ReflectorState> = reflector::reflect(Source {
        path: pods_path(&namespace),
        query: format!("labelSelector={}", encode(&selector)),
        mode: Mode::Objects,
    });
    let wanted = Memo::new(move |_| {
        state.with(|s| {
            let mut keys: Vec<StreamKey> = s
                .items
                .values()
                .flat_map(|item| {
                    containers_of(&item.object)
                        .into_iter()
                        .filter(|c| c.kind == ContainerKind::Regular)
                        .map(|c| key_of(&item.name, &c, false))
                        .collect::<Vec<_>>()
                })
                .collect();
            keys.sort_by(|a, b| (&a.pod, &a.container).cmp(&(&b.pod, &b.container)));
            keys
        })
    });
    Effect::new(move |_| streams.set(wanted.get()));
    let count = move || {
        wanted.with(|w| {
            w.iter()
                .map(|k| &k.pod)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        })
    };
    view! {
        <p class="muted" data-testid="logs-pods">{move || format!("Pods matching {selector}: {}", count())}</p>
    }
}
