//! Distinguished names: RFC 4514 text in and out, compared as parsed names.

use std::borrow::Cow;

use crate::oid::Oid;
use crate::x509::{Fail, NameRef, Tag, tag};

mod attrs;
mod parse;
mod write;

use attrs::{CN, attr_info};

/// Why a DN string could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DnError {
    /// An attribute type that is neither a known keyword nor a dotted OID.
    #[error("unknown attribute type at byte {0}")]
    UnknownAttribute(usize),
    /// An attribute without `=`.
    #[error("missing '=' at byte {0}")]
    MissingEquals(usize),
    /// A `\` not followed by a special character or two hex digits.
    #[error("invalid escape at byte {0}")]
    InvalidEscape(usize),
    /// A character that must be escaped appears unescaped.
    #[error("unescaped special character at byte {0}")]
    Unescaped(usize),
    /// A `#` value that is not hex-encoded DER.
    #[error("invalid hex value at byte {0}")]
    InvalidHex(usize),
    /// An attribute value whose escaped bytes are not UTF-8.
    #[error("attribute value is not UTF-8 at byte {0}")]
    InvalidUtf8(usize),
}

/// An attribute value: text for string types, DER for anything else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum AttrValue {
    Text(String),
    Der(Vec<u8>),
}

/// One attribute of a distinguished name, such as `CN=client`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NameAttribute {
    oid: Oid,
    value: AttrValue,
}

impl NameAttribute {
    /// The attribute type as a dotted OID, e.g. `"2.5.4.3"`; arcs of any
    /// size (`2.25.<128-bit UUID>`) print in full.
    pub fn oid(&self) -> String {
        self.oid.to_string()
    }

    /// The attribute type's DER encoding (the OID's contents octets):
    /// what to compare OIDs by.
    pub fn oid_der(&self) -> &[u8] {
        self.oid.as_bytes()
    }

    /// The RFC 4514 short name (`CN`, `O`, `emailAddress`, ...), if known.
    pub fn name(&self) -> Option<&'static str> {
        attr_info(&self.oid).map(|a| a.rfc4514)
    }

    /// The value as text, for string-typed attributes.
    pub fn value(&self) -> Option<&str> {
        match &self.value {
            AttrValue::Text(s) => Some(s),
            AttrValue::Der(_) => None,
        }
    }

    /// The DER encoding of the value, for attributes that are not strings.
    pub fn der_value(&self) -> Option<&[u8]> {
        match &self.value {
            AttrValue::Text(_) => None,
            AttrValue::Der(d) => Some(d),
        }
    }

    pub(crate) fn is(&self, oid: &const_oid::ObjectIdentifier) -> bool {
        self.oid.is(oid)
    }

    /// Exact comparison, or (`ignore_case`) case-insensitive (ASCII) with
    /// collapsed inner whitespace, as LDAP's caseIgnoreMatch does for the
    /// common attribute types.
    fn eq_with(&self, other: &Self, ignore_case: bool) -> bool {
        let unprintable = |a: &Oid, b: &Oid| *a == Oid::UNPRINTABLE && b.has_arc_over_64_bits();
        if self.oid != other.oid
            && !unprintable(&self.oid, &other.oid)
            && !unprintable(&other.oid, &self.oid)
        {
            return false;
        }
        match (&self.value, &other.value) {
            (AttrValue::Text(a), AttrValue::Text(b)) if ignore_case => fold(a).eq(fold(b)),
            (a, b) => a == b,
        }
    }

    /// What [`eq_with`](Self::eq_with) compares, as an ordered key.
    fn sort_key(&self, ignore_case: bool) -> (&Oid, Result<String, &[u8]>) {
        let value = match &self.value {
            AttrValue::Text(t) if ignore_case => Ok(fold(t).collect()),
            AttrValue::Text(t) => Ok(t.clone()),
            AttrValue::Der(d) => Err(d.as_slice()),
        };
        (&self.oid, value)
    }
}

fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
    s.split_whitespace()
        .flat_map(|w| core::iter::once(' ').chain(w.chars()))
        .skip(1)
        .map(|c| c.to_ascii_lowercase())
}

/// A distinguished name: RDNs in ASN.1 order (most significant first, the
/// reverse of the RFC 4514 string), each holding one or more attributes.
///
/// Two names are equal when they hold the same attributes with the same
/// values, whatever their string escaping or ASN.1 string type; multi-valued
/// RDNs compare as sets.
///
/// ```
/// use xfcc::inspect::DistinguishedName;
/// let a = DistinguishedName::parse(r"CN=Jos\C3\A9,O=Acme\, Inc.")?;
/// let b = DistinguishedName::parse("CN=José, O=Acme\\, Inc.")?;
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), r"CN=José,O=Acme\, Inc.");
/// # Ok::<(), xfcc::inspect::DnError>(())
/// ```
#[derive(Debug, Clone, Default, Eq)]
pub struct DistinguishedName {
    rdns: Vec<Rdn>,
}

/// One RDN. Nearly every RDN holds a single attribute, which is kept
/// inline: reading a name costs one allocation per attribute value, not
/// one more per RDN.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rdn {
    One(NameAttribute),
    Many(Vec<NameAttribute>),
}

impl Rdn {
    fn push(&mut self, attr: NameAttribute) {
        match self {
            Self::Many(v) => v.push(attr),
            Self::One(_) => {
                let first = core::mem::replace(self, Self::Many(Vec::with_capacity(2)));
                if let (Self::One(first), Self::Many(v)) = (first, &mut *self) {
                    v.extend([first, attr]);
                }
            }
        }
    }
}

impl From<Vec<NameAttribute>> for Rdn {
    fn from(mut v: Vec<NameAttribute>) -> Self {
        match v.len() {
            1 => v.pop().map_or_else(|| Self::Many(Vec::new()), Self::One),
            _ => Self::Many(v),
        }
    }
}

impl core::ops::Deref for Rdn {
    type Target = [NameAttribute];

    fn deref(&self) -> &[NameAttribute] {
        match self {
            Self::One(a) => core::slice::from_ref(a),
            Self::Many(v) => v,
        }
    }
}

impl PartialEq for DistinguishedName {
    fn eq(&self, other: &Self) -> bool {
        self.rdns.len() == other.rdns.len()
            && self
                .rdns
                .iter()
                .zip(&other.rdns)
                .all(|(a, b)| rdn_eq(a, b, false))
    }
}

/// Two RDNs hold the same attributes (as multisets). Multi-valued RDNs are
/// compared sorted, so the cost is O(n log n), not O(n²).
fn rdn_eq(a: &[NameAttribute], b: &[NameAttribute], ignore_case: bool) -> bool {
    match (a, b) {
        ([x], [y]) => x.eq_with(y, ignore_case),
        _ if a.len() != b.len() => false,
        _ => sorted_keys(a, ignore_case) == sorted_keys(b, ignore_case),
    }
}

fn sorted_keys(r: &[NameAttribute], ignore_case: bool) -> Vec<(&Oid, Result<String, &[u8]>)> {
    let mut keys: Vec<_> = r.iter().map(|x| x.sort_key(ignore_case)).collect();
    keys.sort_unstable();
    keys
}

/// Whether `f` holds for one of the common names of a certificate's name,
/// read in place: what [`DistinguishedName::common_names`] would give for
/// it, without building the name. False when the name does not read (it
/// was checked when the certificate was).
pub(crate) fn any_common_name(
    name: &NameRef<'_>,
    max: usize,
    mut f: impl FnMut(&str) -> bool,
) -> bool {
    let mut found = false;
    let walked = name.walk(max, |_, a| {
        if !found
            && a.oid == CN.as_bytes()
            && let Some(text) = decode_str(a.tag, a.value)
        {
            found = f(&text);
        }
        Ok(())
    });
    walked.is_ok() && found
}

