//! The list-then-watch loop as a state machine, after kube-runtime's `watcher`: each `step`
//! does one request (a list page, or one watch connection) and names the state that follows.
//! kube-runtime's `Watching` is the inside of a step here: one connection's events are applied
//! as they arrive, and when it ends the loop is `InitListed` again (or `Empty` after a 410).

use leptos::prelude::*;
use serde_json::Value;
use web_sys::AbortSignal;

use super::{
    Source,
    store::{EventOutcome, Phase, ReflectorState},
};
use crate::kube::{
    client,
    resource_type::encode,
    stream::{self, StreamEnd},
};

/// The first page is small so that rows show at once; later pages are larger to cut round trips.
const FIRST_PAGE: u32 = 250;
const PAGE: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Nothing listed, or the list has to start again (first run, 410 Gone, a failed list).
    Empty,
    /// Some pages are in; the next one follows this continue token.
    InitPage { continue_token: String },
    /// Listed completely: watch (again) from the last resourceVersion seen.
    InitListed,
}

/// How a step went, for the backoff between failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Neither a success nor a failure (a page with more to come, a 410).
    Unchanged,
    /// A complete list, or a watch the server closed in good order.
    Good,
    /// Wait before the next step.
    Failed,
}

/// One request in `state`; None once the view has gone away (its signal disposed or the
/// request aborted).
pub async fn step(
    state: State,
    source: &Source,
    store: RwSignal<ReflectorState>,
    signal: &AbortSignal,
) -> Option<(State, Health)> {
    match state {
        State::Empty => {
            store.try_update(ReflectorState::begin_list)?;
            list_page(None, source, store, signal).await
        }
        State::InitPage { continue_token } => {
            list_page(Some(continue_token), source, store, signal).await
        }
        State::InitListed => watch(source, store, signal).await,
    }
}

async fn list_page(
    continue_token: Option<String>,
    source: &Source,
    store: RwSignal<ReflectorState>,
    signal: &AbortSignal,
) -> Option<(State, Health)> {
    let params = match &continue_token {
        None => format!("limit={FIRST_PAGE}"),
        Some(token) => format!("limit={PAGE}&continue={}", encode(token)),
    };
    match client::get::<Value>(&source.url(&params), source.accept()).await {
        Ok(page) => match store.try_update(|s| s.apply_page(page, source.mode))? {
            Some(continue_token) => Some((State::InitPage { continue_token }, Health::Unchanged)),
            None => Some((State::InitListed, Health::Good)),
        },
        // The continue token expired: list again from the start.
        Err(error) if error.is_gone() => Some((State::Empty, Health::Unchanged)),
        Err(error) => {
            if signal.aborted() {
                return None;
            }
            store.try_update(|s| s.phase = Phase::Failed(error))?;
            Some((State::Empty, Health::Failed))
        }
    }
}

async fn watch(
    source: &Source,
    store: RwSignal<ReflectorState>,
    signal: &AbortSignal,
) -> Option<(State, Health)> {
    let rv = store.try_with_untracked(|s| s.resource_version.clone())?;
    // The server ends a watch after this long; a random one spreads reconnects.
    let timeout = 240 + (js_sys::Math::random() * 120.0) as u32;
    let url = source.url(&format!(
        "watch=1&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds={timeout}"
    ));
    let mut gone = false;
    let mut failed = None;
    let opened = || {
        store.try_update(|s| {
            if matches!(s.phase, Phase::Reconnecting(_)) {
                s.phase = Phase::Current;
            }
        });
    };
    let end = stream::watch(&url, source.accept(), signal, opened, |event| {
        if gone || failed.is_some() {
            return;
        }
        match store.try_update(|s| s.apply_event(event, source.mode)) {
            Some(EventOutcome::Gone) => gone = true,
            Some(EventOutcome::Failed(error)) => failed = Some(error),
            _ => {}
        }
    })
    .await;
    if signal.aborted() {
        return None;
    }
    if gone {
        return Some((State::Empty, Health::Unchanged));
    }
    match (end, failed) {
        (StreamEnd::Aborted, _) => None,
        (StreamEnd::Failed(error), _) | (_, Some(error)) => {
            if error.is_gone() {
                return Some((State::Empty, Health::Unchanged));
            }
            store.try_update(|s| s.phase = Phase::Reconnecting(error))?;
            Some((State::InitListed, Health::Failed))
        }
        (StreamEnd::Closed, None) => Some((State::InitListed, Health::Good)),
    }
}
