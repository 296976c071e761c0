//! The certificate: its TBSCertificate read in one pass, and the
//! extensions it keeps (each once, within the limit).

use super::name::NameRef;
use super::reader::{
    Der, Fail, Result, Span, Tlv, algorithm, bit_string, canonical_integer, oid_bytes, tag, within,
};
use super::time::time;
use crate::error::{DerErrorKind, DerField};
use crate::limits::Limits;
use crate::oid::{self, Oid};

/// The fields of a certificate that [`CertIdentity`](crate::inspect::CertIdentity)
/// and chain selection read. Names are borrowed and walked by the caller
/// ([`NameRef::walk`]).
pub(crate) struct CertView<'a> {
    /// The serial number's contents (canonical, at most 21 bytes).
    pub(crate) serial: Span,
    pub(crate) issuer: NameRef<'a>,
    pub(crate) subject: NameRef<'a>,
    pub(crate) not_before: i64,
    pub(crate) not_after: i64,
    /// `SubjectPublicKeyInfo` contents (chain selection's loop check).
    #[cfg_attr(not(feature = "chain"), allow(dead_code))]
    pub(crate) spki: &'a [u8],
    /// Where the whole `SubjectPublicKeyInfo` sits, to read the key's
    /// algorithm and size when asked ([`public_key_parts`]).
    pub(crate) spki_at: Span,
    pub(crate) extensions: KeptExtensions<'a>,
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
/// subjectPublicKey BIT STRING }` contents: the algorithm OID's contents,
/// its parameters' whole TLV, and the key bits.
pub(super) fn spki_parts<'a>(spki: &mut Der<'a>) -> Result<(&'a [u8], Option<Tlv<'a>>, &'a [u8])> {
    let (alg, params) = algorithm(spki)?;
    // An OID parameter (an EC curve) is read, so it must be canonical too.
    if let Some(p) = params.filter(|p| p.tag == tag::OID)
        && !oid::is_canonical(p.value)
    {
        return Err(p.fail(DerErrorKind::BadOid));
    }
    let key = bit_string(&spki.expect(tag::BIT_STRING)?)?;
    Ok((alg, params, key))
}

/// The key's algorithm, parameters and bits, read again from the
/// `SubjectPublicKeyInfo` at `at` of `der` (a certificate
/// [`CertView::parse`] read).
pub(crate) fn public_key_parts(der: &[u8], at: Span) -> Result<(Oid, Option<Tlv<'_>>, &[u8])> {
    let spki = Tlv::reread(der, at)?;
    let bad = spki.contents().fail(DerErrorKind::BadOid);
    let (alg, params, key) = spki.read_contents(spki_parts)?;
    Ok((Oid::from_der(alg).ok_or(bad)?, params, key))
}

/// The `extnValue` contents of the extensions read further, when present.
#[derive(Default)]
pub(crate) struct KeptExtensions<'a> {
    /// subjectAltName, read with [`general_names`].
    pub(crate) subject_alt_name: Option<Tlv<'a>>,
    /// extKeyUsage, read with [`key_purposes`].
    pub(crate) ext_key_usage: Option<Tlv<'a>>,
    /// basicConstraints, read with [`basic_constraints_ca`].
    pub(crate) basic_constraints: Option<Tlv<'a>>,
    /// keyUsage, read with [`key_usage_bits`].
    pub(crate) key_usage: Option<Tlv<'a>>,
    /// certificatePolicies, read with [`policy_ids`] when a rule asks.
    pub(crate) certificate_policies: Option<Tlv<'a>>,
    /// Where the whole `Extensions` list sits, to find any extension by
    /// OID when a rule asks ([`extension_value`]).
    pub(crate) list: Option<Span>,
}

/// The contents of `id-ce` (2.5.29), the arc every extension kept here is
/// under: written once, for the constants below and the match in
/// [`CertView`]'s extension loop.
pub(super) const ID_CE: [u8; 2] = [0x55, 0x1d];

/// The last arc of an OID directly under `id-ce` (contents `55 1D x`);
/// `None` for anything else.
pub(super) const fn id_ce_arc_of(contents: &[u8]) -> Option<u8> {
    match contents {
        &[a, b, arc] if a == ID_CE[0] && b == ID_CE[1] => Some(arc),
        _ => None,
    }
}

/// [`id_ce_arc_of`] for a known OID; 0, which names no extension kept
/// here, for anything else.
pub(super) const fn id_ce_arc(oid: &const_oid::ObjectIdentifier) -> u8 {
    match id_ce_arc_of(oid.as_bytes()) {
        Some(arc) => arc,
        None => 0,
    }
}

pub(super) const SUBJECT_ALT_NAME_ARC: u8 =
    id_ce_arc(&const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME);
pub(super) const EXT_KEY_USAGE_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE);
pub(super) const BASIC_CONSTRAINTS_ARC: u8 =
    id_ce_arc(&const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS);
pub(super) const KEY_USAGE_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_KEY_USAGE);
pub(super) const CERTIFICATE_POLICIES_ARC: u8 =
    id_ce_arc(&const_oid::db::rfc5280::ID_CE_CERTIFICATE_POLICIES);

impl<'a> CertView<'a> {
    /// Reads exactly one certificate from `der`.
    pub(crate) fn parse(der: &'a [u8], limits: &Limits) -> Result<Self> {
        Der::read_all(der, tag::SEQUENCE, |cert| {
            let view = cert.nested(tag::SEQUENCE, |tbs| Self::tbs(tbs, limits))?;
            within(DerField::SignatureAlgorithm, algorithm(cert))?;
            within(
                DerField::SignatureValue,
                cert.expect(tag::BIT_STRING).and_then(|t| bit_string(&t)),
            )?;
            Ok(view)
        })
    }