impl DistinguishedName {
    /// Reads a certificate's name, keeping the attributes of a multi-valued
    /// RDN in encoded order (OpenSSL and Envoy print them as encoded).
    ///
    /// Attribute types are canonical OIDs of any size (the reader checks
    /// them); at most `max` attributes.
    pub(crate) fn from_cert(name: &NameRef<'_>, max: usize) -> Result<Self, Fail> {
        let mut rdns: Vec<Rdn> = Vec::new();
        name.walk(max, |i, a| {
            // The reader only hands over canonical OIDs.
            let oid = Oid::from_der(a.oid).unwrap_or_else(|| Oid::from(&CN));
            let attr = attribute(oid, a.tag, a.value, || a.der.to_vec());
            let same_rdn = rdns.len() > i;
            match rdns.last_mut() {
                Some(rdn) if same_rdn => rdn.push(attr),
                _ => rdns.push(Rdn::One(attr)),
            }
            Ok(())
        })?;
        Ok(Self { rdns })
    }

    /// True for the empty name.
    pub fn is_empty(&self) -> bool {
        self.rdns.is_empty()
    }

    /// All attributes, in ASN.1 order.
    pub fn attributes(&self) -> impl Iterator<Item = &NameAttribute> {
        self.rdns.iter().flat_map(|r| r.iter())
    }

    /// The RDNs in ASN.1 order (most significant first).
    pub fn rdns(&self) -> impl Iterator<Item = &[NameAttribute]> {
        self.rdns.iter().map(|r| &**r)
    }

    /// The values of every attribute of the given type, in ASN.1 order.
    pub(crate) fn values_of<'s>(
        &'s self,
        oid: &'s const_oid::ObjectIdentifier,
    ) -> impl Iterator<Item = &'s str> + 's {
        self.attributes()
            .filter(move |a| a.is(oid))
            .filter_map(NameAttribute::value)
    }

    /// The common names (`CN`), in ASN.1 order.
    pub fn common_names(&self) -> impl Iterator<Item = &str> {
        self.values_of(&CN)
    }

    /// Compares as [`PartialEq`] does, but ignoring ASCII case and
    /// collapsing runs of whitespace in text values: how a configured
    /// issuer or subject should be compared with a certificate's.
    pub fn matches(&self, other: &Self) -> bool {
        self.rdns.len() == other.rdns.len()
            && self
                .rdns
                .iter()
                .zip(&other.rdns)
                .all(|(a, b)| rdn_eq(a, b, true))
    }
}

fn attribute(oid: Oid, tag: Tag, value: &[u8], der: impl FnOnce() -> Vec<u8>) -> NameAttribute {
    NameAttribute {
        oid,
        value: match decode_string(tag, value) {
            Some(t) => AttrValue::Text(t),
            None => AttrValue::Der(der()),
        },
    }
}

/// Decodes an ASN.1 string value as OpenSSL's `UTF8_CONVERT` does (what
/// Envoy's `Subject` shows): UTF8String as UTF-8; the one-byte types as
/// Latin-1 (ASCII for valid values); BMPString as UTF-16 and
/// UniversalString as UTF-32, big-endian. Other types (and bytes their type
/// cannot hold) are `None`: kept as DER and printed as `#hex`, as OpenSSL
/// dumps them.
fn decode_string(t: Tag, bytes: &[u8]) -> Option<String> {
    decode_str(t, bytes).map(Cow::into_owned)
}

