//! The DER reader: tags, lengths and nested structures, every rule of
//! X.690's DER checked as it is read, and the primitive values (INTEGER,
//! BIT STRING, OID, AlgorithmIdentifier) read canonically.

use crate::error::{DerError, DerErrorKind, DerField};
use crate::oid::{self, Oid};

/// An error on its way out: the innermost reader sets the kind and offset,
/// the first enclosing field that knows its name sets the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fail {
    pub(super) kind: DerErrorKind,
    pub(super) offset: usize,
    pub(super) field: Option<DerField>,
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
pub(super) fn within<T>(field: DerField, r: Result<T>) -> Result<T> {
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
pub(super) const UNIVERSAL: u64 = {
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
pub(super) const fn tag_allowed(tag: u8) -> bool {
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
    pub(super) rest: &'a [u8],
    pub(super) pos: usize,
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
    pub(super) start: usize,
    pub(super) end: usize,
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

    pub(super) const fn fail(&self, kind: DerErrorKind) -> Fail {
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

    pub(super) const fn fail(&self, kind: DerErrorKind) -> Fail {
        Fail {
            kind,
            offset: self.pos,
            field: None,
        }
    }

    pub(super) fn peek(&self) -> Option<Tag> {
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
    pub(super) fn optional(&mut self, tag: Tag) -> Result<Option<Tlv<'a>>> {
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
    pub(super) fn optional_nested<T>(
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
    pub(super) const fn finish(&self) -> Result<()> {
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

/// INTEGER contents in DER: at least one byte, no redundant sign byte.
pub(super) fn canonical_integer<'a>(t: &Tlv<'a>) -> Result<&'a [u8]> {
    match t.value {
        [] => Err(t.fail(DerErrorKind::NotCanonical)),
        [0x00, next, ..] if *next < 0x80 => Err(t.fail(DerErrorKind::NotCanonical)),
        [0xff, next, ..] if *next >= 0x80 => Err(t.fail(DerErrorKind::NotCanonical)),
        v => Ok(v),
    }
}

/// BIT STRING contents: the unused-bit count (0..=7, 0 when empty) and the
/// bytes, whose unused bits must be zero in DER.
pub(super) fn bit_string<'a>(t: &Tlv<'a>) -> Result<&'a [u8]> {
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
pub(super) fn oid_bytes<'a>(d: &mut Der<'a>) -> Result<&'a [u8]> {
    let t = d.expect(tag::OID)?;
    if oid::is_canonical(t.value) {
        Ok(t.value)
    } else {
        Err(t.fail(DerErrorKind::BadOid))
    }
}

pub(super) fn read_oid(d: &mut Der<'_>) -> Result<Oid> {
    let t = d.expect(tag::OID)?;
    Oid::from_der(t.value).ok_or(t.fail(DerErrorKind::BadOid))
}

/// `AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL }`.
/// Returns the OID's contents (checked canonical) and the parameters'
/// whole TLV.
pub(super) fn algorithm<'a>(d: &mut Der<'a>) -> Result<(&'a [u8], Option<Tlv<'a>>)> {
    d.nested(tag::SEQUENCE, |a| {
        let id = oid_bytes(a)?;
        let params = if a.is_empty() { None } else { Some(a.tlv()?) };
        Ok((id, params))
    })
}
