//! Reading headers and certificates without a policy: the header's
//! elements and fields ([`XfccHeader`]), a certificate's identity
//! ([`CertIdentity`], [`decode_certificate`]), names, and the limits every
//! read is bounded by. What `xfcc inspect` is built on; nothing here
//! decides whether a client is allowed (a [`Policy`](crate::Policy) does).

pub use crate::cert::{CertIdentity, KeyAlgorithm, PublicKeyInfo, SubjectAltNames};
pub use crate::decode::decode_certificate;
pub use crate::dn::{DistinguishedName, DnError, NameAttribute};
pub use crate::forwarded::ForwardedCert;
pub use crate::limits::Limits;
pub use crate::parse::{
    Element, Elements, Key, Pair, Pairs, ParseOptions, Syntax, Value, XfccHeader,
};
pub use crate::text::display_safe;