/// [`decode_string`], borrowing the bytes when they are the text already
/// (UTF8String, and ASCII in the one-byte types).
fn decode_str(t: Tag, bytes: &[u8]) -> Option<Cow<'_, str>> {
    match t {
        tag::UTF8_STRING => core::str::from_utf8(bytes).ok().map(Cow::Borrowed),
        tag::PRINTABLE_STRING
        | tag::IA5_STRING
        | tag::VISIBLE_STRING
        | tag::NUMERIC_STRING
        | tag::TELETEX_STRING
        | tag::GENERAL_STRING
        | tag::UTC_TIME
        | tag::GENERALIZED_TIME => Some(match core::str::from_utf8(bytes) {
            // ASCII (every valid value) reads the same either way.
            Ok(ascii) if bytes.is_ascii() => Cow::Borrowed(ascii),
            _ => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        }),
        tag::UNIVERSAL_STRING => {
            if !bytes.len().is_multiple_of(4) {
                return None;
            }
            bytes
                .chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect::<Option<String>>()
                .map(Cow::Owned)
        }
        tag::BMP_STRING => {
            if !bytes.len().is_multiple_of(2) {
                return None;
            }
            let units = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .ok()
                .map(Cow::Owned)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn dn(s: &str) -> DistinguishedName {
        DistinguishedName::parse(s).unwrap()
    }

    #[test]
    fn parses_openssl_rfc2253_output() {
        let d = dn(r#"CN=Jos\C3\A9 \"Q\"+OU=Team\+Ops\;East,O=Acme\, Inc.,C=US"#);
        let rdns: Vec<_> = d.rdns().collect();
        assert_eq!(rdns.len(), 3);
        assert_eq!(rdns[0][0].value(), Some("US"));
        assert_eq!(rdns[1][0].value(), Some("Acme, Inc."));
        // Encoded order is the reverse of the string's, inside RDNs too.
        assert_eq!(rdns[2][1].value(), Some("José \"Q\""));
        assert_eq!(rdns[2][0].value(), Some("Team+Ops;East"));
        assert_eq!(rdns[2][0].name(), Some("OU"));
    }

    #[test]
    fn formats_rfc4514_and_round_trips() {
        let d = dn(r#"CN=Jos\C3\A9 \"Q\"+OU=Team\+Ops\;East,O=Acme\, Inc.,C=US"#);
        let s = d.to_string();
        assert_eq!(s, r#"CN=José \"Q\"+OU=Team\+Ops\;East,O=Acme\, Inc.,C=US"#);
        assert_eq!(dn(&s), d);
        assert_eq!(
            d.to_openssl_rfc2253(),
            r#"CN=Jos\C3\A9 \"Q\"+OU=Team\+Ops\;East,O=Acme\, Inc.,C=US"#
        );
    }

    #[test]
    fn escapes_leading_hash_and_edge_spaces() {
        let d = dn(r"CN=\#x\ ,O=\ lead");
        assert_eq!(d.common_names().collect::<Vec<_>>(), ["#x "]);
        assert_eq!(d.to_string(), r"CN=\#x\ ,O=\ lead");
    }

    #[test]
    fn compares_escapes_and_spacing_as_equal() {
        assert_eq!(dn("CN=a , O = b"), dn("CN=a,O=b"));
        assert_eq!(dn(r"CN=\61"), dn("CN=a"));
        assert_eq!(dn("commonName=a;o=b"), dn("CN=a,O=b"));
        assert_eq!(dn("2.5.4.3=a"), dn("CN=a"));
        assert_eq!(dn("OID.2.5.4.3=a"), dn("CN=a"));
        assert_eq!(dn("E=x@y"), dn("emailAddress=x@y"));
        // UTF8String "a" in hex
        assert_eq!(dn("CN=#0C0161"), dn("CN=a"));
        assert_ne!(dn("CN=a,O=b"), dn("O=b,CN=a"));
        assert_ne!(dn("CN=a"), dn("CN=A"));
        assert_eq!(dn("CN=a+OU=b"), dn("OU=b+CN=a"));
        assert_ne!(dn("CN=a+OU=b"), dn("CN=a,OU=b"));
    }

    #[test]
    fn matches_ignores_case_and_whitespace_runs() {
        assert!(
            dn("CN=Contoso  Issuing CA,O=contoso").matches(&dn("cn=contoso issuing ca, O=Contoso"))
        );
        assert!(!dn("CN=a").matches(&dn("CN=b")));
        assert!(!dn("CN=a,O=b").matches(&dn("CN=a")));
    }

    #[test]
    fn empty_string_is_empty_name() {
        assert!(dn("").is_empty());
        assert!(dn("  ").is_empty());
        assert_eq!(dn("").to_string(), "");
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            DistinguishedName::parse("XX=a"),
            Err(DnError::UnknownAttribute(0))
        );
        assert_eq!(
            DistinguishedName::parse("CN"),
            Err(DnError::MissingEquals(2))
        );
        assert_eq!(
            DistinguishedName::parse(r"CN=a\q"),
            Err(DnError::InvalidEscape(4))
        );
        assert_eq!(
            DistinguishedName::parse("CN=\"a\""),
            Err(DnError::Unescaped(3))
        );
        assert_eq!(
            DistinguishedName::parse("CN=#0G"),
            Err(DnError::InvalidHex(4))
        );
        assert_eq!(
            DistinguishedName::parse("CN=#0C05"),
            Err(DnError::InvalidHex(3))
        );
        assert_eq!(
            DistinguishedName::parse(r"CN=\FF"),
            Err(DnError::InvalidUtf8(3))
        );
        assert_eq!(
            DistinguishedName::parse(r"CN=a\"),
            Err(DnError::InvalidEscape(4))
        );
    }

    #[test]
    fn unknown_oids_render_as_dotted_hex() {
        let d = dn("1.2.3.4=#0403616263");
        assert_eq!(d.to_string(), "1.2.3.4=#0403616263");
        let a = d.attributes().next().unwrap();
        assert_eq!(a.name(), None);
        assert_eq!(a.oid(), "1.2.3.4");
        assert_eq!(a.der_value(), Some(&[4u8, 3, 0x61, 0x62, 0x63][..]));
        // A text value under an OID OpenSSL has no name for is dumped as DER.
        let d = dn("1.2.3.4=abc");
        assert_eq!(d.to_openssl_rfc2253(), "1.2.3.4=#0C03616263");
    }

    #[test]
    fn reads_oids_of_any_size_and_openssl_names() {
        let uuid = "2.25.329800735698586629295641978511506172918";
        let d = dn(&format!("{uuid}=#0C0161,role=operator,challengePassword=x"));
        let oids: Vec<_> = d.attributes().map(NameAttribute::oid).collect();
        assert_eq!(oids, ["1.2.840.113549.1.9.7", "2.5.4.72", uuid]);
        assert_eq!(
            d.to_openssl_rfc2253(),
            format!("{uuid}=#0C0161,role=operator,challengePassword=x")
        );
        assert_eq!(dn("unstructuredAddress=a"), dn("1.2.840.113549.1.9.8=a"));
    }

    #[test]
    fn multi_valued_rdns_compare_as_multisets() {
        assert_eq!(dn("CN=a+CN=b+OU=c"), dn("OU=c+CN=b+CN=a"));
        assert_ne!(dn("CN=a+CN=a+OU=c"), dn("CN=a+OU=c+OU=c"));
        assert!(dn("CN=A+OU=c").matches(&dn("ou=C+cn=a")));
        assert!(!dn("CN=A+OU=c").matches(&dn("ou=C+cn=b")));
    }

    #[test]
    fn decodes_legacy_string_types() {
        assert_eq!(
            decode_string(tag::BMP_STRING, &[0, 0x4a, 0, 0xe9]).as_deref(),
            Some("Jé")
        );
        assert_eq!(
            decode_string(tag::TELETEX_STRING, &[0x4a, 0xe9]).as_deref(),
            Some("Jé")
        );
        assert_eq!(decode_string(tag::BMP_STRING, &[0]), None);
        assert_eq!(decode_string(tag::UTF8_STRING, &[0xff]), None);
        assert_eq!(
            decode_string(tag::UNIVERSAL_STRING, &[0, 0, 0, 0x4a, 0, 0, 0, 0xe9]).as_deref(),
            Some("Jé")
        );
        assert_eq!(decode_string(tag::UNIVERSAL_STRING, &[0, 0, 0]), None);
        assert_eq!(decode_string(tag::UNIVERSAL_STRING, &[0, 0x11, 0, 0]), None);
        assert_eq!(decode_string(tag::INTEGER, &[1]), None);
    }
}
