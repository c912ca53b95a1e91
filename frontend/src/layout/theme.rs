//! Light and dark themes: the system's choice until the user picks one, which is remembered.

use gloo_storage::{LocalStorage, Storage};
use leptos::prelude::*;

const THEME_KEY: &str = "kc.theme";

fn system_prefers_dark() -> bool {
    window()
        .match_media("(prefers-color-scheme: dark)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches())
}

fn apply(theme: &str) {
    if let Some(root) = document().document_element() {
        let _ = root.set_attribute("data-theme", theme);
    }
}

#[component]
pub fn ThemeToggle() -> impl IntoView {
    let initial = LocalStorage::get::<String>(THEME_KEY).unwrap_or_else(|_| {
        if system_prefers_dark() {
            "dark"
        } else {
            "light"
        }
        .to_string()
    });
    let theme = RwSignal::new(initial);
    Effect::new(move |_| apply(&theme.get()));
    let toggle = move |_| {
        let next = if theme.get_untracked() == "dark" {
            "light"
        } else {
            "dark"
        };
        let _ = LocalStorage::set(THEME_KEY, next);
        theme.set(next.to_string());
    };
    view! {
        <button type="button" class="secondary" data-testid="theme-toggle" on:click=toggle
            aria-pressed=move || (theme.get() == "dark").to_string()>
            "Dark theme"
        </button>
    }
}
