//! A TOML policy file read into a [`PolicyConfig`]: its keys are the
//! settings table's, and anything else is refused by name.

#![cfg_attr(not(feature = "toml"), allow(unused_imports))]

use std::collections::BTreeMap;
use std::path::Path;

use super::model::{ChainConfig, Origin, PolicyConfig, RuleConfig, SourceConfig, Transport};
use super::model::{Elements, RevocationConfig, Validity, mode_named};
use super::schema;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::policy::{Mode, Policy};

#[cfg(feature = "toml")]
const fn yes() -> bool {
    true
}

/// `[chain.<set>]` as serde reads it.
#[cfg(feature = "toml")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChainDoc {
    #[serde(deserialize_with = "one_or_many")]
    trust_anchors: Vec<String>,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default = "yes")]
    require_client_auth: bool,
    #[serde(default, deserialize_with = "one_or_many")]
    crl_urls: Vec<String>,
    crl_refresh_seconds: Option<u64>,
    crl_max_age_seconds: Option<u64>,
}

#[cfg(feature = "toml")]
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[cfg(feature = "toml")]
impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[cfg(feature = "toml")]
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    <OneOrMany as serde::Deserialize>::deserialize(d).map(OneOrMany::into_vec)
}

/// `[[allow]]` keys: `name`, `chain`, and the constraints of the settings
/// table; anything else is refused as serde refuses an unknown field.
#[cfg(feature = "toml")]
#[derive(serde::Deserialize)]
#[serde(try_from = "BTreeMap<String, toml::Value>")]
struct RuleDoc(RuleConfig);

/// A TOML type's name with its article (`an integer`, `a string`).
#[cfg(feature = "toml")]
fn a(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// A rule key's value: a string or a list of strings, refused by key
/// otherwise.
#[cfg(feature = "toml")]
fn strings(key: &str, v: toml::Value) -> Result<OneOrMany, String> {
    match v {
        toml::Value::String(s) => Ok(OneOrMany::One(s)),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|i| match i {
                toml::Value::String(s) => Ok(s),
                other => Err(format!(
                    "`{key}` holds {}: write each value as a string in quotes",
                    a(other.type_str())
                )),
            })
            .collect::<Result<_, _>>()
            .map(OneOrMany::Many),
        other => Err(format!(
            "`{key}` is {}: write a string in quotes, or a list of them",
            a(other.type_str())
        )),
    }
}

#[cfg(feature = "toml")]
impl TryFrom<BTreeMap<String, toml::Value>> for RuleDoc {
    type Error = String;

    fn try_from(map: BTreeMap<String, toml::Value>) -> Result<Self, String> {
        let mut rule = RuleConfig::default();
        let one = |key: &str, v: toml::Value| match strings(key, v)? {
            OneOrMany::One(s) => Ok::<_, String>(s),
            OneOrMany::Many(_) => Err(format!("`{key}` is one string, not a list")),
        };
        // The keys first, whatever their values: a misspelt key is named
        // as one even when its value is of the wrong type too.
        let known = |k: &str| {
            matches!(k, "name" | "chain")
                || schema::settings()
                    .iter()
                    .any(|s| s.key == k && s.constraint().is_some())
        };
        if let Some(unknown) = map.keys().find(|k| !known(k)) {
            let expected: Vec<String> = ["name", "chain"]
                .into_iter()
                .chain(
                    schema::settings()
                        .iter()
                        .filter(|s| s.constraint().is_some())
                        .map(|s| s.key),
                )
                .map(|k| format!("`{k}`"))
                .collect();
            return Err(format!(
                "unknown field `{unknown}`, expected one of {}",
                expected.join(", ")
            ));
        }
        // The table's order, so that errors come in a stable order.
        let mut rest: Vec<(String, toml::Value)> = Vec::new();
        for (key, value) in map {
            match key.as_str() {
                "name" => rule.name = Some(one("name", value)?),
                "chain" => rule.chain = Some(one("chain", value)?),
                _ => rest.push((key, value)),
            }
        }
        for s in schema::settings() {
            if let Some(i) = rest.iter().position(|(k, _)| k == s.key)
                && s.constraint().is_some()
            {
                let (key, v) = rest.remove(i);
                rule.constraints.push((s.key, strings(&key, v)?.into_vec()));
            }
        }
        Ok(Self(rule))
    }
}

