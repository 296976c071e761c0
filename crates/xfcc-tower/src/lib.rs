#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "axum")]
mod extract;
mod future;
mod layer;
mod rejection;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;

#[cfg(feature = "axum")]
pub use extract::ClientCert;
pub use future::ResponseFuture;
pub use layer::{PeerAddr, PeerTlsFrom, Xfcc, XfccLayer};
pub use rejection::{JsonForbidden, OnRejection, XfccRejection};
/// The core crate, re-exported so that its version always matches.
pub use xfcc;
