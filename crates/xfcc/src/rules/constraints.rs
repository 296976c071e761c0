//! Every rule constraint, each defined once: its key (the `[[allow]]` key
//! and the [`Rule`] setter), its environment variable, its one-line
//! reference, how its values are parsed, how one value is matched, what
//! proxy-fields mode can read of it, and what an explanation shows of the
//! certificate when it fails. The settings table, the policy-file and
//! environment readers, the generated reference (`CONFIGURATION.md`), the
//! proxy-fields refusals, the names-only refusal and the explanations all
//! follow from this table.
//!
//! Adding a constraint is one entry in `constraints!` below and its
//! tests.

use std::fmt;
use std::net::IpAddr;

use subtle::ConstantTimeEq;

use super::Rule;
use super::facts::Facts;
use super::values::{DnsPattern, ExtensionRule, Thumbprint, spki_pin, uri_prefix};
use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;
use crate::oid::Oid;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;

/// At most this many certificate values are shown per failed rule.
pub(crate) const SEEN_MAX: usize = 8;

/// What the certificate holds for a failed constraint, pushed onto the
/// list an explanation shows.
type Seen<T> = fn(&[T], &CertIdentity, &mut Vec<String>);

/// One constraint's definition, for values of type `T`.
pub(crate) struct Def<T: 'static> {
    key: &'static str,
    toml: &'static str,
    /// The environment variable that adds it to the `env` rule.
    env: Option<&'static str>,
    /// Whether the variable is comma-separated (a DN holds commas: its
    /// variable is one value).
    env_list: bool,
    doc: &'static str,
    /// Whether it pins the certificate or its key, so that a self-signed
    /// look-alike cannot satisfy the rule (not names-only).
    pins: bool,
    fields: Fields<T>,
    parse: fn(&'static str, &str) -> Result<T, ConfigError>,
    holds: fn(&T, &dyn Facts) -> bool,
    /// What the certificate holds for it, for an explanation when it fails
    /// (bounded by the caller).
    seen: Option<Seen<T>>,
}

/// What proxy-fields mode reads of a constraint.
pub(crate) enum Fields<T: 'static> {
    /// The proxy's field (`Subject`, `URI`, ...) it is checked against.
    Read(&'static str),
    /// As `Read`, except for the values `unless` picks out, which only a
    /// certificate can satisfy; refused under the name `named`.
    ReadUnless {
        field: &'static str,
        unless: fn(&T) -> bool,
        named: &'static str,
    },
    /// Only the certificate carries it: refused in proxy-fields mode.
    Never,
}

/// A constraint, whatever the type of its values: what the settings table
/// and the readers see.
pub(crate) trait Constraint: Sync {
    /// The `[[allow]]` key, and the [`Rule`] setter's name.
    fn key(&self) -> &'static str;
    /// `[[allow]] <key>`, as the settings table writes it.
    fn toml(&self) -> &'static str;
    /// The environment variable, if it has one.
    fn env(&self) -> Option<&'static str>;
    /// The values of its variable: comma-separated, or the whole text.
    fn env_values(&self, text: &str) -> Vec<String>;
    /// Its line in the configuration reference.
    fn doc(&self) -> &'static str;
    /// Whether some values need the certificate itself, so that
    /// proxy-fields mode refuses them (what its reference line says).
    #[cfg(test)]
    fn needs_certificate(&self) -> bool;
    /// The values, parsed and checked: a constraint ready to match.
    fn compile(&'static self, values: &[String]) -> Result<Box<dyn Check>, ConfigError>;
}

/// A compiled constraint: its values, parsed.
pub(crate) trait Check: Send + Sync + fmt::Debug {
    fn key(&self) -> &'static str;
    /// Whether any of its values holds for `facts`.
    fn holds(&self, facts: &dyn Facts) -> bool;
    /// Whether it pins the certificate or its key.
    fn pins(&self) -> bool;
    /// The proxy field it reads in proxy-fields mode; `None` when only a
    /// certificate can satisfy it (with these values).
    fn proxy_field(&self) -> Option<&'static str>;
    /// The name proxy-fields mode refuses it under, when it must.
    fn needs_certificate(&self) -> Option<&'static str>;
    /// What the certificate holds for it, pushed onto `out`.
    fn seen(&self, cert: &CertIdentity, out: &mut Vec<String>);
}

struct Compiled<T: 'static> {
    def: &'static Def<T>,
    values: Vec<T>,
}

