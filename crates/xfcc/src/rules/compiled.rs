//! A rule checked when the policy was built, ready to match: what every
//! question about a rule (does it match, what failed, is it names-only,
//! can proxy fields satisfy it) asks of its constraints.

use std::sync::Arc;

use super::constraints::{Check, SEEN_MAX};
use super::facts::Facts;

/// A checked rule.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) label: Arc<str>,
    /// In the settings table's order.
    checks: Arc<[Box<dyn Check>]>,
    pub(crate) chain: Option<String>,
}

impl CompiledRule {
    pub(crate) fn new(label: Arc<str>, checks: Vec<Box<dyn Check>>, chain: Option<String>) -> Self {
        Self {
            label,
            checks: checks.into(),
            chain,
        }
    }

    /// The keys (as in the policy file, in its order) of the constraints
    /// this rule has.
    fn keys(&self) -> impl Iterator<Item = &'static str> {
        self.checks
            .iter()
            .map(|c| c.key())
            .chain(self.chain.is_some().then_some("chain"))
    }

    /// The keys of this rule's constraints that only a certificate can
    /// satisfy (what the constraint table says proxy fields cannot carry,
    /// and `chain`), in policy-file order.
    pub(crate) fn needs_certificate(&self) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter_map(|c| c.needs_certificate())
            .chain(self.chain.is_some().then_some("chain"))
            .collect()
    }

    /// The first key (policy-file order) of this rule's constraints, for
    /// an error about the rule as a whole to name.
    pub(crate) fn first_key(&self) -> &'static str {
        self.keys().next().unwrap_or("[[allow]]")
    }

    /// Whether proxy-fields mode reads the proxy's `field` for this rule
    /// (`Issuer`: the rule has an `issuer` or `issuer_cn` constraint).
    pub(crate) fn reads_field(&self, field: &str) -> bool {
        self.checks.iter().any(|c| c.proxy_field() == Some(field))
    }

    /// Whether a self-signed certificate could satisfy this rule: it pins
    /// no certificate or key and requires no chain.
    pub(crate) fn is_name_only(&self) -> bool {
        self.chain.is_none() && !self.checks.iter().any(|c| c.pins())
    }

    /// The keys (as in the policy file) of the constraints other than
    /// `chain` that `c` fails, in the file's key order: empty when every one
    /// holds (the caller then checks the chain, which costs signatures).
    /// One list of checks serves both the verdict and its explanation, so
    /// they cannot disagree.
    pub(crate) fn misses(&self, c: &dyn Facts) -> Vec<&'static str> {
        self.checks
            .iter()
            .filter(|check| !check.holds(c))
            .map(|check| check.key())
            .collect()
    }

    /// What the certificate holds for the constraints in `failed` that
    /// show it (certificate policies, extensions), for an explanation.
    /// Bounded: at most [`SEEN_MAX`] entries.
    pub(crate) fn seen(&self, failed: &[&str], c: &dyn Facts) -> Vec<String> {
        let Some(cert) = c.certificate() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for check in self.checks.iter().filter(|k| failed.contains(&k.key())) {
            check.seen(cert, &mut out);
        }
        out.truncate(SEEN_MAX);
        out
    }
}