/// `[[trusted_proxies]]` keys: those of `[[allow]]`, and
/// `allow_cloudflare_global`.
#[cfg(feature = "toml")]
impl TryFrom<BTreeMap<String, toml::Value>> for super::model::ProxyConfig {
    type Error = String;

    fn try_from(mut map: BTreeMap<String, toml::Value>) -> Result<Self, String> {
        let allow_cloudflare_global = match map.remove("allow_cloudflare_global") {
            None => false,
            Some(toml::Value::Boolean(b)) => b,
            Some(other) => {
                return Err(format!(
                    "`allow_cloudflare_global` is {}: write true or false",
                    a(other.type_str())
                ));
            }
        };
        let RuleDoc(rule) = RuleDoc::try_from(map).map_err(|e| {
            if e.starts_with("unknown field") {
                format!("{e}, `allow_cloudflare_global`")
            } else {
                e
            }
        })?;
        Ok(Self {
            rule,
            allow_cloudflare_global,
        })
    }
}

/// One entry of `[chain]`: a `[chain.<set>]` table, or a value written
/// straight under `[chain]` (`[chain] anchors = [...]`, a natural first
/// guess), refused with the form to write.
#[cfg(feature = "toml")]
#[derive(serde::Deserialize)]
#[serde(try_from = "toml::Value")]
struct ChainEntry(ChainDoc);

#[cfg(feature = "toml")]
impl TryFrom<toml::Value> for ChainEntry {
    type Error = String;

    fn try_from(v: toml::Value) -> Result<Self, String> {
        match v {
            toml::Value::Table(t) => t
                .try_into::<ChainDoc>()
                .map(Self)
                .map_err(|e| e.message().to_owned()),
            other => Err(format!(
                "[chain] holds one table per anchor set, not {}: write [chain.<set>] with trust_anchors = [\"ca.pem\"], and chain = \"<set>\" in each rule that needs it (e.g. [chain.partners])",
                a(other.type_str())
            )),
        }
    }
}

/// The policy file as serde reads it.
#[cfg(feature = "toml")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default, deserialize_with = "mode")]
    mode: Option<Mode>,
    trusted_peers: Option<Vec<String>>,
    #[serde(default)]
    trusted_proxies: Vec<super::model::ProxyConfig>,
    proxy_verifies_chain: Option<bool>,
    #[serde(default)]
    elements: Elements,
    #[serde(default)]
    validity: Validity,
    #[serde(default)]
    revocation: RevocationConfig,
    #[serde(default)]
    allow: Vec<RuleDoc>,
    #[serde(default)]
    chain: BTreeMap<String, ChainEntry>,
    #[serde(default)]
    sources: Vec<SourceConfig>,
}

#[cfg(feature = "toml")]
fn mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Mode>, D::Error> {
    let name = <String as serde::Deserialize>::deserialize(d)?;
    mode_named(&name).map(Some).map_err(|_| {
        serde::de::Error::custom(format!(
            "invalid mode {name:?}, expected \"require\", \"accept\" or \"report\""
        ))
    })
}

