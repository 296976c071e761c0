//! A borrowed, read-only view of an X.509 certificate's fields.
//!
//! Every uncached request reads one certificate, and x509-cert's owned
//! `Certificate` costs several times the SHA-256 of the DER to build (the
//! generic `der` machinery and dozens of allocations), and cannot hold
//! object identifiers with arcs over 32 bits. This module reads only the
//! fields [`CertIdentity`](crate::inspect::CertIdentity) keeps, straight from the
//! DER, in one linear pass over the bytes. OIDs are compared by encoding
//! (as rustls-webpki does), so any valid OID is read. It verifies no
//! signature and validates no path (rustls-webpki does, in the `chain`
//! feature).
//!
//! Every nested structure is read through [`Der::nested`], which fails when
//! anything is left after the structure's last field: no reader can forget
//! to check for trailing data.
//!
//! | rule the reader enforces | clause | test that breaks it |
//! |---|---|---|
//! | low-tag-number identifiers; known universal types only | X.690 8.1.2 | `rule_tags` |
//! | definite, minimal lengths (no `0x80`, no leading zero octet, long form only from 128) | X.690 8.1.3, 10.1 | `rule_lengths` |
//! | no byte after the certificate, or after the last field of any structure | X.690 8.1.1; RFC 5280 4.1 | `rule_trailing_data` |
//! | INTEGERs in fewest octets | X.690 8.3.2 | `rule_canonical_values` |
//! | BOOLEAN `00` or `FF` | X.690 11.1 | `rule_canonical_values` |
//! | BIT STRING: at most 7 unused bits, all zero | X.690 8.6.2, 11.2 | `rule_canonical_values` |
//! | OIDs (attribute types, extensions, EKUs, registeredIDs, a key's curve): non-empty, minimal subidentifiers, at most 128 bytes | X.690 8.19.2 | `rule_oids`; `fuzz/regressions/decode_structured/non-canonical-curve-oid` |
//! | version v1, v2 or v3 | RFC 5280 4.1.2.1 | `rule_structure` |
//! | serial number at most 20 octets (21 with a sign byte) | RFC 5280 4.1.2.2 | `rule_structure` |
//! | UTCTime / GeneralizedTime in DER form | RFC 5280 4.1.2.5 | `rule_structure` |
//! | TBSCertificate fields in order; unique IDs and extensions optional; nothing unknown | RFC 5280 4.1 | `rule_structure` |
//! | non-empty RDNs, each `SEQUENCE { OID, value }` | RFC 5280 4.1.2.4 | `rule_names` |
//! | at most [`Limits::max_name_attributes`] attributes per name | our limit | `rule_names` |
//! | each extension once | RFC 5280 4.2 | `rule_extensions` |
//! | at most [`Limits::max_extensions`] extensions | our limit | `rule_extensions` |
//! | subjectAltName and extKeyUsage: non-empty lists; IA5 names ASCII; no x400Address or ediPartyName | RFC 5280 4.2.1.6, 4.2.1.12 | `rule_extensions` |
//!
//! Errors are typed ([`DerError`]): the field, the broken rule and the
//! byte offset in the DER; never a certificate byte.

use crate::error::{DerError, DerErrorKind, DerField};
use crate::limits::Limits;
use crate::oid::{self, Oid};

/// An error on its way out: the innermost reader sets the kind and offset,
/// the first enclosing field that knows its name sets the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail {
    kind: DerErrorKind,
    offset: usize,
    field: Option<DerField>,
}

impl Fail {
    /// Names the field, unless an inner reader already did.
    pub(crate) fn at(mut self, field: DerField) -> Self {
        self.field.get_or_insert(field);
        self
    }

    pub(crate) const fn finish(self) -> DerError {
        DerError::new(
            match self.field {
                Some(f) => f,
                None => DerField::Certificate,
            },
            self.kind,
            self.offset,
        )
    }
}

pub(crate) type Result<T> = core::result::Result<T, Fail>;

/// Names the field of an error that has none yet.
fn within<T>(field: DerField, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.at(field))
}

/// An identifier octet: what a TLV is. The reader accepts only
/// single-octet identifiers (every tag X.509 uses), so one octet is the
/// whole identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tag(pub(crate) u8);

/// The identifiers X.509 uses, by name.
pub(crate) mod tag {
    use super::Tag;

    pub(crate) const BOOLEAN: Tag = Tag(0x01);
    pub(crate) const INTEGER: Tag = Tag(0x02);
    pub(crate) const BIT_STRING: Tag = Tag(0x03);
    pub(crate) const OCTET_STRING: Tag = Tag(0x04);
    pub(crate) const OID: Tag = Tag(0x06);
    pub(crate) const UTF8_STRING: Tag = Tag(0x0c);
    pub(crate) const NUMERIC_STRING: Tag = Tag(0x12);
    pub(crate) const PRINTABLE_STRING: Tag = Tag(0x13);
    pub(crate) const TELETEX_STRING: Tag = Tag(0x14);
    pub(crate) const IA5_STRING: Tag = Tag(0x16);
    pub(crate) const UTC_TIME: Tag = Tag(0x17);
    pub(crate) const GENERALIZED_TIME: Tag = Tag(0x18);
    pub(crate) const VISIBLE_STRING: Tag = Tag(0x1a);
    pub(crate) const GENERAL_STRING: Tag = Tag(0x1b);
    pub(crate) const UNIVERSAL_STRING: Tag = Tag(0x1c);
    pub(crate) const BMP_STRING: Tag = Tag(0x1e);
    pub(crate) const SEQUENCE: Tag = Tag(0x30);
    pub(crate) const SET: Tag = Tag(0x31);

    /// `[n]` IMPLICIT, primitive.
    pub(crate) const fn context(n: u8) -> Tag {
        Tag(0x80 | n)
    }

