//! The parsed configuration, before it is judged: what a TOML policy file
//! or the environment sets, in one structure. Its keys are the library's
//! names (every one is listed, with its environment variable, in
//! [`settings`](crate::settings)):
//!
//! ```toml
//! mode = "require"            # or "accept"
//! trusted_peers = ["10.0.0.0/8"]  # optional: only these TCP peers may send the header
//! proxy_verifies_chain = false  # true only if the proxy verifies client certificates against your CA
//! [elements]
//! count = 1                   # exact number expected (default 1; 0 = any)
//! trust = 0                   # index to verify; negative counts from the end
//! by = "spiffe://..."         # optional: required By value on the trusted element
//! identity_from = "cert"      # or "proxy-fields" (needs trusted_peers or by)
//! [validity]
//! leeway_seconds = 60
//! [revocation]
//! stale_crls = "deny"         # or "allow": what a stale CRL means
//! depth = "chain"             # or "end-entity": which certificates the CRLs check
//! unknown_status = "allow"    # or "deny": a certificate no CRL covers
//! [[allow]]
//! name = "partner"
//! issuer = "CN=Contoso Issuing CA 1,O=Contoso"
//! san_uri_prefix = ["spiffe://contoso.example/"]
//! # spiffe_id = ["spiffe://contoso.example/ns/a/sa/b"]   # X.509-SVID, exact
//! # spiffe_trust_domain = ["contoso.example"]            # X.509-SVID in this trust domain
//! chain = "partners"
//! [chain.partners]
//! trust_anchors = "ca.pem"    # relative to the policy file
//! crls = []
//! require_client_auth = true
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::schema;
use super::{ConfigError, ElementCount, IdentityFrom, Mode, Policy, PolicyBuilder, Rule};
use crate::format::Format;

/// Cache capacity of a policy from the environment when `XFCC_CACHE` is
/// not set.
const DEFAULT_ENV_CACHE: usize = 1024;

#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(feature = "toml", serde(deny_unknown_fields))]
pub(crate) struct Elements {
    pub(crate) count: Option<usize>,
    pub(crate) trust: Option<i64>,
    pub(crate) by: Option<String>,
    pub(crate) identity_from: Option<String>,
}

/// `[elements]` (or `[sources.elements]`) as the builders take it.
pub(crate) struct ElementSettings {
    count: Option<ElementCount>,
    trust: Option<i64>,
    by: Option<String>,
    identity_from: Option<IdentityFrom>,
}

impl Elements {
    /// The settings, typed: `count = 0` is any number; an unknown
    /// `identity_from` is refused by name.
    fn read(&self) -> Result<ElementSettings, ConfigError> {
        let identity_from = self
            .identity_from
            .as_ref()
            .map(|from| {
                IdentityFrom::from_name(from).ok_or_else(|| {
                    ConfigError::value(
                        "identity_from",
                        from.clone(),
                        "\"cert\" or \"proxy-fields\"",
                    )
                })
            })
            .transpose()?;
        Ok(ElementSettings {
            count: self.count.map(|n| match n {
                0 => ElementCount::Any,
                n => ElementCount::Exactly(n),
            }),
            trust: self.trust,
            by: self.by.clone(),
            identity_from,
        })
    }
}

/// A format by its name, refused with the names there are.
fn format_named(v: &str) -> Result<Format, ConfigError> {
    v.parse().map_err(|_| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        ConfigError::value("format", v, format!("one of {}", names.join(", ")))
    })
}

/// One `[[sources]]` table: a proxy's name, addresses and reading.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(feature = "toml", serde(deny_unknown_fields))]
pub(crate) struct SourceConfig {
    /// Blank when missing: refused by the builder, naming the key.
    #[cfg_attr(feature = "toml", serde(default))]
    pub(crate) name: String,
    #[cfg_attr(feature = "toml", serde(default))]
    pub(crate) trusted_peers: Vec<String>,
    pub(crate) header: Option<String>,
    pub(crate) format: Option<String>,
    #[cfg_attr(feature = "toml", serde(default))]
    pub(crate) elements: Elements,
}

