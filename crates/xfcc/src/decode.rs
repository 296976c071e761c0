//! An element's certificate and chain, decoded ([`ForwardedCert`]): the
//! text is turned into DER by [`crate::text`], read by [`crate::cert`], then
//! checked against the rest of the element by [`crate::consistency`], which
//! sits below this module.

use crate::cert::CertIdentity;
use crate::error::{CertErrorKind as C, Error, Field};
use crate::forwarded::ForwardedCert;
use crate::limits::Limits;
use crate::parse::{Element, XfccHeader};
use crate::text::{decode_certificates, decode_one};

/// Decodes one certificate value in any of the encodings proxies and
/// recipes use: URL-encoded PEM (Envoy, nginx, AWS ALB), `\n`-escaped PEM
/// (what the published regex recipes assume), raw PEM, or bare base64 DER
/// (Azure App Service, Traefik, Cloud Foundry).
///
/// Percent-decoding follows RFC 3986: only `%XX` is decoded and `+` stays
/// `+` (form decoding would corrupt base64).
///
/// # Errors
/// [`CertErrorKind`](crate::error::CertErrorKind) for bad encoding, PEM or DER,
/// or for more than one certificate.
///
/// ```
/// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
/// use xfcc::inspect::decode_certificate;
/// let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&der);
/// let pem = format!("-----BEGIN CERTIFICATE-----\\n{b64}\\n-----END CERTIFICATE-----\\n");
/// let cert = decode_certificate(&pem)?; // `\n`-escaped PEM, as the recipes see it
/// assert_eq!(cert.der(), &der[..]);
/// # Ok::<(), xfcc::error::Error>(())
/// ```
pub fn decode_certificate(value: &str) -> Result<CertIdentity, Error> {
    let der = decode_one(value, Field::Cert)?;
    CertIdentity::from_der(der)
}

impl Element<'_> {
    /// Decodes the element's certificate (`Cert`, or the first of `Chain`
    /// when `Cert` is absent) and chain, and checks that `Hash`, `Chain`,
    /// `Subject`, `URI` and `DNS` agree with it.
    ///
    /// # Errors
    /// - [`CertErrorKind::NoCertificate`](crate::error::CertErrorKind::NoCertificate)
    ///   when the element has neither `Cert` nor `Chain`;
    /// - other [`CertErrorKind`](crate::error::CertErrorKind)s when they do not decode;
    /// - [`ErrorKind::Inconsistent`](crate::error::ErrorKind::Inconsistent) for the
    ///   first disagreement found.
    ///
    /// Every error names this element's index.
    pub fn decode(&self) -> Result<ForwardedCert, Error> {
        self.decode_with(&Limits::DEFAULT)
    }

    /// As [`decode`](Self::decode), with `limits.chain()` bounding the chain.
    ///
    /// # Errors
    /// As [`decode`](Self::decode).
    pub fn decode_with(&self, limits: &Limits) -> Result<ForwardedCert, Error> {
        let fc = self
            .decode_unchecked(limits)?
            .ok_or_else(|| Error::cert(C::NoCertificate, Field::Cert).with_element(self.index()))?;
        if let Some(problem) = self.inconsistencies(&fc).next() {
            return Err(Error::inconsistent(problem).with_element(self.index()));
        }
        Ok(fc)
    }

    /// Decodes `Cert` and `Chain` without any consistency check (feature
    /// `hazmat`). `Ok(None)` when the element carries neither.
    ///
    /// # Security
    /// Nothing here ties the certificate to the rest of the element: a
    /// client can smuggle another element's `Hash`/`Cert` into a SAN that
    /// Envoy writes unquoted (envoyproxy/envoy#32945). Authenticate with
    /// [`decode`](Self::decode) or the policy; this is for tools that show
    /// what was sent (`xfcc inspect`, then
    /// [`inconsistencies`](Self::inconsistencies)).
    ///
    /// # Errors
    /// [`CertErrorKind`](crate::error::CertErrorKind) errors naming this element.
    #[cfg(feature = "hazmat")]
    pub fn decode_without_checks(&self, limits: &Limits) -> Result<Option<ForwardedCert>, Error> {
        self.decode_unchecked(limits)
    }

    /// [`decode_without_checks`](Self::decode_without_checks), for the
    /// crate's own callers, which check what it returns.
    pub(crate) fn decode_unchecked(&self, limits: &Limits) -> Result<Option<ForwardedCert>, Error> {
        if self.is_json() {
            return self.decode_json(limits);
        }
        let at = |e: Error, offset: usize| e.with_element(self.index()).with_offset(offset);
        let cert = match self.cert() {
            Some(v) => Some((
                v,
                decode_one(v.raw(), Field::Cert).map_err(|e| at(e, v.offset()))?,
            )),
            None => None,
        };
        // Envoy's Chain starts with exactly the text of Cert: its DER is the
        // leaf's, so it is neither decoded nor stored again. Only the rest
        // is decoded.
        let (chain, starts_with_leaf) = match self.chain() {
            Some(v) => match &cert {
                Some((c, _)) if v.raw().len() >= c.raw().len() && v.raw().starts_with(c.raw()) => {
                    let rest = &v.raw()[c.raw().len()..];
                    let more = if rest.trim().is_empty() {
                        Vec::new()
                    } else {
                        decode_certificates(rest, Field::Chain(1), limits.chain().saturating_sub(1))
                            .map_err(|e| at(e, v.offset()))?
                    };
                    (more, true)
                }
                _ => (
                    decode_certificates(v.raw(), Field::Chain(0), limits.chain())
                        .map_err(|e| at(e, v.offset()))?,
                    false,
                ),
            },
            None => (Vec::new(), false),
        };
        let leaf_in_chain = self.chain().is_some();
        let (leaf_der, field, offset) = match cert {
            Some((v, der)) => (der, Field::Cert, v.offset()),
            None => match (chain.first(), self.chain()) {
                (Some(d), Some(v)) => (d.clone(), Field::Chain(0), v.offset()),
                _ => return Ok(None),
            },
        };
        let leaf =
            CertIdentity::from_der_field(leaf_der, field, limits).map_err(|e| at(e, offset))?;
        Ok(Some(if starts_with_leaf {
            ForwardedCert::from_parts(leaf, chain, leaf_in_chain, true)
        } else {
            ForwardedCert::new(leaf, chain, leaf_in_chain)
        }))
    }
}

