//! "Open a terminal": a shell in a running container, in the browser. The session is a
//! WebSocket to the BFF (`connection`), which the apiserver runs as the user; the screen is
//! xterm.js (`xterm`, loaded on first use; `styles` makes it work under the app's CSP); the
//! protocol's frames are `channel`'s; `runtime` ties a terminal to its sessions. Beside it, the
//! `kubectl port-forward` command for the downloaded kubeconfig (`port_forward`).
//!
//! Offered only to users who may `create pods/exec` in the namespace; the apiserver still
//! decides.

mod channel;
mod connection;
mod port_forward;
mod runtime;
mod styles;
mod xterm;

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_location};
use serde_json::Value;
use shared::AccessCheck;

use crate::{
    api,
    kube::{ResourceType, client, resource_type::encode},
    kubeconfig,
    lazy_route::lazy_route,
    page::{KindRoute, Page},
    permissions::{Permissions, permissions_for},
};
use port_forward::{PortForwardCommand, declared_ports};
use runtime::{Runtime, Status, Target};

/// May the user open a terminal in `namespace`?
pub fn exec_check(namespace: &str) -> AccessCheck {
    AccessCheck::new("create", "", "pods", Some(namespace)).with_subresource("exec")
}

/// The pod page's link to its terminal, where the user may open one (`permissions` holds
/// `exec_check`'s answer: ask for it in the page's one permission request).
pub fn terminal_link(
    ty: &ResourceType,
    namespace: Option<&str>,
    name: &str,
    permissions: &Permissions,
) -> Option<impl IntoView + use<>> {
    let namespace = namespace.filter(|_| KindRoute::pods().matches(ty))?;
    permissions.allows(&exec_check(namespace)).then(|| {
        let page = Page::Terminal {
            namespace: namespace.to_string(),
            pod: name.to_string(),
            container: None,
        };
        view! { <A href=page.path() attr:class="button" attr:data-testid="open-terminal">"Terminal"</A> }
    })
}

lazy_route!(TerminalRoute, terminal_page, TerminalPage);

#[component]
pub fn TerminalPage() -> impl IntoView {
    let location = use_location();
    let target = Memo::new(
        move |_| match location.pathname.with(|path| Page::parse(path)) {
            Some(Page::Terminal {
                namespace,
                pod,
                container,
            }) => Some(Target {
                namespace,
                pod,
                container,
            }),
            _ => None,
        },
    );
    // A new target (another container) is a new terminal.
    move || {
        target
            .get()
            .map(|target| view! { <TerminalView target=target /> })
    }
}