#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(feature = "toml", serde(deny_unknown_fields))]
pub(crate) struct Validity {
    pub(crate) leeway_seconds: Option<u64>,
}

/// `[revocation]`: how CRLs are applied.
#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(feature = "toml", serde(deny_unknown_fields))]
pub(crate) struct RevocationConfig {
    /// `"deny"` or `"allow"`, judged when the builder is made.
    pub(crate) stale_crls: Option<String>,
    /// `"chain"` or `"end-entity"`.
    pub(crate) depth: Option<String>,
    /// `"allow"` or `"deny"`.
    pub(crate) unknown_status: Option<String>,
}

/// The settings a policy file has no keys for.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transport {
    pub(crate) format: Option<Format>,
    pub(crate) header: Option<String>,
    pub(crate) cache: Option<usize>,
}

/// Where a configuration came from: relative paths and the names errors
/// blame follow from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A policy file (`path`, or TOML text when `None`) read relative to
    /// `dir`; with `via_env`, named by `XFCC_POLICY_FILE`.
    File {
        dir: PathBuf,
        path: Option<PathBuf>,
        via_env: bool,
    },
    /// Environment variables alone.
    Env,
}

impl Default for Origin {
    fn default() -> Self {
        Self::File {
            dir: PathBuf::from("."),
            path: None,
            via_env: false,
        }
    }
}

/// One `[[allow]]` rule as written: its name, its constraints by key, and
/// the chain it names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleConfig {
    name: Option<String>,
    /// Constraint key (from the settings table) and its values, in the
    /// table's order.
    constraints: Vec<(&'static str, Vec<String>)>,
    chain: Option<String>,
}

impl RuleConfig {
    /// The rule's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The values of a constraint (`"thumbprint"`, `"san_dns"`, ...), as
    /// written; `None` when the rule does not set it.
    pub fn values(&self, key: &str) -> Option<&[String]> {
        self.constraints
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Every constraint the rule sets: key and values.
    pub fn constraints(&self) -> impl Iterator<Item = (&'static str, &[String])> {
        self.constraints.iter().map(|(k, v)| (*k, v.as_slice()))
    }

    /// The `[chain.<set>]` the rule names.
    pub fn chain(&self) -> Option<&str> {
        self.chain.as_deref()
    }

    fn push(&mut self, key: &'static str, values: Vec<String>) {
        match self.constraints.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.extend(values),
            None => self.constraints.push((key, values)),
        }
    }

    fn to_rule(&self) -> Rule {
        let mut rule = match &self.name {
            Some(n) => Rule::new(n.clone()),
            None => Rule::unnamed(),
        };
        // Only the keys present are set: `thumbprint = []` reaches the
        // rule as an empty list, which it refuses.
        for (key, values) in &self.constraints {
            if let Some(set) = schema::constraint_by_key(key).and_then(schema::Setting::constraint)
            {
                rule = set(rule, values.clone());
            }
        }
        if let Some(c) = &self.chain {
            rule = rule.chain(c.clone());
        }
        rule
    }
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

/// One `[chain.<set>]`: anchor and CRL files as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    pub(crate) trust_anchors: Vec<String>,
    pub(crate) crls: Vec<String>,
    require_client_auth: bool,
    pub(crate) crl_urls: Vec<String>,
    pub(crate) crl_refresh_seconds: Option<u64>,
    pub(crate) crl_max_age_seconds: Option<u64>,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            trust_anchors: Vec::new(),
            crls: Vec::new(),
            require_client_auth: true,
            crl_urls: Vec::new(),
            crl_refresh_seconds: None,
            crl_max_age_seconds: None,
        }
    }
}

impl ChainConfig {
    /// The anchor files, as written (see [`PolicyConfig::resolve`]).
    pub fn trust_anchors(&self) -> &[String] {
        &self.trust_anchors
    }

