//! The parsed configuration, before it is judged: what a TOML policy file
//! or the environment sets, in one structure. Its keys are the library's
//! names (every one is listed, with its environment variable, in
//! [`settings`](crate::config::settings)):
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
use std::path::PathBuf;

use crate::format::Format;
use crate::outcome::ConfigError;
use crate::policy::Mode;

#[derive(Debug, Clone, Default)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(feature = "toml", serde(deny_unknown_fields))]
pub(crate) struct Elements {
    pub(crate) count: Option<usize>,
    pub(crate) trust: Option<i64>,
    pub(crate) by: Option<String>,
    pub(crate) identity_from: Option<String>,
    pub(crate) by_is_proxy: Option<bool>,
}

/// A format by its name, refused with the names there are.
pub(crate) fn format_named(v: &str) -> Result<Format, ConfigError> {
    v.parse().map_err(|_| {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.code()).collect();
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
    #[cfg_attr(feature = "toml", serde(default))]
    pub(crate) trusted_proxies: Vec<ProxyConfig>,
}

/// One `[[trusted_proxies]]` table: a rule on the certificate a proxy
/// presents to the service, and whether it may be Cloudflare's shared
/// origin-pull certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "toml", derive(serde::Deserialize))]
#[cfg_attr(
    feature = "toml",
    serde(try_from = "std::collections::BTreeMap<String, toml::Value>")
)]
pub struct ProxyConfig {
    pub(crate) rule: RuleConfig,
    pub(crate) allow_cloudflare_global: bool,
}

impl ProxyConfig {
    /// The entry as a rule on the proxy's certificate: its name, keys and
    /// chain.
    pub fn rule(&self) -> &RuleConfig {
        &self.rule
    }

    /// `allow_cloudflare_global`.
    pub fn allow_cloudflare_global(&self) -> bool {
        self.allow_cloudflare_global
    }
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
    pub(crate) name: Option<String>,
    /// Constraint key (from the settings table) and its values, in the
    /// table's order.
    pub(crate) constraints: Vec<(&'static str, Vec<String>)>,
    pub(crate) chain: Option<String>,
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

    pub(crate) fn push(&mut self, key: &'static str, values: Vec<String>) {
        match self.constraints.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.extend(values),
            None => self.constraints.push((key, values)),
        }
    }
}

/// One `[chain.<set>]`: anchor and CRL files as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainConfig {
    pub(crate) trust_anchors: Vec<String>,
    pub(crate) crls: Vec<String>,
    pub(crate) require_client_auth: bool,
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

/// The configuration of a policy as written, before it is judged: what a
/// TOML policy file ([`from_toml_file`](Self::from_toml_file)) or the
/// environment ([`from_env`](Self::from_env)) sets, in one structure, read
/// only. [`build`](Self::build) turns it into a [`Policy`](crate::Policy) through
/// [`PolicyBuilder::build`](crate::PolicyBuilder::build), the one place a setting is judged; a tool
/// (such as `xfcc doctor`) reads it to lint the files it names.
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    pub(crate) mode: Option<Mode>,
    pub(crate) trusted_peers: Option<Vec<String>>,
    pub(crate) trusted_proxies: Vec<ProxyConfig>,
    pub(crate) proxy_verifies_chain: Option<bool>,
    pub(crate) elements: Elements,
    pub(crate) validity: Validity,
    pub(crate) revocation: RevocationConfig,
    pub(crate) allow: Vec<RuleConfig>,
    pub(crate) chain: BTreeMap<String, ChainConfig>,
    pub(crate) sources: Vec<SourceConfig>,
    pub(crate) transport: Transport,
    pub(crate) origin: Origin,
    /// The published recipes' variables the environment set (errors in
    /// their rules blame them).
    pub(crate) recipe_vars: Vec<&'static str>,
}

pub(crate) fn mode_named(name: &str) -> Result<Mode, ConfigError> {
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

impl PolicyConfig {
    /// The `[[sources]]` names, in order (empty without sources).
    pub fn source_names(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.name.as_str()).collect()
    }

    /// Every file the configuration reads: the policy file (when it came
    /// from one), then each anchor set's anchor and CRL files, resolved
    /// ([`resolve`](Self::resolve)). What a [`PolicyWatcher`](crate::run::PolicyWatcher)
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

    /// What a request without the header gets, if set.
    pub fn mode(&self) -> Option<Mode> {
        self.mode
    }

    /// `[[trusted_proxies]]` as written (the policy's; each source's are
    /// in its own table).
    pub fn trusted_proxies(&self) -> &[ProxyConfig] {
        &self.trusted_proxies
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
    /// `XFCC_TRUSTED_PROXY_SPKI`: one `[[trusted_proxies]]` entry, `env`,
    /// pinning these keys.
    pub(crate) fn env_proxy_pins(&mut self, pins: Vec<String>) {
        let mut rule = RuleConfig {
            name: Some("env".to_owned()),
            ..RuleConfig::default()
        };
        rule.push("spki_sha256", pins);
        self.trusted_proxies = vec![ProxyConfig {
            rule,
            allow_cloudflare_global: false,
        }];
    }

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
    pub(crate) fn recipe_rule(&mut self, name: &str, key: &'static str, values: Vec<String>) {
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
}