#[component]
fn TerminalView(target: Target) -> impl IntoView {
    let Target {
        namespace,
        pod,
        container,
    } = target.clone();
    let pod_page = Page::Detail {
        kind: KindRoute::pods(),
        namespace: Some(namespace.clone()),
        name: pod.clone(),
    };
    let permissions = permissions_for({
        let namespace = namespace.clone();
        move || vec![exec_check(&namespace)]
    });
    let pod_object = LocalResource::new({
        let path = format!(
            "/api/v1/namespaces/{}/pods/{}",
            encode(&namespace),
            encode(&pod)
        );
        move || {
            let path = path.clone();
            async move { client::get::<Value>(&path, client::JSON).await }
        }
    });
    let config = LocalResource::new(api::console_config);
    let heading = match &container {
        Some(container) => format!("Terminal: pod {pod}, container {container}"),
        None => format!("Terminal: pod {pod}"),
    };

    let panel = {
        let (namespace, target) = (namespace.clone(), target.clone());
        move || {
            let (namespace, target) = (namespace.clone(), target.clone());
            Suspend::new(async move {
                match permissions.await {
                    Ok(p) if p.allows(&exec_check(&namespace)) => {
                        view! { <TerminalPanel target=target /> }.into_any()
                    }
                    Ok(_) => view! {
                        <p class="error" role="alert" data-testid="terminal-refused">
                            {format!("You may not open a terminal in namespace {namespace} (create pods/exec).")}
                        </p>
                    }
                    .into_any(),
                    Err(error) => view! { <p class="error" role="alert">{error.describe()}</p> }.into_any(),
                }
            })
        }
    };
    let containers = {
        let (namespace, pod) = (namespace.clone(), pod.clone());
        move || {
            let (namespace, pod, current) = (namespace.clone(), pod.clone(), container.clone());
            Suspend::new(async move {
                let object = pod_object.await.ok()?;
                let names: Vec<String> = object["spec"]["containers"]
                    .as_array()?
                    .iter()
                    .filter_map(|c| c["name"].as_str().map(str::to_string))
                    .collect();
                (names.len() > 1).then(|| {
                    view! {
                        <nav class="terminal-containers" aria-label="Containers">
                            {names.into_iter().map(|name| {
                                let page = Page::Terminal {
                                    namespace: namespace.clone(),
                                    pod: pod.clone(),
                                    container: Some(name.clone()),
                                };
                                let current = (current.as_deref() == Some(name.as_str())).then_some("page");
                                view! { <A href=page.path() attr:aria-current=current>{name}</A> }
                            }).collect_view()}
                        </nav>
                    }
                })
            })
        }
    };
    let port_forward = move || {
        let (namespace, pod) = (namespace.clone(), pod.clone());
        Suspend::new(async move {
            let ports = pod_object
                .await
                .map(|o| declared_ports(&o))
                .unwrap_or_default();
            let config = config.await.ok()?;
            let command =
                port_forward::command(&kubeconfig::file_name(&config), &namespace, &pod, &ports);
            Some(view! { <PortForwardCommand command=command /> })
        })
    };
    view! {
        <h1 data-testid="terminal-title">{heading}</h1>
        <p><A href=pod_page.path()>"Back to the pod"</A></p>
        <Suspense fallback=|| ()>{containers}</Suspense>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>{panel}</Suspense>
        <Suspense fallback=|| ()>{port_forward}</Suspense>
    }
}

#[component]
fn TerminalPanel(target: Target) -> impl IntoView {
    let host = NodeRef::<leptos::html::Div>::new();
    let status = RwSignal::new(Status::Loading);
    // Dropped (the session closed, the terminal disposed) with the view.
    let runtime = StoredValue::new_local(None::<Runtime>);
    Effect::new(move |started: Option<bool>| {
        if started == Some(true) {
            return true;
        }
        let Some(element) = host.get() else {
            return false;
        };
        let target = target.clone();
        leptos::task::spawn_local(async move {
            let started = match xterm::load().await {
                Ok(()) => Runtime::start(&element, target, status),
                Err(message) => Err(message),
            };
            match started {
                // A view already gone hands the terminal back, and it is dropped here.
                Ok(started) => drop(runtime.try_set_value(Some(started))),
                Err(message) => drop(status.try_set(Status::Failed(message))),
            }
        });
        true
    });
    let reconnect = move |_| {
        runtime.with_value(|runtime| {
            if let Some(runtime) = runtime {
                runtime.connect();
            }
        })
    };
    let status_text = move || match status.get() {
        Status::Loading => "Loading the terminal…".to_string(),
        Status::Connecting => "Connecting…".to_string(),
        Status::Connected(protocol) => format!("Connected ({protocol})"),
        Status::Ended(message) | Status::Failed(message) => message,
    };
    let over = move || matches!(status.get(), Status::Ended(_) | Status::Failed(_));
    view! {
        <div class="terminal-bar">
            <span role="status" data-testid="terminal-status" class:error=move || matches!(status.get(), Status::Failed(_))>
                {status_text}
            </span>
            <Show when=over>
                <button type="button" data-testid="terminal-reconnect" on:click=reconnect>"Reconnect"</button>
            </Show>
            <span class="muted terminal-keys">"Copy: select, then Ctrl+Shift+C. Paste: Ctrl+Shift+V."</span>
        </div>
        <div class="terminal-host" node_ref=host data-testid="terminal"></div>
    }
}
