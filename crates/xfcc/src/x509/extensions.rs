//! The values of the extensions a certificate keeps: general names,
//! key purposes, policies, basic constraints, key usage; and key
//! parameters.

use super::name::NameRef;
use super::reader::{
    Der, Result, Span, Tlv, bit_string, canonical_integer, oid_bytes, read_oid, tag, within,
};
use crate::error::{DerErrorKind, DerField};
use crate::limits::Limits;
use crate::oid::{self, Oid};

/// One entry of a `GeneralNames` that [`CertIdentity`](crate::inspect::CertIdentity)
/// keeps; other kinds are checked and skipped.
pub(crate) enum GeneralName<'a> {
    Email(Ia5<'a>),
    Dns(Ia5<'a>),
    Uri(Ia5<'a>),
    Ip(&'a [u8]),
}

/// An IA5String's contents, checked ASCII (so text), read as text only
/// when kept.
#[derive(Clone, Copy)]
pub(crate) struct Ia5<'a>(&'a [u8]);

impl Ia5<'_> {
    /// The text, owned (ASCII, so each byte is one character).
    pub(crate) fn to_owned_string(self) -> String {
        self.0.iter().copied().map(char::from).collect()
    }
}

pub(super) fn ia5<'a>(t: &Tlv<'a>) -> Result<Ia5<'a>> {
    if !t.value.is_ascii() {
        Err(t.fail(DerErrorKind::BadString))
    } else if t.value.iter().any(u8::is_ascii_control) {
        Err(t.fail(DerErrorKind::ControlCharacter))
    } else {
        Ok(Ia5(t.value))
    }
}

/// Calls `f` for each name of a `subjectAltName` extension value
/// (`GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName`). The kinds
/// x509-cert does not decode (x400Address, ediPartyName) are refused.
pub(crate) fn general_names<'a>(
    value: &Tlv<'a>,
    limits: &Limits,
    mut f: impl FnMut(GeneralName<'a>),
) -> Result<()> {
    use tag::general_name as gn;
    within(
        DerField::SubjectAltName,
        read_list(value, |names| {
            let t = names.tlv()?;
            match t.tag {
                // otherName [0] { type-id OID, value [0] EXPLICIT ANY }
                gn::OTHER_NAME => t.read_contents(|o| {
                    oid_bytes(o)?;
                    o.nested(gn::OTHER_NAME_VALUE, |v| v.tlv().map(drop))
                })?,
                gn::RFC822 => f(GeneralName::Email(ia5(&t)?)),
                gn::DNS => f(GeneralName::Dns(ia5(&t)?)),
                // directoryName [4] EXPLICIT Name
                gn::DIRECTORY => {
                    t.read_contents(|n| NameRef::read(n)?.check(limits.name_attributes()))?
                }
                gn::URI => f(GeneralName::Uri(ia5(&t)?)),
                gn::IP => f(GeneralName::Ip(t.value)),
                gn::REGISTERED_ID => {
                    if !oid::is_canonical(t.value) {
                        return Err(t.fail(DerErrorKind::BadOid));
                    }
                }
                _ => return Err(t.fail(DerErrorKind::UnsupportedGeneralName)),
            }
            Ok(())
        }),
    )
}

/// Calls `f` for each purpose of an `extKeyUsage` extension value
/// (`SEQUENCE SIZE (1..MAX) OF KeyPurposeId`).
pub(crate) fn key_purposes(value: &Tlv<'_>, mut f: impl FnMut(Oid)) -> Result<()> {
    within(
        DerField::ExtKeyUsage,
        read_list(value, |list| {
            f(read_oid(list)?);
            Ok(())
        }),
    )
}

/// Calls `f` for the policy identifier of each `PolicyInformation` of a
/// certificatePolicies extension value (`SEQUENCE SIZE (1..MAX) OF
/// SEQUENCE { policyIdentifier OID, policyQualifiers SEQUENCE OPTIONAL }`).
/// The qualifiers (CPS URIs, user notices) are framed, not read.
pub(crate) fn policy_ids(value: &Tlv<'_>, mut f: impl FnMut(Oid)) -> Result<()> {
    read_list(value, |list| {
        list.nested(tag::SEQUENCE, |info| {
            f(read_oid(info)?);
            if !info.is_empty() {
                info.expect(tag::SEQUENCE)?;
            }
            Ok(())
        })
    })
}