    /// The CRL files, as written.
    pub fn crls(&self) -> &[String] {
        &self.crls
    }

    /// Whether the leaf must list the clientAuth EKU.
    pub fn require_client_auth(&self) -> bool {
        self.require_client_auth
    }

    /// The URLs CRLs are fetched from (feature `crl-fetch`).
    pub fn crl_urls(&self) -> &[String] {
        &self.crl_urls
    }
}

#[cfg(feature = "toml")]
const fn yes() -> bool {
    true
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
#[serde(try_from = "BTreeMap<String, OneOrMany>")]
struct RuleDoc(RuleConfig);

#[cfg(feature = "toml")]
impl TryFrom<BTreeMap<String, OneOrMany>> for RuleDoc {
    type Error = String;

    fn try_from(map: BTreeMap<String, OneOrMany>) -> Result<Self, String> {
        let mut rule = RuleConfig::default();
        let one = |key: &str, v: OneOrMany| match v {
            OneOrMany::One(s) => Ok(s),
            OneOrMany::Many(_) => Err(format!("`{key}` is one string, not a list")),
        };
        // The table's order, so that errors come in a stable order.
        let mut rest: Vec<(String, OneOrMany)> = Vec::new();
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
                let (_, v) = rest.remove(i);
                rule.constraints.push((s.key, v.into_vec()));
            }
        }
        if let Some((unknown, _)) = rest.first() {
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
        Ok(Self(rule))
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
    chain: BTreeMap<String, ChainDoc>,
    #[serde(default)]
    sources: Vec<SourceConfig>,
}

/// The configuration of a policy as written, before it is judged: what a
/// TOML policy file ([`from_toml_file`](Self::from_toml_file)) or the
/// environment ([`from_env`](Self::from_env)) sets, in one structure, read
/// only. [`build`](Self::build) turns it into a [`Policy`] through
/// [`PolicyBuilder::build`], the one place a setting is judged; a tool
/// (such as `xfcc doctor`) reads it to lint the files it names.
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    mode: Option<Mode>,
    pub(crate) trusted_peers: Option<Vec<String>>,
    pub(crate) proxy_verifies_chain: Option<bool>,
    pub(crate) elements: Elements,
    pub(crate) validity: Validity,
    pub(crate) revocation: RevocationConfig,
    allow: Vec<RuleConfig>,
    chain: BTreeMap<String, ChainConfig>,
    pub(crate) sources: Vec<SourceConfig>,
    pub(crate) transport: Transport,
    pub(crate) origin: Origin,
    /// The published recipes' variables the environment set (errors in
    /// their rules blame them).
    pub(crate) recipe_vars: Vec<&'static str>,
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

fn mode_named(name: &str) -> Result<Mode, ConfigError> {
    match name {
        "require" => Ok(Mode::Require),
        "accept" => Ok(Mode::Accept),
        "report" => Ok(Mode::Report),
        _ => Err(ConfigError::value(
            "mode",
            name,
            "\"require\", \"accept\" or \"report\"",
        )),
    }
}

impl SourceConfig {
    fn to_source(&self) -> Result<super::Source, ConfigError> {
        let mut s = super::Source::new(self.name.clone(), self.trusted_peers.clone());
        if let Some(h) = &self.header {
            s = s.header_name(h.clone());
        }
        if let Some(f) = &self.format {
            s = s.format(format_named(f)?);
        }
        let e = self.elements.read()?;
        if let Some(count) = e.count {
            s = s.elements(count);
        }
        if let Some(t) = e.trust {
            s = s.trust_element(t);
        }
        if let Some(by) = e.by {
            s = s.trusted_proxy(by);
        }
        if let Some(from) = e.identity_from {
            s = s.identity_from(from);
        }
        Ok(s)
    }
}

/// `[revocation]` into the builder's [`Revocation`](super::Revocation),
/// each key refused by name when its value is not one of its choices.
#[cfg(feature = "chain")]
fn revocation(b: PolicyBuilder, r: &RevocationConfig) -> Result<PolicyBuilder, ConfigError> {
    use super::{CrlExpiry, Revocation, RevocationDepth, UnknownStatus};
    /// The value named `v` among the settings table's `names` (`values` in
    /// the same order).
    fn pick<T: Copy>(
        key: &'static str,
        v: Option<&String>,
        names: &[&str],
        values: [T; 2],
        default: T,
    ) -> Result<T, ConfigError> {
        let Some(v) = v else { return Ok(default) };
        names
            .iter()
            .position(|n| n == v)
            .and_then(|i| values.get(i).copied())
            .ok_or_else(|| {
                let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
                ConfigError::value(key, v.as_str(), quoted.join(" or "))
            })
    }
    let d = Revocation::default();
    Ok(b.revocation(Revocation {
        expiry: pick(
            "stale_crls",
            r.stale_crls.as_ref(),
            schema::STALE_CRLS,
            [CrlExpiry::Enforce, CrlExpiry::Ignore],
            d.expiry,
        )?,
        depth: pick(
            "depth",
            r.depth.as_ref(),
            schema::REVOCATION_DEPTH,
            [RevocationDepth::Chain, RevocationDepth::EndEntity],
            d.depth,
        )?,
        unknown: pick(
            "unknown_status",
            r.unknown_status.as_ref(),
            schema::UNKNOWN_STATUS,
            [UnknownStatus::Allow, UnknownStatus::Deny],
            d.unknown,
        )?,
    }))
}

/// Without the `chain` feature there are no CRLs for them to apply to.
#[cfg(not(feature = "chain"))]
fn revocation(_: PolicyBuilder, r: &RevocationConfig) -> Result<PolicyBuilder, ConfigError> {
    let (key, v) = [
        ("stale_crls", &r.stale_crls),
        ("depth", &r.depth),
        ("unknown_status", &r.unknown_status),
    ]
    .into_iter()
    .find_map(|(k, v)| Some((k, v.as_deref()?)))
    .unwrap_or(("stale_crls", ""));
    Err(ConfigError::value(
        key,
        v,
        "it applies to CRLs, which need the `chain` cargo feature",
    ))
}

impl PolicyConfig {
    /// The `[[sources]]` names, in order (empty without sources).
    pub fn source_names(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.name.as_str()).collect()
    }

    /// Parses a TOML policy; anchor and CRL paths are relative to
    /// `base_dir`.
    ///
    /// # Errors
    /// [`ConfigError::File`] with the TOML error (line and column); unknown
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
                return ConfigError::File(
                    "[allow] is written with two brackets, [[allow]], once per rule (a TOML array of tables)"
                        .to_owned(),
                );
            }
            ConfigError::File(e.to_string().trim_end().to_owned())
        })?;
        Ok(Self {
            mode: doc.mode,
            trusted_peers: doc.trusted_peers,
            proxy_verifies_chain: doc.proxy_verifies_chain,
            elements: doc.elements,
            validity: doc.validity,
            revocation: doc.revocation,
            allow: doc.allow.into_iter().map(|r| r.0).collect(),
            chain: doc
                .chain
                .into_iter()
                .map(|(name, c)| {
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
    /// [`ConfigError::File`] when it cannot be read or parsed.
    #[cfg(feature = "toml")]
    #[cfg_attr(docsrs, doc(cfg(feature = "toml")))]
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File(format!("{}: {e}", path.display())))?;
        let mut config =
            Self::from_toml_str(&text, path.parent().unwrap_or_else(|| Path::new(".")))?;
        if let Origin::File { path: p, .. } = &mut config.origin {
            *p = Some(path.to_path_buf());
        }
        Ok(config)
    }

    /// Every file the configuration reads: the policy file (when it came
    /// from one), then each anchor set's anchor and CRL files, resolved
    /// ([`resolve`](Self::resolve)). What a [`PolicyWatcher`](crate::PolicyWatcher)
    /// follows.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        if let Origin::File { path: Some(p), .. } = &self.origin {
            out.push(p.clone());
        }
        for c in self.chain.values() {
            for f in c.trust_anchors.iter().chain(&c.crls) {
                out.push(self.resolve(f));
            }
        }
        out
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

    /// What a request without the header gets, if set.
    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    /// `trusted_peers` as written, if set.
    pub fn trusted_peers(&self) -> Option<&[String]> {
        self.trusted_peers.as_deref()
    }

    /// `proxy_verifies_chain` as written, if set.
    pub fn proxy_verifies_chain(&self) -> Option<bool> {
        self.proxy_verifies_chain
    }

    /// The `[[allow]]` rules, in order.
    pub fn rules(&self) -> &[RuleConfig] {
        &self.allow
    }

    /// The `[chain.<set>]` anchor sets, by name.
    pub fn chains(&self) -> impl Iterator<Item = (&str, &ChainConfig)> {
        self.chain.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Where a path written in the configuration is read from: relative to
    /// the policy file's directory (or, from the environment, the working
    /// directory).
    pub fn resolve(&self, written: &str) -> PathBuf {
        match &self.origin {
            Origin::File { dir, .. } => dir.join(written),
            Origin::Env => PathBuf::from(written),
        }
    }

    pub(crate) fn from_env_origin() -> Self {
        Self {
            origin: Origin::Env,
            ..Self::default()
        }
    }

    pub(crate) fn set_mode(&mut self, v: &str) -> Result<(), ConfigError> {
        self.mode = Some(mode_named(&v.to_ascii_lowercase())?);
        Ok(())
    }

    pub(crate) fn set_format(&mut self, v: &str) -> Result<(), ConfigError> {
        self.transport.format = Some(format_named(v)?);
        Ok(())
    }

    /// The environment's anchor set, `[chain.env]`.
    pub(crate) fn env_chain(&mut self) -> &mut ChainConfig {
        self.chain.entry("env".to_owned()).or_default()
    }

    /// The rule `name`, created at the end if it is not there yet.
    pub(crate) fn rule_mut(&mut self, name: &str) -> &mut RuleConfig {
        let i = match self.allow.iter().position(|r| r.name() == Some(name)) {
            Some(i) => i,
            None => {
                self.allow.push(RuleConfig {
                    name: Some(name.to_owned()),
                    ..RuleConfig::default()
                });
                self.allow.len() - 1
            }
        };
        &mut self.allow[i]
    }

    /// A published recipe's variable: its values join rule `name`'s
    /// constraint `key` (an empty variable means the rule is absent).
    pub(crate) fn recipe_rule(&mut self, name: &str, key: &'static str, v: &str) {
        let values = schema::list(v);
        self.rule_mut(name).push(key, values);
    }

    /// The `env` rule's constraint from its variable.
    pub(crate) fn env_constraint(&mut self, key: &'static str, values: Vec<String>) {
        self.rule_mut("env").push(key, values);
    }

    /// Orders the environment's rules as they have always been ordered
    /// (`thumbprint`, `common_name`, `env`: the first that matches is
    /// reported) and makes each require `[chain.env]` when it is set.
    pub(crate) fn finish_env(&mut self) {
        let rank = |r: &RuleConfig| match r.name() {
            Some("thumbprint") => 0,
            Some("common_name") => 1,
            _ => 2,
        };
        self.allow.sort_by_key(rank);
        if self.chain.contains_key("env") {
            for r in &mut self.allow {
                r.chain = Some("env".to_owned());
            }
        }
    }

    /// A builder with these settings, reading the anchor and CRL files.
    ///
    /// # Errors
    /// A [`ConfigError`] for an unreadable anchor or CRL file or a value
    /// of the wrong kind (`identity_from`); every other setting is judged
    /// by [`PolicyBuilder::build`].
    pub fn builder(&self) -> Result<PolicyBuilder, ConfigError> {
        let mut b = Policy::builder();
        if let Some(m) = self.mode {
            b = b.mode(m);
        }
        let e = self.elements.read()?;
        if let Some(count) = e.count {
            b = b.elements(count);
        }
        if let Some(t) = e.trust {
            b = b.trust_element(t);
        }
        if let Some(by) = e.by {
            b = b.trusted_proxy(by);
        }
        if let Some(from) = e.identity_from {
            b = b.identity_from(from);
        }
        if let Some(peers) = &self.trusted_peers {
            b = b.trusted_peers(peers.clone());
        }
        if let Some(v) = self.proxy_verifies_chain {
            b = b.proxy_verifies_chain(v);
        }
        if let Some(s) = self.validity.leeway_seconds {
            b = b.leeway(Duration::from_secs(s));
        }
        let r = &self.revocation;
        if r.stale_crls.is_some() || r.depth.is_some() || r.unknown_status.is_some() {
            b = revocation(b, r)?;
        }
        for (name, c) in &self.chain {
            let mut pem = Vec::new();
            for a in &c.trust_anchors {
                pem.extend(self.read(name, "trust_anchors", a)?);
                pem.push(b'\n');
            }
            let crls = c
                .crls
                .iter()
                .map(|p| self.read(name, "crls", p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut anchors = super::TrustAnchors::new(name.clone(), pem)
                .crls(crls)
                .require_client_auth(c.require_client_auth)
                .crl_urls(c.crl_urls.clone());
            if let Some(s) = c.crl_refresh_seconds {
                anchors = anchors.crl_refresh(Duration::from_secs(s));
            }
            if let Some(s) = c.crl_max_age_seconds {
                anchors = anchors.crl_max_age(Duration::from_secs(s));
            }
            b = b.chain(anchors);
        }
        for rule in &self.allow {
            b = b.allow(rule.to_rule());
        }
        for src in &self.sources {
            b = b.source(src.to_source()?);
        }
        if let Some(f) = self.transport.format {
            b = b.format(f);
        }
        if let Some(h) = &self.transport.header {
            b = b.header_name(h.clone());
        }
        let env_default = match self.origin {
            Origin::Env | Origin::File { via_env: true, .. } => DEFAULT_ENV_CACHE,
            Origin::File { via_env: false, .. } => 0,
        };
        b = b.cache(self.transport.cache.unwrap_or(env_default));
        Ok(b)
    }

    /// Builds the policy: [`builder`](Self::builder), then
    /// [`PolicyBuilder::build`]. From the environment, an error names the
    /// variable that holds the setting at fault ([`ConfigError::Env`]).
    ///
    /// # Errors
    /// As [`builder`](Self::builder) and [`PolicyBuilder::build`].
    pub fn build(&self) -> Result<Policy, ConfigError> {
        let built = self.builder().and_then(PolicyBuilder::build);
        match &self.origin {
            Origin::File { via_env: false, .. } => built,
            _ => built.map_err(|e| super::env::blame(e, self)),
        }
    }

    /// A file a setting names: what was written and, for a relative path,
    /// where it was looked for.
    fn read(&self, set: &str, key: &'static str, written: &str) -> Result<Vec<u8>, ConfigError> {
        let path = self.resolve(written);
        std::fs::read(&path).map_err(|e| match &self.origin {
            Origin::Env => ConfigError::Env {
                var: schema::env_of(key, false)
                    .unwrap_or("XFCC_CHAIN_ANCHORS")
                    .to_owned(),
                error: Box::new(ConfigError::File(format!("{written}: {e}"))),
            },
            Origin::File { .. } => {
                let resolved = if Path::new(written).is_absolute() {
                    String::new()
                } else {
                    format!(
                        " (relative to the policy file's directory: {})",
                        path.display()
                    )
                };
                ConfigError::File(format!("[chain.{set}] {key} {written:?}{resolved}: {e}"))
            }
        })
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
