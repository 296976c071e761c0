//! Configuration: the settings table ([`settings`]), and the two ways a
//! policy is written down, a TOML policy file and the environment, read
//! into a [`PolicyConfig`] that builds a [`Policy`](crate::Policy) through
//! the one [`PolicyBuilder::build`](crate::PolicyBuilder::build).

mod build;
mod env;
mod file;
mod model;
mod schema;

pub use self::model::{ChainConfig, PolicyConfig, ProxyConfig, RuleConfig};
pub use self::schema::{Setting, SettingType, settings};