/// The contents of `value` when it is exactly one UTF8String,
/// PrintableString, IA5String or VisibleString (what an `extension` rule's
/// `OID="text"` compares with); `None` for anything else.
pub(crate) fn single_string(value: &[u8]) -> Option<&[u8]> {
    let mut d = Der::new(value);
    let t = d.tlv().ok()?;
    let string = [
        tag::UTF8_STRING,
        tag::PRINTABLE_STRING,
        tag::IA5_STRING,
        tag::VISIBLE_STRING,
    ]
    .contains(&t.tag);
    (string && d.is_empty()).then_some(t.value)
}

/// Each extension of the `Extensions` list at `list` of `der` (a
/// certificate [`CertView::parse`] read, so the list is well-formed): its
/// OID's contents and its `extnValue` contents, in certificate order.
pub(crate) fn extensions_in(der: &[u8], list: Span) -> Vec<(&[u8], &[u8])> {
    let mut out = Vec::new();
    let Ok(list) = Tlv::reread(der, list) else {
        return out;
    };
    let mut entries = list.contents();
    while !entries.is_empty() {
        let entry = entries.nested(tag::SEQUENCE, |ext| {
            let id = oid_bytes(ext)?;
            ext.optional(tag::BOOLEAN)?;
            Ok((id, ext.expect(tag::OCTET_STRING)?.value))
        });
        match entry {
            Ok(e) => out.push(e),
            Err(_) => break,
        }
    }
    out
}

/// Whether a basicConstraints value (`SEQUENCE { cA BOOLEAN DEFAULT FALSE,
/// pathLenConstraint INTEGER (0..MAX) OPTIONAL }`) says `cA`. An explicit
/// FALSE (a default DER leaves out) is read as false, as webpki does.
pub(crate) fn basic_constraints_ca(value: &Tlv<'_>) -> Result<bool> {
    within(
        DerField::BasicConstraints,
        value.read_contents(|outer| {
            outer.nested(tag::SEQUENCE, |bc| {
                let ca = match bc.optional(tag::BOOLEAN)? {
                    Some(b) => match b.value {
                        [0xff] => true,
                        [0x00] => false,
                        _ => return Err(b.fail(DerErrorKind::NotCanonical)),
                    },
                    None => false,
                };
                if let Some(len) = bc.optional(tag::INTEGER)? {
                    canonical_integer(&len)?;
                }
                Ok(ca)
            })
        }),
    )
}

/// The first 9 bits of a keyUsage value (`KeyUsage ::= BIT STRING`), bit 0
/// (digitalSignature) as the most significant of the first byte, as
/// X.690 numbers them: `1 << (15 - n)` is bit `n`.
pub(crate) fn key_usage_bits(value: &Tlv<'_>) -> Result<u16> {
    within(
        DerField::KeyUsage,
        value.read_contents(|outer| {
            let b = bit_string(&outer.expect(tag::BIT_STRING)?)?;
            let first = u16::from(b.first().copied().unwrap_or(0));
            let second = u16::from(b.get(1).copied().unwrap_or(0));
            Ok(first << 8 | second)
        }),
    )
}

/// An extension value that is exactly one non-empty SEQUENCE; `item` reads
/// one entry at a time.
pub(super) fn read_list<'a>(
    value: &Tlv<'a>,
    mut item: impl FnMut(&mut Der<'a>) -> Result<()>,
) -> Result<()> {
    value.read_contents(|outer| {
        outer.nested(tag::SEQUENCE, |list| {
            if list.is_empty() {
                return Err(list.fail(DerErrorKind::EmptyList));
            }
            while !list.is_empty() {
                item(list)?;
            }
            Ok(())
        })
    })
}

/// The modulus size in bits of an RSA public key
/// (`RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`).
pub(crate) fn rsa_modulus_bits(key: &[u8]) -> Option<u32> {
    let modulus = Der::read_all(key, tag::SEQUENCE, |k| {
        let modulus = canonical_integer(&k.expect(tag::INTEGER)?)?;
        canonical_integer(&k.expect(tag::INTEGER)?)?;
        Ok(modulus)
    })
    .ok()?;
    let m = match modulus {
        [0, rest @ ..] => rest,
        m => m,
    };
    let first = *m.first()?;
    u32::try_from(m.len() * 8)
        .ok()?
        .checked_sub(first.leading_zeros())
}

/// An OID parameter (an EC curve), when `params` is one.
pub(crate) fn oid_parameter(params: Option<Tlv<'_>>) -> Option<Oid> {
    params
        .filter(|p| p.tag == tag::OID)
        .and_then(|p| Oid::from_der(p.value))
}
