//! The app's frame (top bar, sidebar, main), its contexts and its route table. The paths belong
//! to `Page` (`crate::page`); the pages behind the login share one layout, `Protected`.

use leptos::prelude::*;
use leptos_router::{
    Lazy,
    components::{A, Outlet, ParentRoute, Route, Router, Routes},
    path,
};

use crate::{
    kube::discovery::provide_discovery_context,
    layout::{
        namespace::{NamespaceSwitcher, provide_namespace_context},
        sidebar::Sidebar,
        theme::ThemeToggle,
    },
    logs::LogsRoute,
    overview::OverviewPage,
    page::{Page, patterns},
    pages::{
        auth_complete_page::AuthCompletePage, auth_error_page::AuthErrorPage,
        logged_out_page::LoggedOutPage, not_found_page::NotFoundPage,
    },
    resources::{detail::DetailRoute, list_page::ListRoute},
    session::{self, SessionState, expect_session, provide_session_context},
    terminal::TerminalRoute,
};

#[component]
pub fn App() -> impl IntoView {
    let session = provide_session_context();
    provide_console_contexts(session.is_active());
    let path = window().location().pathname().unwrap_or_default();
    let public = Page::needs_no_session(&path);
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
                        <Route path=patterns::login_complete() view=AuthCompletePage />
                        <Route path=patterns::login_failed() view=AuthErrorPage />
                        <Route path=patterns::logged_out() view=LoggedOutPage />
                        <ParentRoute path=path!("") view=Protected>
                            <Route path=path!("/") view=OverviewPage />
                            <Route path=patterns::list_in_namespace() view={Lazy::<ListRoute>::new()} />
                            <Route path=patterns::detail_in_namespace() view={Lazy::<DetailRoute>::new()} />
                            <Route path=patterns::logs_in_namespace() view={Lazy::<LogsRoute>::new()} />
                            <Route path=patterns::list_in_all_namespaces() view={Lazy::<ListRoute>::new()} />
                            <Route path=patterns::list_in_cluster() view={Lazy::<ListRoute>::new()} />
                            <Route path=patterns::detail_in_cluster() view={Lazy::<DetailRoute>::new()} />
                            <Route path=patterns::terminal() view={Lazy::<TerminalRoute>::new()} />
                            <Route path=patterns::terminal_in_container() view={Lazy::<TerminalRoute>::new()} />
                        </ParentRoute>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

/// The layout of every page behind the login: shows the page once the session is confirmed; a
/// failure to confirm is an error, not a logout.
#[component]
fn Protected() -> impl IntoView {
    let session = expect_session();
    move || match session.state.get() {
        SessionState::Checking => {
            view! { <p class="loading">"Checking your session…"</p> }.into_any()
        }
        SessionState::Active(_) => view! { <Outlet /> }.into_any(),
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
