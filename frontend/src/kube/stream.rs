//! Reads a streaming response as it arrives (a fetch body stream): watches event by event, logs
//! line by line, downloads chunk by chunk. One reader, `chunks`; `lines` and `watch` build on it.

use gloo_net::http::Method;
use js_sys::{Reflect, Uint8Array};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, ReadableStreamDefaultReader};

use crate::api::{Error, Request};

#[derive(Debug, Clone, PartialEq)]
pub struct WatchEvent {
    /// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.
    pub kind: String,
    pub object: Value,
}

/// How a stream ended.
#[derive(Debug)]
pub enum StreamEnd {
    /// The server closed it (a watch's timeout, a log whose container ended).
    Closed,
    /// The page went away or the view changed.
    Aborted,
    Failed(Error),
}

/// Streams the response to GET `path` (query included), calling `on_open` once the apiserver
/// has accepted it and `on_chunk` with each piece of the body as it arrives, until the server
/// closes it, `signal` aborts it, or it fails.
pub async fn chunks(
    path: &str,
    accept: &str,
    signal: &AbortSignal,
    on_open: impl FnOnce(),
    mut on_chunk: impl FnMut(Uint8Array),
) -> StreamEnd {
    let sent = Request::cluster(Method::GET, path)
        .accept(accept)
        .abort_on(signal)
        .send()
        .await;
    if signal.aborted() {
        return StreamEnd::Aborted;
    }
    let response = match sent {
        Ok(response) => response,
        Err(error) => return StreamEnd::Failed(error),
    };
    on_open();
    let Some(body) = response.body() else {
        return StreamEnd::Closed;
    };
    let Ok(reader) = body.get_reader().dyn_into::<ReadableStreamDefaultReader>() else {
        return StreamEnd::Closed;
    };
    loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(_) if signal.aborted() => return StreamEnd::Aborted,
            // A dropped connection: the caller decides whether to open it again.
            Err(_) => return StreamEnd::Closed,
        };
        let done = Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            return StreamEnd::Closed;
        }
        if let Ok(value) = Reflect::get(&chunk, &JsValue::from_str("value")) {
            on_chunk(Uint8Array::new(&value));
        }
    }
}

/// Splits a byte stream into lines (without their `\n`); a line longer than `max_line` bytes
/// is passed on in pieces of that size, so that a stream without newlines cannot grow memory.
pub struct LineSplitter {
    pending: Vec<u8>,
    max_line: usize,
}

impl LineSplitter {
    pub fn new(max_line: usize) -> Self {
        LineSplitter {
            pending: Vec::new(),
            max_line: max_line.max(1),
        }
    }

    pub fn push(&mut self, bytes: &[u8], mut on_line: impl FnMut(&[u8])) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let (line, tail) = rest.split_at(end);
            rest = &tail[1..];
            if self.pending.is_empty() && line.len() <= self.max_line {
                on_line(line);
            } else {
                self.pending.extend_from_slice(line);
                self.flush_full(&mut on_line);
                on_line(&self.pending);
                self.pending.clear();
            }
        }
        self.pending.extend_from_slice(rest);
        self.flush_full(&mut on_line);
    }

    /// What is left when the stream ends (a last line without its newline).
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.pending.is_empty() {
            on_line(&self.pending);
            self.pending.clear();
        }
    }

    fn flush_full(&mut self, on_line: &mut impl FnMut(&[u8])) {
        while self.pending.len() > self.max_line {
            let piece: Vec<u8> = self.pending.drain(..self.max_line).collect();
            on_line(&piece);
        }
    }
}

/// Streams `path` line by line (see `chunks`); lines longer than `max_line` come in pieces.
pub async fn lines(
    path: &str,
    accept: &str,
    max_line: usize,
    signal: &AbortSignal,
    on_open: impl FnOnce(),
    mut on_line: impl FnMut(&[u8]),
) -> StreamEnd {
    let mut splitter = LineSplitter::new(max_line);
    let end = chunks(path, accept, signal, on_open, |chunk| {
        splitter.push(&chunk.to_vec(), &mut on_line)
    })
    .await;
    if matches!(end, StreamEnd::Closed) {
        splitter.finish(&mut on_line);
    }
    end
}

/// Streams the watch at `path` (query included), calling `on_event` for each event (see
/// `chunks`); the caller watches again from the last resourceVersion when it is `Closed`.
pub async fn watch(
    path: &str,
    accept: &str,
    signal: &AbortSignal,
    on_open: impl FnOnce(),
    mut on_event: impl FnMut(WatchEvent),
) -> StreamEnd {
    // An event is one object, however large: no limit but the apiserver's.
    lines(path, accept, usize::MAX, signal, on_open, |line| {
        if let Some(event) = parse_event(line) {
            on_event(event);
        }
    })
    .await
}

pub fn parse_event(line: &[u8]) -> Option<WatchEvent> {
    let mut value: Value = serde_json::from_slice(line).ok()?;
    let kind = value.get("type")?.as_str()?.to_string();
    let object = value
        .get_mut("object")
        .map(Value::take)
        .unwrap_or(Value::Null);
    Some(WatchEvent { kind, object })
}

#[cfg(test)]
mod tests {
    use super::LineSplitter;

    fn split(chunks: &[&[u8]], max: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut splitter = LineSplitter::new(max);
        for chunk in chunks {
            splitter.push(chunk, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        }
        splitter.finish(|l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn lines_are_joined_across_chunks_and_the_last_one_kept() {
        assert_eq!(split(&[b"a\nb", b"c\n\nd"], 100), ["a", "bc", "", "d"]);
    }

    #[test]
    fn a_line_longer_than_the_limit_comes_in_pieces() {
        assert_eq!(
            split(&[b"abcdefg", b"h\nij\n"], 3),
            ["abc", "def", "gh", "ij"]
        );
    }
}
