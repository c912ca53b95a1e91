//! The events about an object.

use std::sync::Arc;

use leptos::prelude::*;
use serde_json::Value;

use crate::{
    kube::{
        reflector::{self, Item, Mode, Phase, Source},
        resource_type::encode,
    },
    util,
};

/// Events about this object, kept current by their own watch.
#[component]
pub fn Events(namespace: String, name: String, kind: String) -> impl IntoView {
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
