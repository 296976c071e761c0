//! Allow rules: a [`Rule`] as written, and the rule a policy compiles it
//! into. A rule matches when every constraint it has holds; a constraint
//! with several values holds when any of them does.

mod rule;

pub(crate) use self::rule::CompiledRule;
pub use self::rule::{Rule, Thumbprint};
