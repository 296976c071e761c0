//! The verified client identity.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::{IdentityFrom, ProxyFields};
use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;

/// A client that passed a [`Policy`](crate::Policy): only the policy's
/// `verify` methods make one. Cheap to clone, `Send + Sync + 'static`.
///
/// It was verified from the forwarded certificate
/// ([`certificate`](Self::certificate)), or, with
/// `identity_from = "proxy-fields"`, from the fields the proxy wrote in
/// its place ([`proxy_fields`](Self::proxy_fields));
/// [`verified_from`](Self::verified_from) says which. What both carry
/// (SHA-256, subject, URI and DNS SANs, SPIFFE ID) has an accessor here.
///
/// (Its shared parts are reference-counted, so a verify from the cache
/// allocates nothing for it.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    identity: Identity,
    rule: Arc<str>,
    element: usize,
    verified_at: SystemTime,
    verified_by: Option<VerifiedBy>,
    source: Option<Arc<str>>,
    proxy: Option<Arc<str>>,
}

/// The anchor set, and the anchor in it, that a chain was verified to
/// (shared with the policy: nothing allocated per request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VerifiedBy {
    set: Arc<str>,
    anchors: Arc<[String]>,
    index: usize,
}

impl VerifiedBy {
    pub(crate) const fn new(set: Arc<str>, anchors: Arc<[String]>, index: usize) -> Self {
        Self {
            set,
            anchors,
            index,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    Cert(CertIdentity),
    Fields(Arc<ProxyFields>),
}

impl ClientCert {
    pub(crate) fn new(
        identity: CertIdentity,
        rule: Arc<str>,
        element: usize,
        verified_at: SystemTime,
        verified_by: Option<VerifiedBy>,
    ) -> Self {
        Self {
            inner: Inner {
                identity: Identity::Cert(identity),
                rule,
                element,
                verified_at,
                verified_by,
                source: None,
                proxy: None,
            },
        }
    }

    pub(crate) fn from_fields(
        fields: ProxyFields,
        rule: Arc<str>,
        element: usize,
        verified_at: SystemTime,
    ) -> Self {
        Self {
            inner: Inner {
                identity: Identity::Fields(Arc::new(fields)),
                rule,
                element,
                verified_at,
                verified_by: None,
                source: None,
                proxy: None,
            },
        }
    }

    /// Where the identity was read from: the certificate, or the proxy's
    /// fields.
    pub fn verified_from(&self) -> IdentityFrom {
        match self.inner.identity {
            Identity::Cert(_) => IdentityFrom::Cert,
            Identity::Fields(_) => IdentityFrom::ProxyFields,
        }
    }

    /// The certificate, when the identity was read from one: issuer,
    /// validity, SHA-1, e-mail and IP SANs, the DER.
    pub fn certificate(&self) -> Option<&CertIdentity> {
        match &self.inner.identity {
            Identity::Cert(c) => Some(c),
            Identity::Fields(_) => None,
        }
    }

    /// The proxy's fields, when the identity was read from them.
    pub fn proxy_fields(&self) -> Option<&ProxyFields> {
        match &self.inner.identity {
            Identity::Cert(_) => None,
            Identity::Fields(f) => Some(f),
        }
    }

    /// SHA-256 of the certificate's DER (from the proxy's `Hash` for
    /// proxy fields).
    pub fn sha256(&self) -> &[u8; 32] {
        match &self.inner.identity {
            Identity::Cert(c) => c.sha256(),
            Identity::Fields(f) => f.sha256(),
        }
    }

    /// [`sha256`](Self::sha256) as 64 uppercase hex digits.
    pub fn sha256_hex(&self) -> String {
        crate::hex::upper(self.sha256())
    }

    /// The SHA-256 thumbprint as JOSE writes it (`x5t#S256`, RFC 8705):
    /// see [`CertIdentity::x5t_s256`].
    pub fn x5t_s256(&self) -> String {
        crate::cert::x5t_s256(self.sha256())
    }

    /// The subject as a parsed name (`None` for proxy fields without
    /// `Subject`).
    pub fn subject_name(&self) -> Option<&DistinguishedName> {
        match &self.inner.identity {
            Identity::Cert(c) => Some(c.subject_name()),
            Identity::Fields(f) => f.subject_name(),
        }
    }

    /// The subject in RFC 4514 form; empty for an empty subject, and for
    /// proxy fields without `Subject` ([`subject_name`](Self::subject_name)
    /// tells the two apart).
    pub fn subject(&self) -> String {
        match &self.inner.identity {
            Identity::Cert(c) => c.subject().to_owned(),
            Identity::Fields(f) => f
                .subject_name()
                .map(ToString::to_string)
                .unwrap_or_default(),
        }
    }

    /// The subject's common names, most significant first.
    pub fn subject_cns(&self) -> impl Iterator<Item = &str> {
        self.subject_name()
            .into_iter()
            .flat_map(DistinguishedName::common_names)
    }

    /// The issuer as a parsed name (`None` for proxy fields without an
    /// `Issuer` that can be trusted: see [`ProxyFields::issuer_name`]).
    pub fn issuer_name(&self) -> Option<&DistinguishedName> {
        match &self.inner.identity {
            Identity::Cert(c) => Some(c.issuer_name()),
            Identity::Fields(f) => f.issuer_name(),
        }
    }

    /// The issuer in RFC 4514 form; empty when there is none to read
    /// ([`issuer_name`](Self::issuer_name) tells the two apart).
    pub fn issuer(&self) -> String {
        match &self.inner.identity {
            Identity::Cert(c) => c.issuer().to_owned(),
            Identity::Fields(f) => f.issuer_name().map(ToString::to_string).unwrap_or_default(),
        }
    }

    /// The issuer's common names, most significant first.
    pub fn issuer_cns(&self) -> impl Iterator<Item = &str> {
        self.issuer_name()
            .into_iter()
            .flat_map(DistinguishedName::common_names)
    }

    /// The SHA-1 thumbprint, 40 uppercase hex digits (what the Azure
    /// portal shows); `None` for proxy fields, whose `Hash` is a SHA-256.
    pub fn sha1_hex(&self) -> Option<String> {
        match &self.inner.identity {
            Identity::Cert(c) => Some(c.sha1_hex()),
            Identity::Fields(_) => None,
        }
    }

    /// URI SANs, in order (what the proxy forwarded, for proxy fields).
    pub fn san_uris(&self) -> &[String] {
        match &self.inner.identity {
            Identity::Cert(c) => c.san().uri(),
            Identity::Fields(f) => f.uri(),
        }
    }

    /// DNS SANs, in order (what the proxy forwarded, for proxy fields).
    pub fn san_dns(&self) -> &[String] {
        match &self.inner.identity {
            Identity::Cert(c) => c.san().dns(),
            Identity::Fields(f) => f.dns(),
        }
    }

    /// The SPIFFE ID (see [`CertIdentity::spiffe_id`] and
    /// [`ProxyFields::spiffe_id`]).
    pub fn spiffe_id(&self) -> Option<&str> {
        match &self.inner.identity {
            Identity::Cert(c) => c.spiffe_id(),
            Identity::Fields(f) => f.spiffe_id(),
        }
    }

    /// With `[[sources]]`, the name of the source (the proxy) whose
    /// request it came in; `None` for a policy without sources.
    pub fn source(&self) -> Option<&str> {
        self.inner.source.as_deref()
    }

    /// With `[[trusted_proxies]]`, the name of the entry the connection's
    /// certificate matched: the proxy the request came through. `None`
    /// without `trusted_proxies`.
    pub fn proxy(&self) -> Option<&str> {
        self.inner.proxy.as_deref()
    }

    pub(crate) fn with_proxy(mut self, name: Arc<str>) -> Self {
        self.inner.proxy = Some(name);
        self
    }

    pub(crate) fn with_source(mut self, name: Arc<str>) -> Self {
        self.inner.source = Some(name);
        self
    }

    /// The name of the rule that allowed it, or its index when unnamed.
    pub fn rule(&self) -> &str {
        &self.inner.rule
    }

    /// Index of the header element it came from.
    pub fn element(&self) -> usize {
        self.inner.element
    }

    /// When the policy verified it (the policy's clock).
    pub fn verified_at(&self) -> SystemTime {
        self.inner.verified_at
    }

    /// Whether the allowing rule required, and got, a verified chain.
    pub fn chain_verified(&self) -> bool {
        self.inner.verified_by.is_some()
    }

    /// The anchor set (`[chain.<set>]`) the chain was verified to, when the
    /// allowing rule has one: what to watch when rotating a CA (see the
    /// `xfcc_allowed_total` metric).
    pub fn anchor_set(&self) -> Option<&str> {
        self.inner.verified_by.as_ref().map(|v| &*v.set)
    }

    /// The subject (RFC 4514) of the trust anchor the chain ended at: which
    /// CA of the set this client still relies on.
    pub fn anchor(&self) -> Option<&str> {
        let v = self.inner.verified_by.as_ref()?;
        v.anchors.get(v.index).map(String::as_str)
    }

    /// Time left before the certificate expires, from the moment it was
    /// verified; zero when already past (within the leeway). Services can
    /// warn when this gets short. `None` for proxy fields, which carry no
    /// validity period.
    pub fn expires_in(&self) -> Option<Duration> {
        let cert = self.certificate()?;
        Some(
            cert.not_after()
                .duration_since(self.inner.verified_at)
                .unwrap_or_default(),
        )
    }
}
