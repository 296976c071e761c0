//! Rejection events at a bounded rate: a client whose certificate the
//! ingress accepts (any, on Azure Container Apps) must not decide how many
//! log lines the service writes. One implementation for both adapters.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use super::limiter::LogLimiter;
use super::limiter::LogRate;
use crate::outcome::{Reason, Rejection};

/// Emits each rejection's `tracing` event ([`Rejection::log`]) at the
/// adapter's level, at most [`LogRate`] per reason per second, and a
/// summary of what it suppressed. Shared by every clone of an adapter (one
/// count for all workers).
pub struct RejectionLog {
    level: Option<tracing::Level>,
    limiter: LogLimiter,
}

impl std::fmt::Debug for RejectionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectionLog")
            .field("level", &self.level)
            .field("rate", &self.limiter.rate())
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
        Self {
            level,
            limiter: LogLimiter::with_clock(rate, clock),
        }
    }

    /// The level events are emitted at.
    pub const fn level(&self) -> Option<tracing::Level> {
        self.level
    }

    /// The rate.
    pub fn rate(&self) -> LogRate {
        self.limiter.rate()
    }

    /// Logs `rejection`, unless its reason is over the rate this second
    /// (then it is counted for the summary): the [`LogLimiter`] decides. A
    /// new second first emits the summary of the previous one.
    pub fn log(&self, rejection: &Rejection) {
        let reason = rejection.reason();
        if self.level.is_none() && reason != Reason::PeerUnavailable {
            return;
        }
        let admitted = self.limiter.admit(reason);
        self.summarise(&admitted.summary);
        if admitted.log {
            rejection.log(self.level);
        }
    }

    /// Emits the summary of what was suppressed and not yet reported.
    pub fn flush(&self) {
        self.summarise(&self.limiter.flush());
    }

    fn summarise(&self, suppressed: &[(Reason, u64)]) {
        let Some(level) = self.level else { return };
        let limit = self.limiter.rate().limit().map_or(0, NonZeroU32::get);
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
