#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod middleware;
mod rejection;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;

pub use extract::ClientCert;
pub use middleware::{PeerTls, ResponseFuture, Xfcc, XfccMiddleware};
pub use rejection::XfccRejection;
/// The core crate, re-exported so that its version always matches.
pub use xfcc;

/// `Xfcc` is built once, outside `HttpServer::new`, and cloned into every
/// worker: one policy, one cache, one reload for all (a compile-time check).
const _: () = {
    const fn shared<T: Send + Sync + Clone>() {}
    shared::<Xfcc>();
    shared::<XfccRejection>();
};
