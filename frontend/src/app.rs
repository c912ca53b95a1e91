use leptos::prelude::*;
use leptos_router::{
    components::{A, Route, Router, Routes},
    path,
};

use crate::pages::{
    namespace_page::NamespacePage, not_found_page::NotFoundPage, overview_page::OverviewPage,
};

/// Every page of the app, and the one place that knows their paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Overview,
    Namespace(String),
}

impl Page {
    pub fn path(&self) -> String {
        match self {
            Page::Overview => "/".to_string(),
            Page::Namespace(name) => format!("/namespaces/{name}"),
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <header class="topbar">
                <A href=Page::Overview.path() attr:class="brand">"Kubernetes Console"</A>
            </header>
            <main class="content">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/") view=OverviewPage />
                    <Route path=path!("/namespaces/:namespace") view=NamespacePage />
                </Routes>
            </main>
        </Router>
    }
}