    /// `[n]`, constructed (EXPLICIT, or IMPLICIT over a constructed type).
    pub(crate) const fn context_constructed(n: u8) -> Tag {
        Tag(0xa0 | n)
    }

    /// TBSCertificate `version [0] EXPLICIT`.
    pub(crate) const VERSION: Tag = context_constructed(0);
    /// TBSCertificate `issuerUniqueID [1] IMPLICIT`.
    pub(crate) const ISSUER_UID: Tag = context(1);
    /// TBSCertificate `subjectUniqueID [2] IMPLICIT`.
    pub(crate) const SUBJECT_UID: Tag = context(2);
    /// TBSCertificate `extensions [3] EXPLICIT`.
    pub(crate) const EXTENSIONS: Tag = context_constructed(3);

    /// GeneralName choices (RFC 5280 4.2.1.6).
    pub(crate) mod general_name {
        use super::{Tag, context, context_constructed};
        pub(crate) const OTHER_NAME: Tag = context_constructed(0);
        pub(crate) const RFC822: Tag = context(1);
        pub(crate) const DNS: Tag = context(2);
        pub(crate) const DIRECTORY: Tag = context_constructed(4);
        pub(crate) const URI: Tag = context(6);
        pub(crate) const IP: Tag = context(7);
        pub(crate) const REGISTERED_ID: Tag = context(8);
        /// `OtherName.value [0] EXPLICIT`.
        pub(crate) const OTHER_NAME_VALUE: Tag = context_constructed(0);
    }
}

/// The universal-class identifier octets accepted: the primitive types
/// X.509 uses (every string type X.520 allows among them), and only
/// SEQUENCE and SET constructed.
const UNIVERSAL: u64 = {
    let tags: [u8; 24] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x09, 0x0a, 0x0c, 0x0d, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1e, 0x30, 0x31,
    ];
    let mut mask = 0u64;
    let mut i = 0;
    while i < tags.len() {
        mask |= 1 << tags[i];
        i += 1;
    }
    mask
};

/// Whether an identifier octet may start a TLV: a universal type above,
/// or an application, context-specific or private tag in the
/// low-tag-number form (tag numbers of 31 and more appear nowhere in X.509).
const fn tag_allowed(tag: u8) -> bool {
    if tag < 0x40 {
        UNIVERSAL & (1 << tag) != 0
    } else {
        tag & 0x1f != 0x1f
    }
}

/// A DER reader over a byte slice: every method consumes whole TLVs.
/// `pos` is the offset of `rest` in the outermost input, for errors.
#[derive(Clone, Copy)]
pub(crate) struct Der<'a> {
    rest: &'a [u8],
    pos: usize,
}

/// One TLV: identifier octet, contents, the whole encoding, and where the
/// contents start in the outermost input.
#[derive(Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: Tag,
    pub(crate) value: &'a [u8],
    pub(crate) der: &'a [u8],
    pub(crate) value_pos: usize,
}

/// Where a TLV or a name's contents sit in the certificate's DER, so that
/// [`CertIdentity`](crate::inspect::CertIdentity) can read a part again on first
/// use without keeping a borrow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    start: usize,
    end: usize,
}

impl Span {
    /// The whole of an input `len` bytes long.
    #[cfg_attr(not(feature = "chain"), allow(dead_code))]
    pub(crate) const fn whole(len: usize) -> Self {
        Self { start: 0, end: len }
    }

    /// The bytes of `der` this span covers (empty if out of range, which
    /// cannot happen for the DER the span was taken from).
    pub(crate) fn of(self, der: &[u8]) -> &[u8] {
        der.get(self.start..self.end).unwrap_or_default()
    }
}

impl<'a> Tlv<'a> {
    /// Where the whole TLV sits in the outermost input.
    pub(crate) const fn span(&self) -> Span {
        let header = self.der.len() - self.value.len();
        Span {
            start: self.value_pos - header,
            end: self.value_pos + self.value.len(),
        }
    }

    /// The TLV at `span` of `der`, read again: `der` must be the input the
    /// span was taken from, whose TLV there was read successfully.
    pub(crate) fn reread(der: &'a [u8], span: Span) -> Result<Self> {
        Der {
            rest: span.of(der),
            pos: span.start,
        }
        .tlv()
    }

    /// A reader over the contents.
    pub(crate) const fn contents(&self) -> Der<'a> {
        Der {
            rest: self.value,
            pos: self.value_pos,
        }
    }

    /// Reads the contents with `f`, which must read them all: trailing
    /// data is an error, never forgotten (the one place, with
    /// [`Der::nested`] and [`Der::read_all`] built on it, that checks).
    #[inline]
    pub(crate) fn read_contents<T>(&self, f: impl FnOnce(&mut Der<'a>) -> Result<T>) -> Result<T> {
        let mut inner = self.contents();
        let out = f(&mut inner)?;
        inner.finish()?;
        Ok(out)
    }

    const fn fail(&self, kind: DerErrorKind) -> Fail {
        Fail {
            kind,
            offset: self.value_pos,
            field: None,
        }
    }
}