impl<T: fmt::Debug> fmt::Debug for Compiled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.def.key)
            .field("values", &self.values)
            .finish()
    }
}

impl<T: Send + Sync + fmt::Debug + 'static> Constraint for Def<T> {
    fn key(&self) -> &'static str {
        self.key
    }
    fn toml(&self) -> &'static str {
        self.toml
    }
    fn env(&self) -> Option<&'static str> {
        self.env
    }
    fn env_values(&self, text: &str) -> Vec<String> {
        if self.env_list {
            crate::text::comma_list(text)
        } else {
            vec![text.to_owned()]
        }
    }
    fn doc(&self) -> &'static str {
        self.doc
    }
    #[cfg(test)]
    fn needs_certificate(&self) -> bool {
        !matches!(self.fields, Fields::Read(_))
    }
    fn compile(&'static self, values: &[String]) -> Result<Box<dyn Check>, ConfigError> {
        // Set to nothing is a mistake, not "no constraint": an empty list
        // would silently drop it (and with it, perhaps, the pin).
        if values.iter().all(|s| s.trim().is_empty()) {
            return Err(ConfigError::from(Repr::EmptyList { key: self.key }));
        }
        let values = values
            .iter()
            .map(|v| (self.parse)(self.key, v))
            .collect::<Result<Vec<T>, _>>()?;
        Ok(Box::new(Compiled { def: self, values }))
    }
}

impl<T: Send + Sync + fmt::Debug + 'static> Check for Compiled<T> {
    fn key(&self) -> &'static str {
        self.def.key
    }
    fn holds(&self, facts: &dyn Facts) -> bool {
        self.values.iter().any(|v| (self.def.holds)(v, facts))
    }
    fn pins(&self) -> bool {
        self.def.pins
    }
    fn proxy_field(&self) -> Option<&'static str> {
        match &self.def.fields {
            Fields::Read(field) => Some(field),
            Fields::ReadUnless { field, unless, .. } => {
                (!self.values.iter().any(unless)).then_some(field)
            }
            Fields::Never => None,
        }
    }
    fn needs_certificate(&self) -> Option<&'static str> {
        match &self.def.fields {
            Fields::Read(_) => None,
            Fields::ReadUnless { unless, named, .. } => {
                self.values.iter().any(unless).then_some(named)
            }
            Fields::Never => Some(self.def.key),
        }
    }
    fn seen(&self, cert: &CertIdentity, out: &mut Vec<String>) {
        if let Some(seen) = self.def.seen {
            seen(&self.values, cert, out);
        }
    }
}

