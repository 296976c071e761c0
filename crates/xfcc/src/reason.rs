//! The stable reason a request was refused: the code a service answers
//! with.

use core::fmt;

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

    /// The reason whose stable [`code`](Self::code) is `code`, `None` for
    /// another text (what a binding gets back from its caller as a
    /// string).
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|r| r.code() == code)
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
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