impl<'a> Der<'a> {
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            pos: 0,
        }
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    const fn fail(&self, kind: DerErrorKind) -> Fail {
        Fail {
            kind,
            offset: self.pos,
            field: None,
        }
    }

    fn peek(&self) -> Option<Tag> {
        self.rest.first().copied().map(Tag)
    }

    /// Reads one TLV with DER's framing rules.
    #[inline]
    pub(crate) fn tlv(&mut self) -> Result<Tlv<'a>> {
        let framing = self.fail(DerErrorKind::Framing);
        let all = self.rest;
        let (&tag, rest) = all.split_first().ok_or(framing)?;
        if !tag_allowed(tag) {
            return Err(framing);
        }
        let (&first, mut rest) = rest.split_first().ok_or(framing)?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            // Long form: 1..=4 length octets, no leading zero, and only
            // when the short form cannot say it (0x80, indefinite, is BER).
            let n = usize::from(first & 0x7f);
            if !(1..=4).contains(&n) || rest.len() < n {
                return Err(framing);
            }
            let (octets, after) = rest.split_at(n);
            if octets[0] == 0 {
                return Err(framing);
            }
            let len = octets
                .iter()
                .fold(0usize, |acc, &b| acc << 8 | usize::from(b));
            if len < 0x80 {
                return Err(framing);
            }
            rest = after;
            len
        };
        if rest.len() < len {
            return Err(framing);
        }
        let (value, after) = rest.split_at(len);
        let header = all.len() - rest.len();
        let value_pos = self.pos + header;
        self.rest = after;
        self.pos = value_pos + len;
        Ok(Tlv {
            tag: Tag(tag),
            value,
            der: &all[..header + len],
            value_pos,
        })
    }

    /// Reads a TLV that must carry `tag`.
    #[inline]
    pub(crate) fn expect(&mut self, tag: Tag) -> Result<Tlv<'a>> {
        let at = self.fail(DerErrorKind::UnexpectedTag);
        let t = self.tlv()?;
        if t.tag == tag { Ok(t) } else { Err(at) }
    }

    /// Reads a TLV only when the next one carries `tag`.
    #[inline]
    fn optional(&mut self, tag: Tag) -> Result<Option<Tlv<'a>>> {
        if self.peek() == Some(tag) {
            self.expect(tag).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Reads a TLV that must carry `tag` and hands a reader over its
    /// contents to `f`; fails when `f` leaves anything unread.
    #[inline]
    pub(crate) fn nested<T>(
        &mut self,
        tag: Tag,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        self.expect(tag)?.read_contents(f)
    }

    /// [`nested`](Self::nested) when the next TLV carries `tag`.
    #[inline]
    fn optional_nested<T>(
        &mut self,
        tag: Tag,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<Option<T>> {
        if self.peek() == Some(tag) {
            self.nested(tag, f).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Succeeds when nothing is left.
    const fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.fail(DerErrorKind::TrailingData))
        }
    }

    /// Reads a whole input that must be exactly one TLV carrying `tag`.
    pub(crate) fn read_all<T>(
        bytes: &'a [u8],
        tag: Tag,
        f: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<T> {
        let mut d = Self::new(bytes);
        let out = d.nested(tag, f)?;
        d.finish()?;
        Ok(out)
    }
}

/// What the chain check reads of a CRL (RFC 5280 §5.1), with this
/// module's DER rules: the signed bytes, the signature algorithm's
/// contents, the signature bits, `thisUpdate` (by [`time`], as every
/// certificate date) and the CRL number's contents (`id-ce-cRLNumber`).
#[cfg(feature = "chain")]
pub(crate) struct CrlView<'a> {
    pub(crate) tbs: &'a [u8],
    pub(crate) alg: &'a [u8],
    pub(crate) signature: &'a [u8],
    pub(crate) this_update: i64,
    pub(crate) number: Option<&'a [u8]>,
}

/// `cRLNumber`'s arc under `id-ce`.
#[cfg(feature = "chain")]
const CRL_NUMBER_ARC: u8 = 20;

#[cfg(feature = "chain")]
impl<'a> CrlView<'a> {
    /// Reads a whole `CertificateList`.
    pub(crate) fn parse(der: &'a [u8]) -> Result<Self> {
        Der::read_all(der, tag::SEQUENCE, |list| {
            let tbs = list.expect(tag::SEQUENCE)?;
            let (this_update, number) = tbs.read_contents(|t| {
                t.optional(tag::INTEGER)?;
                t.expect(tag::SEQUENCE)?;
                t.expect(tag::SEQUENCE)?;
                let this_update = time(t)?;
                if t.peek() == Some(tag::UTC_TIME) || t.peek() == Some(tag::GENERALIZED_TIME) {
                    time(t)?;
                }
                t.optional(tag::SEQUENCE)?;
                let number = t.optional_nested(tag::context_constructed(0), |e| {
                    e.nested(tag::SEQUENCE, |exts| {
                        let mut number = None;
                        while !exts.is_empty() {
                            exts.nested(tag::SEQUENCE, |ext| {
                                let id = oid_bytes(ext)?;
                                ext.optional(tag::BOOLEAN)?;
                                let value = ext.expect(tag::OCTET_STRING)?;
                                if id_ce_arc_of(id) == Some(CRL_NUMBER_ARC) {
                                    number = Some(value.read_contents(|n| {
                                        canonical_integer(&n.expect(tag::INTEGER)?)
                                    })?);
                                }
                                Ok(())
                            })?;
                        }
                        Ok(number)
                    })
                })?;
                Ok((this_update, number.flatten()))
            })?;
            let alg = list.expect(tag::SEQUENCE)?.value;
            let signature = bit_string(&list.expect(tag::BIT_STRING)?)?;
            Ok(Self {
                tbs: tbs.der,
                alg,
                signature,
                this_update,
                number,
            })
        })
    }
}

/// A `SubjectPublicKeyInfo`'s contents (a trust anchor's, as webpki holds
/// it): the algorithm identifier's contents and the key bits.
#[cfg(feature = "chain")]
pub(crate) fn spki_algorithm_and_key(contents: &[u8]) -> Result<(&[u8], &[u8])> {
    let mut d = Der::new(contents);
    let alg = d.expect(tag::SEQUENCE)?.value;
    let key = bit_string(&d.expect(tag::BIT_STRING)?)?;
    d.finish()?;
    Ok((alg, key))
}

