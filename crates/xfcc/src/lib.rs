#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

/// One `tracing` event (target `xfcc`) at a level chosen at run time:
/// tracing's macros take a constant level, so each is spelled once here.
#[cfg(feature = "tracing")]
macro_rules! event_at {
    ($level:expr, $($fields:tt)+) => {
        match $level {
            tracing::Level::ERROR => tracing::event!(target: "xfcc", tracing::Level::ERROR, $($fields)+),
            tracing::Level::WARN => tracing::event!(target: "xfcc", tracing::Level::WARN, $($fields)+),
            tracing::Level::INFO => tracing::event!(target: "xfcc", tracing::Level::INFO, $($fields)+),
            tracing::Level::DEBUG => tracing::event!(target: "xfcc", tracing::Level::DEBUG, $($fields)+),
            _ => tracing::event!(target: "xfcc", tracing::Level::TRACE, $($fields)+),
        }
    };
}

// The layers, from the ground up. The public ones hold every public
// name of their layer; the root re-exports what a first user needs.
mod background;
mod cert;
pub mod chain;
pub mod config;
mod consistency;
mod decode;
mod dn;
pub mod error;
mod format;
mod forwarded;
mod hex;
pub mod inspect;
mod limits;
mod metrics;
mod oid;
pub mod outcome;
mod parse;
mod peer;
mod policy;
mod reason;
#[cfg(feature = "render")]
#[cfg_attr(docsrs, doc(cfg(feature = "render")))]
pub mod render;
mod rules;
pub mod run;
mod spiffe;
mod text;
#[cfg(feature = "rustls")]
#[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
pub mod tls;
mod x509;

pub use chain::TrustAnchors;
pub use format::Format;
pub use outcome::{ClientCert, ConfigError, Reason, Rejection};
pub use peer::{Peer, PeerCert, PeerTls, RecentPeers};
pub use policy::{ElementCount, Mode, Policy, PolicyBuilder, Reading, Source, TrustedProxy};
pub use rules::{Rule, Thumbprint};
pub use run::PolicyHandle;

/// The types documented as shareable across threads are `Send + Sync`
/// (a compile-time check).
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Policy>();
    shareable::<PolicyHandle>();
    shareable::<Peer>();
    shareable::<PeerCert>();
    shareable::<ClientCert>();
    shareable::<inspect::CertIdentity>();
    shareable::<inspect::ForwardedCert>();
    shareable::<Rejection>();
    shareable::<outcome::Explanation>();
    shareable::<error::Error>();
    shareable::<ConfigError>();
    shareable::<inspect::XfccHeader<'static>>();
};
