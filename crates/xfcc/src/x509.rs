//! A borrowed, read-only view of an X.509 certificate's fields.
//!
//! Every uncached request reads one certificate, and x509-cert's owned
//! `Certificate` costs several times the SHA-256 of the DER to build (the
//! generic `der` machinery and dozens of allocations). This module reads
//! only the fields [`CertIdentity`](crate::CertIdentity) keeps, straight from
//! the DER, in one pass over the bytes:
//!
//! - strict DER framing: low-tag-number identifiers, definite and minimal
//!   lengths, no byte outside the certificate or after it;
//! - the RFC 5280 `Certificate` and `TBSCertificate` structure field by
//!   field, as x509-cert declares it (optional version, unique IDs and
//!   extensions in order, nothing unknown after them);
//! - values checked as `der` checks them: canonical INTEGERs, BOOLEANs of
//!   `00`/`FF`, BIT STRINGs with at most 7 unused bits, OIDs through
//!   const-oid, times through x509-cert's `Time` (so UTCTime and
//!   GeneralizedTime rules are der's own), IA5 strings ASCII only.
//!
//! It is meant to accept a subset of what `x509_cert::Certificate::from_der`
//! accepts and to read the same values: `tests/x509_agreement.rs` and the
//! `decode` fuzz target hold it to that. It verifies no signature and
//! validates no path (rustls-webpki does, in the `chain` feature).

use const_oid::ObjectIdentifier;
use der::Decode;
use x509_cert::time::Time;

use crate::dn::DistinguishedName;

/// The certificate does not parse. Deliberately carries nothing: callers
/// report `bad_der`, and no certificate byte reaches an error message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Malformed;

type Result<T> = core::result::Result<T, Malformed>;

// Identifier octets used below (universal class unless noted).
const BOOLEAN: u8 = 0x01;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;
/// `[0]` constructed (EXPLICIT version).
const CTX0_CONSTRUCTED: u8 = 0xa0;
/// `[1]` / `[2]` primitive (IMPLICIT unique identifiers).
const CTX1: u8 = 0x81;
const CTX2: u8 = 0x82;
/// `[3]` constructed (EXPLICIT extensions).
const CTX3_CONSTRUCTED: u8 = 0xa3;

/// The universal-class identifier octets `der` decodes (its `Tag` list:
/// the primitive types by number, and only SEQUENCE and SET constructed).
const UNIVERSAL: u64 = {
    let tags: [u8; 22] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a, 0x0c, 0x0d, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x18, 0x1a, 0x1b, 0x1e, 0x30, 0x31,
    ];
    let mut mask = 0u64;
    let mut i = 0;
    while i < tags.len() {
        mask |= 1 << tags[i];
        i += 1;
    }
    mask
};

/// Whether an identifier octet may start a TLV: a universal type `der`
/// knows, or an application, context-specific or private tag in the
/// low-tag-number form (tag numbers of 31 and more appear nowhere in X.509).
const fn tag_allowed(tag: u8) -> bool {
    if tag < 0x40 {
        UNIVERSAL & (1 << tag) != 0
    } else {
        tag & 0x1f != 0x1f
    }
}

/// A DER reader over a byte slice: every method consumes whole TLVs.
#[derive(Clone, Copy)]
pub(crate) struct Der<'a> {
    rest: &'a [u8],
}

/// One TLV: identifier octet, contents, and the whole encoding.
#[derive(Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) der: &'a [u8],
}