/// INTEGER contents in DER: at least one byte, no redundant sign byte.
fn canonical_integer<'a>(t: &Tlv<'a>) -> Result<&'a [u8]> {
    match t.value {
        [] => Err(t.fail(DerErrorKind::NotCanonical)),
        [0x00, next, ..] if *next < 0x80 => Err(t.fail(DerErrorKind::NotCanonical)),
        [0xff, next, ..] if *next >= 0x80 => Err(t.fail(DerErrorKind::NotCanonical)),
        v => Ok(v),
    }
}

/// BIT STRING contents: the unused-bit count (0..=7, 0 when empty) and the
/// bytes, whose unused bits must be zero in DER.
fn bit_string<'a>(t: &Tlv<'a>) -> Result<&'a [u8]> {
    let bad = t.fail(DerErrorKind::NotCanonical);
    let (&unused, bits) = t.value.split_first().ok_or(bad)?;
    let last_ok = bits
        .last()
        .is_none_or(|b| b & ((1u8 << unused.min(7)) - 1) == 0);
    if unused > 7 || (bits.is_empty() && unused != 0) || !last_ok {
        return Err(bad);
    }
    Ok(bits)
}

/// An OID's contents, checked canonical (X.690 8.19.2) and borrowed.
#[inline]
fn oid_bytes<'a>(d: &mut Der<'a>) -> Result<&'a [u8]> {
    let t = d.expect(tag::OID)?;
    if oid::is_canonical(t.value) {
        Ok(t.value)
    } else {
        Err(t.fail(DerErrorKind::BadOid))
    }
}

fn read_oid(d: &mut Der<'_>) -> Result<Oid> {
    let t = d.expect(tag::OID)?;
    Oid::from_der(t.value).ok_or(t.fail(DerErrorKind::BadOid))
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
/// Returns the OID's contents (checked canonical) and the parameters'
/// whole TLV.
fn algorithm<'a>(d: &mut Der<'a>) -> Result<(&'a [u8], Option<Tlv<'a>>)> {
    d.nested(tag::SEQUENCE, |a| {
        let id = oid_bytes(a)?;
        let params = if a.is_empty() { None } else { Some(a.tlv()?) };
        Ok((id, params))
    })
}

