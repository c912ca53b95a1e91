//! Time as the servers' memories see it: the key cache's ages and cooldown, and the entries of a
//! `TtlCache`. Tests inject a clock they move by hand; `SystemClock` is the real one.

use std::{future::Future, pin::Pin, time::Instant};

pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep_until(deadline.into()))
    }
}
