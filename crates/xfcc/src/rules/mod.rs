//! Allow rules: a [`Rule`] as written, the constraints it is made of (each
//! defined once, in `constraints.rs`), and the rule a policy compiles it
//! into. A rule matches when every constraint it has holds; a constraint
//! with several values holds when any of them does.

mod compiled;
mod constraints;
mod facts;
mod rule;
mod values;

pub(crate) use self::compiled::CompiledRule;
pub(crate) use self::constraints::{CONSTRAINTS, Constraint};
pub use self::rule::Rule;
pub use self::values::Thumbprint;
