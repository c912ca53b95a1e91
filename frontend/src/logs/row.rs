//! One log line as the view draws it: its origin (on a workload's lines), its timestamp (on
//! request), and its text in styled pieces with search matches marked. Every piece is a text
//! node: a line's content is never markup.

use std::sync::Arc;

use leptos::prelude::*;

use super::{
    buffer::LogLine,
    search::{Matcher, mark},
};

/// One of six tag colours, the same for a pod and container wherever it appears.
fn origin_class(pod: &str, container: &str) -> String {
    let hash = pod
        .bytes()
        .chain(container.bytes())
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    format!("log-origin o{}", hash % 6)
}

pub fn row(
    line: Arc<LogLine>,
    tagged: bool,
    show_time: bool,
    matcher: Option<&Matcher>,
) -> AnyView {
    let matches = matcher.map(|m| m.find(&line.text.text)).unwrap_or_default();
    let pieces = mark(&line.text.pieces(), &matches);
    let text = &line.text.text;
    let pieces = pieces
        .into_iter()
        .map(|(start, end, style, marked)| {
            let piece = text.get(start..end).unwrap_or_default().to_string();
            if !marked && style.is_plain() {
                return piece.into_any();
            }
            let (fg, bg) = style.inline_colors();
            let class = style.classes();
            if marked {
                view! { <mark class=class style:color=fg style:background-color=bg>{piece}</mark> }
                    .into_any()
            } else {
                view! { <span class=class style:color=fg style:background-color=bg>{piece}</span> }
                    .into_any()
            }
        })
        .collect_view();
    let origin = tagged.then(|| {
        let (pod, container) = (&line.origin.pod, &line.origin.container);
        view! { <span class=origin_class(pod, container) data-testid="log-origin">{format!("{pod}/{container}")}</span> }
    });
    let time = show_time.then(|| view! { <span class="log-time">{line.stamp.clone()}</span> });
    view! {
        <div class="log-line" data-testid="log-line" data-seq=line.seq.to_string()>
            {origin}{time}<span class="log-text">{pieces}</span>
        </div>
    }
    .into_any()
}
