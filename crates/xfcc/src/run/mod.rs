//! Running a policy: swapping it while requests are served
//! ([`PolicyHandle`]), following its files ([`PolicyWatcher`]), and
//! bounding what refusals write to the logs ([`LogRate`], [`LogLimiter`],
//! `RejectionLog`).

mod handle;
mod limiter;
#[cfg(feature = "tracing")]
mod log_rate;
mod watch;

pub use self::handle::PolicyHandle;
pub use self::limiter::{Admission, LogLimiter, LogRate};
#[cfg(feature = "tracing")]
pub use self::log_rate::RejectionLog;
pub use self::watch::{PolicyWatcher, ReloadStatus};
