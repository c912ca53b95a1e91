//! Create and edit as YAML. The text is checked here (syntax, kind, namespace), then by the
//! apiserver with a server-side dry run, and only then applied. Errors are listed next to the
//! text and marked on their line; the text is never lost when something fails.

use gloo_net::http::Method;
use leptos::prelude::*;
use serde_json::Value;

use crate::{
    api,
    kube::{ResourceType, client},
};

const YAML: &str = "application/yaml";

#[derive(Debug, Clone, PartialEq)]
pub enum EditTarget {
    Create {
        ty: ResourceType,
        namespace: Option<String>,
    },
    Edit {
        ty: ResourceType,
        namespace: Option<String>,
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct EditorError {
    /// 1-based line the error belongs to, when it can be placed.
    pub line: Option<usize>,
    pub message: String,
}

/// The line of a field path the apiserver names ("metadata.name", "spec.containers[0].image").
pub fn line_of_field(text: &str, field: &str) -> Option<usize> {
    let segments: Vec<&str> = field
        .split('.')
        .map(|s| s.split('[').next().unwrap_or(s))
        .filter(|s| !s.is_empty())
        .collect();
    let lines: Vec<&str> = text.lines().collect();
    let mut start = 0;
    let mut min_indent = 0;
    let mut found = None;
    for segment in segments {
        let hit = lines.iter().enumerate().skip(start).find(|(_, line)| {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let key = trimmed.trim_start_matches("- ");
            indent >= min_indent
                && (key.starts_with(&format!("{segment}:"))
                    || key.starts_with(&format!("\"{segment}\":")))
        });
        match hit {
            Some((index, line)) => {
                found = Some(index + 1);
                start = index + 1;
                min_indent = line.len() - line.trim_start().len() + 1;
            }
            None => break,
        }
    }
    found
}

/// The line a YAML syntax error names ("yaml: line 5: did not find expected key").
pub fn line_of_yaml_error(message: &str) -> Option<usize> {
    let rest = &message[message.find("line ")? + 5..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The apiserver's refusal, with each cause on its line where it can be placed.
pub fn errors_from(text: &str, error: &api::Error) -> Vec<EditorError> {
    let api::Error::Cluster(status) = error else {
        return vec![EditorError {
            line: None,
            message: error.describe(),
        }];
    };
    // The apiserver's YAML error quotes the body in hex after the reason: keep the reason only.
    if let Some(start) = status.message.find("yaml: ") {
        let reason = &status.message[start + 6..];
        let reason = reason.split(" (").next().unwrap_or(reason);
        return vec![EditorError {
            line: line_of_yaml_error(reason),
            message: format!("This is not valid YAML: {reason}"),
        }];
    }
    let mut errors = vec![EditorError {
        line: None,
        message: error.describe(),
    }];
    errors.extend(status.causes().iter().map(|cause| EditorError {
        line: line_of_field(text, &cause.field),
        message: if cause.field.is_empty() {
            cause.message.clone()
        } else {
            format!("{}: {}", cause.field, cause.message)
        },
    }));
    errors
}

/// Sends the text as YAML: the apiserver parses it (the app carries no YAML parser, which keeps
/// its first load small) and says where a syntax error is.
async fn apply(target: &EditTarget, manifest: &str, dry_run: bool) -> Result<Value, api::Error> {
    let query = if dry_run {
        "?fieldManager=kube-console&dryRun=All"
    } else {
        "?fieldManager=kube-console"
    };
    match target {
        EditTarget::Create { ty, namespace } => {
            let path = format!("{}{query}", ty.collection_path(namespace.as_deref()));
            client::send_text(Method::POST, &path, YAML, manifest).await
        }
        EditTarget::Edit {
            ty,
            namespace,
            name,
        } => {
            let path = format!("{}{query}", ty.object_path(namespace.as_deref(), name));
            client::send_text(Method::PUT, &path, YAML, manifest).await
        }
    }
}

#[component]
pub fn YamlEditor(
    target: EditTarget,
    initial: String,
    on_done: Callback<Value>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let text = RwSignal::new(initial);
    let textarea = NodeRef::<leptos::html::Textarea>::new();
    let gutter = NodeRef::<leptos::html::Pre>::new();
    let (verb, label) = match &target {
        EditTarget::Create { ty, .. } => ("Create", format!("New {} (YAML)", ty.kind)),
        EditTarget::Edit { name, .. } => ("Save", format!("{name} (YAML)")),
    };
    let section_label = label.clone();
    // What the submission is doing while it runs: a dry run first, then the real thing.
    let stage = RwSignal::new("");
    // The object the cluster stored, handed to `on_done` once the submission has settled: done
    // inside the Action's future, closing the editor would dispose what the Action still updates.
    let applied = RwSignal::new(None::<Value>);
    let submit = Action::new_unsync(move |_: &()| {
        let (target, source) = (target.clone(), text.get_untracked());
        async move {
            if source.trim().is_empty() {
                return Err(vec![EditorError {
                    line: Some(1),
                    message: "The manifest is empty.".into(),
                }]);
            }
            stage.set("Checking with the cluster (dry run)…");
            apply(&target, &source, true)
                .await
                .map_err(|error| errors_from(&source, &error))?;
            stage.set("Applying…");
            let stored = apply(&target, &source, false)
                .await
                .map_err(|error| errors_from(&source, &error))?;
            applied.set(Some(stored));
            Ok(())
        }
    });
    Effect::new(move |_| {
        if let Some(stored) = applied.get() {
            on_done.run(stored);
        }
    });
    let busy = submit.pending();
    // The last submission's errors; none while another is under way.
    let outcome = submit.value();
    let errors = Memo::new(move |_| match outcome.get() {
        Some(Err(errors)) if !busy.get() => errors,
        _ => Vec::new(),
    });
    let go_to_line = move |line: usize| {
        let Some(area) = textarea.get_untracked() else {
            return;
        };
        let source = text.get_untracked();
        let start: usize = source
            .lines()
            .take(line.saturating_sub(1))
            .map(|l| l.len() + 1)
            .sum();
        let end = start
            + source
                .lines()
                .nth(line.saturating_sub(1))
                .map_or(0, str::len);
        let _ = area.focus();
        let _ = area.set_selection_range(start as u32, end as u32);
    };
    let sync_gutter = move |_| {
        if let (Some(area), Some(gutter)) = (textarea.get_untracked(), gutter.get_untracked()) {
            gutter.set_scroll_top(area.scroll_top());
        }
    };
    let gutter_lines = move || {
        let marked: Vec<usize> = errors.with(|e| e.iter().filter_map(|e| e.line).collect());
        let count = text.with(|t| t.lines().count().max(1));
        (1..=count)
            .map(|line| {
                let bad = marked.contains(&line);
                view! { <span class:bad=bad>{if bad { format!("● {line}\n") } else { format!("{line}\n") }}</span> }
            })
            .collect_view()
    };
    view! {
        <section class="editor" aria-label=section_label>
            <div class="editor-body">
                <pre class="gutter" aria-hidden="true" node_ref=gutter>{gutter_lines}</pre>
                <textarea node_ref=textarea data-testid="yaml-editor" aria-label=label spellcheck="false"
                    rows="18" prop:value=move || text.get()
                    on:input=move |ev| text.set(event_target_value(&ev))
                    on:scroll=sync_gutter
                    aria-invalid=move || (!errors.with(Vec::is_empty)).to_string()></textarea>
            </div>
            {move || {
                let list = errors.get();
                (!list.is_empty()).then(|| view! {
                    <ul class="editor-errors" role="alert" data-testid="editor-errors">
                        {list.into_iter().map(|error| match error.line {
                            Some(line) => view! {
                                <li>
                                    <button type="button" class="link" on:click=move |_| go_to_line(line)>
                                        {format!("Line {line}")}
                                    </button>
                                    ": " {error.message}
                                </li>
                            }.into_any(),
                            None => view! { <li>{error.message}</li> }.into_any(),
                        }).collect_view()}
                    </ul>
                })
            }}
            <div class="editor-actions">
                <button type="button" data-testid="editor-apply" on:click=move |_| { submit.dispatch(()); }
                    disabled=move || busy.get()>{verb}</button>
                <button type="button" class="secondary" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                {move || busy.get().then(|| view! { <span class="loading" aria-live="polite">{stage.get()}</span> })}
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n  labels:\n    name: x\ndata:\n  key: value\n";

    #[test]
    fn fields_the_apiserver_names_find_their_line() {
        assert_eq!(line_of_field(MANIFEST, "metadata.name"), Some(4));
        assert_eq!(line_of_field(MANIFEST, "metadata.labels.name"), Some(6));
        assert_eq!(line_of_field(MANIFEST, "data[key]"), Some(7));
        assert_eq!(line_of_field(MANIFEST, "kind"), Some(2));
        assert_eq!(line_of_field(MANIFEST, "spec.replicas"), None);
    }

    #[test]
    fn yaml_syntax_errors_name_their_line() {
        let message =
            "error converting YAML to JSON: yaml: line 5: did not find expected ',' or ']'";
        assert_eq!(line_of_yaml_error(message), Some(5));
        assert_eq!(line_of_yaml_error("no line here"), None);
        let refused = api::Error::Cluster(Box::new(shared::Status {
            code: 400,
            reason: "BadRequest".into(),
            message: format!(
                "the object provided is unrecognized (must be of type ConfigMap): {message} (6170)"
            ),
            ..Default::default()
        }));
        let errors = errors_from("", &refused);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, Some(5));
        assert_eq!(
            errors[0].message,
            "This is not valid YAML: line 5: did not find expected ',' or ']'"
        );
    }
}