/// The one place constraints are defined: for each, the [`Rule`] setter's
/// documentation, `setter / STATIC: value type`, then the definition's
/// fields. The macro adds the key and `[[allow]] <key>` from the setter's
/// name, lists the definitions in [`CONSTRAINTS`] in this order (the
/// reference's, and the order failed keys are reported in), and writes the
/// setter.
macro_rules! constraints {
    ($(
        $(#[doc = $doc:literal])*
        $setter:ident / $def:ident: $ty:ty = { $($field:ident: $value:expr),* $(,)? };
    )*) => {
        $(
            static $def: Def<$ty> = Def {
                key: stringify!($setter),
                toml: concat!("[[allow]] ", stringify!($setter)),
                $($field: $value,)*
            };
        )*

        /// Every constraint, in the reference's order.
        pub(crate) static CONSTRAINTS: &[&dyn Constraint] = &[$(&$def),*];

        impl Rule {
            $(
                $(#[doc = $doc])*
                pub fn $setter<I: IntoIterator<Item = S>, S: Into<String>>(self, values: I) -> Self {
                    self.with(&$def, values)
                }
            )*
        }
    };
}

constraints! {
    /// Issuer DN, RFC 4514 (`"CN=Contoso Issuing CA 1,O=Contoso"`), compared
    /// as parsed names ignoring ASCII case. Any of the values. In
    /// proxy-fields mode it reads the proxy's `Issuer` (Envoy 1.38+).
    issuer / ISSUER: DistinguishedName = {
        env: Some("XFCC_ALLOWED_ISSUER"),
        env_list: false,
        doc: "issuer DN, RFC 4514, compared as parsed names (the variable holds one DN)",
        pins: false,
        fields: Fields::Read("Issuer"),
        parse: distinguished_name,
        holds: |d, c| c.issuer_name().is_some_and(|n| d.matches(n)),
        seen: None,
    };
    /// Issuer common name, exact. Any of the values.
    issuer_cn / ISSUER_CN: String = {
        env: Some("XFCC_ALLOWED_ISSUER_CNS"),
        env_list: true,
        doc: "issuer common name, exact",
        pins: false,
        fields: Fields::Read("Issuer"),
        parse: not_blank,
        holds: |cn, c| c.has_cn(true, cn),
        seen: None,
    };
    /// Subject DN, RFC 4514, compared as parsed names ignoring ASCII case.
    subject / SUBJECT: DistinguishedName = {
        env: None,
        env_list: true,
        doc: "subject DN, RFC 4514, compared as parsed names",
        pins: false,
        fields: Fields::Read("Subject"),
        parse: distinguished_name,
        holds: |d, c| c.subject_name().is_some_and(|n| d.matches(n)),
        seen: None,
    };
    /// Subject common name, exact (any CN of the subject may match).
    subject_cn / SUBJECT_CN: String = {
        env: Some("XFCC_ALLOWED_SUBJECT_CNS"),
        env_list: true,
        doc: "subject common name, exact",
        pins: false,
        fields: Fields::Read("Subject"),
        parse: not_blank,
        holds: |cn, c| c.has_cn(false, cn),
        seen: None,
    };
    /// DNS SAN, exact (case-insensitive) or `*.example.com` (one label).
    san_dns / SAN_DNS: DnsPattern = {
        env: Some("XFCC_ALLOWED_SAN_DNS"),
        env_list: true,
        doc: "DNS SAN, exact or `*.example.com` (one label)",
        pins: false,
        fields: Fields::Read("DNS"),
        parse: |_, v| DnsPattern::parse(v),
        holds: |p, c| c.san_dns().iter().any(|d| p.matches(d)),
        seen: None,
    };
    /// URI SAN, exact.
    san_uri / SAN_URI: String = {
        env: Some("XFCC_ALLOWED_SAN_URIS"),
        env_list: true,
        doc: "URI SAN, exact",
        pins: false,
        fields: Fields::Read("URI"),
        parse: not_blank,
        holds: |u, c| c.san_uri().iter().any(|x| x == u),
        seen: None,
    };
    /// URI SAN prefix, such as a SPIFFE trust domain `spiffe://contoso.example/`.
    /// A prefix must end its authority with `/`, so that
    /// `spiffe://contoso.example` cannot match `spiffe://contoso.example.evil/`.
    san_uri_prefix / SAN_URI_PREFIX: String = {
        env: Some("XFCC_ALLOWED_SAN_URI_PREFIXES"),
        env_list: true,
        doc: "URI SAN prefix ending its authority with `/` (`spiffe://td/`)",
        pins: false,
        fields: Fields::Read("URI"),
        parse: |_, v| uri_prefix(v),
        holds: |p, c| c.san_uri().iter().any(|x| x.starts_with(p.as_str())),
        seen: None,
    };
    /// E-mail SAN, compared ignoring ASCII case. Refused in proxy-fields
    /// mode (the fields carry no e-mail SAN).
    san_email / SAN_EMAIL: String = {
        env: Some("XFCC_ALLOWED_SAN_EMAILS"),
        env_list: true,
        doc: "e-mail SAN, ignoring ASCII case; refused in proxy-fields mode (the fields do not carry it)",
        pins: false,
        fields: Fields::Never,
        parse: not_blank,
        holds: |e, c| c.san_email().iter().any(|x| x.eq_ignore_ascii_case(e)),
        seen: None,
    };
    /// IP SAN (`10.0.0.1`, `2001:db8::1`). Refused in proxy-fields mode.
    san_ip / SAN_IP: IpAddr = {
        env: Some("XFCC_ALLOWED_SAN_IPS"),
        env_list: true,
        doc: "IP SAN; refused in proxy-fields mode (the fields do not carry it)",
        pins: false,
        fields: Fields::Never,
        parse: |key, v| {
            v.trim().parse::<IpAddr>().map_err(|_| {
                ConfigError::value(key, v, "an IPv4 or IPv6 address such as 10.1.2.3 or 2001:db8::1")
            })
        },
        holds: |ip, c| c.san_ip().contains(ip),
        seen: None,
    };
    /// SPIFFE ID, exact (`spiffe://td/ns/a/sa/b`): the certificate must be
    /// an X.509-SVID (exactly one URI SAN, which is this ID; not a CA; no
    /// keyCertSign or cRLSign, as the X.509-SVID specification requires and
    /// go-spiffe checks). IDs are syntax-checked when the policy is built.
    spiffe_id / SPIFFE_ID: String = {
        env: None,
        env_list: true,
        doc: "SPIFFE ID of an X.509-SVID, exact",
        pins: false,
        fields: Fields::Read("URI"),
        parse: |key, v| {
            let id = v.trim();
            crate::spiffe::parse_id(id).map(|_| id.to_owned()).map_err(|why| {
                ConfigError::value(
                    key,
                    v,
                    format!("{why}; a SPIFFE ID looks like spiffe://example.org/ns/a/sa/b"),
                )
            })
        },
        holds: |id, c| c.spiffe_id() == Some(id.as_str()),
        seen: None,
    };
    /// SPIFFE trust domain (`td`, or `spiffe://td`): the certificate must be
    /// an X.509-SVID (see [`spiffe_id`](Self::spiffe_id)) whose ID is in one
    /// of these trust domains.
    spiffe_trust_domain / SPIFFE_TRUST_DOMAIN: String = {
        env: None,
        env_list: true,
        doc: "trust domain of an X.509-SVID",
        pins: false,
        fields: Fields::Read("URI"),
        parse: |key, v| {
            let td = v.trim();
            let td = td.strip_prefix("spiffe://").unwrap_or(td);
            crate::spiffe::trust_domain(td).map(|()| td.to_owned()).map_err(|why| {
                ConfigError::value(key, v, format!("{why}; a trust domain looks like example.org"))
            })
        },
        holds: |td, c| {
            c.spiffe_id()
                .and_then(|id| crate::spiffe::parse_id(id).ok())
                .is_some_and(|d| d == td)
        },
        seen: None,
    };
    /// Thumbprint: SHA-256 or SHA-1 hex, any case, colons allowed. A SHA-1
    /// thumbprint is refused in proxy-fields mode (`Hash` is a SHA-256).
    thumbprint / THUMBPRINT: Thumbprint = {
        env: Some("XFCC_ALLOWED_THUMBPRINTS"),
        env_list: true,
        doc: "SHA-256 or SHA-1 thumbprint, hex, any case, colons allowed; in proxy-fields mode compared with `Hash`, so a SHA-1 one is refused there",
        pins: true,
        fields: Fields::ReadUnless {
            field: "Hash",
            unless: |t| matches!(t, Thumbprint::Sha1(_)),
            named: "thumbprint (SHA-1)",
        },
        parse: |_, v| Thumbprint::parse(v),
        holds: |t, c| t.matches(c),
        seen: None,
    };
    /// SPKI pin: SHA-256 of the certificate's SubjectPublicKeyInfo, as
    /// RFC 7469 writes it (base64, e.g. `sha256/`-prefixed or bare) or as
    /// 64 hex digits. Unlike a thumbprint it survives re-issuance with the
    /// same key, as Envoy's `verify_certificate_spki` does. Compared in
    /// constant time; refused in proxy-fields mode (the fields carry no
    /// key). [`CertIdentity::spki_sha256_base64`](crate::inspect::CertIdentity::spki_sha256_base64)
    /// and `xfcc inspect` print it.
    spki_sha256 / SPKI_SHA256: [u8; 32] = {
        env: Some("XFCC_ALLOWED_SPKI_SHA256"),
        env_list: true,
        doc: "SHA-256 of the SubjectPublicKeyInfo (RFC 7469 base64, or hex): a pin that survives re-issuance with the same key; refused in proxy-fields mode (the fields do not carry the key)",
        pins: true,
        fields: Fields::Never,
        parse: |_, v| spki_pin(v),
        holds: |pin, c| c.spki_sha256().is_some_and(|d| bool::from(pin.ct_eq(&d))),
        seen: None,
    };
    /// Certificate policy: the leaf's certificatePolicies extension asserts
    /// one of these policy OIDs (dotted, e.g. `2.23.140.1.2.1`), as
    /// Keycloak's policy check does. The leaf's own assertion is read, not
    /// RFC 5280's policy processing along the chain; `anyPolicy`
    /// (`2.5.29.32.0`) in the leaf matches only when listed. OIDs are
    /// checked when the policy is built. Refused in proxy-fields mode.
    certificate_policies / CERTIFICATE_POLICIES: Oid = {
        env: Some("XFCC_ALLOWED_CERTIFICATE_POLICIES"),
        env_list: true,
        doc: "policy OID the leaf's certificatePolicies asserts (dotted, e.g. 2.23.140.1.2.1); refused in proxy-fields mode (the fields do not carry it)",
        pins: false,
        fields: Fields::Never,
        parse: |key, v| {
            Oid::parse(v.trim()).ok_or_else(|| {
                ConfigError::value(key, v, "a policy OID in dotted form, such as 2.23.140.1.2.1")
            })
        },
        holds: |want, c| c.certificate().is_some_and(|c| c.policy_oids().contains(want)),
        seen: Some(|_, cert, out| {
            let ids = cert.policy_oids();
            if ids.is_empty() {
                out.push("certificate_policies: none".to_owned());
            }
            out.extend(ids.iter().take(SEEN_MAX).map(|o| format!("certificate_policies: {o}")));
        }),
    };
    /// Extension: the leaf carries one of these extensions, as Vault's
    /// `required_extensions` asks. Each is a dotted OID alone (present, any
    /// value), `OID=<hex>` (the extension's value, the DER its OCTET STRING
    /// holds, byte for byte) or `OID="text"` (a value that is one
    /// UTF8String, PrintableString, IA5String or VisibleString holding
    /// exactly `text`). OIDs and values (at most 1024 bytes) are checked
    /// when the policy is built. Refused in proxy-fields mode.
    extension / EXTENSION: ExtensionRule = {
        env: Some("XFCC_ALLOWED_EXTENSIONS"),
        env_list: true,
        doc: "extension the leaf carries: a dotted OID (present), `OID=<hex of its DER value>`, or `OID=\"text\"` (one string value); refused in proxy-fields mode (the fields do not carry it)",
        pins: false,
        fields: Fields::Never,
        parse: |_, v| ExtensionRule::parse(v),
        holds: |e, c| c.certificate().is_some_and(|c| e.matches(c)),
        seen: Some(|rules, cert, out| {
            let mut oids: Vec<&Oid> = rules.iter().map(ExtensionRule::oid).collect();
            oids.dedup();
            out.extend(oids.into_iter().take(SEEN_MAX).map(|o| match cert.extension_der(o.as_bytes()) {
                None => format!("extension {o}: absent"),
                Some(v) => {
                    let shown = v.get(..32).unwrap_or(v);
                    let more = v.len() - shown.len();
                    let hex = crate::hex::upper(shown);
                    if more > 0 {
                        format!("extension {o}: {hex}...(+{more} bytes)")
                    } else {
                        format!("extension {o}: {hex}")
                    }
                }
            }));
        }),
    };
}

/// The constraint `[[allow]] <key>`.
pub(crate) fn by_key(key: &str) -> Option<&'static dyn Constraint> {
    CONSTRAINTS.iter().copied().find(|c| c.key() == key)
}

/// A value that is not blank, as written.
fn not_blank(key: &'static str, v: &str) -> Result<String, ConfigError> {
    if v.trim().is_empty() {
        Err(ConfigError::value(key, v, "a value that is not blank"))
    } else {
        Ok(v.to_owned())
    }
}

/// An RFC 4514 name; a bare common name is pointed at `*_cn`.
fn distinguished_name(key: &'static str, v: &str) -> Result<DistinguishedName, ConfigError> {
    DistinguishedName::parse(v).map_err(|_| {
        let cn_key = if key == "issuer" {
            "issuer_cn"
        } else {
            "subject_cn"
        };
        let expected = if v.contains('=') {
            "an RFC 4514 distinguished name such as \"CN=Contoso Issuing CA 1,O=Contoso\" (escape , + \" \\ < > ; in values with \\)".to_owned()
        } else {
            format!(
                "an RFC 4514 distinguished name such as \"CN={},O=Contoso\"; to match a common name alone, use {cn_key}",
                v.trim()
            )
        };
        ConfigError::value(key, v, expected)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_each_is_found_and_refused_empty_by_its_own_name() {
        let mut keys: Vec<&str> = CONSTRAINTS.iter().map(|c| c.key()).collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "a constraint key appears twice");
        for c in CONSTRAINTS {
            assert_eq!(c.toml(), format!("[[allow]] {}", c.key()));
            // The reference says what proxy-fields mode refuses.
            assert_eq!(
                c.doc().contains("proxy-fields mode"),
                c.needs_certificate(),
                "{}",
                c.key()
            );
            assert_eq!(by_key(c.key()).map(|f| f.key()), Some(c.key()));
            let e = Rule::new("r")
                .with_key(c.key(), vec![" ".to_owned()])
                .compile(0);
            assert_eq!(
                e.err(),
                Some(ConfigError::from(Repr::Rule {
                    rule: "r".into(),
                    error: ConfigError::from(Repr::EmptyList { key: c.key() }),
                }))
            );
        }
    }

    #[test]
    fn a_pin_is_what_keeps_a_rule_from_being_names_only_and_sha1_needs_the_certificate() {
        let sha256 = "ab".repeat(32);
        let sha1 = "cd".repeat(20);
        let rule = |r: Rule| r.compile(0).ok();
        let names = rule(Rule::new("n").subject_cn(["a"])).unwrap_or_else(|| unreachable!());
        assert!(names.is_name_only());
        assert!(names.needs_certificate().is_empty());
        let pinned = rule(
            Rule::new("p")
                .subject_cn(["a"])
                .thumbprint([sha256.clone()]),
        )
        .unwrap_or_else(|| unreachable!());
        assert!(!pinned.is_name_only());
        assert!(pinned.needs_certificate().is_empty());
        assert!(pinned.reads_field("Hash") && pinned.reads_field("Subject"));
        let old = rule(Rule::new("o").thumbprint([sha256, sha1])).unwrap_or_else(|| unreachable!());
        assert_eq!(old.needs_certificate(), ["thumbprint (SHA-1)"]);
        assert!(!old.reads_field("Hash"));
        let key = rule(
            Rule::new("k")
                .spki_sha256(["ab".repeat(32)])
                .san_email(["a@b.c"]),
        )
        .unwrap_or_else(|| unreachable!());
        assert!(!key.is_name_only());
        assert_eq!(key.needs_certificate(), ["san_email", "spki_sha256"]);
    }
}
