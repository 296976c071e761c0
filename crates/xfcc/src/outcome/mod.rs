//! What the library answers: a client that passed ([`ClientCert`], with the
//! proxy's fields when it was read from them), a refusal ([`Rejection`],
//! its [`Reason`], [`Detail`] and [`Explanation`]), the request-level
//! [`Verdict`] an adapter translates, and what building a policy answers
//! ([`ConfigError`], [`Warning`]). Nothing here decides; the policy does.

mod client_cert;
mod config_error;
mod detail;
mod explain;
mod fields;
mod refused;
mod rejection;
mod verdict;
mod warning;

pub use self::client_cert::ClientCert;
pub(crate) use self::client_cert::VerifiedBy;
pub(crate) use self::config_error::Repr as ConfigErrorRepr;
pub use self::config_error::{ConfigError, ConfigErrorKind};
pub use self::detail::{ChainError, Detail, FieldsProblem, ProxyProblem};
pub use self::explain::{ChainFacts, Explanation, RuleMiss};
pub use self::fields::{IdentityFrom, ProxyFields};
pub use self::refused::Refused;
pub(crate) use self::rejection::Hint;
pub use self::rejection::{Reason, Rejection};
pub use self::verdict::{Outcome, Verdict};
pub use self::warning::{Warning, WarningKind};
