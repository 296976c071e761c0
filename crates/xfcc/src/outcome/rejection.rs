//! Why a request was not authenticated.

use core::fmt;

use super::detail::Detail;
use super::explain::Explanation;

use crate::error::Error;

pub use crate::reason::Reason;

/// A rejected header: the [`Reason`], a precise detail code, and where.
/// Its messages never contain header or certificate bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: Reason,
    detail: Detail,
    element: Option<usize>,
    offset: Option<usize>,
    der: Option<crate::error::DerError>,
    field: Option<crate::error::Field>,
    explanation: Option<Box<Explanation>>,
    hint: Option<Hint>,
    /// The peer (`untrusted_peer`) and the source: rare, so boxed (the
    /// rejection travels in every `Err`).
    from: Option<Box<Origin>>,
    report_only: bool,
}

/// Where a refused request came from, when that is known and matters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Origin {
    peer: Option<std::net::IpAddr>,
    source: Option<std::sync::Arc<str>>,
}

/// What the request showed that points to the fix ([`Rejection::hint`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hint {
    /// The element count seen and the exact count the policy expects.
    Elements { seen: usize, expected: usize },
    /// The trusted element carries the proxy's fields but no certificate
    /// (what an Istio sidecar sends), and the policy reads certificates.
    FieldsWithoutCert,
    /// The value begins with a header name and a colon.
    HeaderNameInValue,
    /// A header in Envoy's JSON form that does not read.
    JsonForm,
    /// A request the adapter could not tell the TCP peer of.
    NoPeer,
    /// A peer outside `trusted_peers` (its address is [`Rejection::peer`]).
    UntrustedPeer,
    /// A policy with `trusted_proxies`, and an adapter that cannot tell
    /// what the connection presented in TLS.
    NoPeerTls,
    /// The connection's certificate did not make it a trusted proxy.
    UntrustedProxyCert,
    /// The trusted element's `By` is not the proxy certificate's URI SAN.
    ByNotProxy,
    /// A self-issued leaf refused by the chain check for its EKU or for
    /// being a CA: what a self-signed look-alike of a client looks like.
    SelfIssued,
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
            hint: None,
            from: None,
            report_only: false,
        }
    }

    pub(crate) fn with_source(mut self, name: std::sync::Arc<str>) -> Self {
        self.from.get_or_insert_default().source = Some(name);
        self
    }

    /// With `[[sources]]`, the name of the source (the proxy) whose request
    /// was refused; `None` for a policy without sources, and for a peer
    /// that belongs to no source (`untrusted_peer`).
    pub fn source(&self) -> Option<&str> {
        self.from.as_ref()?.source.as_deref()
    }

    /// Marks a rejection decided by a policy in [`Mode::Report`](crate::Mode::Report).
    pub(crate) const fn reported(mut self) -> Self {
        self.report_only = true;
        self
    }

    /// True when the policy that decided this is in report mode
    /// ([`Mode::Report`](crate::Mode::Report)): the request would be refused
    /// under `require`, and the adapters log and count it as `would_deny`
    /// and let it go on (with the rejection in its extensions and no
    /// `ClientCert`). The decision itself (reason, detail, explanation) is
    /// the one `require` makes.
    pub const fn is_report_only(&self) -> bool {
        self.report_only
    }

    /// A refusal of the connection's own certificate (`untrusted_proxy`)
    /// with this detail, and the hint that says how to name the proxy.
    pub(crate) const fn proxy(detail: Detail) -> Self {
        Self::new(Reason::UntrustedProxy, detail).with_hint(Hint::UntrustedProxyCert)
    }

    /// A refusal of the connection's own certificate by the rules of
    /// `trusted_proxies`: `untrusted_proxy`, keeping a chain detail
    /// (`unknown_issuer`, ...) and saying `proxy_not_allowed` for the rest.
    pub(crate) fn of_proxy(mut self) -> Self {
        use super::detail::ProxyProblem;
        self.detail = match self.detail {
            Detail::Chain(c) => Detail::Chain(c),
            Detail::Proxy(p) => Detail::Proxy(p),
            _ => Detail::Proxy(ProxyProblem::NotAllowed),
        };
        self.reason = Reason::UntrustedProxy;
        self.hint = Some(Hint::UntrustedProxyCert);
        self
    }

    pub(crate) const fn with_hint(mut self, hint: Hint) -> Self {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn with_peer(mut self, peer: std::net::IpAddr) -> Self {
        self.from.get_or_insert_default().peer = Some(peer);
        self
    }

    /// The TCP peer of an `untrusted_peer` request: the address to add to
    /// `trusted_peers` if it is your proxy's.
    pub fn peer(&self) -> Option<std::net::IpAddr> {
        self.from.as_ref()?.peer
    }

    /// The next step, when the request shows what it is: the element count
    /// seen beside the one expected, a mesh header that carries no
    /// certificate, a header name pasted into the value, the wiring that
    /// tells the adapter the peer. `None` when the codes say all there is.
    /// Never contains header or certificate bytes.
    pub fn hint(&self) -> Option<String> {
        Some(match self.hint? {
            Hint::Elements { seen, expected } => format!(
                "the header holds {seen} element(s) and the policy expects exactly {expected} ([elements] count): behind more than one proxy set count and trust (-1 is the element the nearest proxy appended) and by, or count = 0 for any number"
            ),
            Hint::FieldsWithoutCert => "the element carries the proxy's Hash, Subject, URI or DNS but no Cert, as an Istio sidecar or gateway sends by default: set [elements] identity_from = \"proxy-fields\" (with trusted_peers or by), or make the proxy forward the certificate (Envoy: set_current_client_cert_details cert: true)".to_owned(),
            Hint::JsonForm => "the header is in Envoy's JSON form (set_current_client_cert_details format: JSON, or an APPEND_FORWARD hop that received a header starting with '['), read as an array of objects with the keys by, hash, cert, chain, subject, uri, dns and issuer; what Envoy appends to a client's malformed JSON does not read, and is refused".to_owned(),
            Hint::HeaderNameInValue => "the value begins with a header name and a colon: send the value alone (curl -H 'X-Forwarded-Client-Cert: <value>' writes the name once)".to_owned(),
            Hint::NoPeer => "trusted_peers is set but the adapter cannot tell the TCP peer: with axum, serve app.into_make_service_with_connect_info::<std::net::SocketAddr>(); with hyper or tonic, insert axum::extract::ConnectInfo<SocketAddr> (or SocketAddr) into the request's extensions".to_owned(),
            Hint::NoPeerTls => "trusted_proxies is set but the adapter cannot tell what the connection presented in TLS: terminate the proxy's TLS in the app with the adapter's acceptor (xfcc-tower's TlsListener, xfcc-actix's tls::on_connect with bind_rustls_0_23), give the adapter the peer certificate (Python: an ASGI server that fills the tls extension; Node: an https server), or name the proxy by address with trusted_peers instead".to_owned(),
            Hint::UntrustedProxyCert => "the header came over a connection whose certificate matches no [[trusted_proxies]] entry: a caller that reaches the service around the proxy (or another proxy) presents no certificate or another one; if it is your proxy, compare its certificate with the entries (xfcc inspect prints its SPKI pin and SANs)".to_owned(),
            Hint::ByNotProxy => "the trusted element's By is not a URI SAN of the certificate the proxy presented: the element was written by another proxy, or the proxy's own (listener) certificate differs from its upstream one; give both the same URI SAN, or set [elements] by_is_proxy = false".to_owned(),
            Hint::SelfIssued => "the certificate is self-issued (its issuer is its own subject): it was not issued by your CA, whatever names it carries; a self-signed look-alike of a client is refused this way".to_owned(),
            Hint::UntrustedPeer => match self.peer() {
                Some(ip) => format!("the header came from {ip}, which is not in trusted_peers: if {ip} is the address your proxy connects from (read it from the proxy's or the platform's network settings, never from X-Forwarded-For, nor from a server or middleware that rewrites the client address such as uvicorn's proxy headers or Werkzeug's ProxyFix), add it (or its block) to trusted_peers; if not, the request went around the proxy"),
                None => "the header came from a peer outside trusted_peers".to_owned(),
            },
        })
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
    pub const fn field(&self) -> Option<crate::error::Field> {
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
    /// verifier's ([`ChainError`](crate::outcome::ChainError): `unknown_issuer`,
    /// `revoked`, ...), the proxy's fields, or the reason itself. Its
    /// [`code`](Detail::code) is the stable code.
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
    /// offset in its DER; [`DerError`](crate::error::DerError)).
    pub const fn der_error(&self) -> Option<crate::error::DerError> {
        self.der
    }

    /// True for [`Reason::Missing`].
    pub const fn is_missing(&self) -> bool {
        matches!(self.reason, Reason::Missing)
    }

    /// Emits one `tracing` event with the stable target `xfcc` at `level`,
    /// with the fields `reason`, `detail`, `der`, `der_field`, `der_offset`,
    /// `element`, `field`, `thumbprint` (SHA-256), `sha1`, `subject`,
    /// `issuer` (clipped), `findings` ([`Explanation::findings`]: what
    /// did not hold), `peer` (for `untrusted_peer`), `source` (with
    /// `[[sources]]`, the proxy's source name), `would_deny` (true in
    /// report mode, where the message says the request went on) and `hint`
    /// ([`hint`](Self::hint)); those that do not apply are left out. The event is
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
        let hint = self.hint();
        let why = self.explanation();
        let sha1 = why
            .and_then(Explanation::certificate)
            .map(|c| c.sha1_hex().to_ascii_uppercase());
        // In report mode the same fields, and the words say the request
        // went on.
        let message = if self.report_only {
            "client certificate would be rejected (mode = report: the request goes on)"
        } else {
            "client certificate rejected"
        };
        event_at!(
            level,
            reason = self.code(),
            would_deny = self.report_only.then_some(true),
            source = self.source(),
            detail = self.detail.code(),
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
            peer = self.peer().map(tracing::field::display),
            hint = hint.as_deref(),
            "{message}"
        );
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
            hint: None,
            from: None,
            report_only: false,
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "client certificate rejected: {}", self.reason.code())?;
        if self.detail.code() != self.reason.code() {
            write!(f, " ({})", self.detail)?;
        }
        if let Some(Hint::Elements { seen, expected }) = self.hint {
            write!(f, " ({seen} elements, expected exactly {expected})")?;
        }
        // Only an `untrusted_peer` rejection carries the peer.
        if let Some(ip) = self.peer() {
            write!(f, " from {ip}")?;
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
        for r in Reason::ALL {
            assert_eq!(Reason::from_code(r.code()), Some(*r));
        }
        assert_eq!(Reason::from_code("Missing"), None);
        assert_eq!(Reason::from_code(""), None);
        assert!(!Rejection::missing().to_string().is_empty());
        assert!(Rejection::missing().is_missing());
    }
}
