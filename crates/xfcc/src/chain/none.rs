//! Without the `chain` feature: a policy that names trust anchors or a
//! chain rule is refused at build time.

use super::AnchorSource;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::rules::CompiledRule;

/// Without the `chain` feature there is nothing to verify chains with.
#[derive(Debug, Default)]
pub(crate) struct Chains;

pub(crate) fn build(
    anchors: Vec<(String, AnchorSource)>,
    rules: &[CompiledRule],
) -> Result<Chains, ConfigError> {
    if !anchors.is_empty() || rules.iter().any(|r| r.chain.is_some()) {
        return Err(ConfigError::from(Repr::ChainUnavailable));
    }
    Ok(Chains)
}

impl Chains {
    pub(crate) fn verified_by(
        &self,
        _set: &str,
    ) -> Option<(std::sync::Arc<str>, std::sync::Arc<[String]>)> {
        None
    }

    pub(crate) fn anchor_names(&self, _set: &str) -> std::sync::Arc<[String]> {
        std::sync::Arc::from([])
    }

    pub(crate) fn warnings(&self) -> Vec<crate::outcome::Warning> {
        Vec::new()
    }

    pub(crate) fn verify(
        &self,
        _set: &str,
        _fc: &crate::forwarded::ForwardedCert,
        _now: std::time::SystemTime,
        _want_until: bool,
        _limits: &crate::limits::Limits,
    ) -> Result<(Option<std::time::SystemTime>, usize), crate::outcome::ChainError> {
        Err(crate::outcome::ChainError::ChainUnavailable)
    }
}

/// Without the `chain` feature an anchor file is not read as PEM here: a
/// policy that names a set is refused when it is built.
pub(crate) fn check_anchor_file(_pem: &[u8]) -> Result<(), &'static str> {
    Ok(())
}
