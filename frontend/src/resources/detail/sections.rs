//! The sections an object's page draws from the object itself, in the order its kind lists
//! them in the kinds registry (`crate::kinds`): the one place a `Section` becomes a view.

use leptos::prelude::*;
use serde_json::Value;

use super::{metadata, secret_data, spec, status, yaml};
use crate::{
    kinds::{self, Section},
    kube::ResourceType,
};

/// The object as the sections get it.
#[derive(Clone)]
pub struct Shown {
    pub namespace: Option<String>,
    /// As shown until the user reveals its values (masked for kinds that hide them).
    pub object: Value,
    /// As the apiserver sent it.
    pub full: Value,
    pub hides_values: bool,
    pub revealed: RwSignal<bool>,
}

impl Shown {
    pub fn text(&self, pointer: &str) -> String {
        self.object
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    }
}

#[component]
pub fn ObjectSections(
    ty: ResourceType,
    namespace: Option<String>,
    object: Value,
    revealed: RwSignal<bool>,
) -> impl IntoView {
    let kind = kinds::spec_of(&ty);
    let hides_values = kind.hides_values();
    let shown = Shown {
        namespace,
        object: if hides_values {
            secret_data::masked(&object)
        } else {
            object.clone()
        },
        full: object,
        hides_values,
        revealed,
    };
    kind.sections
        .iter()
        .map(|section| match section {
            Section::Metadata => metadata::view(&shown),
            Section::SecretData => secret_data::view(&shown),
            Section::Spec => spec::view(&shown),
            Section::Status => status::view(&shown),
            Section::Yaml => yaml::view(&shown),
        })
        .collect_view()
}
