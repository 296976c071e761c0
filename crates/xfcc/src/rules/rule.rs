//! A rule as written: its name, its constraints' values by key, and the
//! anchor set it names; compiled into a [`CompiledRule`] when the policy
//! is built.

use super::compiled::CompiledRule;
use super::constraints::{self, Constraint};
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;

/// One allow rule. Build it with [`Rule::new`] and one setter per
/// constraint (each documented with what it matches), or from a policy
/// file's `[[allow]]` table.
///
/// ```
/// use xfcc::Rule;
/// let rule = Rule::new("partner")
///     .issuer_cn(["Contoso Issuing CA 1"])
///     .san_uri_prefix(["spiffe://contoso.example/"]);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Rule {
    pub(crate) name: Option<String>,
    /// Each constraint set, by key, with its values as written.
    constraints: Vec<(&'static str, Vec<String>)>,
    pub(crate) chain: Option<String>,
}

impl Rule {
    /// A rule named `name` (reported in [`ClientCert::rule`](crate::ClientCert::rule)),
    /// with no constraints yet. A rule must get at least one.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// An unnamed rule; it is reported by its index.
    pub fn unnamed() -> Self {
        Self::default()
    }

    /// The leaf must chain to the named trust-anchor set (see the `chain`
    /// feature and [`PolicyBuilder::chain`](crate::PolicyBuilder)).
    pub fn chain(mut self, anchor_set: impl Into<String>) -> Self {
        self.chain = Some(anchor_set.into());
        self
    }

    /// More values of the constraint `c` (what every setter does).
    pub(crate) fn with<I, S>(mut self, c: &'static dyn Constraint, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values = values.into_iter().map(Into::into);
        match self.constraints.iter_mut().find(|(k, _)| *k == c.key()) {
            Some((_, v)) => v.extend(values),
            None => self.constraints.push((c.key(), values.collect())),
        }
        self
    }

    /// More values of the constraint `[[allow]] <key>`, for the readers of
    /// the settings table (whose keys are the constraint table's: any other
    /// is refused by the reader, before it gets here).
    pub(crate) fn with_key(self, key: &str, values: Vec<String>) -> Self {
        match constraints::by_key(key) {
            Some(c) => self.with(c, values),
            None => self,
        }
    }

    pub(crate) fn compile(self, index: usize) -> Result<CompiledRule, ConfigError> {
        let label = self.name.clone().unwrap_or_else(|| index.to_string());
        let at = |e: ConfigError| {
            ConfigError::from(Repr::Rule {
                rule: label.clone(),
                error: e,
            })
        };
        // In the table's order, whatever order the setters were called in:
        // failed keys are reported in the policy file's reference order.
        let mut checks = Vec::with_capacity(self.constraints.len());
        for c in constraints::CONSTRAINTS {
            if let Some((_, values)) = self.constraints.iter().find(|(k, _)| *k == c.key()) {
                checks.push(c.compile(values).map_err(at)?);
            }
        }
        if checks.is_empty() && self.chain.is_none() {
            return Err(at(ConfigError::from(Repr::EmptyRule)));
        }
        Ok(CompiledRule::new(label.as_str().into(), checks, self.chain))
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn empty_rules_are_config_errors() {
        let e = Rule::new("x").compile(0).unwrap_err();
        assert!(e.to_string().contains("no constraint"), "{e}");
        let e = Rule::new("x").san_ip(["not-an-ip"]).compile(0).unwrap_err();
        assert!(e.to_string().contains("san_ip"), "{e}");
        // An empty list (or one of blanks) is a mistake, not "no constraint":
        // here it would drop the pin and leave a name-only rule.
        for prints in [vec![], vec![" ".to_owned()]] {
            let e = Rule::new("x")
                .subject_cn(["client"])
                .thumbprint(prints)
                .compile(0)
                .unwrap_err();
            assert_eq!(
                e,
                ConfigError::from(Repr::Rule {
                    rule: "x".into(),
                    error: ConfigError::from(Repr::EmptyList { key: "thumbprint" }),
                })
            );
        }
    }
}
