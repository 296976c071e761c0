//! Why a request was not authenticated.

use core::fmt;

use super::detail::Detail;
use super::explain::Explanation;

use crate::error::Error;

pub use crate::error::Reason;

/// A rejected header: the [`Reason`], a precise detail code, and where.
/// Its messages never contain header or certificate bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
    detail: Detail,
    element: Option<usize>,
    offset: Option<usize>,
    der: Option<crate::DerError>,
    field: Option<crate::Field>,
    explanation: Option<Box<Explanation>>,
}

impl Rejection {
    /// A rejection for `reason` with nothing more precise to say.
    pub(crate) const fn of(reason: Reason) -> Self {
        Self::new(reason, Detail::Reason(reason))
    }

    pub(crate) const fn new(reason: Reason, detail: Detail) -> Self {
        Self {
            reason,
            detail,
            element: None,
            offset: None,
            der: None,
            field: None,
            explanation: None,
        }
    }

    /// SHA-256 thumbprint (uppercase hex) of the rejected certificate, when
    /// it was decoded (or, for proxy fields, their `Hash`): for logs, to
    /// tell which client was turned away.
    pub fn thumbprint(&self) -> Option<String> {
        let e = self.explanation.as_ref()?;
        match (e.certificate(), e.proxy_fields()) {
            (Some(c), _) => Some(crate::hex::upper(c.sha256())),
            (None, Some(f)) => Some(f.sha256_hex()),
            (None, None) => None,
        }
    }

    /// Attaches what [`explanation`](Self::explanation) returns (and with
    /// it the certificate behind [`thumbprint`](Self::thumbprint)).
    pub(crate) fn explained(mut self, explanation: Explanation) -> Self {
        self.explanation = Some(Box::new(explanation));
        self
    }

    /// Why, in detail: the certificate's values beside what did not hold
    /// (see [`Explanation`]). `None` when no certificate was decoded (the
    /// codes, [`element`](Self::element), [`field`](Self::field) and
    /// [`offset`](Self::offset) then say all there is).
    pub fn explanation(&self) -> Option<&Explanation> {
        self.explanation.as_deref()
    }

    /// For a value that does not decode: the field (`Cert`, `Chain[1]`).
    pub const fn field(&self) -> Option<crate::Field> {
        self.field
    }

    pub(crate) const fn at_element(mut self, index: usize) -> Self {
        self.element = Some(index);
        self
    }

    /// The rejection for a request without the header in
    /// [`Mode::Require`](crate::Mode::Require).
    pub const fn missing() -> Self {
        Self::of(Reason::Missing)
    }

    /// The reason.
    pub const fn reason(&self) -> Reason {
        self.reason
    }

