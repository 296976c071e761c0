//! [`LogRate`] and [`LogLimiter`]: how many rejection records a service
//! writes per reason per second, decided once for every adapter (the
//! tracing `RejectionLog` (feature `tracing`) and the Python package's
//! logging alike).

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use crate::outcome::ConfigErrorRepr as Repr;
use crate::outcome::{ConfigError, Reason};

/// How many rejection events each [`Reason`] may log per second
/// (`RejectionLog`, feature `tracing`). Above it, further events of that reason are
/// suppressed and counted, and one summary event per reason says how many
/// were (with the next rejection after the second, or when the log is
/// dropped). `peer_unavailable`, a wiring error that turns every request
/// away, is always logged. Metrics count every rejection whatever the rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRate(Option<NonZeroU32>);

impl LogRate {
    /// The default: 10 events per reason per second. A flood of one kind
    /// of bad request then writes at most 11 lines a second (10 events and
    /// a summary), a few KB; at a low rate every rejection is logged.
    pub const DEFAULT: Self = Self(NonZeroU32::new(10));

    /// Every rejection logged, however many arrive.
    pub const UNLIMITED: Self = Self(None);

    /// `n` events per reason per second; 0 is [`UNLIMITED`](Self::UNLIMITED)'s
    /// opposite and is refused by [`parse`](Self::parse) (turn the events
    /// off with the adapter's `log_level(None)` instead).
    pub const fn per_second(n: NonZeroU32) -> Self {
        Self(Some(n))
    }

    /// The limit, `None` when unlimited.
    pub const fn limit(self) -> Option<NonZeroU32> {
        self.0
    }

    /// Reads `XFCC_LOG_RATE`'s spelling: a whole number of events per
    /// reason per second (at least 1), or `unlimited`.
    ///
    /// # Errors
    /// A [`ConfigError`] of kind [`ConfigErrorKind::Value`](crate::outcome::ConfigErrorKind::Value) for anything else.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("unlimited") {
            return Ok(Self::UNLIMITED);
        }
        t.parse::<NonZeroU32>().map(Self::per_second).map_err(|_| {
            ConfigError::value(
                "log_rate",
                text,
                "a whole number of events per reason per second (at least 1), or unlimited",
            )
        })
    }

    /// `XFCC_LOG_RATE` from the process environment, [`DEFAULT`](Self::DEFAULT)
    /// when it is not set.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable when its value does not
    /// parse.
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("XFCC_LOG_RATE") {
            Ok(v) => Self::parse(&v).map_err(|e| {
                ConfigError::from(Repr::Env {
                    var: "XFCC_LOG_RATE".to_owned(),
                    error: e,
                })
            }),
            Err(_) => Ok(Self::DEFAULT),
        }
    }
}

impl Default for LogRate {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The current second's counts, per reason (in [`Reason::ALL`]'s order).
struct Window {
    second: u64,
    logged: Vec<u32>,
    suppressed: Vec<u64>,
}

/// Decides which rejection records are written: at most [`LogRate`] per
/// reason per second, the rest counted, and a summary of what was not
/// written when a second ends. `peer_unavailable`, a wiring error, is
/// always written. Pure counting (no logging of its own): the tracing
/// `RejectionLog` and the Python middleware write
/// what it admits, each in its own logger. Shared by every clone of an
/// adapter (one count for all workers).
pub struct LogLimiter {
    rate: LogRate,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    window: Mutex<Window>,
}

impl std::fmt::Debug for LogLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLimiter")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

/// What [`LogLimiter::admit`] decided for one rejection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Admission {
    /// Whether to write this rejection's record.
    pub log: bool,
    /// The reasons whose records were not written in the second that just
    /// ended, with how many: write one summary record each (empty within a
    /// second).
    pub summary: Vec<(Reason, u64)>,
}

impl LogLimiter {
    /// A limiter at `rate`, counting seconds from now.
    pub fn new(rate: LogRate) -> Self {
        let start = Instant::now();
        Self::with_clock(rate, Arc::new(move || start.elapsed().as_secs()))
    }

    /// As [`new`](Self::new), reading the second from `clock`.
    pub(crate) fn with_clock(rate: LogRate, clock: Arc<dyn Fn() -> u64 + Send + Sync>) -> Self {
        let second = clock();
        Self {
            rate,
            clock,
            window: Mutex::new(Window {
                second,
                logged: vec![0; Reason::ALL.len()],
                suppressed: vec![0; Reason::ALL.len()],
            }),
        }
    }

    /// The rate.
    pub const fn rate(&self) -> LogRate {
        self.rate
    }

    /// Whether a rejection of `reason` is written now, and the summary of
    /// the second that ended, if one did.
    pub fn admit(&self, reason: Reason) -> Admission {
        let (Some(limit), false) = (self.rate.limit(), reason == Reason::PeerUnavailable) else {
            return Admission {
                log: true,
                summary: Vec::new(),
            };
        };
        let i = Reason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or_default();
        let now = (self.clock)();
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let summary = if now == w.second {
            Vec::new()
        } else {
            Self::roll(&mut w, now)
        };
        let log = if w.logged[i] < limit.get() {
            w.logged[i] += 1;
            true
        } else {
            w.suppressed[i] += 1;
            false
        };
        Admission { log, summary }
    }

    /// What was not written and not yet summarised (the counts start
    /// again).
    pub fn flush(&self) -> Vec<(Reason, u64)> {
        let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
        let second = w.second;
        Self::roll(&mut w, second)
    }

    /// Starts second `now`, returning the suppressed counts of the one
    /// that ends.
    fn roll(w: &mut Window, now: u64) -> Vec<(Reason, u64)> {
        let out = Reason::ALL
            .iter()
            .zip(&w.suppressed)
            .filter(|(_, n)| **n > 0)
            .map(|(r, n)| (*r, *n))
            .collect();
        w.second = now;
        w.logged.iter_mut().for_each(|n| *n = 0);
        w.suppressed.iter_mut().for_each(|n| *n = 0);
        out
    }
}
