#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod extract;
mod middleware;
mod rejection;

pub use extract::ClientCert;
pub use middleware::{ResponseFuture, Xfcc, XfccMiddleware};
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
