//! [`Refused`]: what a middleware answers a request it turns away with,
//! shared by the adapters (tower, actix-web) so that they behave alike.

use core::fmt;

use super::{Reason, Rejection};

/// Why a middleware (or its `ClientCert` extractor) turned a request away:
/// the policy's [`Rejection`], or the extractor used on a route the
/// middleware does not cover (a wiring mistake, not a verdict on the
/// request). The adapters' `XfccRejection` types wrap it, so their codes,
/// statuses and bodies are the same.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// The policy's verdict.
    Policy(Rejection),
    /// The `ClientCert` extractor ran without the middleware.
    LayerMissing,
    /// An adapter saw that the peer address it would judge was taken from
    /// a forwarded header (`X-Forwarded-For` rewritten into the peer by a
    /// server option or a middleware): `peer_rewritten`.
    PeerRewritten,
    /// A WSGI server that keeps header names with underscores, so a
    /// client's look-alike reads as the certificate header:
    /// `unsafe_server`.
    UnsafeServer,
}

impl Refused {
    /// The code of [`Refused::LayerMissing`].
    pub const LAYER_MISSING: &'static str = "xfcc_layer_missing";

    /// The wiring refusal an adapter detects itself, by its code
    /// (`xfcc_layer_missing`, `peer_rewritten`, `unsafe_server`): for
    /// bindings that name it across a language boundary.
    pub fn wiring(code: &str) -> Option<Self> {
        match code {
            Self::LAYER_MISSING => Some(Self::LayerMissing),
            "peer_rewritten" => Some(Self::PeerRewritten),
            "unsafe_server" => Some(Self::UnsafeServer),
            _ => None,
        }
    }

    /// The HTTP status of the default response: 403 for every policy
    /// rejection (as the recipes and Azure Container Apps users expect; 401
    /// would need a `WWW-Authenticate` challenge), 500 for
    /// `peer_unavailable` (the server does not pass the peer address while
    /// `trusted_peers` is set) and for every wiring refusal (a missing
    /// middleware, a rewritten peer, an unsafe server): the service, not
    /// the client, is at fault.
    pub fn status(&self) -> u16 {
        match self {
            Self::Policy(r) if r.reason() != Reason::PeerUnavailable => 403,
            _ => 500,
        }
    }

    /// The stable code: the [`Reason`]'s (`missing`, `not_allowed`, ...),
    /// or `xfcc_layer_missing`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Policy(r) => r.code(),
            Self::LayerMissing => Self::LAYER_MISSING,
            Self::PeerRewritten => "peer_rewritten",
            Self::UnsafeServer => "unsafe_server",
        }
    }

    /// The policy's reason; `None` when the middleware is missing.
    pub fn reason(&self) -> Option<Reason> {
        self.rejection().map(Rejection::reason)
    }

    /// The policy's full rejection (detail code, element, thumbprint);
    /// `None` when the middleware is missing.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Policy(r) => Some(r),
            _ => None,
        }
    }

    /// True when no certificate header was sent.
    pub fn is_missing(&self) -> bool {
        self.rejection().is_some_and(Rejection::is_missing)
    }

    /// True when the `ClientCert` extractor ran on a route without the
    /// middleware.
    pub fn is_layer_missing(&self) -> bool {
        matches!(self, Self::LayerMissing)
    }

    /// The default body: `{"error":"<code>"}` (every code is a fixed ASCII
    /// word: nothing in it needs escaping).
    pub fn json_body(&self) -> String {
        format!("{{\"error\":\"{}\"}}", self.code())
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Policy(r) => fmt::Display::fmt(r, f),
            Self::LayerMissing => f.write_str(
                "ClientCert extractor used on a route the xfcc middleware does not cover",
            ),
            Self::PeerRewritten => f.write_str(
                "the peer address was taken from a forwarded header (X-Forwarded-For, Forwarded, X-Real-IP) by a server option or middleware",
            ),
            Self::UnsafeServer => f.write_str(
                "the WSGI server keeps header names with underscores, so a client's look-alike reads as the certificate header",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_codes_and_bodies() {
        let missing = Refused::Policy(Rejection::missing());
        assert_eq!((missing.status(), missing.code()), (403, "missing"));
        assert!(missing.is_missing() && !missing.is_layer_missing());
        assert_eq!(missing.json_body(), "{\"error\":\"missing\"}");
        let peer = Refused::Policy(Rejection::of(Reason::PeerUnavailable));
        assert_eq!(peer.status(), 500);
        let layer = Refused::LayerMissing;
        assert_eq!(
            (layer.status(), layer.code(), layer.reason()),
            (500, "xfcc_layer_missing", None)
        );
        assert!(layer.to_string().contains("does not cover"));
    }
}
