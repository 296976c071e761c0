//! Allow rules: a rule matches when every constraint it has holds; a
//! constraint with several values holds when any of them does.

use std::net::IpAddr;

use subtle::ConstantTimeEq;

use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;
use crate::oid::Oid;
use crate::outcome::ConfigError;

/// A pinned certificate thumbprint: SHA-256 (64 hex digits, what Envoy's
/// `Hash` carries) or SHA-1 (40 hex digits, what the Azure portal and .NET
/// call the thumbprint).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Thumbprint {
    /// SHA-256 of the DER.
    Sha256([u8; 32]),
    /// SHA-1 of the DER.
    Sha1([u8; 20]),
}

impl Thumbprint {
    /// Parses a thumbprint written in any case, with or without `:` or
    /// space separators, optionally prefixed with `sha256:`/`sha1:`.
    ///
    /// # Errors
    /// [`ConfigError::Thumbprint`] for anything that is not 64 or 40 hex
    /// digits, naming the lengths that would have been right.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let trimmed = s.trim();
        let (declared, rest) = match trimmed.split_once(':') {
            Some((alg, rest)) if alg.eq_ignore_ascii_case("sha256") => (Some(64), rest),
            Some((alg, rest)) if alg.eq_ignore_ascii_case("sha1") => (Some(40), rest),
            _ => (None, trimmed),
        };
        let bad = |why: &str| ConfigError::Thumbprint(why.to_owned());
        // Name the first character that is not a digit or a separator, by
        // position: an invisible one (U+200E pasted from Windows certmgr, a
        // zero-width space) cannot be seen in the file.
        if let Some((i, c)) = trimmed
            .char_indices()
            .skip_while(|&(_, c)| c != ':' && declared.is_some())
            .skip(usize::from(declared.is_some()))
            .find(|&(_, c)| !(c.is_ascii_hexdigit() || matches!(c, ':' | ' ' | '-')))
        {
            let shown = if c.is_ascii_graphic() {
                format!("{c:?}")
            } else {
                format!("U+{:04X}", u32::from(c))
            };
            let invisible = if c.is_ascii_graphic() || c == ' ' {
                ""
            } else {
                " (an invisible character, often pasted with a thumbprint copied from Windows; retype it)"
            };
            return Err(ConfigError::Thumbprint(format!(
                "character {} of the thumbprint is {shown}{invisible}; a thumbprint is hex digits (colons and spaces allowed)",
                trimmed[..i].chars().count() + 1
            )));
        }
        let digits: Vec<u8> = rest
            .bytes()
            .filter(|b| !matches!(b, b':' | b' ' | b'-'))
            .collect();
        if let Some(n) = declared
            && digits.len() != n
        {
            return Err(ConfigError::Thumbprint(match (n, digits.len()) {
                (40, 64) => "sha1: is followed by 64 hex digits, a SHA-256 thumbprint: write sha256: (or drop the prefix)".to_owned(),
                (64, 40) => "sha256: is followed by 40 hex digits, a SHA-1 thumbprint: write sha1: (or drop the prefix)".to_owned(),
                (64, got) => format!("a sha256 thumbprint has 64 hex digits, not {got}"),
                (_, got) => format!("a sha1 thumbprint has 40 hex digits, not {got}"),
            }));
        }
        let bytes: Vec<u8> = digits
            .chunks_exact(2)
            .map(|p| crate::hex::byte(p[0], p[1]).unwrap_or(0))
            .collect();
        match digits.len() {
            64 => Ok(Self::Sha256(bytes.try_into().map_err(|_| bad("internal"))?)),
            40 => Ok(Self::Sha1(bytes.try_into().map_err(|_| bad("internal"))?)),
            32 => Err(bad(
                "32 hex digits is an MD5 fingerprint; use the SHA-256 (64 hex digits) or SHA-1 (40 hex digits) thumbprint",
            )),
            n => Err(ConfigError::Thumbprint(format!(
                "{n} hex digits is neither a SHA-256 thumbprint (64 hex digits, Envoy's Hash) nor a SHA-1 thumbprint (40 hex digits, the Azure portal's)"
            ))),
        }
    }

    /// Constant-time comparison with the digests `facts` has (a SHA-1 pin
    /// never matches proxy fields, which carry only a SHA-256).
    fn matches(&self, facts: &dyn Facts) -> bool {
        match self {
            Self::Sha256(t) => bool::from(t.ct_eq(facts.sha256())),
            Self::Sha1(t) => facts.sha1().is_some_and(|d| bool::from(t.ct_eq(d))),
        }
    }
}