impl<'a> Element<'a> {
    /// [`decode_unchecked`](Self::decode_unchecked) for a JSON element:
    /// `cert` is one PEM string, and `chain` an array of them, one
    /// certificate each.
    fn decode_json(&self, limits: &Limits) -> Result<Option<ForwardedCert>, Error> {
        let at = |e: Error, offset: usize| e.with_element(self.index()).with_offset(offset);
        let cert = match self.cert() {
            Some(v) => Some((
                v,
                decode_one(&v.pem_text(), Field::Cert).map_err(|e| at(e, v.offset()))?,
            )),
            None => None,
        };
        // Envoy's first chain item is the text of `cert`: its DER is the
        // leaf's, so it is neither decoded nor stored again.
        let mut chain = Vec::new();
        let mut starts_with_leaf = false;
        let mut count = 0;
        for (i, item) in self.chain_items().into_iter().flatten().enumerate() {
            count = i + 1;
            if count > limits.chain() {
                return Err(at(
                    Error::cert(C::ChainTooLong, Field::Chain(i)),
                    item.offset(),
                ));
            }
            if i == 0 && cert.as_ref().is_some_and(|(c, _)| c.raw() == item.raw()) {
                starts_with_leaf = true;
                continue;
            }
            chain.push(
                decode_one(&item.pem_text(), Field::Chain(i)).map_err(|e| at(e, item.offset()))?,
            );
        }
        let leaf_in_chain = self.chain().is_some();
        let offset = self.chain().map_or(0, |v| v.offset());
        if leaf_in_chain && count == 0 {
            // `"chain": []`: Envoy writes the key only with a chain.
            return Err(at(Error::cert(C::NoCertificate, Field::Chain(0)), offset));
        }
        let (leaf_der, field, offset) = match cert {
            Some((v, der)) => (der, Field::Cert, v.offset()),
            None if !chain.is_empty() => (chain.remove(0), Field::Chain(0), offset),
            None => return Ok(None),
        };
        let leaf =
            CertIdentity::from_der_field(leaf_der, field, limits).map_err(|e| at(e, offset))?;
        // Without `cert`, the leaf is the chain's first: the chain starts
        // with it.
        Ok(Some(if starts_with_leaf || field == Field::Chain(0) {
            ForwardedCert::from_parts(leaf, chain, leaf_in_chain, true)
        } else {
            ForwardedCert::new(leaf, chain, leaf_in_chain)
        }))
    }
}

impl XfccHeader<'_> {
    /// Decodes and checks every element that carries a certificate,
    /// returning the first error. An element whose `URI` or `DNS` carried
    /// delimiters (envoyproxy/envoy#32945) is split by the parser into
    /// pieces that no longer match its certificate, so this rejects headers
    /// in which a client smuggled text that looks like another element.
    ///
    /// # Errors
    /// The first error of [`Element::decode_with`], except that elements with
    /// no certificate at all are skipped.
    pub fn check_all(&self, limits: &Limits) -> Result<(), Error> {
        for element in self.elements() {
            if let Some(fc) = element.decode_unchecked(limits)?
                && let Some(problem) = element.inconsistencies(&fc).next()
            {
                return Err(Error::inconsistent(problem).with_element(element.index()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rejects_garbage_values() {
        for v in [
            "",
            "   ",
            "%zz",
            "-----BEGIN CERTIFICATE-----",
            "not base64!",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
        ] {
            assert!(decode_certificate(v).is_err(), "{v:?}");
        }
        let e = decode_certificate("%zz").unwrap_err();
        assert_eq!(
            e.kind(),
            crate::error::ErrorKind::Cert(C::BadPercentEncoding)
        );
        let e = decode_certificate("garbage -----BEGIN CERTIFICATE-----").unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Cert(C::BadPem));
        let e = decode_certificate("AAAA").unwrap_err();
        assert_eq!(e.kind(), crate::error::ErrorKind::Cert(C::BadDer));
    }
}