    pub(super) fn tbs(d: &mut Der<'a>, limits: &Limits) -> Result<Self> {
        within(
            DerField::Version,
            d.optional_nested(tag::VERSION, |v| {
                // version [0] EXPLICIT INTEGER { v1(0), v2(1), v3(2) }
                let t = v.expect(tag::INTEGER)?;
                if matches!(t.value, [0..=2]) {
                    Ok(())
                } else {
                    Err(t.fail(DerErrorKind::UnsupportedVersion))
                }
            }),
        )?;
        let serial = within(DerField::SerialNumber, {
            d.expect(tag::INTEGER).and_then(|t| {
                let serial = canonical_integer(&t)?;
                // RFC 5280 allows 20 octets; like x509-cert, one more for a sign byte.
                if serial.len() > 21 {
                    return Err(t.fail(DerErrorKind::SerialTooLong));
                }
                Ok(Span {
                    start: t.value_pos,
                    end: t.value_pos + serial.len(),
                })
            })
        })?;
        within(DerField::SignatureAlgorithm, algorithm(d))?;
        let issuer = within(DerField::Issuer, NameRef::read(d))?;
        let (not_before, not_after) = within(
            DerField::Validity,
            d.nested(tag::SEQUENCE, |v| Ok((time(v)?, time(v)?))),
        )?;
        let subject = within(DerField::Subject, NameRef::read(d))?;
        let spki_tlv = within(DerField::SubjectPublicKeyInfo, d.expect(tag::SEQUENCE))?;
        within(
            DerField::SubjectPublicKeyInfo,
            spki_tlv.read_contents(spki_parts),
        )?;
        within(
            DerField::UniqueIdentifier,
            [tag::ISSUER_UID, tag::SUBJECT_UID]
                .into_iter()
                .try_for_each(|t| d.optional(t)?.map_or(Ok(()), |v| bit_string(&v).map(drop))),
        )?;
        let extensions = within(
            DerField::Extensions,
            d.optional_nested(tag::EXTENSIONS, |v| {
                let list = v.expect(tag::SEQUENCE)?;
                let mut kept =
                    list.read_contents(|list| extensions_kept(list, limits.extensions()))?;
                kept.list = Some(list.span());
                Ok(kept)
            }),
        )?
        .unwrap_or_default();
        Ok(Self {
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            spki: spki_tlv.value,
            spki_at: spki_tlv.span(),
            extensions,
        })
    }
}

/// Checks every extension of `Extensions ::= SEQUENCE OF Extension` (each
/// `SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }`, none
/// twice, at most `max`) and returns the values of subjectAltName and
/// extKeyUsage. The duplicate check sorts the OIDs: O(n log n).
pub(super) fn extensions_kept<'a>(list: &mut Der<'a>, max: usize) -> Result<KeptExtensions<'a>> {
    let mut kept = KeptExtensions::default();
    let mut seen = Seen::default();
    while !list.is_empty() {
        if seen.len == max {
            return Err(list.fail(DerErrorKind::TooManyExtensions));
        }
        let at = list.pos;
        let (id, value) = list.nested(tag::SEQUENCE, |ext| {
            let id = oid_bytes(ext)?;
            if let Some(critical) = ext.optional(tag::BOOLEAN)?
                && !matches!(critical.value, [0x00] | [0xff])
            {
                return Err(critical.fail(DerErrorKind::NotCanonical));
            }
            Ok((id, ext.expect(tag::OCTET_STRING)?))
        })?;
        seen.push((id, at));
        // All four kept extensions are `id-ce` (2.5.29.x): one pattern and
        // a byte, not four slice comparisons per extension.
        if let Some(arc) = id_ce_arc_of(id) {
            match arc {
                SUBJECT_ALT_NAME_ARC => kept.subject_alt_name = Some(value),
                EXT_KEY_USAGE_ARC => kept.ext_key_usage = Some(value),
                BASIC_CONSTRAINTS_ARC => kept.basic_constraints = Some(value),
                KEY_USAGE_ARC => kept.key_usage = Some(value),
                CERTIFICATE_POLICIES_ARC => kept.certificate_policies = Some(value),
                _ => {}
            }
        }
    }
    // RFC 5280 4.2: no extension may appear twice (a second SAN list
    // would otherwise be read by some parsers and not others).
    let seen = seen.as_mut_slice();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(Fail {
            kind: DerErrorKind::DuplicateExtension,
            offset: w[1].1,
            field: None,
        });
    }
    Ok(kept)
}

/// The extensions seen so far (OID, offset): the first sixteen on the
/// stack (a certificate has about ten), any more on the heap.
#[derive(Default)]
pub(super) struct Seen<'a> {
    pub(super) inline: [(&'a [u8], usize); 16],
    pub(super) heap: Vec<(&'a [u8], usize)>,
    pub(super) len: usize,
}

impl<'a> Seen<'a> {
    pub(super) fn push(&mut self, entry: (&'a [u8], usize)) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = entry,
            None => {
                if self.heap.is_empty() {
                    self.heap.extend_from_slice(&self.inline);
                }
                self.heap.push(entry);
            }
        }
        self.len += 1;
    }

    pub(super) fn as_mut_slice(&mut self) -> &mut [(&'a [u8], usize)] {
        if self.heap.is_empty() {
            self.inline.get_mut(..self.len).unwrap_or_default()
        } else {
            &mut self.heap
        }
    }
}
