//! One object: metadata, spec and status, its events, related objects and its YAML, kept current
//! by a watch on the object (field selector on its name); edit, scale and delete where permitted.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_navigate};
use serde_json::Value;

use crate::{
    app::Page,
    kube::{
        ResourceType,
        reflector::{self, Item, Mode, Phase, Source},
        resource_type::encode,
    },
    layout::sidebar::expect_discovery,
    permissions::{WhyHidden, permissions_for},
    resources::{
        RouteTarget,
        actions::{ActionChecks, DeleteButton, ScaleControl},
        editor::{EditTarget, YamlEditor},
        resolve_kind, use_route_target,
    },
    util,
};

#[component]
pub fn DetailPage() -> impl IntoView {
    let target = use_route_target();
    move || match resolve_kind(&target.get()) {
        None => view! { <p class="loading">"Loading…"</p> }.into_any(),
        Some(Err(message)) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        Some(Ok(ty)) => view! { <ObjectView ty=ty target=target.get() /> }.into_any(),
    }
}

fn to_yaml(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|_| value.to_string())
}

/// The object as the editor gets it: without managedFields (noise) and status (not editable).
fn editable_yaml(object: &Value) -> String {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    to_yaml(&object)
}

fn field_selector(name: &str) -> String {
    format!("fieldSelector={}", encode(&format!("metadata.name={name}")))
}

