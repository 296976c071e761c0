//! The values a constraint is written with, parsed and checked when the
//! policy is built: thumbprints, SPKI pins, DNS patterns, URI prefixes and
//! extension specifications.

use subtle::ConstantTimeEq;

use super::facts::Facts;
use crate::cert::CertIdentity;
use crate::oid::Oid;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;

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
    /// A [`ConfigError`] of kind [`ConfigErrorKind::Thumbprint`](crate::outcome::ConfigErrorKind::Thumbprint) for anything that is not 64 or 40 hex
    /// digits, naming the lengths that would have been right.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        let trimmed = s.trim();
        // What `openssl x509 -fingerprint` prints: `SHA256 Fingerprint=AB:CD:...`.
        if let Some((label, _)) = trimmed.split_once('=')
            && label.to_ascii_lowercase().ends_with("fingerprint")
        {
            return Err(ConfigError::from(Repr::Thumbprint(format!(
                "drop the {:?} prefix that openssl prints and keep the hex digits after `=` (colons may stay)",
                format!("{}=", label.trim())
            ))));
        }
        let (declared, rest) = match trimmed.split_once(':') {
            Some((alg, rest)) if alg.eq_ignore_ascii_case("sha256") => (Some(64), rest),
            Some((alg, rest)) if alg.eq_ignore_ascii_case("sha1") => (Some(40), rest),
            _ => (None, trimmed),
        };
        let bad = |why: &str| ConfigError::from(Repr::Thumbprint(why.to_owned()));
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
            return Err(ConfigError::from(Repr::Thumbprint(format!(
                "character {} of the thumbprint is {shown}{invisible}; a thumbprint is hex digits (colons and spaces allowed)",
                trimmed[..i].chars().count() + 1
            ))));
        }
        let digits: Vec<u8> = rest
            .bytes()
            .filter(|b| !matches!(b, b':' | b' ' | b'-'))
            .collect();
        if let Some(n) = declared
            && digits.len() != n
        {
            return Err(ConfigError::from(Repr::Thumbprint(match (n, digits.len()) {
                (40, 64) => "sha1: is followed by 64 hex digits, a SHA-256 thumbprint: write sha256: (or drop the prefix)".to_owned(),
                (64, 40) => "sha256: is followed by 40 hex digits, a SHA-1 thumbprint: write sha1: (or drop the prefix)".to_owned(),
                (64, got) => format!("a sha256 thumbprint has 64 hex digits, not {got}"),
                (_, got) => format!("a sha1 thumbprint has 40 hex digits, not {got}"),
            })));
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
            n => Err(ConfigError::from(Repr::Thumbprint(format!(
                "{n} hex digits is neither a SHA-256 thumbprint (64 hex digits, Envoy's Hash) nor a SHA-1 thumbprint (40 hex digits, the Azure portal's)"
            )))),
        }
    }

    /// Constant-time comparison with the digests `facts` has (a SHA-1 pin
    /// never matches proxy fields, which carry only a SHA-256).
    pub(crate) fn matches(&self, facts: &dyn Facts) -> bool {
        match self {
            Self::Sha256(t) => bool::from(t.ct_eq(facts.sha256())),
            Self::Sha1(t) => facts.sha1().is_some_and(|d| bool::from(t.ct_eq(d))),
        }
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

    pub(crate) fn matches(&self, dns: &str) -> bool {
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

/// An SPKI pin: base64 of 32 bytes (RFC 7469; `sha256/` or `pin-sha256=`
/// prefixes and quotes allowed) or 64 hex digits.
pub(crate) fn spki_pin(v: &str) -> Result<[u8; 32], ConfigError> {
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

pub(crate) fn uri_prefix(v: &str) -> Result<String, ConfigError> {
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
    /// The extension's OID.
    pub(crate) fn oid(&self) -> &Oid {
        &self.oid
    }

    pub(crate) fn parse(v: &str) -> Result<Self, ConfigError> {
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

    pub(crate) fn matches(&self, c: &CertIdentity) -> bool {
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
    fn a_pasted_openssl_fingerprint_line_says_to_drop_its_prefix() {
        for line in [
            format!("SHA256 Fingerprint={}", vec!["AB"; 32].join(":")),
            format!("sha1 Fingerprint={}", vec!["cd"; 20].join(":")),
        ] {
            let msg = Thumbprint::parse(&line).unwrap_err().to_string();
            assert!(
                msg.contains("drop the")
                    && msg.contains("Fingerprint=\" prefix that openssl prints"),
                "{msg}"
            );
            // What is left once it is dropped reads.
            let hex = line.split_once('=').unwrap().1;
            assert!(Thumbprint::parse(hex).is_ok());
        }
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
}
