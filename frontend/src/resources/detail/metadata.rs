//! Name, namespace, age, UID, resource version, labels and annotations.

use leptos::prelude::*;
use serde_json::Value;

use super::sections::Shown;
use crate::util;

pub fn view(shown: &Shown) -> AnyView {
    let pairs = |pointer: &str| -> Vec<(String, String)> {
        shown
            .object
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
    let created = shown.text("/metadata/creationTimestamp");
    view! {
        <section aria-labelledby="metadata-heading">
            <h2 id="metadata-heading">"Metadata"</h2>
            <dl class="meta">
                <dt>"Name"</dt><dd data-testid="object-name">{shown.text("/metadata/name")}</dd>
                {shown.namespace.clone().map(|ns| view! { <dt>"Namespace"</dt><dd>{ns}</dd> })}
                <dt>"Created"</dt><dd>{format!("{created} ({} ago)", util::age(&created))}</dd>
                <dt>"UID"</dt><dd><code>{shown.text("/metadata/uid")}</code></dd>
                <dt>"Resource version"</dt><dd data-testid="resource-version">{shown.text("/metadata/resourceVersion")}</dd>
            </dl>
            <KeyValues title="Labels" pairs=pairs("/metadata/labels") />
            <KeyValues title="Annotations" pairs=pairs("/metadata/annotations") />
        </section>
    }
    .into_any()
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