    /// The reason's stable code, as in a response body.
    pub const fn code(&self) -> &'static str {
        self.reason.code()
    }

    /// The precise cause: the parser's or decoder's error
    /// (`unterminated_quote`, `bad_der`, `uri_mismatch`, ...), the chain
    /// verifier's ([`ChainError`](crate::ChainError): `unknown_issuer`,
    /// `revoked`, ...), the proxy's fields, or the reason itself. Its
    /// [`as_str`](Detail::as_str) is the stable code.
    pub const fn detail(&self) -> Detail {
        self.detail
    }

    /// Index of the element concerned, when one is.
    pub const fn element(&self) -> Option<usize> {
        self.element
    }

    /// Byte offset in the header, for parse errors.
    pub const fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// For `bad_der`: where the certificate does not read (field, rule,
    /// offset in its DER; [`DerError`](crate::DerError)).
    pub const fn der_error(&self) -> Option<crate::DerError> {
        self.der
    }

    /// True for [`Reason::Missing`].
    pub const fn is_missing(&self) -> bool {
        matches!(self.reason, Reason::Missing)
    }

    /// Emits one `tracing` event with the stable target `xfcc` at `level`,
    /// with the fields `reason`, `detail`, `der`, `der_field`, `der_offset`,
    /// `element`, `field`, `thumbprint` (SHA-256), `sha1`, `subject`,
    /// `issuer` (clipped) and `findings` ([`Explanation::findings`]: what
    /// did not hold); those that do not apply are left out. The event is
    /// bounded in size whatever the certificate holds.
    ///
    /// `None` emits nothing, except for [`Reason::PeerUnavailable`], a
    /// wiring error that turns every request away: it is logged at `ERROR`
    /// whatever `level` says. The adapters call this for every rejection
    /// with their configured level.
    #[cfg(feature = "tracing")]
    pub fn log(&self, level: Option<tracing::Level>) {
        let level = if self.reason == Reason::PeerUnavailable {
            tracing::Level::ERROR
        } else if let Some(level) = level {
            level
        } else {
            return;
        };
        let thumbprint = self.thumbprint();
        let why = self.explanation();
        let sha1 = why
            .and_then(Explanation::certificate)
            .map(|c| c.sha1_hex().to_ascii_uppercase());
        macro_rules! event {
            ($lvl:expr) => {
                tracing::event!(
                    target: "xfcc",
                    $lvl,
                    reason = self.code(),
                    detail = self.detail.as_str(),
                    der = self.der.map(|d| d.kind().code()),
                    der_field = self.der.map(|d| d.field().code()),
                    der_offset = self.der.map(|d| d.offset()),
                    element = self.element,
                    field = self.field.map(tracing::field::display),
                    thumbprint = thumbprint.as_deref(),
                    sha1 = sha1.as_deref(),
                    subject = why.and_then(Explanation::subject).as_deref(),
                    issuer = why.and_then(Explanation::issuer).as_deref(),
                    findings = why.map(|w| tracing::field::display(w.findings())),
                    "client certificate rejected"
                )
            };
        }
        match level {
            tracing::Level::ERROR => event!(tracing::Level::ERROR),
            tracing::Level::WARN => event!(tracing::Level::WARN),
            tracing::Level::INFO => event!(tracing::Level::INFO),
            tracing::Level::DEBUG => event!(tracing::Level::DEBUG),
            _ => event!(tracing::Level::TRACE),
        }
    }
}

impl From<Error> for Rejection {
    fn from(e: Error) -> Self {
        Self {
            reason: e.kind().reason(),
            detail: Detail::Error(e.kind()),
            element: e.element(),
            offset: e.offset(),
            der: e.der_error(),
            field: e.field(),
            explanation: None,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client certificate rejected: {}", self.reason.code())?;
        if self.detail.as_str() != self.reason.code() {
            write!(f, " ({})", self.detail)?;
        }
        if let Some(e) = self.element {
            write!(f, " in element {e}")?;
        }
        if let Some(field) = self.field {
            write!(f, " {field}")?;
        }
        if let Some(o) = self.offset {
            write!(f, " at byte {o}")?;
        }
        if let Some(d) = self.der {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_map_to_their_reasons() {
        use crate::error::{
            CertErrorKind as C, ErrorKind, Inconsistency as I, ParseErrorKind as P,
        };
        let kinds = [
            (ErrorKind::Parse(P::Empty), Reason::Malformed),
            (ErrorKind::Parse(P::TooLong), Reason::TooLarge),
            (ErrorKind::Parse(P::TooManyPairs), Reason::TooLarge),
            (
                ErrorKind::Parse(P::TooManyElements),
                Reason::TooManyElements,
            ),
            (ErrorKind::Parse(P::InvalidHash), Reason::Malformed),
            (ErrorKind::Parse(P::WrongFormat), Reason::Malformed),
            (ErrorKind::Cert(C::BadDer), Reason::BadCertificate),
            (ErrorKind::Cert(C::ChainTooLong), Reason::BadCertificate),
            (
                ErrorKind::Inconsistent(I::HashMismatch),
                Reason::HashMismatch,
            ),
            (
                ErrorKind::Inconsistent(I::SubjectMismatch),
                Reason::Inconsistent,
            ),
            (
                ErrorKind::Inconsistent(I::UriMismatch),
                Reason::Inconsistent,
            ),
        ];
        for (kind, reason) in kinds {
            assert_eq!(kind.reason(), reason, "{kind:?}");
            assert_eq!(Rejection::from(Error::new(kind)).reason(), reason);
        }
    }

    #[test]
    fn every_reason_has_its_own_code() {
        let mut codes: Vec<_> = Reason::ALL.iter().map(|r| r.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), Reason::ALL.len());
        assert!(!Rejection::missing().to_string().is_empty());
        assert!(Rejection::missing().is_missing());
    }
}