impl<'a> Der<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Reads one TLV with DER's framing rules.
    pub(crate) fn tlv(&mut self) -> Result<Tlv<'a>> {
        let all = self.rest;
        let (&tag, rest) = all.split_first().ok_or(Malformed)?;
        if !tag_allowed(tag) {
            return Err(Malformed);
        }
        let (&first, mut rest) = rest.split_first().ok_or(Malformed)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // Long form: 1..=4 length octets, no leading zero, and only
            // when the short form cannot say it (0x80, indefinite, is BER).
            let n = usize::from(first & 0x7f);
            if !(1..=4).contains(&n) || rest.len() < n {
                return Err(Malformed);
            }
            let (octets, after) = rest.split_at(n);
            if octets[0] == 0 {
                return Err(Malformed);
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            if len < 0x80 {
                return Err(Malformed);
            }
            rest = after;
            len
        };
        if rest.len() < len {
            return Err(Malformed);
        }
        let (value, after) = rest.split_at(len);
        let header = all.len() - rest.len();
        self.rest = after;
        Ok(Tlv {
            tag,
            value,
            der: &all[..header + len],
        })
    }

    /// Reads a TLV that must carry `tag`; returns its contents.
    pub(crate) fn expect(&mut self, tag: u8) -> Result<&'a [u8]> {
        let t = self.tlv()?;
        if t.tag == tag {
            Ok(t.value)
        } else {
            Err(Malformed)
        }
    }

    /// Reads a TLV only when the next one carries `tag`.
    fn optional(&mut self, tag: u8) -> Result<Option<&'a [u8]>> {
        if self.peek() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Succeeds when nothing is left.
    pub(crate) const fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Malformed)
        }
    }
}

/// INTEGER contents in DER: at least one byte, no redundant sign byte.
fn canonical_integer(v: &[u8]) -> Result<&[u8]> {
    match v {
        [] => Err(Malformed),
        [0x00, next, ..] if *next < 0x80 => Err(Malformed),
        [0xff, next, ..] if *next >= 0x80 => Err(Malformed),
        _ => Ok(v),
    }
}

/// BIT STRING contents: the unused-bit count (0..=7, 0 when empty) and the
/// bytes, whose unused bits must be zero in DER.
fn bit_string(v: &[u8]) -> Result<&[u8]> {
    let (&unused, bits) = v.split_first().ok_or(Malformed)?;
    let last_ok = bits
        .last()
        .is_none_or(|b| b & ((1u8 << unused.min(7)) - 1) == 0);
    if unused > 7 || (bits.is_empty() && unused != 0) || !last_ok {
        return Err(Malformed);
    }
    Ok(bits)
}

pub(crate) fn oid(v: &[u8]) -> Result<ObjectIdentifier> {
    ObjectIdentifier::from_bytes(v).map_err(|_| Malformed)
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
/// Returns the OID and the parameters' whole TLV.
fn algorithm<'a>(d: &mut Der<'a>) -> Result<(ObjectIdentifier, Option<Tlv<'a>>)> {
    let mut a = Der::new(d.expect(SEQUENCE)?);
    let id = oid(a.expect(OID)?)?;
    let params = if a.is_empty() { None } else { Some(a.tlv()?) };
    a.finish()?;
    Ok((id, params))
}

fn time(d: &mut Der<'_>) -> Result<u64> {
    let t = d.tlv()?;
    if t.tag != UTC_TIME && t.tag != GENERALIZED_TIME {
        return Err(Malformed);
    }
    let time = Time::from_der(t.der).map_err(|_| Malformed)?;
    Ok(time.to_unix_duration().as_secs())
}

/// A `Name` (`SEQUENCE OF SET OF SEQUENCE { OID, ANY }`): its contents,
/// whose structure is checked as they are walked ([`NameRef::try_for_each`]).
#[derive(Clone, Copy)]
pub(crate) struct NameRef<'a> {
    content: &'a [u8],
}

/// One attribute of a name: type and value (identifier octet and contents).
pub(crate) struct Attribute<'a> {
    pub(crate) oid: ObjectIdentifier,
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
    pub(crate) der: &'a [u8],
}

impl<'a> NameRef<'a> {
    fn read(d: &mut Der<'a>) -> Result<Self> {
        Ok(Self {
            content: d.expect(SEQUENCE)?,
        })
    }

    /// Reads the name into its owned form, checking it on the way: one walk.
    fn to_owned_name(self) -> Result<DistinguishedName> {
        DistinguishedName::from_cert(&self).ok_or(Malformed)
    }