#[component]
fn ObjectView(ty: ResourceType, target: RouteTarget) -> impl IntoView {
    let namespace = target.namespace.clone().filter(|_| ty.namespaced);
    let name = target.name.clone().unwrap_or_default();
    let state = reflector::reflect(Source {
        path: ty.collection_path(namespace.as_deref()),
        query: field_selector(&name),
        mode: Mode::Objects,
    });
    let object = Memo::new(move |_| {
        state.with(|s| {
            s.items
                .values()
                .next()
                .map(|item: &Arc<Item>| item.object.clone())
        })
    });
    let phase = Memo::new(move |_| state.with(|s| s.phase.clone()));
    let checks = ActionChecks::for_object(&ty, namespace.as_deref());
    let permissions = permissions_for({
        let checks = checks.clone();
        move || checks.all()
    });
    let editing = RwSignal::new(false);
    // Here rather than in the sections, which are drawn again on every change to the object.
    let revealed = RwSignal::new(false);
    let navigate = use_navigate();
    let list_path = Page::list(&ty, namespace.as_deref()).path();
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
        let (ty, namespace) = (ty.clone(), namespace.clone());
        move || {
            let (owners, selector) = links.get().filter(|_| !editing.get())?;
            Some(
                view! { <Related ty=ty.clone() namespace=namespace.clone() owners=owners selector=selector /> },
            )
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

/// The annotation `kubectl apply` leaves: for a Secret it holds the values, often as plain text.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// A Secret as shown before its values are revealed: each value replaced by its size, and the
/// last-applied annotation (which repeats them) withheld.
fn masked_secret(object: &Value) -> Value {
    let mut object = object.clone();
    for field in ["data", "stringData"] {
        if let Some(map) = object.get_mut(field).and_then(Value::as_object_mut) {
            for value in map.values_mut() {
                let size = match field {
                    "data" => decoded_len(value.as_str().unwrap_or_default()),
                    _ => value.as_str().map_or(0, str::len),
                };
                *value = Value::String(format!("<hidden: {size} bytes>"));
            }
        }
    }
    if let Some(annotation) = object
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
        .and_then(|a| a.get_mut(LAST_APPLIED))
    {
        *annotation = Value::String("<hidden: it repeats the values>".into());
    }
    object
}

/// The size of what a base64 text decodes to.
fn decoded_len(base64: &str) -> usize {
    let text = base64.trim();
    let padding = text.chars().rev().take_while(|c| *c == '=').count();
    (text.len() / 4 * 3).saturating_sub(padding)
}

/// A Secret value as text: UTF-8 when it is, otherwise its size.
fn decoded(base64: &str) -> String {
    match window().atob(base64.trim()) {
        // atob gives one char per byte.
        Ok(binary) => {
            let bytes: Vec<u8> = binary.chars().map(|c| c as u32 as u8).collect();
            let size = bytes.len();
            String::from_utf8(bytes).unwrap_or_else(|_| format!("<{size} bytes of binary data>"))
        }
        Err(_) => "<not valid base64>".into(),
    }
}

#[component]
fn SecretData(object: Value, revealed: RwSignal<bool>) -> impl IntoView {
    let entries: Vec<(String, String)> = object
        .get("data")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    view! {
        <section aria-labelledby="secret-data-heading">
            <h2 id="secret-data-heading">"Data"</h2>
            <p class="muted">"Values stay hidden until you reveal them, so that they are not on screen by accident."</p>
            <button type="button" class="secondary" data-testid="reveal-secret"
                aria-pressed=move || revealed.get().to_string()
                on:click=move |_| revealed.update(|r| *r = !*r)>
                {move || if revealed.get() { "Hide values" } else { "Reveal values" }}
            </button>
            <dl class="meta" data-testid="secret-data">
                {entries.into_iter().map(|(key, base64)| {
                    let shown = move || if revealed.get() {
                        decoded(&base64)
                    } else {
                        format!("{} bytes", decoded_len(&base64))
                    };
                    view! { <dt><code>{key}</code></dt><dd>{shown}</dd> }
                }).collect_view()}
            </dl>
        </section>
    }
}

#[component]
fn ObjectSections(
    ty: ResourceType,
    namespace: Option<String>,
    object: Value,
    revealed: RwSignal<bool>,
) -> impl IntoView {
    let secret = ty.group.is_empty() && ty.resource == "secrets";
    let full = object.clone();
    let object = if secret {
        masked_secret(&object)
    } else {
        object
    };
    let text = |pointer: &str| {
        object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let pairs = |pointer: &str| -> Vec<(String, String)> {
        object
            .pointer(pointer)
            .and_then(Value::as_object)
            .map(|map| {
                map.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_string),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let created = text("/metadata/creationTimestamp");
    let spec = object
        .get("spec")
        .or_else(|| object.get("data").filter(|_| !secret))
        .map(to_yaml);
    let spec_title = if object.get("spec").is_some() {
        "Spec"
    } else {
        "Data"
    };
    let status = object.get("status").map(to_yaml);
    let name = text("/metadata/name");
    view! {
        <section aria-labelledby="metadata-heading">
            <h2 id="metadata-heading">"Metadata"</h2>
            <dl class="meta">
                <dt>"Name"</dt><dd data-testid="object-name">{name.clone()}</dd>
                {namespace.clone().map(|ns| view! { <dt>"Namespace"</dt><dd>{ns}</dd> })}
                <dt>"Created"</dt><dd>{format!("{created} ({} ago)", util::age(&created))}</dd>
                <dt>"UID"</dt><dd><code>{text("/metadata/uid")}</code></dd>
                <dt>"Resource version"</dt><dd data-testid="resource-version">{text("/metadata/resourceVersion")}</dd>
            </dl>
            <KeyValues title="Labels" pairs=pairs("/metadata/labels") />
            <KeyValues title="Annotations" pairs=pairs("/metadata/annotations") />
        </section>
        {secret.then(|| view! { <SecretData object=full.clone() revealed=revealed /> })}
        {spec.map(|yaml| view! {
            <section><h2>{spec_title}</h2><pre class="yaml" data-testid="object-spec">{yaml}</pre></section>
        })}
        {status.map(|yaml| view! {
            <section><h2>"Status"</h2><pre class="yaml">{yaml}</pre></section>
        })}
        <section>
            <details>
                <summary>"YAML"</summary>
                <pre class="yaml" data-testid="object-yaml">
                    {move || if revealed.get() { to_yaml(&full) } else { to_yaml(&object) }}
                </pre>
            </details>
        </section>
    }
}

#[component]
fn KeyValues(title: &'static str, pairs: Vec<(String, String)>) -> impl IntoView {
    (!pairs.is_empty()).then(|| {
        view! {
            <h3>{title}</h3>
            <ul class="pairs">
                {pairs.into_iter().map(|(k, v)| view! { <li><code>{k}</code> " = " <span>{v}</span></li> }).collect_view()}
            </ul>
        }
    })
}

/// Events about this object, kept current by their own watch.
#[component]
fn Events(namespace: String, name: String, kind: String) -> impl IntoView {
    let selector = format!("involvedObject.name={name},involvedObject.kind={kind}");
    let state = reflector::reflect(Source {
        path: format!("/api/v1/namespaces/{}/events", encode(&namespace)),
        query: format!("fieldSelector={}", encode(&selector)),
        mode: Mode::Objects,
    });
    let rows = move || {
        state.with(|s| {
            let mut events: Vec<Arc<Item>> = s.items.values().cloned().collect();
            events.sort_by(|a, b| b.created.cmp(&a.created));
            events
        })
    };
    view! {
        <section>
            <h2>"Events"</h2>
            {move || match state.with(|s| s.phase.clone()) {
                Phase::Failed(error) => view! { <p class="muted">{error.describe()}</p> }.into_any(),
                _ if state.with(|s| s.items.is_empty()) => view! { <p class="muted">"No events."</p> }.into_any(),
                _ => view! {
                    <table class="plain">
                        <thead><tr><th scope="col">"Type"</th><th scope="col">"Reason"</th><th scope="col">"Age"</th><th scope="col">"Message"</th></tr></thead>
                        <tbody>
                            {rows().into_iter().map(|event| {
                                let o = &event.object;
                                let get = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                                view! { <tr><td>{get("type")}</td><td>{get("reason")}</td><td>{util::age(&event.created)}</td><td>{get("message")}</td></tr> }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

/// An object's owners (apiVersion, kind, name) and, for workloads and Services, its pod selector.
type Links = (Vec<(String, String, String)>, Option<String>);

fn related_of(ty: &ResourceType, object: &Value) -> Links {
    let owners: Vec<(String, String, String)> = object
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|refs| {
            refs.iter()
                .map(|r| {
                    let get = |k: &str| {
                        r.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string()
                    };
                    (get("apiVersion"), get("kind"), get("name"))
                })
                .collect()
        })
        .unwrap_or_default();
    let selector = object
        .pointer("/spec/selector/matchLabels")
        .or_else(|| {
            (ty.kind == "Service")
                .then(|| object.pointer("/spec/selector"))
                .flatten()
        })
        .and_then(Value::as_object)
        .filter(|labels| !labels.is_empty())
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        });
    (owners, selector)
}

/// Owners (from ownerReferences) and, for workloads and services, the pods they select.
#[component]
fn Related(
    ty: ResourceType,
    namespace: Option<String>,
    owners: Vec<(String, String, String)>,
    selector: Option<String>,
) -> impl IntoView {
    let discovery = expect_discovery();
    let owner_links = {
        let namespace = namespace.clone();
        move || {
            let types = discovery
                .types
                .get()
                .and_then(Result::ok)
                .unwrap_or_default();
            owners
                .clone()
                .into_iter()
                .map(|(api_version, kind, name)| {
                    let owner_ty = types
                        .iter()
                        .find(|t| t.kind == kind && t.api_version() == api_version);
                    match owner_ty {
                        Some(t) => {
                            let href = Page::detail(
                                t,
                                namespace.as_deref().filter(|_| t.namespaced),
                                &name,
                            )
                            .path();
                            view! { <li>"Owned by " {kind} " " <A href=href>{name}</A></li> }
                                .into_any()
                        }
                        None => view! { <li>"Owned by " {kind} " " {name}</li> }.into_any(),
                    }
                })
                .collect_view()
        }
    };
    view! {
        <section>
            <h2>"Related"</h2>
            <ul class="related">{owner_links}</ul>
            {match (selector, namespace) {
                (Some(selector), Some(ns)) if ty.kind != "Pod" => Some(view! { <SelectedPods namespace=ns selector=selector /> }),
                _ => None,
            }}
        </section>
    }
}

#[component]
fn SelectedPods(namespace: String, selector: String) -> impl IntoView {
    let state = reflector::reflect(Source {
        path: format!("/api/v1/namespaces/{}/pods", encode(&namespace)),
        query: format!("labelSelector={}", encode(&selector)),
        mode: Mode::Objects,
    });
    let pods_ty = ResourceType {
        group: String::new(),
        version: "v1".into(),
        resource: "pods".into(),
        kind: "Pod".into(),
        namespaced: true,
        verbs: vec![],
        subresources: vec![],
    };
    move || match state.with(|s| s.phase.clone()) {
        Phase::Failed(error) => {
            view! { <p class="muted">{format!("Pods: {}", error.describe())}</p> }.into_any()
        }
        _ => {
            let mut pods: Vec<(String, String)> = state.with(|s| {
                s.items
                    .values()
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.object
                                .pointer("/status/phase")
                                .and_then(Value::as_str)
                                .unwrap_or("Pending")
                                .to_string(),
                        )
                    })
                    .collect()
            });
            pods.sort();
            if pods.is_empty() {
                view! { <p class="muted">{format!("No pods match {selector}.")}</p> }.into_any()
            } else {
                view! {
                    <ul class="related">
                        {pods.into_iter().map(|(name, phase)| {
                            let href = Page::detail(&pods_ty, Some(&namespace), &name).path();
                            view! { <li>"Pod " <A href=href>{name}</A> " " <span class="muted">{phase}</span></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_secret_is_shown_without_its_values_until_revealed() {
        let secret = json!({
            "metadata": {"name": "db", "annotations": {
                LAST_APPLIED: "{\"stringData\":{\"password\":\"hunter2\"}}",
                "team": "a"
            }},
            "data": {"password": "aHVudGVyMg==", "token": "YWJj"},
            "type": "Opaque"
        });
        let masked = masked_secret(&secret);
        let text = masked.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("aHVudGVyMg=="),
            "{text}"
        );
        assert_eq!(masked["data"]["password"], "<hidden: 7 bytes>");
        assert_eq!(masked["data"]["token"], "<hidden: 3 bytes>");
        assert_eq!(masked["metadata"]["annotations"]["team"], "a");
        assert_eq!(decoded_len(""), 0);
    }
}
