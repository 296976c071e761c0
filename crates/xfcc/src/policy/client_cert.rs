//! The verified client certificate.

use core::ops::Deref;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::cert::CertIdentity;

/// A client certificate that passed a [`Policy`](crate::Policy): only
/// [`Policy::verify`](crate::Policy::verify) makes one. Dereferences to its
/// [`CertIdentity`]. Cheap to clone, `Send + Sync + 'static`.
///
/// (Its two shared parts are reference-counted, so a verify from the cache
/// allocates nothing for it.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    identity: CertIdentity,
    rule: Arc<str>,
    element: usize,
    verified_at: SystemTime,
    chain_verified: bool,
}

impl ClientCert {
    pub(crate) fn new(
        identity: CertIdentity,
        rule: Arc<str>,
        element: usize,
        verified_at: SystemTime,
        chain_verified: bool,
    ) -> Self {
        Self {
            inner: Inner {
                identity,
                rule,
                element,
                verified_at,
                chain_verified,
            },
        }
    }

    /// The certificate.
    pub fn identity(&self) -> &CertIdentity {
        &self.inner.identity
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
        self.inner.chain_verified
    }

    /// Time left before the certificate expires, from the moment it was
    /// verified; zero when already past (within the leeway). Services can
    /// warn when this gets short.
    pub fn expires_in(&self) -> Duration {
        self.inner
            .identity
            .not_after()
            .duration_since(self.inner.verified_at)
            .unwrap_or_default()
    }
}

impl Deref for ClientCert {
    type Target = CertIdentity;

    fn deref(&self) -> &CertIdentity {
        &self.inner.identity
    }
}
