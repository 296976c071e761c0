//! Every setting of a policy, once: its policy-file key, its environment
//! variable, its type, its default and its meaning. The environment reader,
//! the policy file's `[[allow]]` keys, the mapping of an error back to the
//! variable an operator set, and the generated configuration reference
//! (`CONFIGURATION.md`) all read this table; [`PolicyBuilder::build`] judges
//! the values.

use super::model::PolicyConfig;
use crate::outcome::ConfigError;
#[cfg(doc)]
use crate::policy::PolicyBuilder;
use std::sync::OnceLock;

use crate::rules::{CONSTRAINTS, Constraint};

/// The type of a setting's value, as the reference shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingType {
    /// One string.
    Text,
    /// A list of strings: a TOML string or array; in the environment,
    /// comma-separated.
    List,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Bool,
    /// One of the listed names.
    Choice(&'static [&'static str]),
}

impl SettingType {
    /// The type as the configuration reference writes it.
    pub fn describe(self) -> String {
        match self {
            Self::Text => "string".to_owned(),
            Self::List => "list of strings".to_owned(),
            Self::Integer => "integer".to_owned(),
            Self::Bool => "bool".to_owned(),
            Self::Choice(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                match quoted.as_slice() {
                    [a, b] => format!("{a} or {b}"),
                    _ => format!("one of {}", quoted.join(", ")),
                }
            }
        }
    }
}

/// One setting: where the policy file and the environment spell it, what
/// it holds, and its default. Read the whole table with [`settings`].
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Setting {
    /// The key inside its section or rule (`count`, `thumbprint`), as
    /// [`ConfigError::setting`] names it.
    pub key: &'static str,
    /// Where the policy file writes it (`[elements] count`,
    /// `[[allow]] thumbprint`); `None` for a setting only the environment
    /// holds.
    pub toml: Option<&'static str>,
    /// The environment variable; `None` when only a policy file holds it.
    pub env: Option<&'static str>,
    /// The value's type.
    pub ty: SettingType,
    /// The default, in words.
    pub default: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
    pub(crate) role: Role,
}

/// What a setting does when the environment sets it, and (for a rule
/// constraint) how a [`Rule`] takes it.
#[derive(Clone, Copy)]
pub(crate) enum Role {
    /// Fills the configuration from the variable's text (trimmed, never
    /// empty).
    Fill(fn(&mut PolicyConfig, &str) -> Result<(), ConfigError>),
    /// A rule constraint: the `env` rule's from the variable, any rule's
    /// from `[[allow]]`.
    Constraint(&'static dyn Constraint),
    /// Read another way (a rule's name and chain, the policy file itself).
    Other,
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Fill(_) => "Fill",
            Self::Constraint(_) => "Constraint",
            Self::Other => "Other",
        })
    }
}

/// Where a setting belongs, which decides what the environment may set
/// beside `XFCC_POLICY_FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Held by a policy file: refused beside one.
    Policy,
    /// How the proxy delivers the header: the file has no key for it, so it
    /// applies beside one.
    Transport,
    /// `XFCC_POLICY_FILE`.
    File,
}

impl Setting {
    pub(crate) fn scope(&self) -> Scope {
        match (self.toml, self.env) {
            (_, Some("XFCC_POLICY_FILE")) => Scope::File,
            (None, Some(_)) if !self.env.is_some_and(|e| e.starts_with("ALLOWED_CERT_")) => {
                Scope::Transport
            }
            _ => Scope::Policy,
        }
    }

    /// The rule constraint this setting is.
    #[cfg(feature = "toml")]
    pub(crate) fn constraint(&self) -> Option<&'static dyn Constraint> {
        match self.role {
            Role::Constraint(c) => Some(c),
            _ => None,
        }
    }
}

const MODES: &[&str] = &["require", "accept", "report"];
const IDENTITY_FROM: &[&str] = &["cert", "proxy-fields"];
/// `[revocation]`'s choices, in the order the reader maps them (the default
/// first).
pub(crate) const STALE_CRLS: &[&str] = &["deny", "allow"];
pub(crate) const REVOCATION_DEPTH: &[&str] = &["chain", "end-entity"];
pub(crate) const UNKNOWN_STATUS: &[&str] = &["allow", "deny"];
const FORMATS: &[&str] = &[
    "envoy",
    "rfc9440",
    "nginx",
    "traefik",
    "alb",
    "app-service",
    "gorouter",
    "haproxy",
    "caddy",
];

