#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
mod rejection;

#[cfg(feature = "axum")]
pub use extract::ClientCert;
pub use future::ResponseFuture;
pub use layer::{PeerAddr, Xfcc, XfccLayer};
pub use rejection::{JsonForbidden, OnRejection, XfccRejection};
/// The core crate, re-exported so that its version always matches.
pub use xfcc;
