//! Delete (with confirmation) and scale. Shown only when permitted; a 403 from the apiserver
//! is still shown plainly if it comes.

use gloo_net::http::Method;
use leptos::prelude::*;
use serde_json::json;

use shared::{AccessCheck, ApiError, ErrorCode};

use crate::{
    api,
    kube::{ResourceType, client},
    permissions::Permissions,
};

/// The checks behind a view's action controls, asked for in the view's one permission request:
/// a list offers Create, an object Edit, Delete and (some kinds) Scale. Only what the view can
/// offer is asked, so "why are some actions missing?" names only actions of this view.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionChecks {
    create: Option<AccessCheck>,
    update: Option<AccessCheck>,
    delete: Option<AccessCheck>,
    /// Only for kinds with a scale subresource the console scales.
    scale: Option<AccessCheck>,
    /// The verbs discovery says the kind serves: RBAC cannot allow what the kind has not.
    served: ResourceType,
}

/// Which action controls a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowedActions {
    pub create: bool,
    pub update: bool,
    pub delete: bool,
    pub scale: bool,
}

impl ActionChecks {
    /// A list's: Create.
    pub fn for_list(ty: &ResourceType, namespace: Option<&str>) -> Self {
        ActionChecks {
            create: Some(AccessCheck::new(
                "create",
                &ty.group,
                &ty.resource,
                namespace,
            )),
            update: None,
            delete: None,
            scale: None,
            served: ty.clone(),
        }
    }

    /// An object's: Edit, Delete and, for kinds the console scales, Scale.
    pub fn for_object(ty: &ResourceType, namespace: Option<&str>) -> Self {
        let check = |verb| AccessCheck::new(verb, &ty.group, &ty.resource, namespace);
        ActionChecks {
            create: None,
            update: Some(check("update")),
            delete: Some(check("delete")),
            scale: ty
                .scalable()
                .then(|| check("update").with_subresource("scale")),
            served: ty.clone(),
        }
    }

    pub fn all(&self) -> Vec<AccessCheck> {
        [&self.create, &self.update, &self.delete, &self.scale]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    pub fn allowed(&self, permissions: &Permissions) -> AllowedActions {
        let may = |check: &Option<AccessCheck>| {
            check
                .as_ref()
                .is_some_and(|c| self.served.supports(&c.verb) && permissions.allows(c))
        };
        AllowedActions {
            create: may(&self.create),
            update: may(&self.update),
            delete: may(&self.delete),
            // The scale subresource's verbs are not in the kind's discovery entry.
            scale: self.scale.as_ref().is_some_and(|c| permissions.allows(c)),
        }
    }
}

#[component]
pub fn DeleteButton(
    ty: ResourceType,
    namespace: Option<String>,
    name: String,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let path = ty.object_path(namespace.as_deref(), &name);
    let question = format!(
        "Delete {} {name}? This cannot be undone.",
        ty.kind.to_lowercase()
    );
    let delete = Action::new_unsync(move |_: &()| {
        let path = path.clone();
        async move {
            client::delete(&path).await?;
            Ok::<_, api::Error>(())
        }
    });
    let busy = delete.pending();
    let outcome = delete.value();
    // Leaving the page once the Action has settled: done inside its future, it would dispose what
    // the Action still updates.
    Effect::new(move |_| {
        if let Some(Ok(())) = outcome.get() {
            confirming.set(false);
            on_deleted.run(());
        }
    });
    let error = move || outcome.get().and_then(Result::err);
    view! {
        <button type="button" class="danger" data-testid="delete" on:click=move |_| confirming.set(true)>"Delete"</button>
        <Show when=move || confirming.get()>
            <div class="confirm" role="alertdialog" aria-label="Confirm deletion" data-testid="confirm-delete">
                <p>{question.clone()}</p>
                <button type="button" class="danger" data-testid="confirm-delete-button" on:click=move |_| { delete.dispatch(()); }
                    disabled=move || busy.get()>"Yes, delete"</button>
                <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
            </div>
        </Show>
        {move || error().map(|error| view! { <p class="error" role="alert">{error.describe()}</p> })}
    }
}

#[component]
pub fn ScaleControl(
    ty: ResourceType,
    namespace: Option<String>,
    name: String,
    /// The object's replicas as they are now: shown until the user types another number.
    replicas: Signal<i64>,
) -> impl IntoView {
    let typed = RwSignal::new(None::<String>);
    let wanted = move || typed.get().unwrap_or_else(|| replicas.get().to_string());
    let path = format!("{}/scale", ty.object_path(namespace.as_deref(), &name));
    // Every mutation's Action has the same input and output types: one copy of Action's code
    // in the app.
    let scale = Action::new_unsync(move |_: &()| {
        let path = path.clone();
        let wanted = typed
            .get_untracked()
            .unwrap_or_else(|| replicas.get_untracked().to_string());
        async move {
            let Ok(count) = wanted.trim().parse::<u32>() else {
                return Err(api::Error::Console(ApiError::new(
                    ErrorCode::BadRequest,
                    "Replicas must be a whole number, 0 or more.",
                )));
            };
            let patch = json!({"spec": {"replicas": count}});
            client::send_json(Method::PATCH, &path, "application/merge-patch+json", &patch).await?;
            // Follow the object again (the watch brings the new count).
            typed.set(None);
            Ok(())
        }
    });
    let busy = scale.pending();
    let outcome = scale.value();
    // The last attempt's refusal; none while another is under way.
    let error = move || match outcome.get() {
        Some(Err(error)) if !busy.get() => Some(error.describe()),
        _ => None,
    };
    view! {
        <span class="scale">
            <label>
                "Replicas "
                <input type="number" min="0" data-testid="replicas" prop:value=wanted
                    on:input=move |ev| typed.set(Some(event_target_value(&ev))) />
            </label>
            <button type="button" data-testid="scale" on:click=move |_| { scale.dispatch(()); }>"Scale"</button>
        </span>
        {move || error().map(|message| view! { <p class="error" role="alert">{message}</p> })}
    }
}