/// The variable that names a policy file.
pub(crate) const POLICY_FILE: &str = "XFCC_POLICY_FILE";

/// The table, in the reference's order: these settings, then the rule
/// constraints (from their own table), then [`AFTER_CONSTRAINTS`].
static BEFORE_CONSTRAINTS: &[Setting] = &[
    Setting {
        key: "mode",
        toml: Some("mode"),
        env: Some("XFCC_MODE"),
        ty: SettingType::Choice(MODES),
        default: "`require`",
        doc: "what a request without the header gets: `require` rejects it (`missing`), `accept` passes it with no identity; `report` decides as `require` but lets every request go on, logging and counting each would-be refusal (`result=\"would_deny\"`), for a rollout",
        role: Role::Fill(|c, v| c.set_mode(v)),
    },
    Setting {
        key: "trusted_peers",
        toml: Some("trusted_peers"),
        env: Some("XFCC_TRUSTED_PEERS"),
        ty: SettingType::List,
        default: "not checked",
        doc: "CIDR blocks or addresses of the proxy: the header from any other TCP peer is `untrusted_peer`",
        role: Role::Fill(|c, v| {
            c.trusted_peers = Some(list(v));
            Ok(())
        }),
    },
    Setting {
        key: "trusted_proxies",
        toml: Some("[[trusted_proxies]]"),
        env: Some("XFCC_TRUSTED_PROXY_SPKI"),
        ty: SettingType::List,
        default: "not checked",
        doc: "the proxies named by the certificate each presents to the service in TLS: one table per proxy with the keys of `[[allow]]` (it must pin `spki_sha256` or `thumbprint`, or verify a `chain` with `spiffe_id`, `san_uri` or `san_dns`); a header over a connection whose certificate none matches (or with none) is `untrusted_proxy`, whatever its address. The variable holds SPKI pins, one entry. The service terminates the proxy's TLS (the adapters' acceptors)",
        role: Role::Fill(|c, v| {
            c.env_proxy_pins(list(v));
            Ok(())
        }),
    },
    Setting {
        key: "allow_cloudflare_global",
        toml: Some("[[trusted_proxies]] allow_cloudflare_global"),
        env: None,
        ty: SettingType::Bool,
        default: "false",
        doc: "let the entry match Cloudflare's shared origin-pull certificate, which Cloudflare presents for every customer's zone (refused by default, at build for an anchor set holding its CA and per request as `cloudflare_global`): use a per-zone or per-hostname certificate instead",
        role: Role::Other,
    },
    Setting {
        key: "proxy_verifies_chain",
        toml: Some("proxy_verifies_chain"),
        env: Some("XFCC_PROXY_VERIFIES_CHAIN"),
        ty: SettingType::Bool,
        default: "false",
        doc: "the operator's statement that the proxy verifies every client certificate against your CA (Envoy with `trusted_ca`, nginx `ssl_verify_client on`, Istio STRICT mTLS; never Azure Container Apps, which accepts any): without it a rule with no `thumbprint`, `spki_sha256` or `chain` is refused (`names_only_rule`), since a self-signed certificate can carry any name. `xfcc doctor` checks the claim",
        role: Role::Fill(|c, v| {
            c.proxy_verifies_chain = Some(boolean("proxy_verifies_chain", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "count",
        toml: Some("[elements] count"),
        env: Some("XFCC_ELEMENT_COUNT"),
        ty: SettingType::Integer,
        default: "1",
        doc: "exact number of elements (proxy hops) the header holds; 0 accepts any number",
        role: Role::Fill(|c, v| {
            c.elements.count = Some(number("count", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "trust",
        toml: Some("[elements] trust"),
        env: Some("XFCC_TRUST_ELEMENT"),
        ty: SettingType::Integer,
        default: "0",
        doc: "index of the element to verify; negative counts from the end (-1 is the element the nearest proxy appended)",
        role: Role::Fill(|c, v| {
            c.elements.trust = Some(number("trust", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "by",
        toml: Some("[elements] by"),
        env: Some("XFCC_TRUSTED_BY"),
        ty: SettingType::Text,
        default: "not checked",
        doc: "the `By` value (the proxy's URI SAN) the trusted element must carry, in that element only",
        role: Role::Fill(|c, v| {
            c.elements.by = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "by_is_proxy",
        toml: Some("[elements] by_is_proxy"),
        env: Some("XFCC_BY_IS_PROXY"),
        ty: SettingType::Bool,
        default: "`true` with `trusted_proxies` (Envoy format)",
        doc: "the trusted element's `By` must be one of the URI SANs of the certificate the proxy presented (`untrusted_proxy`, `by_not_proxy`); `false` where the proxy's upstream certificate differs from its listener's; refused without `trusted_proxies`",
        role: Role::Fill(|c, v| {
            c.elements.by_is_proxy = Some(boolean("by_is_proxy", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "identity_from",
        toml: Some("[elements] identity_from"),
        env: Some("XFCC_IDENTITY_FROM"),
        ty: SettingType::Choice(IDENTITY_FROM),
        default: "`cert`",
        doc: "`proxy-fields` verifies elements without `Cert` from the proxy's `Hash`, `Subject`, `URI`, `DNS`; needs `trusted_peers`, `trusted_proxies` or `by`",
        role: Role::Fill(|c, v| {
            c.elements.identity_from = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "leeway_seconds",
        toml: Some("[validity] leeway_seconds"),
        env: Some("XFCC_LEEWAY_SECONDS"),
        ty: SettingType::Integer,
        default: "60",
        doc: "clock skew allowed around the validity period, at most 86400",
        role: Role::Fill(|c, v| {
            c.validity.leeway_seconds = Some(number("leeway_seconds", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "name",
        toml: Some("[[allow]] name"),
        env: None,
        ty: SettingType::Text,
        default: "the rule's index",
        doc: "the rule's name, reported as the matched rule; unique",
        role: Role::Other,
    },
];

/// The settings after the rule constraints.
static AFTER_CONSTRAINTS: &[Setting] = &[
    Setting {
        key: "chain",
        toml: Some("[[allow]] chain"),
        env: None,
        ty: SettingType::Text,
        default: "no chain check",
        doc: "the `[chain.<set>]` the leaf must chain to (in the environment, every rule does once `XFCC_CHAIN_ANCHORS` is set)",
        role: Role::Other,
    },
    Setting {
        key: "trust_anchors",
        toml: Some("[chain.<set>] trust_anchors"),
        env: Some("XFCC_CHAIN_ANCHORS"),
        ty: SettingType::List,
        default: "required",
        doc: "PEM files of the CA certificates; a relative path is read from the policy file's directory (the set is `env` in the environment, one file)",
        role: Role::Fill(|c, v| {
            c.env_chain().trust_anchors = vec![v.to_owned()];
            Ok(())
        }),
    },
    Setting {
        key: "crls",
        toml: Some("[chain.<set>] crls"),
        env: Some("XFCC_CHAIN_CRLS"),
        ty: SettingType::List,
        default: "none",
        doc: "CRL files (PEM or DER) checked for revocation",
        role: Role::Fill(|c, v| {
            c.env_chain().crls = list(v);
            Ok(())
        }),
    },
    Setting {
        key: "crl_urls",
        toml: Some("[chain.<set>] crl_urls"),
        env: Some("XFCC_CHAIN_CRL_URLS"),
        ty: SettingType::List,
        default: "none",
        doc: "http:// URLs CRLs are fetched from, at build and then in the background (feature `crl-fetch`, which the examples, the `xfcc` CLI and the Python package are built with); never a URL a certificate names",
        role: Role::Fill(|c, v| {
            c.env_chain().crl_urls = list(v);
            Ok(())
        }),
    },
    Setting {
        key: "crl_refresh_seconds",
        toml: Some("[chain.<set>] crl_refresh_seconds"),
        env: Some("XFCC_CHAIN_CRL_REFRESH_SECONDS"),
        ty: SettingType::Integer,
        default: "3600",
        doc: "how often `crl_urls` are fetched (a fetch is bounded: 10 s or this, 8 MiB, no redirects)",
        role: Role::Fill(|c, v| {
            c.env_chain().crl_refresh_seconds = Some(number("crl_refresh_seconds", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "crl_max_age_seconds",
        toml: Some("[chain.<set>] crl_max_age_seconds"),
        env: Some("XFCC_CHAIN_CRL_MAX_AGE_SECONDS"),
        ty: SettingType::Integer,
        default: "86400",
        doc: "fetched CRLs older than this (or none fetched yet) are stale: see `stale_crls`",
        role: Role::Fill(|c, v| {
            c.env_chain().crl_max_age_seconds = Some(number("crl_max_age_seconds", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "require_client_auth",
        toml: Some("[chain.<set>] require_client_auth"),
        env: None,
        ty: SettingType::Bool,
        default: "true",
        doc: "the leaf must list the clientAuth EKU",
        role: Role::Other,
    },
    Setting {
        key: "stale_crls",
        toml: Some("[revocation] stale_crls"),
        env: Some("XFCC_STALE_CRLS"),
        ty: SettingType::Choice(STALE_CRLS),
        default: "`deny`",
        doc: "what stale CRLs mean (a CRL file past its nextUpdate; fetched CRLs older than `crl_max_age_seconds`, or none fetched yet): `deny` refuses the chains they cover (`crl_expired`), `allow` uses them as they are (revocation may then be out of date); needs CRLs (`Revocation::expiry`)",
        role: Role::Fill(|c, v| {
            c.revocation.stale_crls = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "depth",
        toml: Some("[revocation] depth"),
        env: Some("XFCC_REVOCATION_DEPTH"),
        ty: SettingType::Choice(REVOCATION_DEPTH),
        default: "`chain`",
        doc: "which certificates of the path the CRLs check: `chain` every one, `end-entity` the leaf alone; needs CRLs (`Revocation::depth`)",
        role: Role::Fill(|c, v| {
            c.revocation.depth = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "unknown_status",
        toml: Some("[revocation] unknown_status"),
        env: Some("XFCC_REVOCATION_UNKNOWN_STATUS"),
        ty: SettingType::Choice(UNKNOWN_STATUS),
        default: "`allow`",
        doc: "a certificate no configured CRL covers (typically the CA's own, when only the issuing CA's CRL is listed): `allow`, or `deny` (`revocation_unknown`); needs CRLs (`Revocation::unknown`)",
        role: Role::Fill(|c, v| {
            c.revocation.unknown_status = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "[[sources]] name",
        toml: Some("[[sources]] name"),
        env: None,
        ty: SettingType::Text,
        default: "required",
        doc: "one proxy of several (`[[sources]]`): its name, in logs and metrics (`source`) and `ClientCert::source`; unique",
        role: Role::Other,
    },
    Setting {
        key: "[[sources]] trusted_peers",
        toml: Some("[[sources]] trusted_peers"),
        env: None,
        ty: SettingType::List,
        default: "required unless `trusted_proxies`",
        doc: "CIDR blocks or addresses this proxy connects from; a request is judged by the source its TCP peer belongs to (no two sources may overlap; a peer in none that sends a header is `untrusted_peer`)",
        role: Role::Other,
    },
    Setting {
        key: "[[sources.trusted_proxies]]",
        toml: Some("[[sources.trusted_proxies]]"),
        env: None,
        ty: SettingType::List,
        default: "none",
        doc: "as `[[trusted_proxies]]`, for this proxy: a request is judged by the first source whose addresses (if listed) hold its peer and whose entries (if any) match its certificate",
        role: Role::Other,
    },
    Setting {
        key: "[[sources]] header",
        toml: Some("[[sources]] header"),
        env: None,
        ty: SettingType::Text,
        default: "the format's header",
        doc: "the header this proxy writes",
        role: Role::Other,
    },
    Setting {
        key: "[[sources]] format",
        toml: Some("[[sources]] format"),
        env: None,
        ty: SettingType::Choice(FORMATS),
        default: "`envoy`",
        doc: "how this proxy writes the certificate (with sources, `XFCC_FORMAT` and `XFCC_HEADER` are refused as ambiguous)",
        role: Role::Other,
    },
    Setting {
        key: "[sources.elements] count",
        toml: Some("[sources.elements] count"),
        env: None,
        ty: SettingType::Integer,
        default: "1",
        doc: "as `[elements] count`, for this proxy's header",
        role: Role::Other,
    },
    Setting {
        key: "[sources.elements] trust",
        toml: Some("[sources.elements] trust"),
        env: None,
        ty: SettingType::Integer,
        default: "0",
        doc: "as `[elements] trust`",
        role: Role::Other,
    },
    Setting {
        key: "[sources.elements] by",
        toml: Some("[sources.elements] by"),
        env: None,
        ty: SettingType::Text,
        default: "not checked",
        doc: "as `[elements] by`",
        role: Role::Other,
    },
    Setting {
        key: "[sources.elements] identity_from",
        toml: Some("[sources.elements] identity_from"),
        env: None,
        ty: SettingType::Choice(IDENTITY_FROM),
        default: "`cert`",
        doc: "as `[elements] identity_from`",
        role: Role::Other,
    },
    Setting {
        key: "[sources.elements] by_is_proxy",
        toml: Some("[sources.elements] by_is_proxy"),
        env: None,
        ty: SettingType::Bool,
        default: "`true` with `trusted_proxies` (Envoy format)",
        doc: "as `[elements] by_is_proxy`",
        role: Role::Other,
    },
    Setting {
        key: "format",
        toml: None,
        env: Some("XFCC_FORMAT"),
        ty: SettingType::Choice(FORMATS),
        default: "`envoy`",
        doc: "how the proxy writes the certificate (applies beside a policy file too)",
        role: Role::Fill(|c, v| c.set_format(v)),
    },
    Setting {
        key: "header_name",
        toml: None,
        env: Some("XFCC_HEADER"),
        ty: SettingType::Text,
        default: "the format's header",
        doc: "the header to read, a valid HTTP field name (applies beside a policy file too)",
        role: Role::Fill(|c, v| {
            c.transport.header = Some(v.to_owned());
            Ok(())
        }),
    },
    Setting {
        key: "cache",
        toml: None,
        env: Some("XFCC_CACHE"),
        ty: SettingType::Integer,
        default: "1024",
        doc: "how many allowed certificates to keep decoded; 0 turns the cache off (applies beside a policy file too)",
        role: Role::Fill(|c, v| {
            c.transport.cache = Some(number("cache", v)?);
            Ok(())
        }),
    },
    Setting {
        key: "log_rate",
        toml: None,
        env: Some("XFCC_LOG_RATE"),
        ty: SettingType::Integer,
        default: "10",
        doc: "rejection events logged per reason per second, or `unlimited`; above it a summary counts the rest. Read by `LogRate::from_env` for the adapters' `log_rate` (the examples do), not by the policy",
        role: Role::Other,
    },
    Setting {
        key: "dev_server",
        toml: None,
        env: Some("XFCC_DEV_SERVER"),
        ty: SettingType::Choice(&["loopback"]),
        default: "unset",
        doc: "Python WSGI middleware only, for local development: `loopback` serves requests from loopback addresses under a server that keeps header names with underscores (wsgiref, Django `runserver`), with a WARNING at every start; never set it where a proxy or another client can reach the app. Not read by the policy",
        role: Role::Other,
    },
    Setting {
        key: "policy_watch_seconds",
        toml: None,
        env: Some("XFCC_POLICY_WATCH_SECONDS"),
        ty: SettingType::Integer,
        default: "not watched",
        doc: "follow the policy's files (the policy file, anchors, CRLs) every so many seconds and reload when they change. Read by `PolicyWatcher::interval_from_env` or `parse_interval` (the examples do), not by the policy",
        role: Role::Other,
    },
    Setting {
        key: "thumbprint",
        toml: None,
        env: Some("ALLOWED_CERT_THUMBPRINTS"),
        ty: SettingType::List,
        default: "absent (empty is absent)",
        doc: "the published recipes' variable: rule `thumbprint` allows any listed thumbprint",
        role: Role::Fill(|c, v| {
            c.recipe_rule("thumbprint", "thumbprint", list(v));
            Ok(())
        }),
    },
    Setting {
        key: "thumbprint",
        toml: None,
        env: Some("ALLOWED_CERT_FINGERPRINTS"),
        ty: SettingType::List,
        default: "absent (empty is absent)",
        doc: "as `ALLOWED_CERT_THUMBPRINTS`, into the same rule",
        role: Role::Fill(|c, v| {
            c.recipe_rule("thumbprint", "thumbprint", list(v));
            Ok(())
        }),
    },
    Setting {
        key: "subject_cn",
        toml: None,
        env: Some("ALLOWED_CERT_COMMON_NAMES"),
        ty: SettingType::List,
        default: "absent (empty is absent)",
        doc: "the published recipes' variable: rule `common_name` allows any listed subject CN",
        role: Role::Fill(|c, v| {
            c.recipe_rule("common_name", "subject_cn", list(v));
            Ok(())
        }),
    },
    Setting {
        key: "policy_file",
        toml: None,
        env: Some("XFCC_POLICY_FILE"),
        ty: SettingType::Text,
        default: "none",
        doc: "a TOML policy file holding the settings above that have a key; beside it only the transport variables apply",
        role: Role::Other,
    },
];

/// Every setting a policy reads, in the configuration reference's order:
/// the one table the environment reader, the policy file's rule keys and
/// the reference below follow.
#[doc = include_str!("../../CONFIGURATION.md")]
pub fn settings() -> &'static [Setting] {
    static SETTINGS: OnceLock<Vec<Setting>> = OnceLock::new();
    SETTINGS.get_or_init(|| {
        let constraints = CONSTRAINTS.iter().map(|&c| Setting {
            key: c.key(),
            toml: Some(c.toml()),
            env: c.env(),
            ty: SettingType::List,
            default: "not checked",
            doc: c.doc(),
            role: Role::Constraint(c),
        });
        BEFORE_CONSTRAINTS
            .iter()
            .copied()
            .chain(constraints)
            .chain(AFTER_CONSTRAINTS.iter().copied())
            .collect()
    })
}

/// The setting of an environment variable.
pub(crate) fn by_env(var: &str) -> Option<&'static Setting> {
    settings().iter().find(|s| s.env == Some(var))
}

/// The environment variable of the setting an error names (`setting` as
/// [`ConfigError::setting`] gives it), looking among the policy-level
/// settings or, with `constraint`, the `env` rule's constraints.
pub(crate) fn env_of(setting: &str, constraint: bool) -> Option<&'static str> {
    settings()
        .iter()
        .filter(|s| matches!(s.role, Role::Constraint(_)) == constraint)
        .find(|s| s.key == setting || s.toml == Some(setting))
        .and_then(|s| s.env)
        .filter(|e| e.starts_with("XFCC_"))
}

pub(crate) use crate::text::comma_list as list;

fn boolean(key: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(ConfigError::value(key, v, "true or false")),
    }
}

fn number<T: std::str::FromStr>(key: &'static str, v: &str) -> Result<T, ConfigError> {
    v.parse()
        .map_err(|_| ConfigError::value(key, v, "a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Format;

    #[test]
    fn choices_are_the_names_the_readers_accept() {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.code()).collect();
        assert_eq!(FORMATS, names.as_slice());
        for &n in IDENTITY_FROM {
            assert_eq!(
                crate::outcome::IdentityFrom::from_name(n).map(|i| i.code()),
                Some(n)
            );
        }
    }

    #[test]
    fn every_variable_and_key_is_spelled_once() {
        let mut envs: Vec<&str> = settings().iter().filter_map(|s| s.env).collect();
        let n = envs.len();
        envs.sort_unstable();
        envs.dedup();
        assert_eq!(envs.len(), n, "an environment variable appears twice");
        let mut keys: Vec<&str> = settings().iter().filter_map(|s| s.toml).collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "a policy-file key appears twice");
    }
}
