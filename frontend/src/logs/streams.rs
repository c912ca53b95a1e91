//! The log streams a view has open: one per container shown, opened and closed as what is
//! shown changes (another container, a pod that comes or goes, a container that restarts).
//! Each reads the apiserver's `…/pods/<pod>/log` with `timestamps=true` (to merge by time)
//! through the one streaming reader, `kube::stream`.

use std::{collections::HashMap, sync::Arc};

use leptos::{prelude::*, task::spawn_local};
use web_sys::AbortController;

use super::{
    buffer::{LineMaker, Origin},
    feed::{CAPACITY, Feed},
};
use crate::kube::{resource_type::encode, stream};

/// What kubectl asks a log for: the apiserver negotiates on its API media types (a `text/plain`
/// Accept is refused), answers the log as text and a refusal as a JSON `Status`.
pub const LOG_ACCEPT: &str = "application/json, */*";

/// A line longer than this comes in pieces (a stream without newlines cannot fill memory).
pub const MAX_LINE: usize = 256 * 1024;

/// One container instance's log: a new instance (restarts) or a first start is another stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamKey {
    pub pod: String,
    pub container: String,
    pub restarts: i64,
    pub started: bool,
    /// The previous instance's log (ended: not followed).
    pub previous: bool,
}

impl StreamKey {
    /// The log's API path: for the view (`live`), its last lines with timestamps (to merge by
    /// time), followed; otherwise the whole log as `kubectl logs` prints it (a download).
    pub fn path(&self, namespace: &str, live: bool) -> String {
        let mut query = format!("container={}", encode(&self.container));
        if live {
            query.push_str(&format!("&timestamps=true&tailLines={CAPACITY}"));
        }
        if self.previous {
            query.push_str("&previous=true");
        } else if live {
            query.push_str("&follow=true");
        }
        format!(
            "/api/v1/namespaces/{}/pods/{}/log?{query}",
            encode(namespace),
            encode(&self.pod)
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum StreamState {
    Connecting,
    Live,
    /// The server ended it: the container stopped (or the previous log is complete).
    Ended,
    /// The apiserver's answer (such as "container … is waiting to start").
    Failed(String),
}

#[derive(Clone, Copy)]
pub struct Streams {
    open: StoredValue<HashMap<StreamKey, AbortController>, LocalStorage>,
    pub states: RwSignal<Vec<(StreamKey, StreamState)>>,
    namespace: StoredValue<String>,
    feed: Feed,
}

impl Streams {
    /// Streams into `feed` for as long as the calling view lives.
    pub fn new(namespace: String, feed: Feed) -> Self {
        let streams = Streams {
            open: StoredValue::new_local(HashMap::new()),
            states: RwSignal::new(Vec::new()),
            namespace: StoredValue::new(namespace),
            feed,
        };
        let open = streams.open;
        on_cleanup(move || {
            open.try_update_value(|open| open.drain().for_each(|(_, c)| c.abort()));
        });
        streams
    }

    /// Opens the streams in `wanted` that are not open, closes the others.
    /// The streams open, in the order they were asked for.
    pub fn keys(&self) -> Vec<StreamKey> {
        self.states
            .with_untracked(|states| states.iter().map(|(key, _)| key.clone()).collect())
    }

    pub fn namespace(&self) -> String {
        self.namespace.get_value()
    }

    pub fn set(&self, wanted: Vec<StreamKey>) {
        let mut started = Vec::new();
        self.open.update_value(|open| {
            open.retain(|key, controller| {
                let keep = wanted.contains(key);
                if !keep {
                    controller.abort();
                }
                keep
            });
            for key in &wanted {
                if open.contains_key(key) {
                    continue;
                }
                if let Ok(controller) = AbortController::new() {
                    started.push((key.clone(), controller.signal()));
                    open.insert(key.clone(), controller);
                }
            }
        });
        self.states.update(|states| {
            states.retain(|(key, _)| wanted.contains(key));
            for (key, _) in &started {
                states.push((key.clone(), StreamState::Connecting));
            }
        });
        let namespace = self.namespace.get_value();
        for (key, signal) in started {
            let (feed, states) = (self.feed, self.states);
            let path = key.path(&namespace, true);
            let mut maker = LineMaker::new(Arc::new(Origin {
                pod: key.pod.clone(),
                container: key.container.clone(),
            }));
            let set_state = move |key: &StreamKey, state: StreamState| {
                states.try_update(|states| {
                    if let Some(entry) = states.iter_mut().find(|(k, _)| k == key) {
                        entry.1 = state;
                    }
                });
            };
            spawn_local(async move {
                let end = stream::lines(
                    &path,
                    LOG_ACCEPT,
                    MAX_LINE,
                    &signal,
                    || set_state(&key, StreamState::Live),
                    |raw| feed.receive(|seq| maker.make(seq, raw)),
                )
                .await;
                match end {
                    stream::StreamEnd::Aborted => {}
                    stream::StreamEnd::Closed => set_state(&key, StreamState::Ended),
                    stream::StreamEnd::Failed(error) => {
                        set_state(&key, StreamState::Failed(error.describe()))
                    }
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_paths_follow_the_current_instance_or_read_the_previous_one() {
        let mut key = StreamKey {
            pod: "web-1".into(),
            container: "side car".into(),
            restarts: 0,
            started: true,
            previous: false,
        };
        assert_eq!(
            key.path("team-a", true),
            "/api/v1/namespaces/team-a/pods/web-1/log?container=side%20car&timestamps=true&tailLines=10000&follow=true"
        );
        // A download is the whole log, without tailLines.
        assert_eq!(
            key.path("team-a", false),
            "/api/v1/namespaces/team-a/pods/web-1/log?container=side%20car"
        );
        key.previous = true;
        assert_eq!(
            key.path("team-a", true),
            "/api/v1/namespaces/team-a/pods/web-1/log?container=side%20car&timestamps=true&tailLines=10000&previous=true"
        );
    }
}
