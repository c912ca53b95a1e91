use leptos::prelude::*;
use leptos_router::{
    components::{A, Route, Router, Routes},
    path,
};

use crate::{
    pages::{
        auth_complete_page::AuthCompletePage, auth_error_page::AuthErrorPage,
        logged_out_page::LoggedOutPage, namespace_page::NamespacePage,
        not_found_page::NotFoundPage, overview_page::OverviewPage,
    },
    session::{self, SessionState, expect_session, provide_session_context},
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
    let session = provide_session_context();
    let path = window().location().pathname().unwrap_or_default();
    let public = session::is_public_route(&path);
    if !public {
        session.start();
    }
    view! {
        <Router>
            <header class="topbar">
                <A href=Page::Overview.path() attr:class="brand">"Kubernetes Console"</A>
                <span class="spacer"></span>
                <UserMenu />
            </header>
            <main class="content">
                <Routes fallback=NotFoundPage>
                    <Route path=path!("/auth/complete") view=AuthCompletePage />
                    <Route path=path!("/auth/error") view=AuthErrorPage />
                    <Route path=path!("/logged-out") view=LoggedOutPage />
                    <Route path=path!("/") view=|| view! { <Protected><OverviewPage /></Protected> } />
                    <Route
                        path=path!("/namespaces/:namespace")
                        view=|| view! { <Protected><NamespacePage /></Protected> }
                    />
                </Routes>
            </main>
        </Router>
    }
}

/// Shows its children once the session is confirmed; a failure to confirm is an error, not a logout.
#[component]
fn Protected(children: ChildrenFn) -> impl IntoView {
    let session = expect_session();
    move || match session.state.get() {
        SessionState::Checking => {
            view! { <p class="loading">"Checking your session…"</p> }.into_any()
        }
        SessionState::Active(_) => children().into_any(),
        SessionState::Failed(error) => view! {
            <h1>"The console cannot confirm your session"</h1>
            <p class="error" role="alert">{error.message}</p>
        }
        .into_any(),
    }
}

#[component]
fn UserMenu() -> impl IntoView {
    let session = expect_session();
    move || match session.state.get() {
        SessionState::Active(user) => {
            let groups = if user.groups.is_empty() {
                "no groups".to_string()
            } else {
                format!("groups: {}", user.groups.join(", "))
            };
            let expires_at = user.expires_at;
            view! {
                <crate::kubeconfig::KubeconfigButton expires_at=expires_at />
                <span class="user" data-testid="current-user" title=groups>{user.display_name().to_string()}</span>
                <button type="button" class="secondary" data-testid="log-out" on:click=move |_| session.log_out()>"Log out"</button>
            }
            .into_any()
        }
        _ => ().into_any(),
    }
}