    /// Calls `f(rdn_index, attribute)` for each attribute, in encoded order.
    pub(crate) fn try_for_each(
        &self,
        mut f: impl FnMut(usize, Attribute<'a>) -> Result<()>,
    ) -> Result<()> {
        let mut sets = Der::new(self.content);
        let mut i = 0;
        while !sets.is_empty() {
            let mut avas = Der::new(sets.expect(SET)?);
            // RelativeDistinguishedName ::= SET SIZE (1..MAX) OF ...
            if avas.is_empty() {
                return Err(Malformed);
            }
            while !avas.is_empty() {
                let mut ava = Der::new(avas.expect(SEQUENCE)?);
                let id = oid(ava.expect(OID)?)?;
                let value = ava.tlv()?;
                ava.finish()?;
                f(
                    i,
                    Attribute {
                        oid: id,
                        tag: value.tag,
                        value: value.value,
                        der: value.der,
                    },
                )?;
            }
            i += 1;
        }
        Ok(())
    }
}

/// The fields of a certificate that [`CertIdentity`](crate::CertIdentity) keeps.
pub(crate) struct CertView<'a> {
    pub(crate) serial: &'a [u8],
    pub(crate) issuer: DistinguishedName,
    pub(crate) subject: DistinguishedName,
    /// Subject and issuer are the same encoded name.
    pub(crate) self_issued: bool,
    pub(crate) not_before: u64,
    pub(crate) not_after: u64,
    pub(crate) key_algorithm: ObjectIdentifier,
    /// The whole TLV of the key algorithm's parameters, when present.
    pub(crate) key_parameters: Option<Tlv<'a>>,
    pub(crate) key: &'a [u8],
    pub(crate) extensions: KeptExtensions<'a>,
}

/// The `extnValue` contents of the extensions read further, when present.
#[derive(Default)]
pub(crate) struct KeptExtensions<'a> {
    /// subjectAltName, read with [`general_names`].
    pub(crate) subject_alt_name: Option<&'a [u8]>,
    /// extKeyUsage, read with [`key_purposes`].
    pub(crate) ext_key_usage: Option<&'a [u8]>,
}

const SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");
const EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");

impl<'a> CertView<'a> {
    /// Reads exactly one certificate from `der`.
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self> {
        let mut outer = Der::new(der);
        let mut cert = Der::new(outer.expect(SEQUENCE)?);
        outer.finish()?;
        let view = Self::tbs(&mut Der::new(cert.expect(SEQUENCE)?))?;
        algorithm(&mut cert)?;
        bit_string(cert.expect(BIT_STRING)?)?;
        cert.finish()?;
        Ok(view)
    }

    fn tbs(d: &mut Der<'a>) -> Result<Self> {
        if let Some(v) = d.optional(CTX0_CONSTRUCTED)? {
            // version [0] EXPLICIT INTEGER { v1(0), v2(1), v3(2) }
            let mut v = Der::new(v);
            let version = v.expect(INTEGER)?;
            v.finish()?;
            if !matches!(version, [0..=2]) {
                return Err(Malformed);
            }
        }
        let serial = canonical_integer(d.expect(INTEGER)?)?;
        // RFC 5280 allows 20 octets; like x509-cert, one more for a sign byte.
        if serial.len() > 21 {
            return Err(Malformed);
        }
        algorithm(d)?;
        let issuer = NameRef::read(d)?;
        let mut validity = Der::new(d.expect(SEQUENCE)?);
        let not_before = time(&mut validity)?;
        let not_after = time(&mut validity)?;
        validity.finish()?;
        let subject = NameRef::read(d)?;
        let self_issued = subject.content == issuer.content;
        let (issuer, subject) = (issuer.to_owned_name()?, subject.to_owned_name()?);
        let mut spki = Der::new(d.expect(SEQUENCE)?);
        let (key_algorithm, key_parameters) = algorithm(&mut spki)?;
        let key = bit_string(spki.expect(BIT_STRING)?)?;
        spki.finish()?;
        if let Some(v) = d.optional(CTX1)? {
            bit_string(v)?;
        }
        if let Some(v) = d.optional(CTX2)? {
            bit_string(v)?;
        }
        let extensions = match d.optional(CTX3_CONSTRUCTED)? {
            Some(v) => {
                let mut v = Der::new(v);
                let list = v.expect(SEQUENCE)?;
                v.finish()?;
                list
            }
            None => &[],
        };
        d.finish()?;
        let extensions = extensions_kept(extensions)?;
        Ok(Self {
            serial,
            issuer,
            subject,
            self_issued,
            not_before,
            not_after,
            key_algorithm,
            key_parameters,
            key,
            extensions,
        })
    }
}

