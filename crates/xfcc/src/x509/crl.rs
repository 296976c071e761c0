//! What the chain check reads of a CRL.

use super::cert::id_ce_arc_of;
use super::reader::{Der, Result, bit_string, canonical_integer, oid_bytes, tag};
use super::time::time;

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
pub(super) const CRL_NUMBER_ARC: u8 = 20;

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
