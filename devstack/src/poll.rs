use std::{
    future::Future,
    time::{Duration, Instant},
};

use anyhow::bail;

/// Marks an error that no amount of waiting will mend (the process has exited).
#[derive(Debug)]
pub struct Fatal;

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("gave up")
    }
}

/// Polls `check` until it answers `Ok(true)` or `deadline` passes; the last error is kept for
/// the message. Readiness is always a condition polled with a deadline, never a fixed sleep.
pub async fn until<F, Fut>(what: &str, deadline: Duration, mut check: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<bool>>,
{
    let started = Instant::now();
    let mut last = String::from("not ready");
    let mut interval = Duration::from_millis(50);
    loop {
        match check().await {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(err) if err.downcast_ref::<Fatal>().is_some() => return Err(err),
            Err(err) => last = format!("{err:#}"),
        }
        if started.elapsed() > deadline {
            bail!("{what} was not ready within {deadline:?}: {last}");
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_millis(500));
    }
}