/// Checks every extension of `Extensions ::= SEQUENCE OF Extension` (each
/// `SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }`, none
/// twice) and returns the values of subjectAltName and extKeyUsage.
fn extensions_kept(list: &[u8]) -> Result<KeptExtensions<'_>> {
    let mut kept = KeptExtensions::default();
    // RFC 5280 4.2: no extension may appear twice (a second SAN list
    // would otherwise be read by some parsers and not others).
    let mut seen: Vec<ObjectIdentifier> = Vec::new();
    let mut list = Der::new(list);
    while !list.is_empty() {
        let mut ext = Der::new(list.expect(SEQUENCE)?);
        let id = oid(ext.expect(OID)?)?;
        if let Some(critical) = ext.optional(BOOLEAN)?
            && !matches!(critical, [0x00] | [0xff])
        {
            return Err(Malformed);
        }
        let value = ext.expect(OCTET_STRING)?;
        ext.finish()?;
        if seen.contains(&id) {
            return Err(Malformed);
        }
        seen.push(id);
        if id == SUBJECT_ALT_NAME {
            kept.subject_alt_name = Some(value);
        } else if id == EXT_KEY_USAGE {
            kept.ext_key_usage = Some(value);
        }
    }
    Ok(kept)
}

/// One entry of a `GeneralNames` that [`CertIdentity`](crate::CertIdentity)
/// keeps; other kinds are checked and skipped.
pub(crate) enum GeneralName<'a> {
    Email(&'a str),
    Dns(&'a str),
    Uri(&'a str),
    Ip(&'a [u8]),
}

fn ia5(v: &[u8]) -> Result<&str> {
    if v.is_ascii() {
        core::str::from_utf8(v).map_err(|_| Malformed)
    } else {
        Err(Malformed)
    }
}

/// Calls `f` for each name of a `subjectAltName` extension value
/// (`GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`). The kinds
/// x509-cert does not decode (x400Address, ediPartyName) are refused.
pub(crate) fn general_names<'a>(value: &'a [u8], mut f: impl FnMut(GeneralName<'a>)) -> Result<()> {
    let mut outer = Der::new(value);
    let mut names = Der::new(outer.expect(SEQUENCE)?);
    outer.finish()?;
    if names.is_empty() {
        return Err(Malformed);
    }
    while !names.is_empty() {
        let t = names.tlv()?;
        match t.tag {
            // otherName [0] { type-id OID, value [0] EXPLICIT ANY }
            0xa0 => {
                let mut o = Der::new(t.value);
                oid(o.expect(OID)?)?;
                let mut v = Der::new(o.expect(0xa0)?);
                v.tlv()?;
                v.finish()?;
                o.finish()?;
            }
            0x81 => f(GeneralName::Email(ia5(t.value)?)),
            0x82 => f(GeneralName::Dns(ia5(t.value)?)),
            // directoryName [4] EXPLICIT Name
            0xa4 => {
                let mut n = Der::new(t.value);
                NameRef::read(&mut n)?.try_for_each(|_, _| Ok(()))?;
                n.finish()?;
            }
            0x86 => f(GeneralName::Uri(ia5(t.value)?)),
            0x87 => f(GeneralName::Ip(t.value)),
            0x88 => {
                oid(t.value)?;
            }
            _ => return Err(Malformed),
        }
    }
    Ok(())
}

/// Calls `f` for each purpose of an `extKeyUsage` extension value
/// (`SEQUENCE SIZE (1..MAX) OF KeyPurposeId`).
pub(crate) fn key_purposes(value: &[u8], mut f: impl FnMut(ObjectIdentifier)) -> Result<()> {
    let mut outer = Der::new(value);
    let mut list = Der::new(outer.expect(SEQUENCE)?);
    outer.finish()?;
    if list.is_empty() {
        return Err(Malformed);
    }
    while !list.is_empty() {
        f(oid(list.expect(OID)?)?);
    }
    Ok(())
}

/// The modulus size in bits of an RSA public key
/// (`RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`).
pub(crate) fn rsa_modulus_bits(key: &[u8]) -> Option<u32> {
    let mut outer = Der::new(key);
    let mut k = Der::new(outer.expect(SEQUENCE).ok()?);
    outer.finish().ok()?;
    let modulus = canonical_integer(k.expect(INTEGER).ok()?).ok()?;
    canonical_integer(k.expect(INTEGER).ok()?).ok()?;
    k.finish().ok()?;
    let m = match modulus {
        [0, rest @ ..] => rest,
        m => m,
    };
    let first = *m.first()?;
    u32::try_from(m.len() * 8)
        .ok()?
        .checked_sub(first.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_must_be_minimal_and_definite() {
        // short form
        assert!(Der::new(&[0x04, 0x01, 0xaa]).tlv().is_ok());
        // 0x81 0x05: long form for a length the short form can say
        assert!(Der::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).tlv().is_err());
        // indefinite length (BER)
        assert!(Der::new(&[0x30, 0x80, 0, 0]).tlv().is_err());
        // leading zero length octet
        let mut v = vec![0x04, 0x82, 0x00, 0x80];
        v.extend([0u8; 0x80]);
        assert!(Der::new(&v).tlv().is_err());
        // minimal long form
        let mut v = vec![0x04, 0x81, 0x80];
        v.extend([0u8; 0x80]);
        assert_eq!(Der::new(&v).tlv().map(|t| t.value.len()), Ok(0x80));
        // length past the end
        assert!(Der::new(&[0x04, 0x05, 1]).tlv().is_err());
        // five length octets
        assert!(Der::new(&[0x04, 0x85, 1, 0, 0, 0, 0]).tlv().is_err());
        // high-tag-number form
        assert!(Der::new(&[0x1f, 0x81, 0x00, 0x00]).tlv().is_err());
        assert!(Der::new(&[0xbf, 0x81, 0x00, 0x00]).tlv().is_err());
        // reserved and unknown universal tags, constructed strings
        for tag in [0x00, 0x07, 0x08, 0x0e, 0x1f, 0x20, 0x2c, 0x33, 0x3f] {
            assert!(Der::new(&[tag, 0x00]).tlv().is_err(), "{tag:#x}");
        }
        for tag in [0x05, 0x0c, 0x13, 0x1e, 0x30, 0x31, 0x40, 0x80, 0xa3, 0xc0] {
            assert!(Der::new(&[tag, 0x00]).tlv().is_ok(), "{tag:#x}");
        }
    }

    #[test]
    fn integers_booleans_and_bit_strings_are_canonical() {
        assert!(canonical_integer(&[]).is_err());
        assert!(canonical_integer(&[0x00, 0x7f]).is_err());
        assert!(canonical_integer(&[0xff, 0x80]).is_err());
        assert!(canonical_integer(&[0x00, 0x80]).is_ok());
        assert!(canonical_integer(&[0x00]).is_ok());
        assert!(bit_string(&[]).is_err());
        assert!(bit_string(&[0]).is_ok());
        assert!(bit_string(&[1]).is_err());
        assert!(bit_string(&[8, 0]).is_err());
        assert!(bit_string(&[3, 0b1111_1000]).is_ok());
        assert!(bit_string(&[3, 0b1111_1100]).is_err());
    }
}
