//! Configuration from environment variables.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{ConfigError, ElementCount, IdentityFrom, Mode, Policy, PolicyBuilder, Rule};
use crate::format::Format;

/// Cache capacity when `XFCC_CACHE` is not set.
const DEFAULT_ENV_CACHE: i64 = 1024;

/// The published recipes' variables: each makes its own rule, and a
/// certificate passes if any of them does, so one left empty (as templates
/// often leave them) only means that rule is absent.
const RECIPE_VARS: [&str; 3] = [
    "ALLOWED_CERT_THUMBPRINTS",
    "ALLOWED_CERT_FINGERPRINTS",
    "ALLOWED_CERT_COMMON_NAMES",
];

/// The `env` rule's constraints, each with the rule setter it feeds.
const RULE_VARS: [&str; 9] = [
    "XFCC_ALLOWED_ISSUER",
    "XFCC_ALLOWED_ISSUER_CNS",
    "XFCC_ALLOWED_SUBJECT_CNS",
    "XFCC_ALLOWED_SAN_DNS",
    "XFCC_ALLOWED_SAN_URIS",
    "XFCC_ALLOWED_SAN_URI_PREFIXES",
    "XFCC_ALLOWED_SAN_EMAILS",
    "XFCC_ALLOWED_SAN_IPS",
    "XFCC_ALLOWED_THUMBPRINTS",
];

/// Settings that a policy file holds itself: refused beside one.
const POLICY_VARS: [&str; 9] = [
    "XFCC_TRUSTED_PEERS",
    "XFCC_CHAIN_ANCHORS",
    "XFCC_CHAIN_CRLS",
    "XFCC_MODE",
    "XFCC_ELEMENT_COUNT",
    "XFCC_TRUST_ELEMENT",
    "XFCC_TRUSTED_BY",
    "XFCC_IDENTITY_FROM",
    "XFCC_LEEWAY_SECONDS",
];

/// How the proxy delivers the header: a policy file has no keys for these,
/// so they apply to a policy file too.
const TRANSPORT_VARS: [&str; 3] = ["XFCC_FORMAT", "XFCC_HEADER", "XFCC_CACHE"];

const POLICY_FILE: &str = "XFCC_POLICY_FILE";

/// Every variable read, for spotting misspelled ones.
fn known() -> impl Iterator<Item = &'static str> {
    RECIPE_VARS
        .into_iter()
        .chain(RULE_VARS)
        .chain(POLICY_VARS)
        .chain(TRANSPORT_VARS)
        .chain([POLICY_FILE])
}

