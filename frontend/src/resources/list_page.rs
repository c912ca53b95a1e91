//! A kind's list: kubectl's columns from the apiserver's Table output, paged in and kept current
//! by a watch, with filter and sort, in a virtualized table that stays fast at 10,000 rows.

use std::sync::Arc;

use leptos::prelude::*;

use crate::{
    kinds,
    kube::{
        ResourceType,
        reflector::{self, Item, Mode, Phase, Source},
    },
    lazy_route::lazy_route,
    permissions::{WhyHidden, permissions_for},
    resources::{
        RouteTarget,
        actions::ActionChecks,
        editor::{EditTarget, YamlEditor},
        kind_page,
        virtual_table::{Rows, SortKey, VirtualTable},
    },
    scope::NamespaceScope,
};

lazy_route!(ListRoute, list_page, ListPage);

#[component]
pub fn ListPage() -> impl IntoView {
    kind_page(Some("Unknown kind"), |ty, target| {
        view! { <KindList ty=ty target=target /> }.into_any()
    })
}

#[component]
fn KindList(ty: ResourceType, target: RouteTarget) -> impl IntoView {
    let listed = target.namespace.clone().filter(|_| ty.namespaced);
    // Across all namespaces: rows name their namespace, and nothing is created (in which one?).
    let across = listed == Some(NamespaceScope::All);
    let namespace = listed.and_then(|scope| scope.namespace().map(str::to_string));
    let state = reflector::reflect(Source {
        path: ty.collection_path(namespace.as_deref()),
        query: String::new(),
        mode: Mode::Table,
    });
    let actions = ActionChecks::for_list(&ty, namespace.as_deref());
    let permissions = permissions_for({
        let actions = actions.clone();
        move || if across { Vec::new() } else { actions.all() }
    });
    let wide = RwSignal::new(false);
    let filter = RwSignal::new(String::new());
    let sort = RwSignal::new(SortKey::default());
    let creating = RwSignal::new(false);

    let rows = Memo::new(move |_| {
        let needle = filter.get().to_lowercase();
        let key = sort.get();
        state.with(|s| {
            let mut rows: Vec<Arc<Item>> = s
                .items
                .values()
                .filter(|item| {
                    needle.is_empty()
                        || item.name.to_lowercase().contains(&needle)
                        || item
                            .cells
                            .iter()
                            .any(|c| c.to_lowercase().contains(&needle))
                })
                .cloned()
                .collect();
            key.sort(&mut rows, &s.columns);
            Rows(rows)
        })
    });
    let columns = Memo::new(move |_| state.with(|s| s.columns.clone()));
    let total = Memo::new(move |_| state.with(|s| s.items.len()));
    let phase = Memo::new(move |_| state.with(|s| s.phase.clone()));
    let title = match &namespace {
        Some(ns) => format!("{} in {ns}", ty.resource),
        None if across => format!("{} in all namespaces", ty.resource),
        None => ty.resource.clone(),
    };
    let has_wide_columns =
        Memo::new(move |_| state.with(|s| s.columns.iter().any(|c| c.priority > 0)));
    let kind_label = ty.kind.clone();
    let editor_ty = ty.clone();
    let editor_ns = namespace.clone();
    let table_ty = ty.clone();
    let table_ns = namespace.clone();

    view! {
        <h1 data-testid="list-title">{title}</h1>
        <div class="toolbar">
            <label class="filter">
                <span>"Filter"</span>
                <input type="search" data-testid="list-filter" placeholder="name or any column"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev)) />
            </label>
            <span class="muted" data-testid="row-count" aria-live="polite">
                {move || {
                    let shown = rows.with(|r| r.0.len());
                    let all = total.get();
                    if shown == all { format!("{all} items") } else { format!("{shown} of {all} items") }
                }}
            </span>
            <span
                class="muted"
                role="status"
                data-testid="list-status"
                data-phase=move || phase_name(&phase.get())
                title=move || match phase.get() {
                    Phase::Reconnecting(error) => Some(error.describe()),
                    _ => None,
                }
            >
                {move || match phase.get() {
                    Phase::Loading => "Loading…",
                    Phase::Partial => "Loading more…",
                    Phase::Current => "Live",
                    Phase::Reconnecting(_) => "Reconnecting… (changes may be missing)",
                    Phase::Failed(_) => "Not current",
                }}
            </span>
            <Show when=move || has_wide_columns.get()>
                <label class="check">
                    <input type="checkbox" data-testid="wide-columns"
                        prop:checked=move || wide.get()
                        on:change=move |ev| wide.set(event_target_checked(&ev)) />
                    <span>"Wide (more columns, as kubectl -o wide)"</span>
                </label>
            </Show>
            <span class="spacer"></span>
            <Suspense fallback=|| ()>
                {move || {
                    let actions = actions.clone();
                    let kind_label = kind_label.clone();
                    Suspend::new(async move {
                        match permissions.await {
                            Ok(_) if across => view! {
                                <span class="muted">"Choose a namespace to create one."</span>
                            }.into_any(),
                            Ok(p) => view! {
                                <Show when={let allowed = actions.allowed(&p).create; move || allowed}>
                                    <button type="button" data-testid="create" on:click=move |_| creating.set(true)>
                                        {format!("Create {kind_label}")}
                                    </button>
                                </Show>
                                <WhyHidden permissions=p.clone() />
                            }.into_any(),
                            Err(error) => view! { <span class="error" role="alert">{error.describe()}</span> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </div>
        <Show when=move || creating.get()>
            <YamlEditor
                target=EditTarget::Create { ty: editor_ty.clone(), namespace: editor_ns.clone() }
                initial=kinds::template(&editor_ty, editor_ns.as_deref())
                on_done=Callback::new(move |_| creating.set(false))
                on_cancel=Callback::new(move |_| creating.set(false))
            />
        </Show>
        {move || match phase.get() {
            Phase::Failed(error) => Some(view! { <p class="error" role="alert" data-testid="list-error">{error.describe()}</p> }),
            _ => None,
        }}
        {move || {
            let empty = total.get() == 0 && phase.get() == Phase::Current;
            empty.then(|| view! { <p class="empty" data-testid="empty-list">"There are none here yet."</p> })
        }}
        <VirtualTable ty=table_ty namespace=table_ns across=across wide=wide columns=columns rows=rows sort=sort />
    }
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::Loading => "loading",
        Phase::Partial => "partial",
        Phase::Current => "current",
        Phase::Reconnecting(_) => "reconnecting",
        Phase::Failed(_) => "failed",
    }
}