/// What a rule reads: a decoded certificate, or the fields a proxy wrote
/// in its place ([`ProxyFields`](crate::ProxyFields)). What the fields do
/// not carry is absent, and a constraint on it fails.
pub(crate) trait Facts {
    fn issuer_name(&self) -> Option<&DistinguishedName>;
    fn subject_name(&self) -> Option<&DistinguishedName>;
    /// Whether `cn` is a common name of the issuer (`issuer`) or the
    /// subject: what `issuer_cn` and `subject_cn` ask, which a certificate
    /// answers without building the name.
    fn has_cn(&self, issuer: bool, cn: &str) -> bool {
        let name = if issuer {
            self.issuer_name()
        } else {
            self.subject_name()
        };
        name.is_some_and(|n| n.common_names().any(|x| x == cn))
    }
    fn san_dns(&self) -> &[String];
    fn san_uri(&self) -> &[String];
    fn san_email(&self) -> &[String];
    fn san_ip(&self) -> &[IpAddr];
    fn spiffe_id(&self) -> Option<&str>;
    fn sha256(&self) -> &[u8; 32];
    fn sha1(&self) -> Option<&[u8; 20]>;
    /// SHA-256 of the SubjectPublicKeyInfo (none in proxy fields).
    fn spki_sha256(&self) -> Option<[u8; 32]>;
    /// The certificate, for its extensions (none in proxy fields).
    fn certificate(&self) -> Option<&CertIdentity>;
}

impl Facts for CertIdentity {
    fn issuer_name(&self) -> Option<&DistinguishedName> {
        Some(Self::issuer_name(self))
    }
    fn subject_name(&self) -> Option<&DistinguishedName> {
        Some(Self::subject_name(self))
    }
    fn has_cn(&self, issuer: bool, cn: &str) -> bool {
        self.any_cn(issuer, |x| x == cn)
    }
    fn san_dns(&self) -> &[String] {
        self.san().dns()
    }
    fn san_uri(&self) -> &[String] {
        self.san().uri()
    }
    fn san_email(&self) -> &[String] {
        self.san().email()
    }
    fn san_ip(&self) -> &[IpAddr] {
        self.san().ip()
    }
    fn spiffe_id(&self) -> Option<&str> {
        Self::spiffe_id(self)
    }
    fn sha256(&self) -> &[u8; 32] {
        Self::sha256(self)
    }
    fn sha1(&self) -> Option<&[u8; 20]> {
        Some(Self::sha1(self))
    }
    fn spki_sha256(&self) -> Option<[u8; 32]> {
        Some(Self::spki_sha256(self))
    }
    fn certificate(&self) -> Option<&CertIdentity> {
        Some(self)
    }
}

impl Facts for crate::outcome::ProxyFields {
    /// The proxy's `Issuer`, when it is unambiguous (see
    /// `ProxyFields::issuer_name`).
    fn issuer_name(&self) -> Option<&DistinguishedName> {
        Self::issuer_name(self)
    }
    fn subject_name(&self) -> Option<&DistinguishedName> {
        Self::subject_name(self)
    }
    /// Only the single `DNS` of an element without `URI` (see
    /// `ProxyFields::unambiguous_dns`).
    fn san_dns(&self) -> &[String] {
        self.unambiguous_dns()
    }
    /// Only a single `URI` in the text form: Envoy writes URI SANs
    /// unescaped there, so a SAN holding `;URI=` reads as two, and one is
    /// the only reading that cannot have been smuggled. Every `uri` of the
    /// JSON form.
    fn san_uri(&self) -> &[String] {
        match self.uri() {
            all if self.is_json() => all,
            one @ [_] => one,
            _ => &[],
        }
    }
    fn san_email(&self) -> &[String] {
        &[]
    }
    fn san_ip(&self) -> &[IpAddr] {
        &[]
    }
    fn spiffe_id(&self) -> Option<&str> {
        Self::spiffe_id(self)
    }
    fn sha256(&self) -> &[u8; 32] {
        Self::sha256(self)
    }
    fn sha1(&self) -> Option<&[u8; 20]> {
        None
    }
    fn spki_sha256(&self) -> Option<[u8; 32]> {
        None
    }
    fn certificate(&self) -> Option<&CertIdentity> {
        None
    }
}

/// A DNS SAN pattern: exact (case-insensitive) or `*.example.com`, which
/// matches exactly one label in place of `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DnsPattern {
    /// Lower-case; for a wildcard, the suffix including the leading dot.
    name: String,
    wildcard: bool,
}

impl DnsPattern {
    pub(crate) fn parse(s: &str) -> Result<Self, ConfigError> {
        let s = s.trim().to_ascii_lowercase();
        let bad = || {
            ConfigError::value(
                "san_dns",
                s.clone(),
                "a DNS name, or *. followed by at least two labels (*.partner.example; *.com is too broad)",
            )
        };
        let (wildcard, name) = match s.strip_prefix('*') {
            Some(rest) => (true, rest.to_owned()),
            None => (false, s.clone()),
        };
        let host = name.strip_prefix('.').unwrap_or(&name);
        let labels_ok = !host.is_empty()
            && host.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        // "*." must be followed by at least two labels: "*.com" is too broad.
        if !labels_ok || (wildcard && (!name.starts_with('.') || host.split('.').count() < 2)) {
            return Err(bad());
        }
        Ok(Self { name, wildcard })
    }

    fn matches(&self, dns: &str) -> bool {
        if !self.wildcard {
            return dns.eq_ignore_ascii_case(&self.name);
        }
        let Some(split) = dns.len().checked_sub(self.name.len()) else {
            return false;
        };
        let (label, suffix) = dns.split_at_checked(split).unwrap_or(("", ""));
        !label.is_empty() && !label.contains('.') && suffix.eq_ignore_ascii_case(&self.name)
    }
}

