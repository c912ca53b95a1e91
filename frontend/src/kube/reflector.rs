//! List-then-watch: the app's copy of a collection that stays current without polling.
//!
//! The list is read in pages (limit/continue) so the first rows show before the rest arrive; a
//! watch from the list's resourceVersion then applies each change. A closed or dropped watch
//! resumes from the last resourceVersion seen (bookmarks included), and a 410 Gone starts a fresh
//! list that replaces the old one when complete, so nothing deleted meanwhile lingers and nothing
//! is lost. `state` holds the loop's states and steps; `store` the copy and how it changes.

mod state;
mod store;

use leptos::{prelude::*, task::spawn_local};
use web_sys::{AbortController, AbortSignal};

use self::state::{Health, State, step};
pub use self::store::{Column, Item, Phase, ReflectorState};
use super::client;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Rows of the apiserver's Table output (kubectl's columns), with object metadata.
    Table,
    /// Whole objects.
    Objects,
}

/// What to list and watch.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    /// The collection's API path, without a query.
    pub path: String,
    /// Extra query (already encoded), e.g. `fieldSelector=metadata.name%3Dweb`.
    pub query: String,
    pub mode: Mode,
}

impl Source {
    fn accept(&self) -> &'static str {
        match self.mode {
            Mode::Table => client::TABLE,
            Mode::Objects => client::JSON,
        }
    }

    fn url(&self, params: &str) -> String {
        if self.query.is_empty() {
            format!("{}?{params}", self.path)
        } else {
            format!("{}?{params}&{}", self.path, self.query)
        }
    }
}

/// The query that lists (and watches) the one object called `name`.
pub fn field_selector(name: &str) -> String {
    format!(
        "fieldSelector={}",
        super::resource_type::encode(&format!("metadata.name={name}"))
    )
}

/// Lists and watches the one object `name` of the collection at `path`: the object while it
/// exists, and how the watch stands.
pub fn reflect_one(path: String, name: &str) -> (Memo<Option<serde_json::Value>>, Memo<Phase>) {
    let state = reflect(Source {
        path,
        query: field_selector(name),
        mode: Mode::Objects,
    });
    let object = Memo::new(move |_| {
        state.with(|s| {
            s.items
                .values()
                .next()
                .map(|item: &std::sync::Arc<Item>| item.object.clone())
        })
    });
    (object, Memo::new(move |_| state.with(|s| s.phase.clone())))
}

/// Lists and watches `source` for as long as the calling view lives.
pub fn reflect(source: Source) -> ReadSignal<ReflectorState> {
    let store = RwSignal::new(ReflectorState::default());
    if let Ok(controller) = AbortController::new() {
        let signal = controller.signal();
        let controller = StoredValue::new_local(controller);
        on_cleanup(move || {
            let _ = controller.try_with_value(|c| c.abort());
        });
        spawn_local(run(source, store, signal));
    }
    store.read_only()
}

async fn run(source: Source, store: RwSignal<ReflectorState>, signal: AbortSignal) {
    let mut state = State::Empty;
    let mut failures = 0u32;
    while let Some((next, health)) = step(state, &source, store, &signal).await {
        match health {
            Health::Unchanged => {}
            Health::Good => failures = 0,
            Health::Failed => {
                failures += 1;
                if !retry_after(failures, &signal).await {
                    return;
                }
            }
        }
        state = next;
    }
}

/// Waits before trying again (1 s, 2 s, 4 s … up to 30 s); false when the view went away.
async fn retry_after(failures: u32, signal: &AbortSignal) -> bool {
    let delay = 1000 * 2i32.saturating_pow(failures.saturating_sub(1).min(5));
    crate::util::delay(delay.min(30_000)).await;
    !signal.aborted()
}
