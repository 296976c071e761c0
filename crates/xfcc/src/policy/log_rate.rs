//! Rejection events at a bounded rate: a client whose certificate the
//! ingress accepts (any, on Azure Container Apps) must not decide how many
//! log lines the service writes. One implementation for both adapters.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use super::{ConfigError, Reason, Rejection};

/// How many rejection events each [`Reason`] may log per second
/// ([`RejectionLog`]). Above it, further events of that reason are
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
    /// [`ConfigError::Value`] for anything else.
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
    /// [`ConfigError::Env`] naming the variable when its value does not
    /// parse.
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("XFCC_LOG_RATE") {
            Ok(v) => Self::parse(&v).map_err(|e| ConfigError::Env {
                var: "XFCC_LOG_RATE".to_owned(),
                error: Box::new(e),
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

/// Emits each rejection's `tracing` event ([`Rejection::log`]) at the
/// adapter's level, at most [`LogRate`] per reason per second, and a
/// summary of what it suppressed. Shared by every clone of an adapter (one
/// count for all workers).
pub struct RejectionLog {
    level: Option<tracing::Level>,
    rate: LogRate,
    clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    window: Mutex<Window>,
}

impl std::fmt::Debug for RejectionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectionLog")
            .field("level", &self.level)
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl RejectionLog {
    /// Events at `level` (`None`: none, but `peer_unavailable`), at most
    /// `rate`.
    pub fn new(level: Option<tracing::Level>, rate: LogRate) -> Self {
        let start = Instant::now();
        Self::with_clock(level, rate, Arc::new(move || start.elapsed().as_secs()))
    }

    /// As [`new`](Self::new), reading the second from `clock`.
    pub(crate) fn with_clock(
        level: Option<tracing::Level>,
        rate: LogRate,
        clock: Arc<dyn Fn() -> u64 + Send + Sync>,
    ) -> Self {
        let second = clock();
        Self {
            level,
            rate,
            clock,
            window: Mutex::new(Window {
                second,
                logged: vec![0; Reason::ALL.len()],
                suppressed: vec![0; Reason::ALL.len()],
            }),
        }
    }

    /// The level events are emitted at.
    pub const fn level(&self) -> Option<tracing::Level> {
        self.level
    }

    /// The rate.
    pub const fn rate(&self) -> LogRate {
        self.rate
    }

    /// Logs `rejection`, unless its reason is over the rate this second
    /// (then it is counted for the summary). A new second first emits the
    /// summary of the previous one.
    pub fn log(&self, rejection: &Rejection) {
        let reason = rejection.reason();
        let always = reason == Reason::PeerUnavailable;
        if self.level.is_none() && !always {
            return;
        }
        let (Some(limit), false) = (self.rate.limit(), always) else {
            rejection.log(self.level);
            return;
        };
        let i = Reason::ALL
            .iter()
            .position(|r| *r == reason)
            .unwrap_or_default();
        let now = (self.clock)();
        let (emit, summary) = {
            let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            let summary = (now != w.second).then(|| Self::roll(&mut w, now));
            let emit = if w.logged[i] < limit.get() {
                w.logged[i] += 1;
                true
            } else {
                w.suppressed[i] += 1;
                false
            };
            (emit, summary)
        };
        if let Some(s) = summary {
            self.summarise(&s);
        }
        if emit {
            rejection.log(self.level);
        }
    }

    /// Emits the summary of what was suppressed and not yet reported.
    pub fn flush(&self) {
        let summary = {
            let mut w = self.window.lock().unwrap_or_else(PoisonError::into_inner);
            let second = w.second;
            Self::roll(&mut w, second)
        };
        self.summarise(&summary);
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

    fn summarise(&self, suppressed: &[(Reason, u64)]) {
        let Some(level) = self.level else { return };
        let limit = self.rate.limit().map_or(0, NonZeroU32::get);
        for (reason, n) in suppressed {
            event_at!(
                level,
                reason = reason.code(),
                suppressed = *n,
                log_rate = limit,
                "client certificate rejections not logged: over the log rate (XFCC_LOG_RATE, events per reason per second); metrics count them all"
            );
        }
    }
}

impl Drop for RejectionLog {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    /// Counts the events by message while `f` runs.
    fn events(f: impl FnOnce()) -> (usize, usize, u64) {
        use tracing_subscriber::layer::SubscriberExt as _;
        #[derive(Default)]
        struct Count {
            rejected: AtomicU64,
            summaries: AtomicU64,
            suppressed: AtomicU64,
        }
        struct Layer(Arc<Count>);
        struct Visit<'a>(&'a Count, bool);
        impl tracing::field::Visit for Visit<'_> {
            fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
                if self.1 && field.name() == "suppressed" {
                    self.0.suppressed.fetch_add(value, Ordering::SeqCst);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Layer {
            fn on_event(
                &self,
                event: &tracing::Event<'_>,
                _: tracing_subscriber::layer::Context<'_, S>,
            ) {
                let summary = event.metadata().fields().field("suppressed").is_some();
                if summary {
                    self.0.summaries.fetch_add(1, Ordering::SeqCst);
                } else {
                    self.0.rejected.fetch_add(1, Ordering::SeqCst);
                }
                event.record(&mut Visit(&self.0, summary));
            }
        }
        let count = Arc::new(Count::default());
        let subscriber = tracing_subscriber::registry().with(Layer(count.clone()));
        tracing::subscriber::with_default(subscriber, f);
        (
            usize::try_from(count.rejected.load(Ordering::SeqCst)).unwrap(),
            usize::try_from(count.summaries.load(Ordering::SeqCst)).unwrap(),
            count.suppressed.load(Ordering::SeqCst),
        )
    }

    fn clocked(rate: LogRate) -> (RejectionLog, Arc<AtomicU64>) {
        let second = Arc::new(AtomicU64::new(0));
        let s = second.clone();
        let log = RejectionLog::with_clock(
            Some(tracing::Level::INFO),
            rate,
            Arc::new(move || s.load(Ordering::SeqCst)),
        );
        (log, second)
    }

    #[test]
    fn a_burst_logs_the_rate_then_one_summary_per_reason() {
        let rate = LogRate::per_second(NonZeroU32::new(5).unwrap());
        let (rejected, summaries, suppressed) = events(|| {
            let (log, second) = clocked(rate);
            for _ in 0..1000 {
                log.log(&Rejection::of(Reason::NotAllowed));
                log.log(&Rejection::of(Reason::Malformed));
            }
            // The next second starts with the summary of the last.
            second.store(1, Ordering::SeqCst);
            log.log(&Rejection::of(Reason::NotAllowed));
        });
        // 5 per reason in second 0, 1 in second 1; 2 summaries.
        assert_eq!(rejected, 5 + 5 + 1);
        assert_eq!(summaries, 2);
        assert_eq!(suppressed, 995 + 995);
    }

    #[test]
    fn what_is_left_is_summarised_when_the_log_is_dropped() {
        let rate = LogRate::per_second(NonZeroU32::new(2).unwrap());
        let (rejected, summaries, suppressed) = events(|| {
            let (log, _) = clocked(rate);
            for _ in 0..10 {
                log.log(&Rejection::of(Reason::HashMismatch));
            }
        });
        assert_eq!((rejected, summaries, suppressed), (2, 1, 8));
    }

    #[test]
    fn peer_unavailable_and_an_unlimited_rate_are_never_suppressed() {
        let rate = LogRate::per_second(NonZeroU32::new(1).unwrap());
        let (rejected, summaries, _) = events(|| {
            let (log, _) = clocked(rate);
            for _ in 0..50 {
                log.log(&Rejection::of(Reason::PeerUnavailable));
            }
            let (unlimited, _) = clocked(LogRate::UNLIMITED);
            for _ in 0..50 {
                unlimited.log(&Rejection::of(Reason::NotAllowed));
            }
        });
        assert_eq!((rejected, summaries), (100, 0));
        // With the events off, peer_unavailable still logs.
        let (rejected, _, _) = events(|| {
            let log = RejectionLog::new(None, LogRate::DEFAULT);
            log.log(&Rejection::of(Reason::NotAllowed));
            log.log(&Rejection::of(Reason::PeerUnavailable));
        });
        assert_eq!(rejected, 1);
    }

    #[test]
    fn the_variable_reads_a_rate_or_unlimited_and_refuses_the_rest() {
        assert_eq!(
            LogRate::parse(" 25 ").unwrap().limit().map(NonZeroU32::get),
            Some(25)
        );
        assert_eq!(LogRate::parse("Unlimited").unwrap(), LogRate::UNLIMITED);
        for bad in ["0", "-1", "ten", ""] {
            let e = LogRate::parse(bad).unwrap_err();
            assert!(e.to_string().contains("at least 1"), "{e}");
        }
    }
}
