use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

#[component]
pub fn NamespacePage() -> impl IntoView {
    let params = use_params_map();
    let namespace = move || params.read().get("namespace").unwrap_or_default();
    view! {
        <h1>"Namespace " <span data-testid="namespace-name">{namespace}</span></h1>
    }
}
