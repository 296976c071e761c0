//! A [`PolicyConfig`] into a [`PolicyBuilder`]: every value typed, every
//! file read, and from the environment every error blamed on its variable.

use std::path::Path;
use std::time::Duration;

use super::model::{
    Elements, Origin, PolicyConfig, ProxyConfig, RevocationConfig, RuleConfig, SourceConfig,
    format_named,
};
use super::schema::{self, POLICY_FILE, Scope};
use crate::chain::TrustAnchors;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::outcome::{ConfigError, IdentityFrom};
use crate::policy::{ElementCount, Policy, PolicyBuilder, Source, TrustedProxy};
use crate::rules::Rule;

/// Cache capacity of a policy from the environment when `XFCC_CACHE` is
/// not set.
const DEFAULT_ENV_CACHE: usize = 1024;

/// `[elements]` (or `[sources.elements]`) as the builders take it.
pub(crate) struct ElementSettings {
    count: Option<ElementCount>,
    trust: Option<i64>,
    by: Option<String>,
    identity_from: Option<IdentityFrom>,
    by_is_proxy: Option<bool>,
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
            by_is_proxy: self.by_is_proxy,
        })
    }
}

impl SourceConfig {
    fn to_source(&self) -> Result<Source, ConfigError> {
        let mut s = Source::new(self.name.clone(), self.trusted_peers.clone());
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
        if let Some(yes) = e.by_is_proxy {
            s = s.by_is_proxy(yes);
        }
        Ok(s.trusted_proxies(self.trusted_proxies.iter().map(ProxyConfig::to_proxy)))
    }
}

impl ProxyConfig {
    fn to_proxy(&self) -> TrustedProxy {
        TrustedProxy::new(self.rule.to_rule()).allow_cloudflare_global(self.allow_cloudflare_global)
    }
}

/// `[revocation]` into the builder's [`Revocation`](crate::chain::Revocation),
/// each key refused by name when its value is not one of its choices.
#[cfg(feature = "chain")]
fn revocation(b: PolicyBuilder, r: &RevocationConfig) -> Result<PolicyBuilder, ConfigError> {
    use crate::chain::{CrlExpiry, Revocation, RevocationDepth, UnknownStatus};
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

impl RuleConfig {
    pub(crate) fn to_rule(&self) -> Rule {
        let mut rule = match &self.name {
            Some(n) => Rule::new(n.clone()),
            None => Rule::unnamed(),
        };
        // Only the keys present are set: `thumbprint = []` reaches the
        // rule as an empty list, which it refuses.
        for (key, values) in &self.constraints {
            rule = rule.with_key(key, values.clone());
        }
        if let Some(c) = &self.chain {
            rule = rule.chain(c.clone());
        }
        rule
    }
}

impl PolicyConfig {
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
        if let Some(yes) = e.by_is_proxy {
            b = b.by_is_proxy(yes);
        }
        b = b.trusted_proxies(self.trusted_proxies.iter().map(ProxyConfig::to_proxy));
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
                let bytes = self.read(name, "trust_anchors", a)?;
                crate::chain::check_anchor_file(&bytes).map_err(|why| {
                    ConfigError::from(Repr::AnchorSet {
                        set: name.clone(),
                        message: format!("trust_anchors file {a:?}: {why}"),
                    })
                })?;
                pem.extend(bytes);
                pem.push(b'\n');
            }
            let crls = c
                .crls
                .iter()
                .map(|p| self.read(name, "crls", p))
                .collect::<Result<Vec<_>, _>>()?;
            let mut anchors = TrustAnchors::new(name.clone(), pem)
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
    /// variable that holds the setting at fault (a [`ConfigError`] whose [`setting`](ConfigError::setting) is the variable).
    ///
    /// # Errors
    /// As [`builder`](Self::builder) and [`PolicyBuilder::build`].
    pub fn build(&self) -> Result<Policy, ConfigError> {
        let built = self.builder().and_then(PolicyBuilder::build);
        match &self.origin {
            Origin::File { via_env: false, .. } => built,
            _ => built.map_err(|e| blame(e, self)),
        }
    }

    /// A file a setting names: what was written and, for a relative path,
    /// where it was looked for.
    fn read(&self, set: &str, key: &'static str, written: &str) -> Result<Vec<u8>, ConfigError> {
        let path = self.resolve(written);
        std::fs::read(&path).map_err(|e| match &self.origin {
            Origin::Env => ConfigError::from(Repr::Env {
                var: schema::env_of(key, false)
                    .unwrap_or("XFCC_CHAIN_ANCHORS")
                    .to_owned(),
                error: ConfigError::from(Repr::Read(format!("cannot read {written:?}: {e}"))),
            }),
            Origin::File { .. } => {
                let resolved = if Path::new(written).is_absolute() {
                    String::new()
                } else {
                    format!(
                        " (relative to the policy file's directory: {})",
                        path.display()
                    )
                };
                ConfigError::from(Repr::File(format!(
                    "[chain.{set}] {key} {written:?}{resolved}: {e}"
                )))
            }
        })
    }
}

/// The error of a configuration from the environment, blaming the
/// variable that holds the setting at fault (the settings table maps each
/// setting to its variable). Beside `XFCC_POLICY_FILE`, what is not a
/// transport variable's is the file's.
pub(crate) fn blame(e: ConfigError, config: &PolicyConfig) -> ConfigError {
    let via_file = matches!(config.origin, Origin::File { .. });
    let var: Option<String> = match e.repr() {
        Repr::Env { .. } | Repr::NothingSet => None,
        Repr::NoRules if !via_file => return Repr::NothingSet.into(),
        _ if via_file => Some(
            schema::env_of(&e.setting(), false)
                .filter(|v| schema::by_env(v).is_some_and(|s| s.scope() == Scope::Transport))
                .unwrap_or(POLICY_FILE)
                .to_owned(),
        ),
        Repr::Rule { rule, error } => match rule.as_str() {
            "env" => schema::env_of(&error.setting(), true).map(str::to_owned),
            // A recipe rule: the recipe variables that fill its key.
            _ => {
                let key = error.setting();
                let vars: Vec<&str> = schema::settings()
                    .iter()
                    .filter(|s| s.toml.is_none() && s.key == key)
                    .filter_map(|s| s.env)
                    .filter(|v| config.recipe_vars.contains(v))
                    .collect();
                (!vars.is_empty()).then(|| vars.join(" or "))
            }
        },
        Repr::AnchorSet { set, .. } if set == "env" => Some("XFCC_CHAIN_ANCHORS".to_owned()),
        // The one entry the environment writes: its pins.
        Repr::Proxy { .. } => schema::env_of("trusted_proxies", false).map(str::to_owned),
        _ => schema::env_of(&e.setting(), false).map(str::to_owned),
    };
    match var {
        Some(var) => ConfigError::from(Repr::Env { var, error: e }),
        None => e,
    }
}
