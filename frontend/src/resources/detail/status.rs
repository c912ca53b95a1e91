//! What the object's controllers report.

use leptos::prelude::*;

use super::{sections::Shown, yaml::to_yaml};

pub fn view(shown: &Shown) -> AnyView {
    shown
        .object
        .get("status")
        .map(to_yaml)
        .map(|yaml| {
            view! {
                <section><h2>"Status"</h2><pre class="yaml">{yaml}</pre></section>
            }
        })
        .into_any()
}
