//! One object: metadata, spec and status, its events, related objects and its YAML, kept current
//! by a watch on the object (field selector on its name); edit, scale and delete where permitted.
//! The sections drawn from the object are in `detail/`, chosen per kind by `crate::kinds`.

mod events;
mod metadata;
mod pods;
mod related;
mod secret_data;
mod sections;
mod spec;
mod status;
mod yaml;

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use serde_json::Value;

use crate::{
    kube::{
        ResourceType,
        reflector::{self, Phase},
    },
    lazy_route::lazy_route,
    page::Page,
    permissions::{WhyHidden, permissions_for},
    resources::{
        RouteTarget,
        actions::{ActionChecks, DeleteButton, ScaleControl},
        editor::{EditTarget, YamlEditor},
        kind_page,
    },
    scope::NamespaceScope,
};
use events::Events;
use related::{Related, related_of};
use sections::ObjectSections;
use yaml::editable_yaml;

lazy_route!(DetailRoute, detail_page, DetailPage);

#[component]
pub fn DetailPage() -> impl IntoView {
    kind_page(None, |ty, target| {
        view! { <ObjectView ty=ty target=target /> }.into_any()
    })
}

#[component]
fn ObjectView(ty: ResourceType, target: RouteTarget) -> impl IntoView {
    let namespace = target
        .namespace
        .and_then(|scope| scope.namespace().map(str::to_string))
        .filter(|_| ty.namespaced);
    let name = target.name.clone().unwrap_or_default();
    let (object, phase) = reflector::reflect_one(ty.collection_path(namespace.as_deref()), &name);
    let checks = ActionChecks::for_object(&ty, namespace.as_deref());
    // A pod's page also asks whether the user may open a terminal in it.
    let exec_check = namespace
        .as_deref()
        .filter(|_| crate::page::KindRoute::pods().matches(&ty))
        .map(crate::terminal::exec_check);
    let permissions = permissions_for({
        let checks = checks.clone();
        move || checks.all().into_iter().chain(exec_check.clone()).collect()
    });
    let editing = RwSignal::new(false);
    // Here rather than in the sections, which are drawn again on every change to the object.
    let revealed = RwSignal::new(false);
    let navigate = use_navigate();
    let list_path = Page::list(&ty, namespace.clone().map(NamespaceScope::One)).path();
    let heading = format!("{} {name}", ty.kind);

    let actions = {
        let (ty, namespace, name) = (ty.clone(), namespace.clone(), name.clone());
        move || {
            let (ty, namespace, name) = (ty.clone(), namespace.clone(), name.clone());
            let checks = checks.clone();
            let navigate = navigate.clone();
            let list_path = list_path.clone();
            Suspend::new(async move {
                let Ok(p) = permissions.await else {
                    return view! { <p class="error" role="alert">"The console could not check your permissions."</p> }.into_any();
                };
                let allowed = checks.allowed(&p);
                let (can_update, can_delete, can_scale) =
                    (allowed.update, allowed.delete, allowed.scale);
                let replicas = Signal::derive(move || {
                    object.with(|o| {
                        o.as_ref()
                            .and_then(|o| o.pointer("/spec/replicas").and_then(Value::as_i64))
                            .unwrap_or(1)
                    })
                });
                let on_deleted = Callback::new(move |_| navigate(&list_path, Default::default()));
                view! {
                    <div class="toolbar" data-testid="object-actions">
                        {can_update.then(|| view! {
                            <button type="button" data-testid="edit" on:click=move |_| editing.set(true)>"Edit YAML"</button>
                        })}
                        {can_scale.then(|| view! { <ScaleControl ty=ty.clone() namespace=namespace.clone() name=name.clone() replicas=replicas /> })}
                        {can_delete.then(|| view! { <DeleteButton ty=ty.clone() namespace=namespace.clone() name=name.clone() on_deleted=on_deleted /> })}
                        {crate::logs::logs_link(&ty, namespace.as_deref(), &name)}
                        {crate::terminal::terminal_link(&ty, namespace.as_deref(), &name, &p)}
                        <WhyHidden permissions=p.clone() />
                    </div>
                }.into_any()
            })
        }
    };

    let body = {
        let (ty, namespace, name) = (ty.clone(), namespace.clone(), name.clone());
        move || {
            let (ty, namespace, name) = (ty.clone(), namespace.clone(), name.clone());
            // While editing, only `editing` is tracked: a change to the object must not replace
            // the text being edited (saving it then reports the conflict).
            if editing.get() {
                let Some(object) = object.get_untracked() else {
                    return view! { <p class="empty">"This object does not exist (any more)."</p> }
                        .into_any();
                };
                return view! {
                    <YamlEditor
                        target=EditTarget::Edit { ty, namespace, name }
                        initial=editable_yaml(&object)
                        on_done=Callback::new(move |_| editing.set(false))
                        on_cancel=Callback::new(move |_| editing.set(false))
                    />
                }
                .into_any();
            }
            match (object.get(), phase.get()) {
                (Some(object), Phase::Reconnecting(error)) => view! {
                    <p class="muted" role="status" data-testid="object-reconnecting" title=error.describe()>
                        "Reconnecting… (changes may be missing)"
                    </p>
                    <ObjectSections ty=ty namespace=namespace object=object revealed=revealed />
                }
                .into_any(),
                (Some(object), _) => {
                    view! { <ObjectSections ty=ty namespace=namespace object=object revealed=revealed /> }.into_any()
                }
                (None, Phase::Current) => view! {
                    <p class="empty" data-testid="object-missing">"This object does not exist (any more)."</p>
                }.into_any(),
                (None, Phase::Failed(error)) => view! {
                    <p class="error" role="alert" data-testid="object-error">{error.describe()}</p>
                }.into_any(),
                (None, _) => view! { <p class="loading">"Loading…"</p> }.into_any(),
            }
        }
    };

    // Owners and selected pods, and events, each with their own watch: drawn again only when
    // what they depend on changes, not on every change to the object.
    let links = Memo::new({
        let ty = ty.clone();
        move |_| object.with(|o| o.as_ref().map(|o| related_of(&ty, o)))
    });
    let related = {
        let namespace = namespace.clone();
        move || {
            let (owners, selector) = links.get().filter(|_| !editing.get())?;
            Some(view! { <Related namespace=namespace.clone() owners=owners selector=selector /> })
        }
    };
    let events = namespace
        .map(|ns| view! { <Events namespace=ns name=name.clone() kind=ty.kind.clone() /> });

    view! {
        <h1 data-testid="object-title">{heading}</h1>
        <Suspense fallback=|| ()>{actions}</Suspense>
        {body}
        {related}
        {events}
    }
}