/// A validity time, in seconds since the Unix epoch. Read here rather
/// than through x509-cert (a third of the cost of reading a certificate
/// went to its general date handling), with exactly its rules (the test
/// `times_agree_with_x509_cert` holds the two side by side): UTCTime
/// `YYMMDDHHMMSSZ` (years 50-99 are 19xx) or GeneralizedTime
/// `YYYYMMDDHHMMSSZ`, a real calendar date up to 9999, no leap second.
/// A date before 1970, which x509-cert refuses, is a real date under RFC
/// 5280 (UTCTime 50-69 means 1950-1969; NIST's PKITS has such a
/// `notBefore`): it reads as the negative number of seconds it is, so that
/// it is reported as written. (rustls-webpki reads no such date, so a chain
/// through one is refused as `time_before_1970`.)
fn time(d: &mut Der<'_>) -> Result<i64> {
    let bad = d.fail(DerErrorKind::BadTime);
    let t = d.tlv()?;
    let (year, rest) = match (t.tag, t.value) {
        (tag::UTC_TIME, &[y1, y2, ref rest @ ..]) if rest.len() == 11 => {
            let yy = i64::from(decimal(y1, y2).ok_or(bad)?);
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, rest)
        }
        (tag::GENERALIZED_TIME, &[y1, y2, y3, y4, ref rest @ ..]) if rest.len() == 11 => {
            let (hi, lo) = (decimal(y1, y2).ok_or(bad)?, decimal(y3, y4).ok_or(bad)?);
            (i64::from(hi) * 100 + i64::from(lo), rest)
        }
        _ => return Err(bad),
    };
    let &[m1, m2, d1, d2, h1, h2, n1, n2, s1, s2, b'Z'] = rest else {
        return Err(bad);
    };
    let field = |a, b, range: core::ops::RangeInclusive<u8>| {
        decimal(a, b).filter(|v| range.contains(v)).map(i64::from)
    };
    let (month, hour, minute, second) = (
        field(m1, m2, 1..=12).ok_or(bad)?,
        field(h1, h2, 0..=23).ok_or(bad)?,
        field(n1, n2, 0..=59).ok_or(bad)?,
        field(s1, s2, 0..=59).ok_or(bad)?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    let day = field(d1, d2, 1..=days_in_month).ok_or(bad)?;
    Ok(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Two ASCII digits as a number.
const fn decimal(hi: u8, lo: u8) -> Option<u8> {
    if hi.is_ascii_digit() && lo.is_ascii_digit() {
        Some((hi - b'0') * 10 + (lo - b'0'))
    } else {
        None
    }
}

/// Days from 1970-01-01 to a valid proleptic Gregorian date of years 1 to
/// 9999, negative before it (the usual days-from-civil arithmetic, with
/// years counted from March so that the leap day ends a year).
pub(crate) const fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (negative before it): the
/// inverse of [`days_from_civil`].
const fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

/// Seconds since the Unix epoch (negative before it) as RFC 3339 in UTC,
/// `YYYY-MM-DDTHH:MM:SSZ`: a validity date as the certificate wrote it,
/// 1950 as 1950.
pub(crate) fn rfc3339(secs: i64) -> String {
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// A `Name` (`SEQUENCE OF SET OF SEQUENCE { OID, ANY }`): its contents,
/// whose structure is checked as they are walked ([`NameRef::walk`]).
#[derive(Clone, Copy)]
pub(crate) struct NameRef<'a> {
    content: Der<'a>,
}

/// One attribute of a name: type (canonical OID contents) and value
/// (identifier octet, contents and whole TLV).
pub(crate) struct Attribute<'a> {
    pub(crate) oid: &'a [u8],
    pub(crate) tag: Tag,
    pub(crate) value: &'a [u8],
    pub(crate) der: &'a [u8],
}

impl<'a> NameRef<'a> {
    fn read(d: &mut Der<'a>) -> Result<Self> {
        Ok(Self {
            content: d.expect(tag::SEQUENCE)?.contents(),
        })
    }

    /// Where the name's contents sit in the outermost input.
    pub(crate) const fn span(&self) -> Span {
        Span {
            start: self.content.pos,
            end: self.content.pos + self.content.rest.len(),
        }
    }

    /// The name whose contents are at `span` of `der` (taken from
    /// [`span`](Self::span) on the same input).
    pub(crate) fn at(der: &'a [u8], span: Span) -> Self {
        Self {
            content: Der {
                rest: span.of(der),
                pos: span.start,
            },
        }
    }

    /// The name's contents as encoded: what rustls-webpki compares.
    pub(crate) const fn bytes(&self) -> &'a [u8] {
        self.content.rest
    }

    /// Calls `f(rdn_index, attribute)` for each attribute, in encoded
    /// order, refusing more than `max` attributes.
    pub(crate) fn walk(
        &self,
        max: usize,
        mut f: impl FnMut(usize, Attribute<'a>) -> Result<()>,
    ) -> Result<()> {
        let mut sets = self.content;
        let mut i = 0;
        let mut count = 0;
        while !sets.is_empty() {
            let empty = sets.fail(DerErrorKind::EmptyList);
            sets.nested(tag::SET, |avas| {
                // RelativeDistinguishedName ::= SET SIZE (1..MAX) OF ...
                if avas.is_empty() {
                    return Err(empty);
                }
                while !avas.is_empty() {
                    count += 1;
                    if count > max {
                        return Err(avas.fail(DerErrorKind::TooManyNameAttributes));
                    }
                    let attribute = avas.nested(tag::SEQUENCE, |ava| {
                        let oid = oid_bytes(ava)?;
                        let value = ava.tlv()?;
                        Ok(Attribute {
                            oid,
                            tag: value.tag,
                            value: value.value,
                            der: value.der,
                        })
                    })?;
                    f(i, attribute)?;
                }
                Ok(())
            })?;
            i += 1;
        }
        Ok(())
    }

    /// Checks the structure without keeping anything.
    pub(crate) fn check(&self, max: usize) -> Result<()> {
        self.walk(max, |_, _| Ok(()))
    }
}

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
fn spki_parts<'a>(spki: &mut Der<'a>) -> Result<(&'a [u8], Option<Tlv<'a>>, &'a [u8])> {
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
const ID_CE: [u8; 2] = [0x55, 0x1d];

/// The last arc of an OID directly under `id-ce` (contents `55 1D x`);
/// `None` for anything else.
const fn id_ce_arc_of(contents: &[u8]) -> Option<u8> {
    match contents {
        &[a, b, arc] if a == ID_CE[0] && b == ID_CE[1] => Some(arc),
        _ => None,
    }
}

/// [`id_ce_arc_of`] for a known OID; 0, which names no extension kept
/// here, for anything else.
const fn id_ce_arc(oid: &const_oid::ObjectIdentifier) -> u8 {
    match id_ce_arc_of(oid.as_bytes()) {
        Some(arc) => arc,
        None => 0,
    }
}

const SUBJECT_ALT_NAME_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME);
const EXT_KEY_USAGE_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_EXT_KEY_USAGE);
const BASIC_CONSTRAINTS_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_BASIC_CONSTRAINTS);
const KEY_USAGE_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_KEY_USAGE);
const CERTIFICATE_POLICIES_ARC: u8 = id_ce_arc(&const_oid::db::rfc5280::ID_CE_CERTIFICATE_POLICIES);

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

    fn tbs(d: &mut Der<'a>, limits: &Limits) -> Result<Self> {
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
fn extensions_kept<'a>(list: &mut Der<'a>, max: usize) -> Result<KeptExtensions<'a>> {
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
struct Seen<'a> {
    inline: [(&'a [u8], usize); 16],
    heap: Vec<(&'a [u8], usize)>,
    len: usize,
}

impl<'a> Seen<'a> {
    fn push(&mut self, entry: (&'a [u8], usize)) {
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

    fn as_mut_slice(&mut self) -> &mut [(&'a [u8], usize)] {
        if self.heap.is_empty() {
            self.inline.get_mut(..self.len).unwrap_or_default()
        } else {
            &mut self.heap
        }
    }
}

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

fn ia5<'a>(t: &Tlv<'a>) -> Result<Ia5<'a>> {
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
fn read_list<'a>(value: &Tlv<'a>, mut item: impl FnMut(&mut Der<'a>) -> Result<()>) -> Result<()> {
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

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    fn kind(r: Result<impl Sized>) -> Option<DerErrorKind> {
        r.err().map(|e| e.kind)
    }

    #[test]
    fn kept_extensions_are_id_ce() {
        // 2.5.29.17, .37, .19 and .15.
        assert_eq!(
            [
                SUBJECT_ALT_NAME_ARC,
                EXT_KEY_USAGE_ARC,
                BASIC_CONSTRAINTS_ARC,
                KEY_USAGE_ARC
            ],
            [17, 37, 19, 15]
        );
    }

    /// The reference for [`time`]: x509-cert's `Time`, in seconds.
    fn reference_time(tag: Tag, text: &[u8]) -> Option<i64> {
        use der::Decode as _;
        let mut der = vec![tag.0, u8::try_from(text.len()).ok()?];
        der.extend_from_slice(text);
        let t = x509_cert::time::Time::from_der(&der).ok()?;
        i64::try_from(t.to_unix_duration().as_secs()).ok()
    }

    /// x509-cert's reading, and where it has none because the date is a
    /// real one before 1970: the same text with the year moved to 1971 or
    /// 1972 (same leap rule) read there, less the days of the years
    /// between, counted one year at a time.
    fn expected_time(tag: Tag, text: &[u8]) -> Option<i64> {
        reference_time(tag, text).or_else(|| {
            let digits = if tag == tag::GENERALIZED_TIME { 4 } else { 2 };
            let y: i64 = std::str::from_utf8(text.get(..digits)?)
                .ok()?
                .parse()
                .ok()?;
            if !text[..digits].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let year = match digits {
                4 => y,
                _ if y >= 50 => 1900 + y,
                _ => 2000 + y,
            };
            if year >= 1970 {
                return None;
            }
            let is_leap = |y: i64| y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let moved: i64 = if is_leap(year) { 1972 } else { 1971 };
            let mut t = moved.to_string().as_bytes()[4 - digits..].to_vec();
            t.extend_from_slice(&text[digits..]);
            let days: i64 = (year..moved)
                .map(|y| if is_leap(y) { 366 } else { 365 })
                .sum();
            reference_time(tag, &t).map(|secs| secs - days * 86_400)
        })
    }

    fn our_time(tag: Tag, text: &[u8]) -> Option<i64> {
        let mut der = vec![tag.0, u8::try_from(text.len()).ok()?];
        der.extend_from_slice(text);
        let mut d = Der::new(&der);
        time(&mut d).ok()
    }

    #[test]
    fn dates_before_1970_read_and_print_as_written() {
        for (text, secs, shown) in [
            (&b"500101000000Z"[..], -631_152_000, "1950-01-01T00:00:00Z"),
            (b"691231235959Z", -1, "1969-12-31T23:59:59Z"),
            (b"700101000000Z", 0, "1970-01-01T00:00:00Z"),
        ] {
            assert_eq!(our_time(tag::UTC_TIME, text), Some(secs));
            assert_eq!(rfc3339(secs), shown);
        }
        assert_eq!(
            our_time(tag::GENERALIZED_TIME, b"19000228120000Z").map(rfc3339),
            Some("1900-02-28T12:00:00Z".to_owned())
        );
        // Bounds of the arithmetic: no overflow at either end.
        assert!(rfc3339(i64::MAX).len() > 20);
        assert!(!rfc3339(i64::MIN / 2).is_empty());
    }

    #[test]
    fn times_agree_with_x509_cert() {
        // Every month and day boundary over leap and common years, century
        // rules included, both encodings, and the edges of each field.
        let mut checked = 0;
        let mut accepted = 0;
        for year in [
            1949u32, 1950, 1969, 1970, 1971, 1999, 2000, 2024, 2026, 2049, 2050, 2100, 2400, 9999,
        ] {
            for month in 0..=13u32 {
                for day in [0u32, 1, 2, 28, 29, 30, 31, 32] {
                    for (h, m, s) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)] {
                        let gt = format!("{year:04}{month:02}{day:02}{h:02}{m:02}{s:02}Z");
                        let ut = &gt[2..];
                        for (tag, text) in [
                            (tag::GENERALIZED_TIME, gt.as_bytes()),
                            (tag::UTC_TIME, ut.as_bytes()),
                        ] {
                            let ours = our_time(tag, text);
                            assert_eq!(ours, expected_time(tag, text), "{tag:?} {gt}");
                            checked += 1;
                            accepted += usize::from(ours.is_some());
                        }
                    }
                }
            }
        }
        assert!(
            accepted > 1000 && checked - accepted > 1000,
            "{accepted}/{checked}"
        );
        // Not DER: fractions, offsets, missing seconds, a wrong tag.
        for text in [
            &b"20260101000000.5Z"[..],
            b"20260101000000+0100",
            b"202601010000Z",
            b"2601010000Z",
            b"260101000000z",
            b"26010100000 Z",
        ] {
            for tag in [tag::GENERALIZED_TIME, tag::UTC_TIME, tag::OCTET_STRING] {
                assert_eq!(our_time(tag, text), None, "{text:?}");
                assert_eq!(reference_time(tag, text), None, "{text:?}");
            }
        }
    }

    proptest::proptest! {
        /// Every second of years 1 to 9999 prints as a date that reads back
        /// as that second.
        #[test]
        fn rfc3339_reads_back_as_itself(secs in -62_135_596_800i64..253_402_300_800) {
            let shown = rfc3339(secs);
            let text: String = shown.chars().filter(char::is_ascii_digit).collect();
            let text = format!("{text}Z");
            proptest::prop_assert_eq!(our_time(tag::GENERALIZED_TIME, text.as_bytes()), Some(secs));
        }

        /// Any 13 or 15 bytes of digits and a few others, as either time.
        #[test]
        fn times_agree_with_x509_cert_on_any_text(
            text in proptest::collection::vec(
                proptest::sample::select(b"0123456789Z+.-".to_vec()), 11..17),
            generalized in proptest::bool::ANY,
        ) {
            let tag = if generalized { tag::GENERALIZED_TIME } else { tag::UTC_TIME };
            proptest::prop_assert_eq!(our_time(tag, &text), expected_time(tag, &text));
        }

        /// Every valid second from 1970 to 9999 reads back as itself, and
        /// prints as x509-cert's DateTime does.
        #[test]
        fn times_agree_with_x509_cert_on_valid_dates(secs in 0u64..253_402_300_800) {
            let dt = der::DateTime::from_unix_duration(core::time::Duration::from_secs(secs)).unwrap();
            let text = format!(
                "{:04}{:02}{:02}{:02}{:02}{:02}Z",
                dt.year(), dt.month(), dt.day(), dt.hour(), dt.minutes(), dt.seconds()
            );
            let signed = i64::try_from(secs).unwrap();
            proptest::prop_assert_eq!(rfc3339(signed), dt.to_string());
            proptest::prop_assert_eq!(our_time(tag::GENERALIZED_TIME, text.as_bytes()), Some(signed));
            if (1950..2050).contains(&dt.year()) {
                proptest::prop_assert_eq!(our_time(tag::UTC_TIME, &text.as_bytes()[2..]), Some(signed));
            }
        }
    }

    #[test]
    fn rule_lengths() {
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
        assert_eq!(Der::new(&v).tlv().map(|t| t.value.len()).ok(), Some(0x80));
        // length past the end
        assert_eq!(
            kind(Der::new(&[0x04, 0x05, 1]).tlv()),
            Some(DerErrorKind::Framing)
        );
        // five length octets
        assert!(Der::new(&[0x04, 0x85, 1, 0, 0, 0, 0]).tlv().is_err());
    }

    #[test]
    fn rule_tags() {
        // high-tag-number form
        assert!(Der::new(&[0x1f, 0x81, 0x00, 0x00]).tlv().is_err());
        assert!(Der::new(&[0xbf, 0x81, 0x00, 0x00]).tlv().is_err());
        // reserved and unknown universal tags, constructed strings
        for t in [0x00, 0x07, 0x08, 0x0e, 0x1f, 0x20, 0x2c, 0x33, 0x3f] {
            assert!(Der::new(&[t, 0x00]).tlv().is_err(), "{t:#x}");
        }
        // every X.520 string type, SEQUENCE, SET, context tags
        for t in [
            0x05, 0x0c, 0x13, 0x14, 0x1c, 0x1e, 0x19, 0x1b, 0x30, 0x31, 0x40, 0x80, 0xa3, 0xc0,
        ] {
            assert!(Der::new(&[t, 0x00]).tlv().is_ok(), "{t:#x}");
        }
    }

    #[test]
    fn rule_trailing_data() {
        // A SEQUENCE holding an INTEGER and one stray byte.
        let bytes = [0x30, 0x04, 0x02, 0x01, 0x05, 0x00];
        let r = Der::read_all(&bytes, tag::SEQUENCE, |s| s.expect(tag::INTEGER).map(drop));
        assert_eq!(
            r.err().map(|e| (e.kind, e.offset)),
            Some((DerErrorKind::TrailingData, 5))
        );
        // After the outer TLV.
        let r = Der::read_all(&[0x30, 0x00, 0x00], tag::SEQUENCE, |_| Ok(()));
        assert_eq!(kind(r), Some(DerErrorKind::TrailingData));
    }

    fn tlv(bytes: &[u8]) -> Tlv<'_> {
        Der::new(bytes).tlv().unwrap()
    }

    #[test]
    fn rule_canonical_values() {
        let int = |v: &[u8]| {
            let mut b = vec![0x02, v.len() as u8];
            b.extend(v);
            canonical_integer(&tlv(&b)).is_ok()
        };
        assert!(!int(&[]));
        assert!(!int(&[0x00, 0x7f]));
        assert!(!int(&[0xff, 0x80]));
        assert!(int(&[0x00, 0x80]));
        assert!(int(&[0x00]));
        let bits = |v: &[u8]| {
            let mut b = vec![0x03, v.len() as u8];
            b.extend(v);
            bit_string(&tlv(&b)).is_ok()
        };
        assert!(!bits(&[]));
        assert!(bits(&[0]));
        assert!(!bits(&[1]));
        assert!(!bits(&[8, 0]));
        assert!(bits(&[3, 0b1111_1000]));
        assert!(!bits(&[3, 0b1111_1100]));
    }

    #[test]
    fn rule_oids() {
        let read = |v: &[u8]| {
            let mut b = vec![0x06, v.len() as u8];
            b.extend(v);
            oid_bytes(&mut Der::new(&b)).map(<[u8]>::len)
        };
        assert_eq!(read(&[0x55, 0x04, 0x03]).ok(), Some(3));
        // 2.25.<128-bit UUID>: one arc of 19 bytes
        let mut uuid = vec![0x69];
        uuid.extend([0x83; 18]);
        uuid.push(0x7f);
        assert!(read(&uuid).is_ok());
        assert_eq!(kind(read(&[])), Some(DerErrorKind::BadOid));
        assert_eq!(kind(read(&[0x55, 0x80, 0x03])), Some(DerErrorKind::BadOid));
        assert_eq!(kind(read(&[0x55, 0x84])), Some(DerErrorKind::BadOid));
    }
}

/// The rules of the module table, broken one at a time in certificates
/// generated with rcgen.
#[cfg(test)]
mod rules {
    #![expect(clippy::unwrap_used, clippy::expect_used)]
    use rcgen::{
        CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, KeyPair, SerialNumber,
    };

    use super::{DerErrorKind as K, DerField as F};
    use crate::cert::CertIdentity;
    use crate::limits::Limits;

    fn params() -> CertificateParams {
        let mut p = CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, "rules");
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p
    }

    fn der(p: CertificateParams) -> Vec<u8> {
        p.self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    fn replace(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let at = der
            .windows(from.len())
            .position(|w| w == from)
            .expect("found");
        let mut out = der.to_vec();
        out[at..at + from.len()].copy_from_slice(to);
        out
    }

    fn error(der: Vec<u8>, limits: &Limits) -> (F, K) {
        let e = CertIdentity::from_der_with(der, limits).unwrap_err();
        assert_eq!(e.kind().code(), "bad_der");
        let d = e.der_error().expect("a DER error");
        assert!(d.offset() > 0);
        (d.field(), d.kind())
    }

    #[test]
    fn rule_structure() {
        let ok = der(params());
        assert!(CertIdentity::from_der(ok.clone()).is_ok());
        // version [0] { INTEGER 2 } -> 3
        let v4 = replace(
            &ok,
            &[0xa0, 0x03, 0x02, 0x01, 0x02],
            &[0xa0, 0x03, 0x02, 0x01, 0x03],
        );
        assert_eq!(
            error(v4, &Limits::DEFAULT),
            (F::Version, K::UnsupportedVersion)
        );
        let mut p = params();
        p.serial_number = Some(SerialNumber::from_slice(&[0x11; 22]));
        assert_eq!(
            error(der(p), &Limits::DEFAULT),
            (F::SerialNumber, K::SerialTooLong)
        );
        // The first digit of notBefore (UTCTime "YY...") made a letter.
        let at = ok.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        let mut bad_time = ok.clone();
        bad_time[at + 2] = b'X';
        assert_eq!(error(bad_time, &Limits::DEFAULT), (F::Validity, K::BadTime));
    }

    #[test]
    fn rule_names() {
        let mut p = params();
        for i in 0..65u64 {
            p.distinguished_name
                .push(DnType::CustomDnType(vec![1, 2, 3, i]), "x");
        }
        let many = der(p);
        assert_eq!(
            error(many.clone(), &Limits::DEFAULT),
            (F::Issuer, K::TooManyNameAttributes)
        );
        let roomy = Limits::DEFAULT.max_name_attributes(66);
        assert!(CertIdentity::from_der_with(many, &roomy).is_ok());
        // An empty RDN: the issuer's SET { SEQUENCE { CN "rules" } } made an
        // empty SET followed by a TLV of the same total length.
        let ok = der(params());
        let cn = [
            0x31, 0x0e, 0x30, 0x0c, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x05,
        ];
        let mut empty = cn;
        empty[..4].copy_from_slice(&[0x31, 0x00, 0x05, 0x0c]);
        let (field, kind) = error(replace(&ok, &cn, &empty), &Limits::DEFAULT);
        assert_eq!((field, kind), (F::Issuer, K::EmptyList));
    }

    #[test]
    fn rule_extensions() {
        let mut p = params();
        p.custom_extensions = (0..70u64)
            .map(|i| CustomExtension::from_oid_content(&[1, 2, 3, i], vec![0x05, 0x00]))
            .collect();
        let many = der(p);
        assert_eq!(
            error(many.clone(), &Limits::DEFAULT),
            (F::Extensions, K::TooManyExtensions)
        );
        assert!(CertIdentity::from_der_with(many, &Limits::DEFAULT.max_extensions(80)).is_ok());
        // A duplicate found among the first sixteen (kept on the stack) and
        // past them (on the heap), against one either side.
        for (count, first, second) in [(10u64, 2u64, 9u64), (30, 3, 25), (30, 20, 28)] {
            let mut p = params();
            p.custom_extensions = (0..count)
                .map(|i| {
                    let arc = if i == second { first } else { i };
                    CustomExtension::from_oid_content(&[1, 2, 3, arc], vec![0x05, 0x00])
                })
                .collect();
            assert_eq!(
                error(der(p), &Limits::DEFAULT),
                (F::Extensions, K::DuplicateExtension),
                "{count} {first} {second}"
            );
        }
        let ok = der(params());
        // The EKU's extnID made a second subjectAltName.
        let dup = replace(
            &ok,
            &[0x06, 0x03, 0x55, 0x1d, 0x25],
            &[0x06, 0x03, 0x55, 0x1d, 0x11],
        );
        assert_eq!(
            error(dup, &Limits::DEFAULT),
            (F::Extensions, K::DuplicateExtension)
        );
        // A DNS name that is not ASCII.
        let not_ia5 = replace(&ok, b"a.example", b"\xc3.example");
        assert_eq!(
            error(not_ia5, &Limits::DEFAULT),
            (F::SubjectAltName, K::BadString)
        );
        // ESC, BEL, CR, LF, NUL, DEL in a DNS name.
        for c in [0x1b, 0x07, b'\r', b'\n', 0, 0x7f] {
            let ctl = replace(
                &ok,
                b"a.example",
                &[b'a', c, b'e', b'x', b'a', b'm', b'p', b'l', b'e'],
            );
            assert_eq!(
                error(ctl, &Limits::DEFAULT),
                (F::SubjectAltName, K::ControlCharacter),
                "{c:#x}"
            );
        }
    }
}

/// [`CrlView`] on real CRLs and on anything an answer on the fetch path
/// can hold (feature `chain`): it reads rcgen's CRLs as they are and never
/// panics.
#[cfg(all(test, feature = "chain"))]
mod crls {
    #![expect(clippy::unwrap_used)]
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, IsCa, Issuer,
        KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber, date_time_ymd,
    };

    use super::CrlView;

    fn crl(number: u64) -> Vec<u8> {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = Issuer::new(p, KeyPair::generate().unwrap());
        CertificateRevocationListParams {
            this_update: date_time_ymd(2025, 3, 4),
            next_update: date_time_ymd(2045, 1, 1),
            crl_number: SerialNumber::from(number),
            issuing_distribution_point: None,
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&issuer)
        .unwrap()
        .der()
        .to_vec()
    }

    #[test]
    fn reads_this_update_and_the_crl_number() {
        let der = crl(300);
        let v = CrlView::parse(&der).unwrap();
        assert_eq!(super::rfc3339(v.this_update), "2025-03-04T00:00:00Z");
        // The INTEGER's contents, canonical: 300 = 0x012c.
        assert_eq!(v.number, Some(&[0x01, 0x2c][..]));
        assert!(!v.signature.is_empty() && v.tbs.len() < der.len());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_a_mutated_crl(at in 0usize..400, byte in proptest::num::u8::ANY, cut in 0usize..400) {
            let mut der = crl(7);
            let at = at % der.len();
            der[at] = byte;
            der.truncate(der.len() - cut % der.len());
            let _ = CrlView::parse(&der);
        }

        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = CrlView::parse(&bytes);
            let _ = super::spki_algorithm_and_key(&bytes);
        }
    }
}
