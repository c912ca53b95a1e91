use leptos::prelude::*;

use crate::page::Page;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"The console has no page at this address. " <a href=Page::Overview.path()>"Go to the overview"</a></p>
    }
}
