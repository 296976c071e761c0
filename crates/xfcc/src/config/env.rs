//! Configuration from environment variables.

use std::collections::BTreeMap;

use super::model::{Origin, PolicyConfig};
use super::schema::{self, POLICY_FILE, Role, Scope};
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::policy::Policy;

/// Every variable read, for spotting misspelled ones.
fn known() -> impl Iterator<Item = &'static str> {
    schema::settings().iter().filter_map(|s| s.env)
}

fn env_err(name: &str, e: ConfigError) -> ConfigError {
    ConfigError::from(Repr::Env {
        var: name.to_owned(),
        error: e,
    })
}

/// Edit distance, for suggesting the name an operator meant.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

impl Policy {
    /// Builds a policy from the process environment; see
    /// [`from_env_vars`](Self::from_env_vars). A variable named `XFCC_*` or
    /// `ALLOWED_CERT_*` that is not one of those read is an error naming
    /// the closest valid name (`XFCC_ALLOWED_ISSUER_CN` is not silently
    /// ignored).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable at fault, or the error
    /// of the policy file named by `XFCC_POLICY_FILE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        PolicyConfig::from_env()?.build()
    }

    /// As [`from_env`](Self::from_env), from the given name/value pairs.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        PolicyConfig::from_env_pairs(pairs)?.build()
    }

    /// Builds a policy from variables looked up with `var`.
    ///
    /// The published recipes' variables are read unchanged, with their
    /// meaning (a certificate passes if its SHA-256 thumbprint **or** its
    /// subject CN is listed; comma-separated; one left empty is absent):
    ///
    /// | variable | rule |
    /// |---|---|
    /// | `ALLOWED_CERT_THUMBPRINTS`, `ALLOWED_CERT_FINGERPRINTS` | rule `thumbprint`: any listed thumbprint (SHA-256 or SHA-1, colons allowed) |
    /// | `ALLOWED_CERT_COMMON_NAMES` | rule `common_name`: any listed subject CN |
    ///
    /// Every `XFCC_ALLOWED_*` variable that is set adds a constraint to one
    /// more rule, `env`, whose constraints must all hold:
    /// `XFCC_ALLOWED_ISSUER` (one RFC 4514 DN), `XFCC_ALLOWED_ISSUER_CNS`,
    /// `XFCC_ALLOWED_SUBJECT_CNS`, `XFCC_ALLOWED_SAN_DNS`,
    /// `XFCC_ALLOWED_SAN_URIS`, `XFCC_ALLOWED_SAN_URI_PREFIXES`,
    /// `XFCC_ALLOWED_SAN_EMAILS`, `XFCC_ALLOWED_SAN_IPS`,
    /// `XFCC_ALLOWED_THUMBPRINTS`.
    ///
    /// `XFCC_CHAIN_ANCHORS` (a PEM file) and `XFCC_CHAIN_CRLS` (files) make
    /// every one of these rules also require a chain to those anchors.
    ///
    /// Other settings: `XFCC_MODE` (`require`/`accept`),
    /// `XFCC_ELEMENT_COUNT` (0 = any), `XFCC_TRUST_ELEMENT` (negative from
    /// the end), `XFCC_TRUSTED_BY`, `XFCC_TRUSTED_PEERS` (comma-separated
    /// CIDRs; see [`PolicyBuilder::trusted_peers`](crate::PolicyBuilder::trusted_peers)), `XFCC_IDENTITY_FROM`
    /// (`cert` or `proxy-fields`; see [`PolicyBuilder::identity_from`](crate::PolicyBuilder::identity_from)),
    /// `XFCC_LEEWAY_SECONDS`
    /// (at most 86400),
    /// `XFCC_CACHE` (capacity; 1024 unless set, 0 turns the cache off: a
    /// service reads the same few client certificates over and over),
    /// `XFCC_FORMAT`, `XFCC_HEADER` (a valid HTTP field name).
    ///
    /// `XFCC_POLICY_FILE` names a TOML policy file instead (it needs the
    /// `toml` feature). Beside it, only `XFCC_FORMAT`, `XFCC_HEADER` and
    /// `XFCC_CACHE` apply (the file has no keys for them); every other
    /// variable above is refused, naming it, since the file holds that
    /// setting.
    ///
    /// An `XFCC_*` variable set to nothing, or a list of only blanks, is an
    /// error: it cannot be honoured, and dropping it could drop a
    /// constraint.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the variable at fault, or
    /// A [`ConfigError`] of kind [`ConfigErrorKind::NothingSet`](crate::outcome::ConfigErrorKind::NothingSet) when no rule is configured at all.
    /// Every variable, with its policy-file key, type and default, is in
    /// [`settings`](crate::config::settings).
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        PolicyConfig::from_env_vars(var)?.build()
    }
}

