//! Why a request was not authenticated.

use core::fmt;

use super::explain::Explanation;

use crate::error::{Error, ErrorKind};

/// The stable reason a header was rejected. [`code`](Self::code) is what a
/// service puts in its response body; the set is documented in the README
/// and only grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// No header, in [`Mode::Require`](crate::Mode::Require).
    Missing,
    /// The header arrived on more than one line.
    MultipleHeaders,
    /// The header does not parse.
    Malformed,
    /// The header is over a size limit.
    TooLarge,
    /// More elements than the policy expects.
    TooManyElements,
    /// Fewer elements than the policy expects.
    TooFewElements,
    /// The trusted element was not written by the expected proxy (`By`).
    UntrustedProxy,
    /// The header came from a TCP peer outside `trusted_peers`: a request
    /// that reached the service around the proxy.
    UntrustedPeer,
    /// Not a verdict on the request: `trusted_peers` is set but the
    /// adapter could not learn the TCP peer's address (a wiring error; the
    /// adapters answer 500). Never allowed.
    PeerUnavailable,
    /// A forwarded certificate does not decode.
    BadCertificate,
    /// `Hash` is not the certificate's digest.
    HashMismatch,
    /// `Chain`, `Subject`, `URI` or `DNS` disagree with the certificate.
    Inconsistent,
    /// The certificate's validity period has ended.
    Expired,
    /// The certificate's validity period has not begun.
    NotYetValid,
    /// No allow rule matched.
    NotAllowed,
    /// The chain to the rule's trust anchors does not verify.
    ChainInvalid,
}

impl Reason {
    /// `missing`, `multiple_headers`, `malformed`, `too_large`,
    /// `too_many_elements`, `too_few_elements`, `untrusted_proxy`,
    /// `untrusted_peer`, `peer_unavailable`,
    /// `bad_certificate`, `hash_mismatch`, `inconsistent`, `expired`,
    /// `not_yet_valid`, `not_allowed`, `chain_invalid`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::MultipleHeaders => "multiple_headers",
            Self::Malformed => "malformed",
            Self::TooLarge => "too_large",
            Self::TooManyElements => "too_many_elements",
            Self::TooFewElements => "too_few_elements",
            Self::UntrustedProxy => "untrusted_proxy",
            Self::UntrustedPeer => "untrusted_peer",
            Self::PeerUnavailable => "peer_unavailable",
            Self::BadCertificate => "bad_certificate",
            Self::HashMismatch => "hash_mismatch",
            Self::Inconsistent => "inconsistent",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::NotAllowed => "not_allowed",
            Self::ChainInvalid => "chain_invalid",
        }
    }

    /// Every reason, in the order of the README's table.
    pub const ALL: &'static [Self] = &[
        Self::Missing,
        Self::MultipleHeaders,
        Self::Malformed,
        Self::TooLarge,
        Self::TooManyElements,
        Self::TooFewElements,
        Self::UntrustedProxy,
        Self::UntrustedPeer,
        Self::PeerUnavailable,
        Self::BadCertificate,
        Self::HashMismatch,
        Self::Inconsistent,
        Self::Expired,
        Self::NotYetValid,
        Self::NotAllowed,
        Self::ChainInvalid,
    ];

    /// Mapped by type, so that a new error kind cannot silently become
    /// `malformed` (the match is exhaustive over what this crate defines).
    const fn from_error(kind: ErrorKind) -> Self {
        use crate::error::{Inconsistency as I, ParseErrorKind as P};
        match kind {
            ErrorKind::Parse(P::TooManyElements) => Self::TooManyElements,
            ErrorKind::Parse(P::TooLong | P::TooManyPairs) => Self::TooLarge,
            ErrorKind::Parse(_) => Self::Malformed,
            ErrorKind::Cert(_) => Self::BadCertificate,
            ErrorKind::Inconsistent(I::HashMismatch) => Self::HashMismatch,
            ErrorKind::Inconsistent(_) => Self::Inconsistent,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A rejected header: the [`Reason`], a precise detail code, and where.
/// Its messages never contain header or certificate bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
    detail: &'static str,
    element: Option<usize>,
    offset: Option<usize>,
    der: Option<crate::DerError>,
    field: Option<crate::Field>,
    explanation: Option<Box<Explanation>>,
}

impl Rejection {
    pub(crate) const fn new(reason: Reason, detail: &'static str) -> Self {
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
        Self::new(Reason::Missing, "missing")
    }

    /// The reason.
    pub const fn reason(&self) -> Reason {
        self.reason
    }

    /// The reason's stable code, as in a response body.
    pub const fn code(&self) -> &'static str {
        self.reason.code()
    }

    /// A precise stable code: the parser's or decoder's error code
    /// (`unterminated_quote`, `bad_der`, `uri_mismatch`, ...), the chain
    /// verifier's sub-reason (`unknown_issuer`, `revoked`, ...), or the
    /// reason's own code.
    pub const fn detail(&self) -> &'static str {
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
                    detail = self.detail,
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
            reason: Reason::from_error(e.kind()),
            detail: e.kind().code(),
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
        if self.detail != self.reason.code() {
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
    fn error_kinds_map_to_the_reason_their_code_names() {
        use crate::error::{CertErrorKind as C, Inconsistency as I, ParseErrorKind as P};
        let kinds = [
            ErrorKind::Parse(P::Empty),
            ErrorKind::Parse(P::TooLong),
            ErrorKind::Parse(P::TooManyPairs),
            ErrorKind::Parse(P::TooManyElements),
            ErrorKind::Parse(P::InvalidHash),
            ErrorKind::Parse(P::WrongFormat),
            ErrorKind::Cert(C::BadDer),
            ErrorKind::Cert(C::ChainTooLong),
            ErrorKind::Inconsistent(I::HashMismatch),
            ErrorKind::Inconsistent(I::SubjectMismatch),
            ErrorKind::Inconsistent(I::UriMismatch),
        ];
        for kind in kinds {
            assert_eq!(Reason::from_error(kind).code(), kind.reason(), "{kind:?}");
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