impl PolicyConfig {
    /// Parses a TOML policy; anchor and CRL paths are relative to
    /// `base_dir`.
    ///
    /// # Errors
    /// A [`ConfigError`] of kind [`ConfigErrorKind::File`](crate::outcome::ConfigErrorKind::File) with the TOML error (line and column); unknown
    /// keys are errors.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            // `[allow]` (one table) where `[[allow]]` (an array of tables,
            // one per rule) was meant is the commonest slip: say so.
            let single_allow = text
                .parse::<toml::Table>()
                .is_ok_and(|t| t.get("allow").is_some_and(toml::Value::is_table));
            if single_allow {
                return ConfigError::from(Repr::File(
                    "[allow] is written with two brackets, [[allow]], once per rule (a TOML array of tables)"
                        .to_owned(),
                ));
            }
            ConfigError::from(Repr::File(e.to_string().trim_end().to_owned()))
        })?;
        Ok(Self {
            mode: doc.mode,
            trusted_peers: doc.trusted_peers,
            trusted_proxies: doc.trusted_proxies,
            proxy_verifies_chain: doc.proxy_verifies_chain,
            elements: doc.elements,
            validity: doc.validity,
            revocation: doc.revocation,
            allow: doc.allow.into_iter().map(|r| r.0).collect(),
            chain: doc
                .chain
                .into_iter()
                .map(|(name, ChainEntry(c))| {
                    let c = ChainConfig {
                        trust_anchors: c.trust_anchors,
                        crls: c.crls,
                        require_client_auth: c.require_client_auth,
                        crl_urls: c.crl_urls,
                        crl_refresh_seconds: c.crl_refresh_seconds,
                        crl_max_age_seconds: c.crl_max_age_seconds,
                    };
                    (name, c)
                })
                .collect(),
            sources: doc.sources,
            transport: Transport::default(),
            recipe_vars: Vec::new(),
            origin: Origin::File {
                dir: base_dir.as_ref().to_path_buf(),
                path: None,
                via_env: false,
            },
        })
    }

    /// Reads and parses a TOML policy file; anchor and CRL paths are
    /// relative to its directory.
    ///
    /// # Errors
    /// A [`ConfigError`] of kind [`ConfigErrorKind::File`](crate::outcome::ConfigErrorKind::File) when it cannot be read or parsed.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::from(Repr::File(format!("{}: {e}", path.display()))))?;
        let mut config =
            Self::from_toml_str(&text, path.parent().unwrap_or_else(|| Path::new(".")))?;
        if let Origin::File { path: p, .. } = &mut config.origin {
            *p = Some(path.to_path_buf());
        }
        Ok(config)
    }

    /// The configuration read again from where it came from: the policy
    /// file parsed anew (keeping what the environment set beside it), or,
    /// from the environment or TOML text, the same settings (their files
    /// are read again when it is built).
    #[cfg(not(feature = "toml"))]
    pub(crate) fn reread(&self) -> Result<Self, ConfigError> {
        // Without the feature no configuration came from a file.
        Ok(self.clone())
    }

    /// As above, with policy files.
    #[cfg(feature = "toml")]
    pub(crate) fn reread(&self) -> Result<Self, ConfigError> {
        let Origin::File {
            path: Some(path),
            via_env,
            ..
        } = &self.origin
        else {
            return Ok(self.clone());
        };
        let mut fresh = Self::from_toml_file(path)?;
        if let Origin::File { via_env: v, .. } = &mut fresh.origin {
            *v = *via_env;
        }
        fresh.transport = self.transport.clone();
        fresh.recipe_vars = self.recipe_vars.clone();
        Ok(fresh)
    }
}

impl Policy {
    /// Loads a TOML policy file; anchor and CRL paths are relative to it.
    /// The same as [`PolicyConfig::from_toml_file`] then
    /// [`PolicyConfig::build`].
    ///
    /// # Errors
    /// A [`ConfigError`] for an unreadable or invalid file or setting.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        PolicyConfig::from_toml_file(path)?.build()
    }

    /// Parses TOML text; anchor and CRL paths are relative to `base_dir`.
    ///
    /// # Errors
    /// A [`ConfigError`] for invalid TOML or settings.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Self, ConfigError> {
        PolicyConfig::from_toml_str(text, base_dir)?.build()
    }
}
