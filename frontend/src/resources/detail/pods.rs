//! The pods a workload or Service selects.

use leptos::prelude::*;
use leptos_router::components::A;
use serde_json::Value;

use crate::{
    kube::{
        ResourceType,
        reflector::{self, Mode, Phase, Source},
        resource_type::encode,
    },
    page::Page,
};

/// The pods a selector matches, kept current by their own watch.
#[component]
pub fn SelectedPods(namespace: String, selector: String) -> impl IntoView {
    let state = reflector::reflect(Source {
        path: format!("/api/v1/namespaces/{}/pods", encode(&namespace)),
        query: format!("labelSelector={}", encode(&selector)),
        mode: Mode::Objects,
    });
    let pods_ty = ResourceType {
        group: String::new(),
        version: "v1".into(),
        resource: "pods".into(),
        kind: "Pod".into(),
        namespaced: true,
        verbs: vec![],
        subresources: vec![],
    };
    move || match state.with(|s| s.phase.clone()) {
        Phase::Failed(error) => {
            view! { <p class="muted">{format!("Pods: {}", error.describe())}</p> }.into_any()
        }
        _ => {
            let mut pods: Vec<(String, String)> = state.with(|s| {
                s.items
                    .values()
                    .map(|p| {
                        (
                            p.name.clone(),
                            p.object
                                .pointer("/status/phase")
                                .and_then(Value::as_str)
                                .unwrap_or("Pending")
                                .to_string(),
                        )
                    })
                    .collect()
            });
            pods.sort();
            if pods.is_empty() {
                view! { <p class="muted">{format!("No pods match {selector}.")}</p> }.into_any()
            } else {
                view! {
                    <ul class="related">
                        {pods.into_iter().map(|(name, phase)| {
                            let href = Page::detail(&pods_ty, Some(&namespace), &name).path();
                            view! { <li>"Pod " <A href=href>{name}</A> " " <span class="muted">{phase}</span></li> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }
        }
    }
}