impl PolicyConfig {
    /// The configuration the process environment sets; see
    /// [`Policy::from_env`].
    ///
    /// # Errors
    /// As [`Policy::from_env`], for what can be told before the settings
    /// are judged: an unknown or empty variable, a value that is not of
    /// its type, an unreadable policy file.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_pairs(std::env::vars())
    }

    /// As [`from_env`](Self::from_env), from the given name/value pairs.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_pairs<I, K, V>(pairs: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: BTreeMap<String, String> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        for name in vars.keys() {
            if (name.starts_with("XFCC_") || name.starts_with("ALLOWED_CERT_"))
                && !known().any(|k| k == name)
            {
                let closest = known()
                    .min_by_key(|k| distance(name, k))
                    .unwrap_or(POLICY_FILE);
                return Err(env_err(
                    name,
                    ConfigError::from(Repr::UnknownVariable { closest }),
                ));
            }
        }
        Self::from_env_vars(|name| vars.get(name).cloned())
    }

    /// The configuration the variables looked up with `var` set (see
    /// [`Policy::from_env_vars`]): each fills the setting the policy file
    /// would, and [`build`](Self::build) judges them all.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        // An XFCC_* variable set to nothing is a mistake; a recipe
        // variable left empty is absent (its rule is one alternative among
        // others).
        let value = |s: &schema::Setting, name: &str| -> Result<Option<String>, ConfigError> {
            let Some(v) = var(name) else { return Ok(None) };
            let v = v.trim().to_owned();
            let recipe = name.starts_with("ALLOWED_CERT_");
            if v.is_empty() {
                return if recipe {
                    Ok(None)
                } else {
                    Err(env_err(
                        name,
                        ConfigError::from(Repr::EmptyValue { key: s.key }),
                    ))
                };
            }
            if s.ty == schema::SettingType::List && schema::list(&v).is_empty() {
                return Err(env_err(
                    name,
                    ConfigError::from(Repr::EmptyList { key: s.key }),
                ));
            }
            Ok(Some(v))
        };
        let fill = |config: &mut Self, scope: Scope| -> Result<(), ConfigError> {
            for s in schema::settings().iter().filter(|s| s.scope() == scope) {
                let Some(name) = s.env else { continue };
                let Some(v) = value(s, name)? else { continue };
                if name.starts_with("ALLOWED_CERT_") {
                    config.recipe_vars.push(name);
                }
                match s.role {
                    Role::Fill(set) => set(config, &v).map_err(|e| env_err(name, e))?,
                    Role::Constraint(c) => config.env_constraint(s.key, c.env_values(&v)),
                    Role::Other => {}
                }
            }
            Ok(())
        };

        if let Some(file) = var(POLICY_FILE) {
            if let Some(other) = schema::settings()
                .iter()
                .filter(|s| s.scope() == Scope::Policy)
                .filter_map(|s| s.env)
                .find(|name| var(name).is_some())
            {
                return Err(env_err(
                    other,
                    ConfigError::from(Repr::File(
                        "XFCC_POLICY_FILE is set: put this setting in the policy file (only XFCC_FORMAT, XFCC_HEADER and XFCC_CACHE apply beside it)".to_owned(),
                    )),
                ));
            }
            if file.trim().is_empty() {
                return Err(env_err(
                    POLICY_FILE,
                    ConfigError::from(Repr::EmptyValue { key: "policy_file" }),
                ));
            }
            let mut config = from_file(file.trim()).map_err(|e| env_err(POLICY_FILE, e))?;
            if let Origin::File { via_env, .. } = &mut config.origin {
                *via_env = true;
            }
            fill(&mut config, Scope::Transport)?;
            return Ok(config);
        }

        let mut config = Self::from_env_origin();
        fill(&mut config, Scope::Policy)?;
        fill(&mut config, Scope::Transport)?;
        if config.chains().any(|(_, c)| c.trust_anchors().is_empty()) {
            // A CRL setting of the anchor set, without its anchors: the
            // first such variable set is named.
            let (setting, value) = schema::settings()
                .iter()
                .filter(|s| s.toml.is_some_and(|t| t.starts_with("[chain.<set>]")))
                .find_map(|s| Some((s, var(s.env?)?)))
                .ok_or(ConfigError::from(Repr::NothingSet))?;
            return Err(env_err(
                setting.env.unwrap_or("XFCC_CHAIN_CRLS"),
                ConfigError::value(
                    setting.key,
                    value,
                    "CRL settings without XFCC_CHAIN_ANCHORS check nothing: set XFCC_CHAIN_ANCHORS to the CA's PEM file too",
                ),
            ));
        }
        config.finish_env();
        Ok(config)
    }
}

#[cfg(feature = "toml")]
fn from_file(file: &str) -> Result<PolicyConfig, ConfigError> {
    PolicyConfig::from_toml_file(file)
}

#[cfg(not(feature = "toml"))]
fn from_file(file: &str) -> Result<PolicyConfig, ConfigError> {
    Err(ConfigError::value(
        "policy_file",
        file,
        "policy files need the xfcc crate's `toml` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::distance;

    #[test]
    fn edit_distance() {
        assert_eq!(
            distance("XFCC_ALLOWED_ISSUER_CN", "XFCC_ALLOWED_ISSUER_CNS"),
            1
        );
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("", "ab"), 2);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