/// A variable's comma-separated values, blanks dropped.
fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn env_err(name: &str, e: ConfigError) -> ConfigError {
    ConfigError::Env {
        var: name.to_owned(),
        error: Box::new(e),
    }
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
    /// A [`ConfigError::Env`] naming the variable at fault, or the error
    /// of the policy file named by `XFCC_POLICY_FILE`.
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
                    ConfigError::Value {
                        key: "name",
                        value: format!("unknown variable; did you mean {closest}?"),
                    },
                ));
            }
        }
        Self::from_env_vars(|name| vars.get(name).cloned())
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
    /// CIDRs; see [`PolicyBuilder::trusted_peers`]), `XFCC_IDENTITY_FROM`
    /// (`cert` or `proxy-fields`; see [`PolicyBuilder::identity_from`]),
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
    /// A [`ConfigError::Env`] naming the variable at fault, or
    /// [`ConfigError::NothingSet`] when no rule is configured at all.
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| var(name).is_some();
        // XFCC_* set to nothing is a mistake; a recipe variable left empty
        // is absent (its rule is one alternative among others).
        let get = |name: &str| -> Result<Option<String>, ConfigError> {
            match var(name) {
                Some(v) if v.trim().is_empty() => {
                    if RECIPE_VARS.contains(&name) {
                        Ok(None)
                    } else {
                        Err(env_err(name, ConfigError::EmptyList { key: "value" }))
                    }
                }
                other => Ok(other),
            }
        };
        let values = |name: &str| -> Result<Option<Vec<String>>, ConfigError> {
            match get(name)? {
                Some(v) => {
                    let l = list(&v);
                    if l.is_empty() {
                        return Err(env_err(name, ConfigError::EmptyList { key: "list" }));
                    }
                    Ok(Some(l))
                }
                None => Ok(None),
            }
        };
        let num = |name: &str| -> Result<Option<i64>, ConfigError> {
            get(name)?
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        env_err(
                            name,
                            ConfigError::Value {
                                key: "number",
                                value: v.clone(),
                            },
                        )
                    })
                })
                .transpose()
        };
        let non_negative = |name: &str, n: i64| {
            u64::try_from(n).map_err(|_| {
                env_err(
                    name,
                    ConfigError::Value {
                        key: "number",
                        value: n.to_string(),
                    },
                )
            })
        };
        // Settings a policy file has no keys for: they apply to both.
        let transport = |mut b: PolicyBuilder| -> Result<PolicyBuilder, ConfigError> {
            let cache = num("XFCC_CACHE")?.unwrap_or(DEFAULT_ENV_CACHE);
            b = b.cache(usize::try_from(non_negative("XFCC_CACHE", cache)?).unwrap_or(usize::MAX));
            if let Some(f) = get("XFCC_FORMAT")? {
                let format: Format = f.trim().parse().map_err(|_| {
                    env_err(
                        "XFCC_FORMAT",
                        ConfigError::Value {
                            key: "format",
                            value: f.clone(),
                        },
                    )
                })?;
                b = b.format(format);
            }
            if let Some(h) = get("XFCC_HEADER")? {
                let name = super::checked_header_name(h.trim().to_owned())
                    .map_err(|e| env_err("XFCC_HEADER", e))?;
                b = b.header_name(name);
            }
            Ok(b)
        };

        if set(POLICY_FILE) {
            let file = get(POLICY_FILE)?.unwrap_or_default();
            if let Some(other) = RECIPE_VARS
                .iter()
                .chain(&RULE_VARS)
                .chain(&POLICY_VARS)
                .find(|v| set(v))
            {
                return Err(env_err(
                    other,
                    ConfigError::File(
                        "XFCC_POLICY_FILE is set: put this setting in the policy file (only XFCC_FORMAT, XFCC_HEADER and XFCC_CACHE apply beside it)".to_owned(),
                    ),
                ));
            }
            return from_file(&file, transport);
        }

        let mut b: PolicyBuilder = Policy::builder();
        let chain = get("XFCC_CHAIN_ANCHORS")?;
        if let Some(path) = &chain {
            let read =
                |p: &str| std::fs::read(p).map_err(|e| ConfigError::File(format!("{p}: {e}")));
            let pem = read(path.trim()).map_err(|e| env_err("XFCC_CHAIN_ANCHORS", e))?;
            let crls = values("XFCC_CHAIN_CRLS")?
                .unwrap_or_default()
                .iter()
                .map(|p| read(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| env_err("XFCC_CHAIN_CRLS", e))?;
            b = b.chain(super::TrustAnchors::new("env", pem).crls(crls));
        } else if set("XFCC_CHAIN_CRLS") {
            return Err(env_err(
                "XFCC_CHAIN_CRLS",
                ConfigError::Value {
                    key: "crls",
                    value: "CRLs without XFCC_CHAIN_ANCHORS check nothing".to_owned(),
                },
            ));
        }
        let with_chain = |r: Rule| if chain.is_some() { r.chain("env") } else { r };

        let mut prints = Vec::new();
        for name in ["ALLOWED_CERT_THUMBPRINTS", "ALLOWED_CERT_FINGERPRINTS"] {
            prints.extend(values(name)?.unwrap_or_default());
        }
        if !prints.is_empty() {
            b = b.allow(with_chain(Rule::new("thumbprint").thumbprint(prints)));
        }
        if let Some(cns) = values("ALLOWED_CERT_COMMON_NAMES")? {
            b = b.allow(with_chain(Rule::new("common_name").subject_cn(cns)));
        }
        let mut rule = Rule::new("env");
        let mut any = false;
        for name in RULE_VARS {
            let v = if name == "XFCC_ALLOWED_ISSUER" {
                get(name)?.map(|v| vec![v])
            } else {
                values(name)?
            };
            let Some(v) = v else { continue };
            any = true;
            rule = match name {
                "XFCC_ALLOWED_ISSUER" => rule.issuer(v),
                "XFCC_ALLOWED_ISSUER_CNS" => rule.issuer_cn(v),
                "XFCC_ALLOWED_SUBJECT_CNS" => rule.subject_cn(v),
                "XFCC_ALLOWED_SAN_DNS" => rule.san_dns(v),
                "XFCC_ALLOWED_SAN_URIS" => rule.san_uri(v),
                "XFCC_ALLOWED_SAN_URI_PREFIXES" => rule.san_uri_prefix(v),
                "XFCC_ALLOWED_SAN_EMAILS" => rule.san_email(v),
                "XFCC_ALLOWED_SAN_IPS" => rule.san_ip(v),
                _ => rule.thumbprint(v),
            };
        }
        if any {
            b = b.allow(with_chain(rule));
        }

        if let Some(m) = get("XFCC_MODE")? {
            b = b.mode(match m.trim().to_ascii_lowercase().as_str() {
                "require" => Mode::Require,
                "accept" => Mode::Accept,
                _ => {
                    return Err(env_err(
                        "XFCC_MODE",
                        ConfigError::Value {
                            key: "mode",
                            value: m,
                        },
                    ));
                }
            });
        }
        if let Some(n) = num("XFCC_ELEMENT_COUNT")? {
            let n = non_negative("XFCC_ELEMENT_COUNT", n)?;
            b = b.elements(if n == 0 {
                ElementCount::Any
            } else {
                ElementCount::Exactly(usize::try_from(n).unwrap_or(usize::MAX))
            });
        }
        if let Some(t) = num("XFCC_TRUST_ELEMENT")? {
            b = b.trust_element(t);
        }
        if let Some(by) = get("XFCC_TRUSTED_BY")? {
            b = b.trusted_proxy(by.trim());
        }
        if let Some(from) = get("XFCC_IDENTITY_FROM")? {
            let from = IdentityFrom::from_name(from.trim()).ok_or_else(|| {
                env_err(
                    "XFCC_IDENTITY_FROM",
                    ConfigError::Value {
                        key: "identity_from",
                        value: format!("{from} (\"cert\" or \"proxy-fields\")"),
                    },
                )
            })?;
            if from == IdentityFrom::ProxyFields
                && get("XFCC_TRUSTED_PEERS")?.is_none()
                && get("XFCC_TRUSTED_BY")?.is_none()
            {
                return Err(env_err(
                    "XFCC_IDENTITY_FROM",
                    ConfigError::ProxyFieldsCannot {
                        key: "identity_from",
                        why: "set XFCC_TRUSTED_PEERS or XFCC_TRUSTED_BY as well: the fields are only as trustworthy as the proxy that wrote them",
                    },
                ));
            }
            b = b.identity_from(from);
        }
        if let Some(peers) = values("XFCC_TRUSTED_PEERS")? {
            super::builder::parse_peers(peers.clone())
                .map_err(|e| env_err("XFCC_TRUSTED_PEERS", e))?;
            b = b.trusted_peers(peers);
        }
        if let Some(s) = num("XFCC_LEEWAY_SECONDS")? {
            let s = non_negative("XFCC_LEEWAY_SECONDS", s)?;
            if s > Policy::MAX_LEEWAY.as_secs() {
                return Err(env_err(
                    "XFCC_LEEWAY_SECONDS",
                    ConfigError::OutOfRange {
                        key: "leeway_seconds",
                        value: s,
                        max: Policy::MAX_LEEWAY.as_secs(),
                    },
                ));
            }
            b = b.leeway(Duration::from_secs(s));
        }
        b = transport(b)?;
        b.build().map_err(|e| match e {
            ConfigError::NoRules => ConfigError::NothingSet,
            other => other,
        })
    }
}

#[cfg(feature = "toml")]
fn from_file(
    file: &str,
    transport: impl FnOnce(PolicyBuilder) -> Result<PolicyBuilder, ConfigError>,
) -> Result<Policy, ConfigError> {
    let path = std::path::Path::new(file.trim());
    let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
    let from_file = crate::PolicyFile::load(path)
        .and_then(|f| f.into_builder(base))
        .map_err(|e| env_err(POLICY_FILE, e))?;
    transport(from_file)?
        .build()
        .map_err(|e| env_err(POLICY_FILE, e))
}

#[cfg(not(feature = "toml"))]
fn from_file(
    _file: &str,
    _transport: impl FnOnce(PolicyBuilder) -> Result<PolicyBuilder, ConfigError>,
) -> Result<Policy, ConfigError> {
    Err(env_err(
        POLICY_FILE,
        ConfigError::Value {
            key: "feature",
            value: "policy files need the xfcc crate's `toml` feature".to_owned(),
        },
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
