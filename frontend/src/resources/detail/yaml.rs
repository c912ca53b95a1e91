//! The whole object as YAML (folded), with hidden values only once revealed.

use leptos::prelude::*;
use serde_json::Value;

use super::sections::Shown;

pub fn to_yaml(value: &Value) -> String {
    crate::yaml::to_string(value)
}

/// The object as the editor gets it: without managedFields (noise) and status (not editable).
pub fn editable_yaml(object: &Value) -> String {
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    to_yaml(&object)
}

pub fn view(shown: &Shown) -> AnyView {
    let Shown {
        object,
        full,
        revealed,
        ..
    } = shown.clone();
    view! {
        <section>
            <details>
                <summary>"YAML"</summary>
                <pre class="yaml" data-testid="object-yaml">
                    {move || if revealed.get() { to_yaml(&full) } else { to_yaml(&object) }}
                </pre>
            </details>
        </section>
    }
    .into_any()
}
