//! Swapping the policy at run time (certificate rotation without restart).

use std::fmt;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::outcome::{ClientCert, Rejection, Verdict};
use crate::policy::Policy;

/// A shared, reloadable [`Policy`]. Clones share the same slot;
/// [`reload`](Self::reload) swaps the policy atomically: verifications
/// already running finish on the policy they started with, and the next
/// ones use the new one (whose cache starts empty).
///
/// ```
/// # use xfcc::{Policy, PolicyHandle, Rule};
/// let pin = |name: &str, sha256: &str| Policy::builder().allow(Rule::new(name).thumbprint([sha256])).build();
/// let handle = PolicyHandle::new(pin("a", &"aa".repeat(32))?);
/// let for_middleware = handle.clone();
/// handle.reload(pin("b", &"bb".repeat(32))?);
/// assert_eq!(format!("{:?}", for_middleware.current()).contains("\"b\""), true);
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct PolicyHandle {
    slot: Arc<ArcSwap<Policy>>,
}

impl fmt::Debug for PolicyHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PolicyHandle")
            .field(&*self.slot.load())
            .finish()
    }
}

impl PolicyHandle {
    /// A handle holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self {
            slot: Arc::new(ArcSwap::from_pointee(policy)),
        }
    }

    /// The policy in force now.
    pub fn current(&self) -> Arc<Policy> {
        self.slot.load_full()
    }

    /// Replaces the policy for every clone of this handle.
    pub fn reload(&self, policy: Policy) {
        self.slot.store(Arc::new(policy));
    }

    /// [`Policy::verify`] with the policy in force now.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify(&self, value: &str) -> Result<ClientCert, Rejection> {
        self.slot.load().verify(value)
    }

    /// [`Policy::verify_header_values`] with the policy in force now.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_header_values<'v, I>(&self, values: I) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        self.slot.load().verify_header_values(values)
    }

    /// [`Policy::verify_request`] with the policy in force now (what the
    /// adapters call): the header names are read from it, so adapters
    /// follow a reload that changes them.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_request<'v, F, I>(
        &self,
        peer: impl Into<crate::Peer>,
        lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        self.slot.load().verify_request(peer, lines)
    }

    /// [`Policy::decide`] with the policy in force now: the verdict an
    /// adapter translates (what the tower layer and the actix middleware
    /// call).
    pub fn decide<'v, F, I>(&self, peer: impl Into<crate::Peer>, lines: F) -> Verdict
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        self.slot.load().decide(peer, lines)
    }
}

impl From<Policy> for PolicyHandle {
    fn from(policy: Policy) -> Self {
        Self::new(policy)
    }
}
