//! A named set of trust anchors, as a policy is given it.

use std::time::Duration;

/// A named set of trust anchors for [`PolicyBuilder::chain`](crate::PolicyBuilder::chain): a PEM bundle
/// of CA certificates, optional CRLs, and whether the leaf must carry the
/// clientAuth EKU (it must, unless told otherwise).
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustAnchors {
    pub(crate) name: String,
    pub(crate) source: AnchorSource,
}

impl TrustAnchors {
    /// The set `name` (what [`Rule::chain`](crate::Rule::chain) names), trusting the
    /// certificates of `anchors_pem`.
    pub fn new(name: impl Into<String>, anchors_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            source: AnchorSource {
                pem: anchors_pem.into(),
                crls: Vec::new(),
                require_client_auth: true,
                crl_urls: Vec::new(),
                crl_refresh: None,
                crl_max_age: None,
            },
        }
    }

    /// CRLs (PEM or DER) checked for revocation. Default none.
    pub fn crls<I, C>(mut self, crls: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        self.source.crls.extend(crls.into_iter().map(Into::into));
        self
    }

    /// Whether the leaf must list the clientAuth EKU. Default true; false
    /// accepts leaves issued for other purposes (a warning says so).
    pub fn require_client_auth(mut self, required: bool) -> Self {
        self.source.require_client_auth = required;
        self
    }

    /// CRLs fetched from these `http://` URLs (feature `crl-fetch`): once
    /// when the policy is built, then every [`crl_refresh`](Self::crl_refresh)
    /// in a background thread, never on the request path. A fetch is
    /// bounded (10 s, or the refresh interval if shorter; 8 MiB; no
    /// redirects); a failed one keeps the CRLs of the last success. When
    /// the last success is older than [`crl_max_age`](Self::crl_max_age) (or
    /// there was none), the CRLs are stale, and
    /// [`Revocation::expiry`](crate::chain::Revocation) decides: `Enforce` (the
    /// default) refuses the chain (`crl_expired`), `Ignore` uses what it
    /// has. Only these URLs are fetched, never one a certificate names.
    pub fn crl_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.source
            .crl_urls
            .extend(urls.into_iter().map(Into::into));
        self
    }

    /// How often [`crl_urls`](Self::crl_urls) are fetched. Default one
    /// hour; without `crl_urls` it is refused (it would be ignored).
    pub fn crl_refresh(mut self, every: Duration) -> Self {
        self.source.crl_refresh = Some(every);
        self
    }

    /// How old the last successful fetch may be before the CRLs are stale.
    /// Default 24 hours; without `crl_urls` it is refused.
    pub fn crl_max_age(mut self, age: Duration) -> Self {
        self.source.crl_max_age = Some(age);
        self
    }
}

/// Where a chain rule's trust anchors come from.
#[derive(Debug, Clone)]
#[cfg_attr(
    not(feature = "chain"),
    expect(dead_code, reason = "read by the `chain` feature")
)]
pub(crate) struct AnchorSource {
    pub(crate) pem: Vec<u8>,
    pub(crate) crls: Vec<Vec<u8>>,
    pub(crate) require_client_auth: bool,
    pub(crate) crl_urls: Vec<String>,
    /// `None` until set (so that one set without `crl_urls` is refused).
    pub(crate) crl_refresh: Option<Duration>,
    pub(crate) crl_max_age: Option<Duration>,
}
