//! The TOML policy file. Its keys are the library's names:
//!
//! ```toml
//! mode = "require"            # or "accept"
//! trusted_peers = ["10.0.0.0/8"]  # optional: only these TCP peers may send the header
//! [elements]
//! count = 1                   # exact number expected (default 1; 0 = any)
//! trust = 0                   # index to verify; negative counts from the end
//! by = "spiffe://..."         # optional: required By value on the trusted element
//! identity_from = "cert"      # or "proxy-fields" (needs trusted_peers or by)
//! [validity]
//! leeway_seconds = 60
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
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::{ConfigError, ElementCount, IdentityFrom, Mode, Policy, PolicyBuilder, Rule};

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ModeName {
    Require,
    Accept,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Elements {
    count: Option<usize>,
    trust: Option<i64>,
    by: Option<String>,
    identity_from: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Validity {
    leeway_seconds: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Allow {
    name: Option<String>,
    issuer: Option<OneOrMany>,
    issuer_cn: Option<OneOrMany>,
    subject: Option<OneOrMany>,
    subject_cn: Option<OneOrMany>,
    san_dns: Option<OneOrMany>,
    san_uri: Option<OneOrMany>,
    san_uri_prefix: Option<OneOrMany>,
    san_email: Option<OneOrMany>,
    san_ip: Option<OneOrMany>,
    spiffe_id: Option<OneOrMany>,
    spiffe_trust_domain: Option<OneOrMany>,
    thumbprint: Option<OneOrMany>,
    chain: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Chain {
    trust_anchors: OneOrMany,
    #[serde(default)]
    crls: Vec<String>,
    #[serde(default = "yes")]
    require_client_auth: bool,
}

const fn yes() -> bool {
    true
}

/// A parsed policy file (see the module docs for its keys). Unknown keys
/// are errors.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    mode: Option<ModeName>,
    trusted_peers: Option<Vec<String>>,
    #[serde(default)]
    elements: Elements,
    #[serde(default)]
    validity: Validity,
    #[serde(default)]
    allow: Vec<Allow>,
    #[serde(default)]
    chain: BTreeMap<String, Chain>,
}

impl PolicyFile {
    /// Parses the TOML text.
    ///
    /// # Errors
    /// [`ConfigError::File`] with the TOML error (line and column).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| {
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
        })
    }

    /// Reads and parses a file.
    ///
    /// # Errors
    /// [`ConfigError::File`] when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::File(format!("{}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// A builder with the file's settings; anchor and CRL paths are read
    /// relative to `base_dir`.
    ///
    /// # Errors
    /// [`ConfigError::File`] for an unreadable anchor or CRL file.
    pub fn into_builder(self, base_dir: &Path) -> Result<PolicyBuilder, ConfigError> {
        let mut b = Policy::builder();
        if let Some(m) = self.mode {
            b = b.mode(match m {
                ModeName::Require => Mode::Require,
                ModeName::Accept => Mode::Accept,
            });
        }
        match self.elements.count {
            Some(0) => b = b.elements(ElementCount::Any),
            Some(n) => b = b.elements(ElementCount::Exactly(n)),
            None => {}
        }
        if let Some(t) = self.elements.trust {
            b = b.trust_element(t);
        }
        if let Some(by) = self.elements.by {
            b = b.trusted_proxy(by);
        }
        if let Some(from) = self.elements.identity_from {
            b = b.identity_from(IdentityFrom::from_name(&from).ok_or(ConfigError::Value {
                key: "identity_from",
                value: format!("{from} (\"cert\" or \"proxy-fields\")"),
            })?);
        }
        if let Some(peers) = self.trusted_peers {
            b = b.trusted_peers(peers);
        }
        if let Some(s) = self.validity.leeway_seconds {
            b = b.leeway(Duration::from_secs(s));
        }
        // A relative path is read from the policy file's directory; the
        // error shows both what was written and what it resolved to.
        let read = |set: &str, key: &str, p: &str| {
            let path = base_dir.join(p);
            std::fs::read(&path).map_err(|e| {
                let resolved = if Path::new(p).is_absolute() {
                    String::new()
                } else {
                    format!(
                        " (relative to the policy file's directory: {})",
                        path.display()
                    )
                };
                ConfigError::File(format!("[chain.{set}] {key} {p:?}{resolved}: {e}"))
            })
        };
        for (name, c) in self.chain {
            let mut pem = Vec::new();
            for a in c.trust_anchors.into_vec() {
                pem.extend(read(&name, "trust_anchors", &a)?);
                pem.push(b'\n');
            }
            let crls = c
                .crls
                .iter()
                .map(|p| read(&name, "crls", p))
                .collect::<Result<Vec<_>, _>>()?;
            b = b.chain(
                super::TrustAnchors::new(name, pem)
                    .crls(crls)
                    .require_client_auth(c.require_client_auth),
            );
        }
        for a in self.allow {
            let mut rule = match a.name {
                Some(n) => Rule::new(n),
                None => Rule::unnamed(),
            };
            // Only the keys present are set: `thumbprint = []` reaches the
            // rule as an empty list, which it refuses.
            type Setter = fn(Rule, Vec<String>) -> Rule;
            let keys: [(Option<OneOrMany>, Setter); 12] = [
                (a.issuer, |r, v| r.issuer(v)),
                (a.issuer_cn, |r, v| r.issuer_cn(v)),
                (a.subject, |r, v| r.subject(v)),
                (a.subject_cn, |r, v| r.subject_cn(v)),
                (a.san_dns, |r, v| r.san_dns(v)),
                (a.san_uri, |r, v| r.san_uri(v)),
                (a.san_uri_prefix, |r, v| r.san_uri_prefix(v)),
                (a.san_email, |r, v| r.san_email(v)),
                (a.san_ip, |r, v| r.san_ip(v)),
                (a.spiffe_id, |r, v| r.spiffe_id(v)),
                (a.spiffe_trust_domain, |r, v| r.spiffe_trust_domain(v)),
                (a.thumbprint, |r, v| r.thumbprint(v)),
            ];
            for (values, set) in keys {
                if let Some(values) = values {
                    rule = set(rule, values.into_vec());
                }
            }
            if let Some(c) = a.chain {
                rule = rule.chain(c);
            }
            b = b.allow(rule);
        }
        Ok(b)
    }
}

impl Policy {
    /// Loads a TOML policy file; anchor and CRL paths are relative to it.
    ///
    /// # Errors
    /// A [`ConfigError`] for an unreadable or invalid file or setting.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let base = path.parent().unwrap_or_else(|| Path::new("."));
        PolicyFile::load(path)?.into_builder(base)?.build()
    }

    /// Parses TOML text; anchor and CRL paths are relative to `base_dir`.
    ///
    /// # Errors
    /// A [`ConfigError`] for invalid TOML or settings.
    pub fn from_toml_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Self, ConfigError> {
        PolicyFile::parse(text)?
            .into_builder(base_dir.as_ref())?
            .build()
    }
}
