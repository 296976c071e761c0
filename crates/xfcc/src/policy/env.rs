//! Configuration from environment variables.

use std::time::Duration;

use super::{ConfigError, ElementCount, Mode, Policy, PolicyBuilder, Rule};
use crate::format::Format;

/// Cache capacity when `XFCC_CACHE` is not set.
const DEFAULT_ENV_CACHE: i64 = 1024;

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Policy {
    /// Builds a policy from the process environment; see
    /// [`from_env_vars`](Self::from_env_vars).
    ///
    /// # Errors
    /// A [`ConfigError::Env`] naming the variable at fault, or the error
    /// of the policy file named by `XFCC_POLICY_FILE`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_vars(|name| std::env::var(name).ok())
    }

    /// Builds a policy from variables looked up with `var`.
    ///
    /// The published recipes' variables are read unchanged, with their
    /// meaning (a certificate passes if its SHA-256 thumbprint **or** its
    /// subject CN is listed; comma-separated):
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
    /// the end), `XFCC_TRUSTED_BY`, `XFCC_LEEWAY_SECONDS`, `XFCC_CACHE`
    /// (capacity; 1024 unless set, 0 turns the cache off: a service reads
    /// the same few client certificates over and over), `XFCC_FORMAT`,
    /// `XFCC_HEADER`.
    ///
    /// `XFCC_POLICY_FILE` names a TOML policy file instead; setting it
    /// together with any rule variable is an error. `XFCC_FORMAT`,
    /// `XFCC_HEADER` and `XFCC_CACHE`, which a policy file has no keys for,
    /// apply to it too.
    ///
    /// # Errors
    /// A [`ConfigError::Env`] naming the variable at fault.
    pub fn from_env_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let env_err = |name: &str, e: ConfigError| ConfigError::Env {
            var: name.to_owned(),
            source: Box::new(e),
        };

        let num = |name: &str| -> Result<Option<i64>, ConfigError> {
            get(name)
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
            if let Some(f) = get("XFCC_FORMAT") {
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
            if let Some(h) = get("XFCC_HEADER") {
                b = b.header_name(h.trim());
            }
            Ok(b)
        };

        #[cfg(feature = "toml")]
        if let Some(file) = get("XFCC_POLICY_FILE") {
            const RULE_VARS: [&str; 12] = [
                "ALLOWED_CERT_THUMBPRINTS",
                "ALLOWED_CERT_FINGERPRINTS",
                "ALLOWED_CERT_COMMON_NAMES",
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

            if let Some(other) = RULE_VARS.iter().find(|v| get(v).is_some()) {
                return Err(env_err(
                    other,
                    ConfigError::File(
                        "set either XFCC_POLICY_FILE or rule variables, not both".to_owned(),
                    ),
                ));
            }
            let path = std::path::Path::new(&file);
            let base = path.parent().unwrap_or_else(|| std::path::Path::new("."));
            let from_file = crate::PolicyFile::load(path)
                .and_then(|f| f.into_builder(base))
                .map_err(|e| env_err("XFCC_POLICY_FILE", e))?;
            return transport(from_file)?
                .build()
                .map_err(|e| env_err("XFCC_POLICY_FILE", e));
        }

        let mut b: PolicyBuilder = Policy::builder();
        let chain = get("XFCC_CHAIN_ANCHORS");
        if let Some(path) = &chain {
            let read =
                |p: &str| std::fs::read(p).map_err(|e| ConfigError::File(format!("{p}: {e}")));
            let pem = read(path).map_err(|e| env_err("XFCC_CHAIN_ANCHORS", e))?;
            let crls = get("XFCC_CHAIN_CRLS")
                .map(|v| {
                    list(&v)
                        .iter()
                        .map(|p| read(p))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()
                .map_err(|e| env_err("XFCC_CHAIN_CRLS", e))?
                .unwrap_or_default();
            b = b.chain("env", pem, crls, true);
        }
        let with_chain = |r: Rule| if chain.is_some() { r.chain("env") } else { r };

        let prints: Vec<String> = ["ALLOWED_CERT_THUMBPRINTS", "ALLOWED_CERT_FINGERPRINTS"]
            .iter()
            .filter_map(|v| get(v))
            .flat_map(|v| list(&v))
            .collect();
        if !prints.is_empty() {
            b = b.allow(with_chain(Rule::new("thumbprint").thumbprint(prints)));
        }
        if let Some(cns) = get("ALLOWED_CERT_COMMON_NAMES") {
            b = b.allow(with_chain(Rule::new("common_name").subject_cn(list(&cns))));
        }
        let mut rule = Rule::new("env");
        let mut any = false;
        let mut add = |name: &str, f: &dyn Fn(Rule, Vec<String>) -> Rule| {
            if let Some(v) = get(name) {
                let values = if name == "XFCC_ALLOWED_ISSUER" {
                    vec![v]
                } else {
                    list(&v)
                };
                rule = f(core::mem::take(&mut rule), values);
                any = true;
            }
        };
        add("XFCC_ALLOWED_ISSUER", &|r, v| r.issuer(v));
        add("XFCC_ALLOWED_ISSUER_CNS", &|r, v| r.issuer_cn(v));
        add("XFCC_ALLOWED_SUBJECT_CNS", &|r, v| r.subject_cn(v));
        add("XFCC_ALLOWED_SAN_DNS", &|r, v| r.san_dns(v));
        add("XFCC_ALLOWED_SAN_URIS", &|r, v| r.san_uri(v));
        add("XFCC_ALLOWED_SAN_URI_PREFIXES", &|r, v| r.san_uri_prefix(v));
        add("XFCC_ALLOWED_SAN_EMAILS", &|r, v| r.san_email(v));
        add("XFCC_ALLOWED_SAN_IPS", &|r, v| r.san_ip(v));
        add("XFCC_ALLOWED_THUMBPRINTS", &|r, v| r.thumbprint(v));
        if any {
            b = b.allow(with_chain(rule));
        }

        if let Some(m) = get("XFCC_MODE") {
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
        if let Some(by) = get("XFCC_TRUSTED_BY") {
            b = b.trusted_proxy(by.trim());
        }
        if let Some(s) = num("XFCC_LEEWAY_SECONDS")? {
            b = b.leeway(Duration::from_secs(non_negative("XFCC_LEEWAY_SECONDS", s)?));
        }
        b = transport(b)?;
        b.build().map_err(|e| match e {
            ConfigError::NoRules => env_err(
                "ALLOWED_CERT_THUMBPRINTS",
                ConfigError::File(
                    "no allow rule: set ALLOWED_CERT_THUMBPRINTS, ALLOWED_CERT_COMMON_NAMES, an XFCC_ALLOWED_* variable or XFCC_POLICY_FILE"
                        .to_owned(),
                ),
            ),
            other => other,
        })
    }
}
