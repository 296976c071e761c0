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

mod background;
mod cert;
mod chain;
mod config;
mod consistency;
mod decode;
mod dn;
mod error;
mod format;
mod forwarded;
mod hex;
mod limits;
mod metrics;
mod oid;
mod outcome;
mod parse;
mod policy;
#[cfg(feature = "render")]
mod render;
mod rules;
mod run;
mod spiffe;
mod text;
mod x509;

pub use cert::{CertIdentity, KeyAlgorithm, PublicKeyInfo, SubjectAltNames};
pub use chain::TrustAnchors;
#[cfg(feature = "chain")]
pub use chain::{CrlExpiry, Revocation, RevocationDepth, UnknownStatus};
pub use config::{ChainConfig, PolicyConfig, RuleConfig, Setting, SettingType, settings};
pub use decode::decode_certificate;
pub use dn::{DistinguishedName, DnError, NameAttribute};
pub use error::{
    CertErrorKind, Error, ErrorKind, Field, Inconsistency, ParseError, ParseErrorKind,
};
pub use error::{DerError, DerErrorKind, DerField};
pub use format::{Format, UnknownFormat};
pub use forwarded::ForwardedCert;
pub use limits::Limits;
pub use outcome::{
    ChainError, ChainFacts, ClientCert, ConfigError, ConfigErrorKind, Detail, Explanation,
    FieldsProblem, IdentityFrom, Outcome, ProxyFields, Reason, Refused, Rejection, RuleMiss,
    Verdict, Warning, WarningKind,
};
pub use parse::{Element, Elements, Key, Pair, Pairs, ParseOptions, Syntax, Value, XfccHeader};
pub use policy::{ElementCount, Mode, Policy, PolicyBuilder, Reading, Source};
#[cfg(feature = "render")]
pub use render::{EnvoyFields, render_envoy, render_envoy_json};
pub use rules::{Rule, Thumbprint};
#[cfg(feature = "tracing")]
pub use run::RejectionLog;
pub use run::{Admission, LogLimiter, LogRate, PolicyHandle, PolicyWatcher, ReloadStatus};
pub use text::display_safe;

/// The types documented as shareable across threads are `Send + Sync`
/// (a compile-time check).
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Policy>();
    shareable::<PolicyHandle>();
    shareable::<ClientCert>();
    shareable::<CertIdentity>();
    shareable::<ForwardedCert>();
    shareable::<Rejection>();
    shareable::<Explanation>();
    shareable::<Error>();
    shareable::<ConfigError>();
    shareable::<XfccHeader<'static>>();
};
