//! What the user may do in the current view, asked of the BFF in one request per view. Hiding a
//! control is a convenience: the apiserver still decides, and its 403 is shown if it comes.

use leptos::prelude::*;
use shared::{AccessCheck, AccessDecision, AccessQuery};

use crate::api;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Permissions {
    entries: Vec<(AccessCheck, AccessDecision)>,
}

impl Permissions {
    pub fn allows(&self, check: &AccessCheck) -> bool {
        self.entries
            .iter()
            .any(|(c, decision)| c == check && decision.allowed)
    }

    /// Why each refused action is refused, for the "why can't I…" disclosure.
    pub fn refusals(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(_, decision)| !decision.allowed)
            .map(|(_, decision)| decision.reason.clone())
            .collect()
    }
}

pub async fn check(checks: Vec<AccessCheck>) -> Result<Permissions, api::Error> {
    if checks.is_empty() {
        return Ok(Permissions::default());
    }
    let answer = api::permissions(&AccessQuery {
        checks: checks.clone(),
    })
    .await?;
    Ok(Permissions {
        entries: checks.into_iter().zip(answer.decisions).collect(),
    })
}

/// The permissions for the checks `checks` computes, refetched when its inputs change.
pub fn permissions_for(
    checks: impl Fn() -> Vec<AccessCheck> + 'static,
) -> LocalResource<Result<Permissions, api::Error>> {
    LocalResource::new(move || check(checks()))
}

/// Lists what the user may not do here, and why: hidden controls are never a mystery.
#[component]
pub fn WhyHidden(permissions: Permissions) -> impl IntoView {
    let refusals = permissions.refusals();
    (!refusals.is_empty()).then(|| {
        view! {
            <details class="why-hidden" data-testid="why-hidden">
                <summary>"Why are some actions missing?"</summary>
                <ul>
                    {refusals.into_iter().map(|reason| view! { <li>{reason}</li> }).collect_view()}
                </ul>
            </details>
        }
    })
}