/// One allow rule. Build it with [`Rule::new`] and the `with_*`/`*` setters,
/// or from a policy file's `[[allow]]` table.
///
/// ```
/// use xfcc::Rule;
/// let rule = Rule::new("partner")
///     .issuer_cn(["Contoso Issuing CA 1"])
///     .san_uri_prefix(["spiffe://contoso.example/"]);
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Rule {
    pub(crate) name: Option<String>,
    pub(crate) issuer: Option<Vec<String>>,
    pub(crate) issuer_cn: Option<Vec<String>>,
    pub(crate) subject: Option<Vec<String>>,
    pub(crate) subject_cn: Option<Vec<String>>,
    pub(crate) san_dns: Option<Vec<String>>,
    pub(crate) san_uri: Option<Vec<String>>,
    pub(crate) san_uri_prefix: Option<Vec<String>>,
    pub(crate) san_email: Option<Vec<String>>,
    pub(crate) san_ip: Option<Vec<String>>,
    pub(crate) spiffe_id: Option<Vec<String>>,
    pub(crate) spiffe_trust_domain: Option<Vec<String>>,
    pub(crate) thumbprint: Option<Vec<String>>,
    pub(crate) spki_sha256: Option<Vec<String>>,
    pub(crate) certificate_policies: Option<Vec<String>>,
    pub(crate) extension: Option<Vec<String>>,
    pub(crate) chain: Option<String>,
}

fn strings<I: IntoIterator<Item = S>, S: Into<String>>(v: I) -> Vec<String> {
    v.into_iter().map(Into::into).collect()
}

impl Rule {
    /// A rule named `name` (reported in [`ClientCert::rule`](crate::ClientCert::rule)),
    /// with no constraints yet. A rule must get at least one.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// An unnamed rule; it is reported by its index.
    pub fn unnamed() -> Self {
        Self::default()
    }

    /// Issuer DN, RFC 4514 (`"CN=Contoso Issuing CA 1,O=Contoso"`), compared
    /// as parsed names ignoring ASCII case. Any of the values.
    pub fn issuer<I: IntoIterator<Item = S>, S: Into<String>>(mut self, dns: I) -> Self {
        self.issuer
            .get_or_insert_with(Vec::new)
            .extend(strings(dns));
        self
    }

