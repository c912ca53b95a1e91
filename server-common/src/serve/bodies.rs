//! The bodies `serve` wraps: request bodies with a deadline, watch responses that end at an
//! event boundary when the server closes.

use std::{
    future::Future,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, ready},
};

use axum::body::Body;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};

use crate::metrics::GaugeGuard;

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimedOut;

/// A request body that fails at a fixed deadline, however its bytes are paced.
pub(super) struct DeadlineBody {
    pub(super) inner: Incoming,
    pub(super) deadline: Pin<Box<tokio::time::Sleep>>,
    pub(super) timed_out: Arc<AtomicBool>,
}

impl hyper::body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        ready!(self.deadline.as_mut().poll(cx));
        self.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(Box::new(BodyTimedOut))))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// A watch response that ends, once the server is closing, after the event it is in the middle
/// of: Kubernetes watch streams are one JSON object per line, so a frame ending in a newline is
/// an event boundary. A stream that simply ends is what a client takes as "watch again".
pub(super) struct WatchBody {
    pub(super) inner: Body,
    pub(super) closing: Pin<Box<dyn Future<Output = ()> + Send>>,
    pub(super) at_event_boundary: bool,
    pub(super) _active: GaugeGuard,
}

impl hyper::body::Body for WatchBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.at_event_boundary && self.closing.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        let frame = ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
            && let Some(last) = data.last()
        {
            self.at_event_boundary = *last == b'\n';
        }
        Poll::Ready(frame)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
