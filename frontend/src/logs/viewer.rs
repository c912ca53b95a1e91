//! The lines and their toolbar: follow (on by default; scrolling up pauses, "Resume (N new
//! lines)" or scrolling to the end follows again), timestamps, wrapping, search (plain text,
//! or a regular expression on request; matches marked, or only matching lines shown), and
//! download. Counters for tests and the benchmark are data attributes of the view.

use std::sync::Arc;

use leptos::{html, prelude::*};

use crate::keyed_rows::KeyedRows;

use super::{
    buffer::{Change, LogLine},
    download,
    feed::{CAPACITY, Feed},
    row::row,
    search::Query,
    streams::{StreamState, Streams},
    window::{ROW, window},
};

/// The app's memory (for the benchmark: the lines held live there, not in the JS heap).
fn wasm_memory_bytes() -> u32 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|m| m.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |b| b.byte_length())
}

/// Characters the tag and timestamp take before the text (for the wrapped rows' estimate).
const TAG_CHARS: usize = 24;
const TIME_CHARS: usize = 31;

#[component]
pub fn LogViewer(
    feed: Feed,
    streams: Streams,
    /// Lines from several containers: each shows its pod and container.
    tagged: bool,
    /// The download's name, before `.log`.
    file_name: String,
    /// Choices drawn before the view's own (the container).
    #[prop(into)]
    toolbar: ViewFn,
) -> impl IntoView {
    let show_time = RwSignal::new(false);
    let wrap = RwSignal::new(false);
    let search = RwSignal::new(String::new());
    let regex = RwSignal::new(false);
    let only_matching = RwSignal::new(false);
    let query = Memo::new(move |_| Query {
        text: search.get(),
        regex: regex.get(),
    });
    let search_error = Memo::new(move |_| query.with(|q| q.compile().err()));
    let filtering = Memo::new(move |_| {
        only_matching.get() && search_error.get().is_none() && query.with(|q| !q.text.is_empty())
    });

    // The matching lines, kept up to date with each frame's new lines.
    let matching = StoredValue::new(Vec::<Arc<LogLine>>::new());
    let matching_version = RwSignal::new(0u64);
    Effect::new(move |before: Option<(Query, u64, bool)>| {
        let (version, q, on) = (feed.version.get(), query.get(), filtering.get());
        if on && let Ok(Some(matcher)) = q.compile() {
            let incremental = before
                .as_ref()
                .is_some_and(|(bq, bv, bon)| *bon && *bq == q && bv + 1 == version);
            feed.with_shown(|shown, (change, _)| {
                matching.update_value(|m| match change {
                    Change::Appended(n) if incremental => {
                        let from = shown.len().saturating_sub(n);
                        m.extend(
                            (from..shown.len())
                                .filter_map(|i| shown.get(i))
                                .filter(|l| matcher.is_match(&l.text.text))
                                .cloned(),
                        );
                        // Lines the buffer dropped leave the matches too.
                        let oldest = shown.get(0).map(|l| (l.time, l.seq));
                        let gone = m
                            .iter()
                            .take_while(|l| Some((l.time, l.seq)) < oldest)
                            .count();
                        m.drain(..gone);
                    }
                    _ => {
                        *m = shown
                            .iter()
                            .filter(|l| matcher.is_match(&l.text.text))
                            .cloned()
                            .collect()
                    }
                })
            });
        } else {
            matching.update_value(Vec::clear);
        }
        matching_version.update(|v| *v += 1);
        (q, version, on)
    });

    let scroller = NodeRef::<html::Div>::new();
    let probe = NodeRef::<html::Span>::new();
    let scroll_top = RwSignal::new(0usize);
    let viewport = RwSignal::new(600usize);
    let columns = RwSignal::new(100usize);
    let measure = move || {
        if let (Some(el), Some(probe)) = (scroller.get_untracked(), probe.get_untracked()) {
            viewport.set(el.client_height().max(0) as usize);
            // The probe holds 100 characters of the log's font.
            let char_width = (probe.scroll_width().max(100) as usize).div_ceil(100);
            columns.set((el.client_width().max(0) as usize / char_width).max(10));
        }
    };
    Effect::new(move |_| {
        wrap.track();
        measure();
    });
    let win = Memo::new(move |_| {
        feed.version.track();
        matching_version.track();
        let wrap = wrap.get().then(|| {
            let extra =
                if tagged { TAG_CHARS } else { 0 } + if show_time.get() { TIME_CHARS } else { 0 };
            (columns.get(), extra)
        });
        let (top, height) = (scroll_top.get(), viewport.get());
        if filtering.get() {
            matching.with_value(|m| window(m, wrap, top, height))
        } else {
            feed.with_shown(|shown, _| window(shown, wrap, top, height))
                .unwrap_or_default()
        }
    });
    // Following: the end stays in view as lines arrive.
    Effect::new(move |_| {
        win.track();
        if !feed.paused.get()
            && let Some(el) = scroller.get()
        {
            el.set_scroll_top(el.scroll_height());
        }
    });
    let last_top = StoredValue::new(0i32);
    let on_scroll = move |_| {
        let Some(el) = scroller.get_untracked() else {
            return;
        };
        let top = el.scroll_top();
        let at_end = top + el.client_height() + ROW as i32 >= el.scroll_height();
        let down = top > last_top.get_value();
        last_top.set_value(top);
        // Only the user's input pauses (below). A scroll position is no sign of intent: the
        // browser moves it when the lines shrink under it (older ones dropped, a wrap, a
        // filter), and pausing on that stopped following under a fast log. Reaching the end
        // by moving down is, since the lines do not change while paused.
        if down && at_end && feed.paused.get_untracked() {
            feed.resume();
        }
        scroll_top.set(top.max(0) as usize);
        measure();
    };

    // The user's intent is read from the input itself (wheel up, keys up, a press in the view,
    // such as on its scroll bar or to select text, a touch), never from where the view is: a
    // frame that scrolls to the end can come between the user's scroll and its event.
    let pause = move || {
        if !feed.paused.get_untracked() {
            feed.paused.set(true);
        }
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        if ev.delta_y() < 0.0 {
            pause();
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if matches!(ev.key().as_str(), "ArrowUp" | "PageUp" | "Home") {
            pause();
        }
    };
    let rows = move || {
        let (time, q) = (show_time.get(), query.get());
        win.get()
            .lines
            .into_iter()
            .map(move |l| (time, q.clone(), l))
            .collect::<Vec<_>>()
    };
    let draw = move |(time, q, line): (bool, Query, Arc<LogLine>)| {
        let matcher = q.compile().ok().flatten();
        row(line, tagged, time, matcher.as_ref())
    };
    let follow_button = move || {
        if feed.paused.get() {
            let unseen = feed.unseen.get();
            view! {
                <button type="button" data-testid="log-resume" on:click=move |_| feed.resume()>
                    {format!("Resume ({unseen} new lines)")}
                </button>
            }
            .into_any()
        } else {
            view! {
                <button type="button" class="secondary" data-testid="log-pause" on:click=move |_| feed.paused.set(true)>
                    "Pause"
                </button>
            }
            .into_any()
        }
    };
    let stream_notes = move || {
        streams.states.get().into_iter().filter_map(|(key, state)| {
            let who = if tagged { format!("{}/{}: ", key.pod, key.container) } else { String::new() };
            match state {
                StreamState::Failed(message) => Some(view! { <p class="error" role="alert" data-testid="log-error">{who}{message}</p> }.into_any()),
                StreamState::Ended if !key.previous => Some(view! { <p class="muted" data-testid="log-ended">{who}"The container stopped: its log ends here."</p> }.into_any()),
                StreamState::Connecting => Some(view! { <p class="loading">{who}"Opening the log…"</p> }.into_any()),
                _ => None,
            }
        }).collect_view()
    };
    let dropped = move || {
        let dropped = feed.dropped.get();
        (dropped > 0).then(|| view! {
            <p class="muted" data-testid="log-dropped">
                {format!("{dropped} older lines dropped: the view holds the latest {CAPACITY}. Download has the whole log.")}
            </p>
        })
    };
    let checkbox = |label: &'static str, testid: &'static str, signal: RwSignal<bool>| {
        view! {
            <label><input type="checkbox" data-testid=testid prop:checked=move || signal.get()
                on:change=move |ev| signal.set(event_target_checked(&ev)) />" " {label}</label>
        }
    };

    view! {
        <div class="toolbar log-toolbar" data-testid="log-toolbar">
            {move || toolbar.run()}
            {follow_button}
            {checkbox("Timestamps", "log-timestamps", show_time)}
            {checkbox("Wrap lines", "log-wrap", wrap)}
            <download::DownloadButton streams=streams file_name=file_name />
        </div>
        <div class="toolbar log-search">
            <input type="search" placeholder="Search (ignores case)" aria-label="Search the log" data-testid="log-search"
                prop:value=move || search.get() on:input=move |ev| search.set(event_target_value(&ev)) />
            {checkbox("Regular expression", "log-regex", regex)}
            {checkbox("Only matching lines", "log-only-matching", only_matching)}
            {move || search_error.get().map(|e| view! {
                <span class="error" role="alert" data-testid="log-search-error">{format!("Not a valid regular expression: {e}")}</span>
            })}
        </div>
        {stream_notes}
        {dropped}
        <div class="log-view" class:wrap=move || wrap.get() node_ref=scroller tabindex="0" role="region"
            aria-label="Log lines" data-testid="log-view" on:scroll=on_scroll
            on:wheel=on_wheel on:keydown=on_key on:mousedown=move |_| pause() on:touchstart=move |_| pause()
            data-received=move || feed.received.get().to_string()
            data-shown=move || win.with(|w| w.total).to_string()
            data-dropped=move || feed.dropped.get().to_string()
            data-following=move || (!feed.paused.get()).to_string()
            data-wasm-bytes=move || { feed.received.track(); wasm_memory_bytes().to_string() }>
            <span class="log-probe" aria-hidden="true" node_ref=probe>{"0".repeat(100)}</span>
            <div aria-hidden="true" style:height=move || format!("{}px", win.with(|w| w.above))></div>
            <KeyedRows each=rows key=|(time, q, line)| (line.seq, *time, q.clone()) children=draw />
            <div aria-hidden="true" style:height=move || format!("{}px", win.with(|w| w.below))></div>
            {move || (win.with(|w| w.total) == 0).then(|| view! { <p class="muted log-empty">"No lines (yet)."</p> })}
        </div>
    }
}
