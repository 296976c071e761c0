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
pub use xfcc::LogLevel;
