//! Names (issuer and subject) read in place: RDNs and their attributes.

use super::reader::{Der, Result, Span, Tag, oid_bytes, tag};
use crate::error::DerErrorKind;

/// A `Name` (`SEQUENCE OF SET OF SEQUENCE { OID, ANY }`): its contents,
/// whose structure is checked as they are walked ([`NameRef::walk`]).
#[derive(Clone, Copy)]
pub(crate) struct NameRef<'a> {
    pub(super) content: Der<'a>,
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
    pub(super) fn read(d: &mut Der<'a>) -> Result<Self> {
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
