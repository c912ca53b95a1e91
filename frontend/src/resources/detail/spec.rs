//! What the object asks for: its `spec`, or for kinds without one (ConfigMaps) their `data`.

use leptos::prelude::*;

use super::{sections::Shown, yaml::to_yaml};

pub fn view(shown: &Shown) -> AnyView {
    let object = &shown.object;
    let spec = object
        .get("spec")
        // Hidden values have a section of their own.
        .or_else(|| object.get("data").filter(|_| !shown.hides_values))
        .map(to_yaml);
    let title = if object.get("spec").is_some() {
        "Spec"
    } else {
        "Data"
    };
    spec.map(|yaml| {
        view! {
            <section><h2>{title}</h2><pre class="yaml" data-testid="object-spec">{yaml}</pre></section>
        }
    })
    .into_any()
}
