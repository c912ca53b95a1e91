//! Where a view's streams deliver lines: they wait in a bounded queue and join the lines shown
//! once per animation frame (so 10,000 lines a second are a few hundred per frame, not 10,000
//! redraws); while the user reads older lines (paused) they keep waiting, counted.

use std::collections::VecDeque;

use leptos::prelude::*;

use super::buffer::{Change, LogBuffer, LogLine};

/// The lines a view holds; older ones are dropped (and counted).
pub const CAPACITY: usize = 10_000;

struct Inner {
    shown: LogBuffer,
    waiting: VecDeque<LogLine>,
    /// Lines dropped from `waiting` before they could be shown.
    waiting_dropped: u64,
    received: u64,
    frame_requested: bool,
    /// How the last frame changed `shown`, for those that follow it incrementally.
    last_change: (Change, usize),
}

/// Cheap to copy: a handle on the view's lines and their counters.
#[derive(Clone, Copy)]
pub struct Feed {
    inner: StoredValue<Inner>,
    /// Changes when the lines shown change.
    pub version: RwSignal<u64>,
    /// Every line received since the view opened (what the benchmark reads).
    pub received: RwSignal<u64>,
    /// Lines received and not shown yet: "resume (N new lines)".
    pub unseen: RwSignal<u64>,
    /// Lines dropped to stay within `CAPACITY`.
    pub dropped: RwSignal<u64>,
    pub paused: RwSignal<bool>,
}

impl Feed {
    pub fn new() -> Self {
        Feed {
            inner: StoredValue::new(Inner {
                shown: LogBuffer::new(CAPACITY),
                waiting: VecDeque::new(),
                waiting_dropped: 0,
                received: 0,
                frame_requested: false,
                last_change: (Change::Merged, 0),
            }),
            version: RwSignal::new(0),
            received: RwSignal::new(0),
            unseen: RwSignal::new(0),
            dropped: RwSignal::new(0),
            paused: RwSignal::new(false),
        }
    }

    /// Takes a line, made from its arrival number.
    pub fn receive(&self, make: impl FnOnce(u64) -> LogLine) {
        let request = self
            .inner
            .try_update_value(|inner| {
                let line = make(inner.received);
                inner.received += 1;
                inner.waiting.push_back(line);
                if inner.waiting.len() > CAPACITY {
                    inner.waiting.pop_front();
                    inner.waiting_dropped += 1;
                }
                !std::mem::replace(&mut inner.frame_requested, true)
            })
            .unwrap_or(false);
        if request {
            let feed = *self;
            request_animation_frame(move || feed.frame());
        }
    }

    fn frame(&self) {
        let paused = self.paused.get_untracked();
        let Some((received, unseen, dropped, changed)) = self.inner.try_update_value(|inner| {
            inner.frame_requested = false;
            let changed = !paused && (!inner.waiting.is_empty() || inner.waiting_dropped > 0);
            if changed {
                let batch: Vec<LogLine> = inner.waiting.drain(..).collect();
                let (change, dropped) = inner.shown.add(batch);
                inner.shown.dropped += inner.waiting_dropped;
                inner.waiting_dropped = 0;
                inner.last_change = (change, dropped);
            }
            let unseen = inner.waiting.len() as u64 + inner.waiting_dropped;
            (inner.received, unseen, inner.shown.dropped, changed)
        }) else {
            return;
        };
        self.received.set(received);
        self.unseen.set(unseen);
        self.dropped.set(dropped);
        if changed {
            self.version.update(|v| *v += 1);
        }
    }

    /// Shows what waited, and follows again.
    pub fn resume(&self) {
        self.paused.set(false);
        self.frame();
    }

    /// Forgets every line (another container, the previous log).
    pub fn clear(&self) {
        self.inner.update_value(|inner| {
            inner.shown.clear();
            inner.waiting.clear();
            inner.waiting_dropped = 0;
            inner.last_change = (Change::Merged, 0);
        });
        self.unseen.set(0);
        self.dropped.set(0);
        self.version.update(|v| *v += 1);
    }

    /// Reads the lines shown (untracked: track `version`).
    pub fn with_shown<T>(&self, f: impl FnOnce(&LogBuffer, (Change, usize)) -> T) -> Option<T> {
        self.inner
            .try_with_value(|inner| f(&inner.shown, inner.last_change))
    }
}
