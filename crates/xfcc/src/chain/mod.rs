//! Chains and revocation: the named trust-anchor sets a policy verifies a
//! leaf's path against (rustls-webpki, feature `chain`), the CRLs that
//! apply to them, and the background fetcher of `crl_urls` (feature
//! `crl-fetch`). Without the feature, a policy that names a set is refused
//! when it is built.

mod anchors;
#[cfg(feature = "chain")]
mod crl;
#[cfg(not(feature = "chain"))]
mod none;
#[cfg(feature = "chain")]
mod verify;

pub(crate) use self::anchors::AnchorSource;
pub use self::anchors::TrustAnchors;
#[cfg(not(feature = "chain"))]
pub(crate) use self::none::*;
#[cfg(feature = "chain")]
pub(crate) use self::verify::*;
#[cfg(feature = "chain")]
pub use self::verify::{CrlExpiry, Revocation, RevocationDepth, UnknownStatus};
