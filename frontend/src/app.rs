use leptos::prelude::*;
use leptos_router::{
    components::{A, Route, Router, Routes},
    path,
};

use crate::{
    kube::{ResourceType, resource_type::encode},
    layout::{
        namespace::{self, NamespaceSwitcher, provide_namespace_context},
        sidebar::{Sidebar, provide_discovery_context},
        theme::ThemeToggle,
    },
    pages::{
        auth_complete_page::AuthCompletePage, auth_error_page::AuthErrorPage,
        logged_out_page::LoggedOutPage, not_found_page::NotFoundPage, overview_page::OverviewPage,
    },
    resources::{detail_page::DetailPage, list_page::ListPage},
    session::{self, SessionState, expect_session, provide_session_context},
};

/// Where a resource kind lives in the app's routes: "core" stands for the core group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindRoute {
    pub group: String,
    pub version: String,
    pub resource: String,
}

impl KindRoute {
    pub fn of(ty: &ResourceType) -> Self {
        KindRoute {
            group: ty.group_segment().to_string(),
            version: ty.version.clone(),
            resource: ty.resource.clone(),
        }
    }

    pub fn matches(&self, ty: &ResourceType) -> bool {
        *self == KindRoute::of(ty)
    }
}

/// Every page of the app, and the one place that knows their paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Overview,
    /// A kind's list: in a namespace, in all of them (`namespace::ALL_NAMESPACES`), or for
    /// cluster-scoped kinds (None) cluster-wide.
    List {
        kind: KindRoute,
        namespace: Option<String>,
    },
    Detail {
        kind: KindRoute,
        namespace: Option<String>,
        name: String,
    },
}

impl Page {
    pub fn list(ty: &ResourceType, namespace: Option<&str>) -> Self {
        Page::List {
            kind: KindRoute::of(ty),
            namespace: namespace.map(str::to_string),
        }
    }

    pub fn detail(ty: &ResourceType, namespace: Option<&str>, name: &str) -> Self {
        Page::Detail {
            kind: KindRoute::of(ty),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    pub fn path(&self) -> String {
        let kind_path = |kind: &KindRoute, namespace: &Option<String>| {
            let KindRoute {
                group,
                version,
                resource,
            } = kind;
            match namespace.as_deref().map(namespace::scope) {
                Some(Some(ns)) => format!("/ns/{}/{group}/{version}/{resource}", encode(ns)),
                Some(None) => format!("/all/{group}/{version}/{resource}"),
                None => format!("/cluster/{group}/{version}/{resource}"),
            }
        };
        match self {
            Page::Overview => "/".to_string(),
            Page::List { kind, namespace } => kind_path(kind, namespace),
            Page::Detail {
                kind,
                namespace,
                name,
            } => format!("{}/{}", kind_path(kind, namespace), encode(name)),
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let session = provide_session_context();
    provide_console_contexts(session.is_active());
    let path = window().location().pathname().unwrap_or_default();
    let public = session::is_public_route(&path);
    if !public {
        session.start();
    }
    let active = move || matches!(session.state.get(), SessionState::Active(_));
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <A href=Page::Overview.path() attr:class="brand">"Kubernetes Console"</A>
                <Show when=move || active() && !public>
                    <NamespaceSwitcher />
                </Show>
                <span class="spacer"></span>
                <ThemeToggle />
                <UserMenu />
            </header>
            <div class="layout">
                <Show when=move || active() && !public>
                    <Sidebar />
                </Show>
                <main class="content" id="main">
                    <Routes fallback=NotFoundPage>
                        <Route path=path!("/auth/complete") view=AuthCompletePage />
                        <Route path=path!("/auth/error") view=AuthErrorPage />
                        <Route path=path!("/logged-out") view=LoggedOutPage />
                        <Route path=path!("/") view=|| view! { <Protected><OverviewPage /></Protected> } />
                        <Route
                            path=path!("/ns/:namespace/:group/:version/:resource")
                            view=|| view! { <Protected><ListPage /></Protected> }
                        />
                        <Route
                            path=path!("/ns/:namespace/:group/:version/:resource/:name")
                            view=|| view! { <Protected><DetailPage /></Protected> }
                        />
                        <Route
                            path=path!("/all/:group/:version/:resource")
                            view=|| view! { <Protected><ListPage /></Protected> }
                        />
                        <Route
                            path=path!("/cluster/:group/:version/:resource")
                            view=|| view! { <Protected><ListPage /></Protected> }
                        />
                        <Route
                            path=path!("/cluster/:group/:version/:resource/:name")
                            view=|| view! { <Protected><DetailPage /></Protected> }
                        />
                    </Routes>
                </main>
            </div>
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
        SessionState::Unavailable(error) => view! {
            <h1>"The console is temporarily unavailable"</h1>
            <p class="error" role="alert" data-testid="session-unavailable">{error.describe()}</p>
            <p class="loading">"Trying again by itself…"</p>
        }
        .into_any(),
        SessionState::Failed(error) => {
            // A refused session is retried with a login; anything else with a fresh start.
            let log_in = error.is_session_ended();
            view! {
                <h1>"The console cannot confirm your session"</h1>
                <p class="error" role="alert" data-testid="session-error">{error.describe()}</p>
                <button
                    type="button"
                    data-testid="session-try-again"
                    on:click=move |_| {
                        if log_in {
                            session::log_in(&session::current_route());
                        } else {
                            let _ = window().location().reload();
                        }
                    }
                >
                    "Try again"
                </button>
            }
            .into_any()
        }
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

/// Contexts every console page relies on, created once per tab.
fn provide_console_contexts(active: Memo<bool>) {
    provide_namespace_context(active);
    provide_discovery_context(active);
}