    /// Issuer common name, exact. Any of the values.
    pub fn issuer_cn<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cns: I) -> Self {
        self.issuer_cn
            .get_or_insert_with(Vec::new)
            .extend(strings(cns));
        self
    }

    /// Subject DN, RFC 4514, compared as parsed names ignoring ASCII case.
    pub fn subject<I: IntoIterator<Item = S>, S: Into<String>>(mut self, dns: I) -> Self {
        self.subject
            .get_or_insert_with(Vec::new)
            .extend(strings(dns));
        self
    }

    /// Subject common name, exact (any CN of the subject may match).
    pub fn subject_cn<I: IntoIterator<Item = S>, S: Into<String>>(mut self, cns: I) -> Self {
        self.subject_cn
            .get_or_insert_with(Vec::new)
            .extend(strings(cns));
        self
    }

    /// DNS SAN, exact (case-insensitive) or `*.example.com` (one label).
    pub fn san_dns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.san_dns
            .get_or_insert_with(Vec::new)
            .extend(strings(names));
        self
    }

    /// URI SAN, exact.
    pub fn san_uri<I: IntoIterator<Item = S>, S: Into<String>>(mut self, uris: I) -> Self {
        self.san_uri
            .get_or_insert_with(Vec::new)
            .extend(strings(uris));
        self
    }

    /// URI SAN prefix, such as a SPIFFE trust domain `spiffe://contoso.example/`.
    /// A prefix must end its authority with `/`, so that
    /// `spiffe://contoso.example` cannot match `spiffe://contoso.example.evil/`.
    pub fn san_uri_prefix<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        prefixes: I,
    ) -> Self {
        self.san_uri_prefix
            .get_or_insert_with(Vec::new)
            .extend(strings(prefixes));
        self
    }

    /// E-mail SAN, compared ignoring ASCII case.
    pub fn san_email<I: IntoIterator<Item = S>, S: Into<String>>(mut self, emails: I) -> Self {
        self.san_email
            .get_or_insert_with(Vec::new)
            .extend(strings(emails));
        self
    }

    /// IP SAN (`10.0.0.1`, `2001:db8::1`).
    pub fn san_ip<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ips: I) -> Self {
        self.san_ip
            .get_or_insert_with(Vec::new)
            .extend(strings(ips));
        self
    }

    /// SPIFFE ID, exact (`spiffe://td/ns/a/sa/b`): the certificate must be
    /// an X.509-SVID (exactly one URI SAN, which is this ID; not a CA; no
    /// keyCertSign or cRLSign, as the X.509-SVID specification requires and
    /// go-spiffe checks). IDs are syntax-checked when the policy is built.
    pub fn spiffe_id<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.spiffe_id
            .get_or_insert_with(Vec::new)
            .extend(strings(ids));
        self
    }

    /// SPIFFE trust domain (`td`, or `spiffe://td`): the certificate must be
    /// an X.509-SVID (see [`spiffe_id`](Self::spiffe_id)) whose ID is in one
    /// of these trust domains.
    pub fn spiffe_trust_domain<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        domains: I,
    ) -> Self {
        self.spiffe_trust_domain
            .get_or_insert_with(Vec::new)
            .extend(strings(domains));
        self
    }

    /// Thumbprint: SHA-256 or SHA-1 hex, any case, colons allowed.
    pub fn thumbprint<I: IntoIterator<Item = S>, S: Into<String>>(mut self, prints: I) -> Self {
        self.thumbprint
            .get_or_insert_with(Vec::new)
            .extend(strings(prints));
        self
    }

    /// SPKI pin: SHA-256 of the certificate's SubjectPublicKeyInfo, as
    /// RFC 7469 writes it (base64, e.g. `sha256/`-prefixed or bare) or as
    /// 64 hex digits. Unlike a thumbprint it survives re-issuance with the
    /// same key, as Envoy's `verify_certificate_spki` does. Compared in
    /// constant time; refused in proxy-fields mode (the fields carry no
    /// key). [`CertIdentity::spki_sha256_base64`](crate::CertIdentity::spki_sha256_base64)
    /// and `xfcc inspect` print it.
    pub fn spki_sha256<I: IntoIterator<Item = S>, S: Into<String>>(mut self, pins: I) -> Self {
        self.spki_sha256
            .get_or_insert_with(Vec::new)
            .extend(strings(pins));
        self
    }

    /// Certificate policy: the leaf's certificatePolicies extension asserts
    /// one of these policy OIDs (dotted, e.g. `2.23.140.1.2.1`), as
    /// Keycloak's policy check does. The leaf's own assertion is read, not
    /// RFC 5280's policy processing along the chain; `anyPolicy`
    /// (`2.5.29.32.0`) in the leaf matches only when listed. OIDs are
    /// checked when the policy is built. Refused in proxy-fields mode.
    pub fn certificate_policies<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        oids: I,
    ) -> Self {
        self.certificate_policies
            .get_or_insert_with(Vec::new)
            .extend(strings(oids));
        self
    }

    /// Extension: the leaf carries one of these extensions, as Vault's
    /// `required_extensions` asks. Each is a dotted OID alone (present, any
    /// value), `OID=<hex>` (the extension's value, the DER its OCTET STRING
    /// holds, byte for byte) or `OID="text"` (a value that is one
    /// UTF8String, PrintableString, IA5String or VisibleString holding
    /// exactly `text`). OIDs and values (at most 1024 bytes) are checked
    /// when the policy is built. Refused in proxy-fields mode.
    pub fn extension<I: IntoIterator<Item = S>, S: Into<String>>(mut self, specs: I) -> Self {
        self.extension
            .get_or_insert_with(Vec::new)
            .extend(strings(specs));
        self
    }

    /// The leaf must chain to the named trust-anchor set (see the `chain`
    /// feature and [`PolicyBuilder::chain`](crate::PolicyBuilder)).
    pub fn chain(mut self, anchor_set: impl Into<String>) -> Self {
        self.chain = Some(anchor_set.into());
        self
    }

    pub(crate) fn compile(self, index: usize) -> Result<CompiledRule, ConfigError> {
        let label = self.name.clone().unwrap_or_else(|| index.to_string());
        let at = |e: ConfigError| ConfigError::Rule {
            rule: label.clone(),
            error: Box::new(e),
        };
        let dn = |key: &'static str, v: &String| {
            DistinguishedName::parse(v).map_err(|_| {
                let cn_key = if key == "issuer" { "issuer_cn" } else { "subject_cn" };
                let expected = if v.contains('=') {
                    "an RFC 4514 distinguished name such as \"CN=Contoso Issuing CA 1,O=Contoso\" (escape , + \" \\ < > ; in values with \\)".to_owned()
                } else {
                    format!("an RFC 4514 distinguished name such as \"CN={},O=Contoso\"; to match a common name alone, use {cn_key}", v.trim())
                };
                ConfigError::value(key, v.clone(), expected)
            })
        };
        let nonempty = |key: &'static str, v: &String| {
            if v.trim().is_empty() {
                Err(ConfigError::value(
                    key,
                    v.clone(),
                    "a value that is not blank",
                ))
            } else {
                Ok(v.clone())
            }
        };
        let compiled = (|| {
            Ok::<_, ConfigError>(CompiledRule {
                label: label.as_str().into(),
                issuer: listed(&self.issuer, "issuer")?
                    .iter()
                    .map(|v| dn("issuer", v))
                    .collect::<Result<_, _>>()?,
                issuer_cn: listed(&self.issuer_cn, "issuer_cn")?
                    .iter()
                    .map(|v| nonempty("issuer_cn", v))
                    .collect::<Result<_, _>>()?,
                subject: listed(&self.subject, "subject")?
                    .iter()
                    .map(|v| dn("subject", v))
                    .collect::<Result<_, _>>()?,
                subject_cn: listed(&self.subject_cn, "subject_cn")?
                    .iter()
                    .map(|v| nonempty("subject_cn", v))
                    .collect::<Result<_, _>>()?,
                san_dns: listed(&self.san_dns, "san_dns")?
                    .iter()
                    .map(|v| DnsPattern::parse(v))
                    .collect::<Result<_, _>>()?,
                san_uri: listed(&self.san_uri, "san_uri")?
                    .iter()
                    .map(|v| nonempty("san_uri", v))
                    .collect::<Result<_, _>>()?,
                san_uri_prefix: listed(&self.san_uri_prefix, "san_uri_prefix")?
                    .iter()
                    .map(|v| uri_prefix(v))
                    .collect::<Result<_, _>>()?,
                san_email: listed(&self.san_email, "san_email")?
                    .iter()
                    .map(|v| nonempty("san_email", v))
                    .collect::<Result<_, _>>()?,
                san_ip: listed(&self.san_ip, "san_ip")?
                    .iter()
                    .map(|v| {
                        v.trim().parse::<IpAddr>().map_err(|_| {
                            ConfigError::value(
                                "san_ip",
                                v.clone(),
                                "an IPv4 or IPv6 address such as 10.1.2.3 or 2001:db8::1",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                spiffe_id: listed(&self.spiffe_id, "spiffe_id")?
                    .iter()
                    .map(|v| {
                        let id = v.trim();
                        crate::spiffe::parse_id(id)
                            .map(|_| id.to_owned())
                            .map_err(|why| {
                                ConfigError::value(
                                    "spiffe_id",
                                    v.clone(),
                                    format!("{why}; a SPIFFE ID looks like spiffe://example.org/ns/a/sa/b"),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
                spiffe_trust_domain: listed(&self.spiffe_trust_domain, "spiffe_trust_domain")?
                    .iter()
                    .map(|v| {
                        let td = v.trim();
                        let td = td.strip_prefix("spiffe://").unwrap_or(td);
                        crate::spiffe::trust_domain(td)
                            .map(|()| td.to_owned())
                            .map_err(|why| {
                                ConfigError::value(
                                    "spiffe_trust_domain",
                                    v.clone(),
                                    format!("{why}; a trust domain looks like example.org"),
                                )
                            })
                    })
                    .collect::<Result<_, _>>()?,
                thumbprint: listed(&self.thumbprint, "thumbprint")?
                    .iter()
                    .map(|v| Thumbprint::parse(v))
                    .collect::<Result<_, _>>()?,
                spki_sha256: listed(&self.spki_sha256, "spki_sha256")?
                    .iter()
                    .map(|v| spki_pin(v))
                    .collect::<Result<_, _>>()?,
                certificate_policies: listed(&self.certificate_policies, "certificate_policies")?
                    .iter()
                    .map(|v| {
                        Oid::parse(v.trim()).ok_or_else(|| {
                            ConfigError::value(
                                "certificate_policies",
                                v.clone(),
                                "a policy OID in dotted form, such as 2.23.140.1.2.1",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
                extension: listed(&self.extension, "extension")?
                    .iter()
                    .map(|v| ExtensionRule::parse(v))
                    .collect::<Result<_, _>>()?,
                chain: self.chain.clone(),
            })
        })()
        .map_err(at)?;
        if compiled.is_empty() {
            return Err(at(ConfigError::EmptyRule));
        }
        Ok(compiled)
    }
}

/// A list setting's values: none when it was not set, and an error when it
/// was set to nothing (an empty list would otherwise silently drop the
/// constraint).
fn listed<'a>(
    values: &'a Option<Vec<String>>,
    key: &'static str,
) -> Result<&'a [String], ConfigError> {
    match values {
        None => Ok(&[]),
        Some(v) if v.iter().all(|s| s.trim().is_empty()) => Err(ConfigError::EmptyList { key }),
        Some(v) => Ok(v),
    }
}

/// An SPKI pin: base64 of 32 bytes (RFC 7469; `sha256/` or `pin-sha256=`
/// prefixes and quotes allowed) or 64 hex digits.
fn spki_pin(v: &str) -> Result<[u8; 32], ConfigError> {
    let t = v.trim().trim_matches('"');
    let t = t
        .strip_prefix("sha256/")
        .or_else(|| t.strip_prefix("pin-sha256="))
        .unwrap_or(t)
        .trim_matches('"');
    let bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        t.as_bytes()
            .chunks_exact(2)
            .map(|p| crate::hex::byte(p[0], p[1]).unwrap_or(0))
            .collect::<Vec<u8>>()
    } else {
        base64_simd::STANDARD.decode_to_vec(t).unwrap_or_default()
    };
    bytes.try_into().map_err(|_| {
        ConfigError::value(
            "spki_sha256",
            v,
            "the SHA-256 of the SubjectPublicKeyInfo: 44 characters of base64 (RFC 7469, as `xfcc inspect` prints it) or 64 hex digits",
        )
    })
}

fn uri_prefix(v: &str) -> Result<String, ConfigError> {
    let bad = |why: &str| ConfigError::value("san_uri_prefix", v.to_owned(), why);
    let v = v.trim();
    let Some((_, rest)) = v.split_once("://") else {
        return if v.ends_with(':') || v.ends_with('/') {
            Ok(v.to_owned())
        } else {
            Err(bad(
                "a prefix ends with \":\" or \"/\", or holds \"://\" and the / that ends its authority, such as spiffe://contoso.example/",
            ))
        };
    };
    // The authority must be closed by '/', or the prefix would match
    // "spiffe://contoso.example.evil/".
    if rest.is_empty() || !rest.contains('/') {
        return Err(bad(&format!(
            "end the authority with /, as in {v}/: without it the prefix also matches {v}.evil.example/"
        )));
    }
    Ok(v.to_owned())
}

/// At most this many certificate values are shown per failed rule.
const SEEN_MAX: usize = 8;

/// One `extension` value: the OID's DER contents, and what its value must
/// be (anything, when `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtensionRule {
    oid: Oid,
    value: Option<ExtensionValue>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ExtensionValue {
    /// The `extnValue` contents, byte for byte.
    Der(Vec<u8>),
    /// One string TLV holding exactly this text.
    Text(String),
}

/// The longest extension value a rule may pin, in bytes.
const MAX_EXTENSION_VALUE: usize = 1024;

impl ExtensionRule {
    fn parse(v: &str) -> Result<Self, ConfigError> {
        let bad = |why: &str| ConfigError::value("extension", v, why);
        const FORM: &str = "a dotted OID (the extension is present), OID=<hex of its DER value>, or OID=\"<text>\" (a string value), such as 1.3.6.1.4.1.311.20.2=\"ClientAuth\"";
        let (oid, value) = match v.split_once('=') {
            Some((o, val)) => (o.trim(), Some(val.trim())),
            None => (v.trim(), None),
        };
        let oid = Oid::parse(oid).ok_or_else(|| bad(FORM))?;
        let value = match value {
            None => None,
            Some(t) if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') => {
                let text = &t[1..t.len() - 1];
                if text.len() > MAX_EXTENSION_VALUE {
                    return Err(bad("a value of at most 1024 bytes"));
                }
                Some(ExtensionValue::Text(text.to_owned()))
            }
            Some(hex) => {
                let digits: Vec<u8> = hex.bytes().filter(|b| !matches!(b, b' ' | b':')).collect();
                let bytes: Option<Vec<u8>> = (digits.len().is_multiple_of(2) && !digits.is_empty())
                    .then(|| {
                        digits
                            .chunks_exact(2)
                            .map(|p| crate::hex::byte(p[0], p[1]))
                            .collect()
                    })
                    .flatten();
                let bytes = bytes.ok_or_else(|| bad(FORM))?;
                if bytes.len() > MAX_EXTENSION_VALUE {
                    return Err(bad("a value of at most 1024 bytes"));
                }
                Some(ExtensionValue::Der(bytes))
            }
        };
        Ok(Self { oid, value })
    }

    fn matches(&self, c: &CertIdentity) -> bool {
        let Some(found) = c.extension_der(self.oid.as_bytes()) else {
            return false;
        };
        match &self.value {
            None => true,
            Some(ExtensionValue::Der(want)) => found == want.as_slice(),
            Some(ExtensionValue::Text(want)) => {
                crate::x509::single_string(found).is_some_and(|text| text == want.as_bytes())
            }
        }
    }
}

/// A checked rule, ready to match.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) label: std::sync::Arc<str>,
    issuer: Vec<DistinguishedName>,
    issuer_cn: Vec<String>,
    subject: Vec<DistinguishedName>,
    subject_cn: Vec<String>,
    san_dns: Vec<DnsPattern>,
    san_uri: Vec<String>,
    san_uri_prefix: Vec<String>,
    san_email: Vec<String>,
    san_ip: Vec<IpAddr>,
    spiffe_id: Vec<String>,
    spiffe_trust_domain: Vec<String>,
    thumbprint: Vec<Thumbprint>,
    spki_sha256: Vec<[u8; 32]>,
    certificate_policies: Vec<Oid>,
    extension: Vec<ExtensionRule>,
    pub(crate) chain: Option<String>,
}

impl CompiledRule {
    /// The keys (as in the policy file, in its order) of the constraints
    /// this rule has.
    fn keys(&self) -> impl Iterator<Item = &'static str> {
        [
            ("issuer", !self.issuer.is_empty()),
            ("issuer_cn", !self.issuer_cn.is_empty()),
            ("subject", !self.subject.is_empty()),
            ("subject_cn", !self.subject_cn.is_empty()),
            ("san_dns", !self.san_dns.is_empty()),
            ("san_uri", !self.san_uri.is_empty()),
            ("san_uri_prefix", !self.san_uri_prefix.is_empty()),
            ("san_email", !self.san_email.is_empty()),
            ("san_ip", !self.san_ip.is_empty()),
            ("spiffe_id", !self.spiffe_id.is_empty()),
            ("spiffe_trust_domain", !self.spiffe_trust_domain.is_empty()),
            ("thumbprint", !self.thumbprint.is_empty()),
            ("spki_sha256", !self.spki_sha256.is_empty()),
            (
                "certificate_policies",
                !self.certificate_policies.is_empty(),
            ),
            ("extension", !self.extension.is_empty()),
            ("chain", self.chain.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
    }

    fn is_empty(&self) -> bool {
        self.keys().next().is_none()
    }

    /// The keys of this rule's constraints that only a certificate can
    /// satisfy (proxy fields carry no chain, SHA-1, key, e-mail or IP SAN,
    /// policies or extensions; `issuer` and `issuer_cn` read the proxy's
    /// `Issuer`), in policy-file order.
    pub(crate) fn needs_certificate(&self) -> Vec<&'static str> {
        let sha1 = self
            .thumbprint
            .iter()
            .any(|t| matches!(t, Thumbprint::Sha1(_)));
        [
            ("san_email", !self.san_email.is_empty()),
            ("san_ip", !self.san_ip.is_empty()),
            ("thumbprint (SHA-1)", sha1),
            ("spki_sha256", !self.spki_sha256.is_empty()),
            (
                "certificate_policies",
                !self.certificate_policies.is_empty(),
            ),
            ("extension", !self.extension.is_empty()),
            ("chain", self.chain.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect()
    }

    /// The first key (policy-file order) of this rule's constraints, for
    /// an error about the rule as a whole to name.
    pub(crate) fn first_key(&self) -> &'static str {
        self.keys().next().unwrap_or("[[allow]]")
    }

    /// Whether a self-signed certificate could satisfy this rule: it pins
    /// no thumbprint and requires no chain.
    /// Whether the rule has an `issuer` or `issuer_cn` constraint.
    pub(crate) fn reads_issuer(&self) -> bool {
        !self.issuer.is_empty() || !self.issuer_cn.is_empty()
    }

    pub(crate) fn is_name_only(&self) -> bool {
        self.thumbprint.is_empty() && self.spki_sha256.is_empty() && self.chain.is_none()
    }

    /// The keys (as in the policy file) of the constraints other than
    /// `chain` that `c` fails, in the file's key order: empty when every one
    /// holds (the caller then checks the chain, which costs signatures).
    /// One list of checks serves both the verdict and its explanation, so
    /// they cannot disagree.
    pub(crate) fn misses(&self, c: &dyn Facts) -> Vec<&'static str> {
        fn any<T>(list: &[T], f: impl Fn(&T) -> bool) -> bool {
            list.is_empty() || list.iter().any(f)
        }
        let svid = || c.spiffe_id();
        // In the file's key order; a constraint with no values holds
        // without reading the certificate (`any` of an empty list).
        let mut failed = Vec::new();
        let mut check = |key: &'static str, holds: bool| {
            if !holds {
                failed.push(key);
            }
        };
        check(
            "issuer",
            any(&self.issuer, |d| {
                c.issuer_name().is_some_and(|n| d.matches(n))
            }),
        );
        check("issuer_cn", any(&self.issuer_cn, |cn| c.has_cn(true, cn)));
        check(
            "subject",
            any(&self.subject, |d| {
                c.subject_name().is_some_and(|n| d.matches(n))
            }),
        );
        check(
            "subject_cn",
            any(&self.subject_cn, |cn| c.has_cn(false, cn)),
        );
        check(
            "san_dns",
            any(&self.san_dns, |p| c.san_dns().iter().any(|d| p.matches(d))),
        );
        check(
            "san_uri",
            any(&self.san_uri, |u| c.san_uri().iter().any(|x| x == u)),
        );
        check(
            "san_uri_prefix",
            any(&self.san_uri_prefix, |p| {
                c.san_uri().iter().any(|x| x.starts_with(p.as_str()))
            }),
        );
        check(
            "san_email",
            any(&self.san_email, |e| {
                c.san_email().iter().any(|x| x.eq_ignore_ascii_case(e))
            }),
        );
        check("san_ip", any(&self.san_ip, |ip| c.san_ip().contains(ip)));
        check(
            "spiffe_id",
            any(&self.spiffe_id, |id| svid() == Some(id.as_str())),
        );
        check(
            "spiffe_trust_domain",
            any(&self.spiffe_trust_domain, |td| {
                svid()
                    .and_then(|id| crate::spiffe::parse_id(id).ok())
                    .is_some_and(|d| d == td)
            }),
        );
        check("thumbprint", any(&self.thumbprint, |t| t.matches(c)));
        check(
            "spki_sha256",
            any(&self.spki_sha256, |pin| {
                c.spki_sha256().is_some_and(|d| bool::from(pin.ct_eq(&d)))
            }),
        );
        check(
            "certificate_policies",
            any(&self.certificate_policies, |want| {
                c.certificate()
                    .is_some_and(|c| c.policy_oids().contains(want))
            }),
        );
        check(
            "extension",
            any(&self.extension, |e| {
                c.certificate().is_some_and(|c| e.matches(c))
            }),
        );
        failed
    }

    /// What the certificate holds for this rule's extension constraints,
    /// for an explanation when they fail: its policy OIDs, and the value
    /// (hex, clipped) or absence of each extension the rule names. Bounded:
    /// at most [`SEEN_MAX`] entries of at most 64 hex digits.
    pub(crate) fn seen(&self, failed: &[&str], c: &dyn Facts) -> Vec<String> {
        let Some(c) = c.certificate() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        if failed.contains(&"certificate_policies") {
            let ids = c.policy_oids();
            if ids.is_empty() {
                out.push("certificate_policies: none".to_owned());
            }
            out.extend(
                ids.iter()
                    .take(SEEN_MAX)
                    .map(|o| format!("certificate_policies: {o}")),
            );
        }
        if failed.contains(&"extension") {
            let mut oids: Vec<&Oid> = self.extension.iter().map(|e| &e.oid).collect();
            oids.dedup();
            out.extend(oids.into_iter().take(SEEN_MAX).map(
                |o| match c.extension_der(o.as_bytes()) {
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
                },
            ));
        }
        out.truncate(SEEN_MAX);
        out
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_thumbprints_in_every_spelling() {
        let hex64 = "AB".repeat(32);
        let colons = vec!["ab"; 32].join(":");
        assert_eq!(
            Thumbprint::parse(&hex64).unwrap(),
            Thumbprint::Sha256([0xab; 32])
        );
        assert_eq!(
            Thumbprint::parse(&colons).unwrap(),
            Thumbprint::Sha256([0xab; 32])
        );
        assert_eq!(
            Thumbprint::parse(&format!("SHA256:{hex64}")).unwrap(),
            Thumbprint::Sha256([0xab; 32])
        );
        assert_eq!(
            Thumbprint::parse(&"cd ".repeat(20)).unwrap(),
            Thumbprint::Sha1([0xcd; 20])
        );
    }

    #[test]
    fn rejects_thumbprints_of_the_wrong_length_naming_the_confusion() {
        let msg = Thumbprint::parse(&"ab".repeat(31)).unwrap_err().to_string();
        assert!(msg.contains("SHA-256") && msg.contains("SHA-1"), "{msg}");
        let msg = Thumbprint::parse(&"ab".repeat(16)).unwrap_err().to_string();
        assert!(msg.contains("MD5"), "{msg}");
        let msg = Thumbprint::parse(&format!("sha256:{}", "ab".repeat(20)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("40 hex digits, a SHA-1 thumbprint: write sha1:"),
            "{msg}"
        );
        let msg = Thumbprint::parse(&format!("sha1:{}", "ab".repeat(32)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("sha1: is followed by 64 hex digits, a SHA-256 thumbprint"),
            "{msg}"
        );
        let msg = Thumbprint::parse(&format!("sha256:{}", "ab".repeat(31)))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("has 64 hex digits, not 62"), "{msg}");
        assert!(Thumbprint::parse(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn names_a_stray_character_by_position_and_an_invisible_one_by_code_point() {
        // U+200E (left-to-right mark) as Windows certmgr pastes it, first.
        let pasted = format!("\u{200e}{}", "6f".repeat(20));
        let msg = Thumbprint::parse(&pasted).unwrap_err().to_string();
        assert!(
            msg.contains("character 1 of the thumbprint is U+200E (an invisible character"),
            "{msg}"
        );
        let msg = Thumbprint::parse(&format!("sha1:{}x{}", "6f".repeat(10), "6f".repeat(10)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("character 26 of the thumbprint is 'x';"),
            "{msg}"
        );
        let msg = Thumbprint::parse(&format!("{}\u{200b}{}", "ab".repeat(16), "ab".repeat(16)))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("character 33 of the thumbprint is U+200B"),
            "{msg}"
        );
    }

    #[test]
    fn dns_patterns() {
        let w = DnsPattern::parse("*.Example.com").unwrap();
        assert!(w.matches("api.example.com"));
        assert!(w.matches("API.EXAMPLE.COM"));
        assert!(!w.matches("example.com"));
        assert!(!w.matches("a.b.example.com"));
        assert!(!w.matches(".example.com"));
        assert!(!w.matches("apiexample.com"));
        let e = DnsPattern::parse("api.example.com").unwrap();
        assert!(e.matches("API.example.com"));
        assert!(!e.matches("x.api.example.com"));
        for bad in [
            "*.com",
            "*example.com",
            "a.*.com",
            "",
            "*",
            "a..b",
            "a b.com",
        ] {
            assert!(DnsPattern::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uri_prefixes_must_close_the_authority() {
        assert!(uri_prefix("spiffe://contoso.example/").is_ok());
        assert!(uri_prefix("spiffe://contoso.example/ns/prod/").is_ok());
        assert!(uri_prefix("urn:contoso:").is_ok());
        assert!(uri_prefix("spiffe://contoso.example").is_err());
        assert!(uri_prefix("spiffe://").is_err());
        assert!(uri_prefix("contoso").is_err());
    }

    #[test]
    fn empty_rules_are_config_errors() {
        let e = Rule::new("x").compile(0).unwrap_err();
        assert!(e.to_string().contains("no constraint"), "{e}");
        let e = Rule::new("x").san_ip(["not-an-ip"]).compile(0).unwrap_err();
        assert!(e.to_string().contains("san_ip"), "{e}");
        // An empty list (or one of blanks) is a mistake, not "no constraint":
        // here it would drop the pin and leave a name-only rule.
        for prints in [vec![], vec![" ".to_owned()]] {
            let e = Rule::new("x")
                .subject_cn(["client"])
                .thumbprint(prints)
                .compile(0)
                .unwrap_err();
            assert_eq!(
                e,
                ConfigError::Rule {
                    rule: "x".into(),
                    error: Box::new(ConfigError::EmptyList { key: "thumbprint" })
                }
            );
        }
    }
}
