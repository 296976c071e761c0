//! The crate's background threads (the policy watcher, the CRL fetcher),
//! started and stopped one way: each waits on a channel between its rounds,
//! so it ends as soon as its owner drops the [`Background`] (or at the end
//! of the round in progress), never at some later poll of its own.

use std::fmt;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::Duration;

/// A background thread, stopped when this is dropped.
pub(crate) struct Background {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Whether dropping waits for the thread (the watcher: a service that
    /// drops it knows no reload is left running). The CRL fetcher's owner
    /// is a policy, which a request thread may drop: it only signals.
    join: bool,
}

impl Background {
    /// Runs `round` in a thread named `name`: first after `first`, then
    /// after each wait `round` returns, until it returns `None` or this is
    /// dropped. No thread runs when the system cannot start one (the work
    /// is then not done in the background, and nothing else changes).
    pub(crate) fn spawn(
        name: &str,
        first: Duration,
        join: bool,
        mut round: impl FnMut() -> Option<Duration> + Send + 'static,
    ) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let mut wait = first;
                loop {
                    match stopped.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => match round() {
                            Some(next) => wait = next,
                            None => return,
                        },
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .ok();
        Self {
            stop: Some(stop),
            thread,
            join,
        }
    }

    /// No thread: nothing to run.
    pub(crate) const fn none() -> Self {
        Self {
            stop: None,
            thread: None,
            join: false,
        }
    }
}

impl fmt::Debug for Background {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Background")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take()
            && self.join
        {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_dropped_background_stops_between_rounds_and_a_round_can_end_it() {
        let rounds = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&rounds);
        // A long wait: only the drop can end it, at once.
        let bg = Background::spawn("t-long", Duration::from_secs(3600), true, move || {
            r.fetch_add(1, Ordering::SeqCst);
            Some(Duration::from_secs(3600))
        });
        drop(bg);
        assert_eq!(rounds.load(Ordering::SeqCst), 0);
        // A round that says it is done ends the thread; dropping then
        // joins a finished thread.
        let r = Arc::clone(&rounds);
        let bg = Background::spawn("t-done", Duration::ZERO, true, move || {
            let n = r.fetch_add(1, Ordering::SeqCst);
            (n < 2).then_some(Duration::ZERO)
        });
        while rounds.load(Ordering::SeqCst) < 3 {
            std::thread::yield_now();
        }
        drop(bg);
        assert_eq!(rounds.load(Ordering::SeqCst), 3);
    }
}
