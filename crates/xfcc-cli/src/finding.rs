//! A finding of `xfcc doctor`: what is wrong, how badly, and the fix. Both
//! the Azure checks (`doctor.rs`) and the proxy models (`proxy/`) make them;
//! neither looks up at the other.

/// How much a finding matters; any `Error` makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Severity {
    /// Worth knowing; nothing to change.
    Info,
    /// Weakens the setup, or keeps the app from getting a certificate.
    Warning,
    /// A client can forge the identity, or the setup cannot work.
    Error,
}

impl Severity {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// One finding: a stable code, its severity, the message (naming the file
/// and line where there is one) and the fix.
pub(crate) struct Finding {
    pub(crate) code: &'static str,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) fix: String,
}

pub(crate) fn finding(
    code: &'static str,
    severity: Severity,
    message: impl Into<String>,
    fix: impl Into<String>,
) -> Finding {
    Finding {
        code,
        severity,
        message: message.into(),
        fix: fix.into(),
    }
}
