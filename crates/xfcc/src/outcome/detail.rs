//! [`Detail`]: the precise, stable cause behind a [`Reason`]: a parser,
//! decoder or consistency error, a chain failure ([`ChainError`]), a
//! problem with the proxy's fields ([`FieldsProblem`]), or the reason
//! itself. Each has an `as_str()` that is the code on the wire.

use core::fmt;

use super::Reason;
use crate::error::ErrorKind;

/// Why a chain did not verify to a rule's trust anchors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainError {
    /// No anchor names the leaf's issuer (or any intermediate's).
    UnknownIssuer,
    /// A certificate on the path has expired.
    Expired,
    /// A certificate on the path is not valid yet.
    NotYetValid,
    /// The leaf does not list clientAuth (with `require_client_auth`).
    WrongEku,
    /// A certificate on the path is revoked.
    Revoked,
    /// Revocation status could not be established.
    RevocationUnknown,
    /// A CRL is past its `nextUpdate`.
    CrlExpired,
    /// A signature does not verify, or its algorithm is not supported.
    BadSignature,
    /// The path is longer than `max_chain_intermediates` (or a path length
    /// constraint).
    PathTooLong,
    /// A CA certificate was presented as the leaf.
    CaUsedAsLeaf,
    /// A name constraint is violated.
    NameConstraints,
    /// A date before 1970 on the path.
    TimeBefore1970,
    /// More candidate paths than the search bound allows.
    AmbiguousChain,
    /// Any other failure of the chain.
    InvalidChain,
    /// The rule names an anchor set the policy does not have.
    UnknownAnchorSet,
    /// The crate was built without the `chain` feature.
    ChainUnavailable,
}

impl ChainError {
    /// The stable code, e.g. `"unknown_issuer"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::UnknownIssuer => "unknown_issuer",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::WrongEku => "wrong_eku",
            Self::Revoked => "revoked",
            Self::RevocationUnknown => "revocation_unknown",
            Self::CrlExpired => "crl_expired",
            Self::BadSignature => "bad_signature",
            Self::PathTooLong => "path_too_long",
            Self::CaUsedAsLeaf => "ca_used_as_leaf",
            Self::NameConstraints => "name_constraints",
            Self::TimeBefore1970 => "time_before_1970",
            Self::AmbiguousChain => "ambiguous_chain",
            Self::InvalidChain => "invalid_chain",
            Self::UnknownAnchorSet => "unknown_anchor_set",
            Self::ChainUnavailable => "chain_unavailable",
        }
    }
}

/// What is wrong with the proxy's own fields, read in
/// `identity_from = "proxy-fields"` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldsProblem {
    /// Pairs out of Envoy's fixed order.
    FieldsOutOfOrder,
    /// `Hash` is not a SHA-256.
    HashNotSha256,
    /// No `Hash`: the element names nobody.
    NoHash,
    /// `Subject` does not parse as a name.
    BadSubject,
    /// A `URI` or `DNS` value with a character Envoy never writes.
    UnprintableField,
}

impl FieldsProblem {
    /// The stable code, e.g. `"fields_out_of_order"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::FieldsOutOfOrder => "fields_out_of_order",
            Self::HashNotSha256 => "hash_not_sha256",
            Self::NoHash => "no_hash",
            Self::BadSubject => "bad_subject",
            Self::UnprintableField => "unprintable_field",
        }
    }
}

/// Why the connection's own certificate did not make it a trusted proxy
/// (`trusted_proxies`; reason `untrusted_proxy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProxyProblem {
    /// The connection presented no certificate.
    NoCertificate,
    /// Its certificate (or chain) does not read, or is longer than kept.
    Unreadable,
    /// No `[[trusted_proxies]]` entry matches its names or pins.
    NotAllowed,
    /// It is Cloudflare's shared origin-pull certificate, which every
    /// Cloudflare customer's traffic presents, and the entry that matched
    /// does not say `allow_cloudflare_global = true`.
    CloudflareGlobal,
    /// The trusted element's `By` is not one of the proxy certificate's
    /// URI SANs (`[elements] by_is_proxy`).
    ByNotProxy,
}

impl ProxyProblem {
    /// The stable code, e.g. `"no_proxy_certificate"`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::NoCertificate => "no_proxy_certificate",
            Self::Unreadable => "proxy_certificate_unreadable",
            Self::NotAllowed => "proxy_not_allowed",
            Self::CloudflareGlobal => "cloudflare_global",
            Self::ByNotProxy => "by_not_proxy",
        }
    }
}

/// The precise cause of a [`Rejection`](crate::Rejection)
/// ([`Rejection::detail`](crate::Rejection::detail)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detail {
    /// Nothing more precise than the reason.
    Reason(Reason),
    /// The parser's, decoder's or consistency check's error.
    Error(ErrorKind),
    /// The chain verifier's.
    Chain(ChainError),
    /// The proxy's fields (proxy-fields mode).
    Fields(FieldsProblem),
    /// The `by` proxy appears in more than one element: a split element.
    RepeatedBy,
    /// The connection's certificate (`trusted_proxies`).
    Proxy(ProxyProblem),
}

impl Detail {
    /// The stable code on the wire (log field `detail`, `xfcc check`),
    /// e.g. `"unterminated_quote"`, `"unknown_issuer"`, `"repeated_by"`, or
    /// the reason's own code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Reason(r) => r.code(),
            Self::Error(k) => k.code(),
            Self::Chain(c) => c.code(),
            Self::Fields(f) => f.code(),
            Self::RepeatedBy => "repeated_by",
            Self::Proxy(p) => p.code(),
        }
    }
}

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl PartialEq<&str> for Detail {
    fn eq(&self, other: &&str) -> bool {
        self.code() == *other
    }
}

impl PartialEq<str> for Detail {
    fn eq(&self, other: &str) -> bool {
        self.code() == other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_the_wire_s() {
        use ChainError as C;
        let chain = [
            C::UnknownIssuer,
            C::Expired,
            C::NotYetValid,
            C::WrongEku,
            C::Revoked,
            C::RevocationUnknown,
            C::CrlExpired,
            C::BadSignature,
            C::PathTooLong,
            C::CaUsedAsLeaf,
            C::NameConstraints,
            C::TimeBefore1970,
            C::AmbiguousChain,
            C::InvalidChain,
            C::UnknownAnchorSet,
            C::ChainUnavailable,
        ];
        let mut codes: Vec<&str> = chain.iter().map(|c| c.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), chain.len());
        assert_eq!(Detail::Chain(C::UnknownIssuer).code(), "unknown_issuer");
        assert_eq!(Detail::Reason(Reason::Missing).to_string(), "missing");
        assert_eq!(Detail::RepeatedBy, "repeated_by");
        let kind = ErrorKind::Parse(crate::error::ParseErrorKind::Empty);
        assert_eq!(Detail::Error(kind).code(), kind.code());
        assert_eq!(
            Detail::Fields(FieldsProblem::FieldsOutOfOrder).code(),
            "fields_out_of_order"
        );
    }
}
