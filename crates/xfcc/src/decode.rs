//! Decoding forwarded certificates and checking them against the rest of
//! the element.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::cert::CertIdentity;
use crate::dn::DistinguishedName;
use crate::error::{CertErrorKind as C, Error, Field, Inconsistency};
use crate::parse::{Element, Limits, XfccHeader};

/// A forwarded leaf certificate and the chain that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedCert {
    leaf: CertIdentity,
    chain: Vec<Vec<u8>>,
    leaf_in_chain: bool,
    /// Whether `chain[0]` is the leaf's DER (checked once, not per request).
    chain_starts_with_leaf: bool,
}

impl ForwardedCert {
    pub(crate) fn new(leaf: CertIdentity, chain: Vec<Vec<u8>>, leaf_in_chain: bool) -> Self {
        let chain_starts_with_leaf = chain.first().is_some_and(|d| d.as_slice() == leaf.der());
        Self {
            leaf,
            chain,
            leaf_in_chain,
            chain_starts_with_leaf,
        }
    }

    /// The client's (leaf) certificate.
    pub fn leaf(&self) -> &CertIdentity {
        &self.leaf
    }

    /// Consumes `self`, returning the leaf.
    pub fn into_leaf(self) -> CertIdentity {
        self.leaf
    }

    /// The DER of every certificate in the forwarded chain, as the client
    /// sent it. For Envoy this starts with the leaf; RFC 9440's
    /// `Client-Cert-Chain` does not include it.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The DER of the chain without the leaf: the candidate intermediates.
    /// Unverified: the client chose them.
    pub fn intermediates_der(&self) -> &[Vec<u8>] {
        if self.leaf_in_chain {
            self.chain.get(1..).unwrap_or(&[])
        } else {
            &self.chain
        }
    }

    /// Parses every chain certificate.
    ///
    /// # Errors
    /// [`CertErrorKind::BadDer`](crate::CertErrorKind::BadDer) naming the
    /// first chain entry that does not parse.
    pub fn chain(&self) -> Result<Vec<CertIdentity>, Error> {
        self.chain
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if i == 0 && self.leaf_in_chain {
                    Ok(self.leaf.clone())
                } else {
                    CertIdentity::from_der_field(d.clone(), Field::Chain(i), &Limits::DEFAULT)
                }
            })
            .collect()
    }
}

/// Decodes one certificate value in any of the encodings proxies and
/// recipes use: URL-encoded PEM (Envoy, nginx, AWS ALB), `\n`-escaped PEM
/// (what the published regex recipes assume), raw PEM, or bare base64 DER
/// (Azure App Service, Traefik, Cloud Foundry).
///
/// Percent-decoding follows RFC 3986: only `%XX` is decoded and `+` stays
/// `+` (form decoding would corrupt base64).
///
/// # Errors
/// [`CertErrorKind`](crate::CertErrorKind) for bad encoding, PEM or DER,
/// or for more than one certificate.
///
/// ```
/// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
/// use xfcc::decode_certificate;
/// let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(&der);
/// let pem = format!("-----BEGIN CERTIFICATE-----\\n{b64}\\n-----END CERTIFICATE-----\\n");
/// let cert = decode_certificate(&pem)?; // `\n`-escaped PEM, as the recipes see it
/// assert_eq!(cert.der(), &der[..]);
/// # Ok::<(), xfcc::Error>(())
/// ```
pub fn decode_certificate(value: &str) -> Result<CertIdentity, Error> {
    let der = decode_one(value, Field::Cert)?;
    CertIdentity::from_der(der)
}

pub(crate) fn decode_one(value: &str, field: Field) -> Result<Vec<u8>, Error> {
    let mut ders = decode_certificates(value, field, 1)?;
    if ders.len() > 1 {
        return Err(Error::cert(C::MultipleCertificates, field));
    }
    ders.pop().ok_or(Error::cert(C::NoCertificate, field))
}

/// Decodes a value holding one or more certificates (PEM blocks, or one
/// base64 DER). `field` names the first; `max` bounds the count.
pub(crate) fn decode_certificates(
    value: &str,
    field: Field,
    max: usize,
) -> Result<Vec<Vec<u8>>, Error> {
    let text = unescape(value, field)?;
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::cert(C::NoCertificate, field));
    }
    // base64 has no '-': a dash means PEM armour.
    if memchr::memchr(b'-', text.as_bytes()).is_some() {
        decode_pem_blocks(text, field, max)
    } else {
        decode_base64_der(text, field).map(|d| vec![d])
    }
}

fn unescape(value: &str, field: Field) -> Result<Cow<'_, str>, Error> {
    // Line breaks between base64 lines carry nothing: they are dropped
    // while percent-decoding, so the body needs no second pass.
    let mut text = percent_decode_as_text(value, field, Newlines::Drop)?;
    if memchr::memchr(b'\\', text.as_bytes()).is_some() && text.contains("\\n") {
        text = Cow::Owned(text.replace("\\r\\n", "\n").replace("\\n", "\n"));
    }
    Ok(text)
}

/// Percent-decodes `value` when it holds a `%`, as UTF-8 text.
pub(crate) fn percent_decode_text(value: &str, field: Field) -> Result<Cow<'_, str>, Error> {
    percent_decode_as_text(value, field, Newlines::Keep)
}

fn percent_decode_as_text(
    value: &str,
    field: Field,
    newlines: Newlines,
) -> Result<Cow<'_, str>, Error> {
    if memchr::memchr(b'%', value.as_bytes()).is_none() {
        return Ok(Cow::Borrowed(value));
    }
    let bytes = percent_decode(value.as_bytes(), newlines)
        .ok_or(Error::cert(C::BadPercentEncoding, field))?;
    String::from_utf8(bytes)
        .map(Cow::Owned)
        .map_err(|_| Error::cert(C::BadEncoding, field))
}

/// Whether [`percent_decode`] keeps `%0A` and `%0D`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Newlines {
    Keep,
    Drop,
}

/// RFC 3986 percent-decoding: `%XX` only; `+` is a plus sign. `None` for a
/// `%` without two hex digits.
///
/// URL-encoded PEM has an escape every twenty bytes or so, so this copies
/// eight bytes at a time and looks for `%` in the word it just copied.
pub(crate) fn percent_decode(input: &[u8], newlines: Newlines) -> Option<Vec<u8>> {
    const PCT: u64 = u64::from_ne_bytes([b'%'; 8]);
    const LOW: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Never longer than the input: every escape shrinks it.
    let mut out = vec![0u8; input.len()];
    let (mut i, mut j) = (0, 0);
    while i < input.len() {
        if let Some(chunk) = input.get(i..i + 8) {
            // `j <= i`, so eight bytes from `j` fit in `out`.
            out.get_mut(j..j + 8)?.copy_from_slice(chunk);
            let word = u64::from_le_bytes(chunk.try_into().ok()?);
            let x = word ^ PCT;
            // The lowest flagged byte is the first `%` (exact for the
            // lowest one; higher flags may be false positives).
            let found = x.wrapping_sub(LOW) & !x & HIGH;
            if found == 0 {
                i += 8;
                j += 8;
                continue;
            }
            let k = (found.trailing_zeros() / 8) as usize;
            i += k;
            j += k;
        } else {
            // Fewer than eight bytes left: one at a time.
            let &b = input.get(i)?;
            if b != b'%' {
                *out.get_mut(j)? = b;
                i += 1;
                j += 1;
                continue;
            }
        }
        // input[i] is '%'.
        let byte = crate::hex::byte(*input.get(i + 1)?, *input.get(i + 2)?)?;
        i += 3;
        if !(newlines == Newlines::Drop && (byte == b'\n' || byte == b'\r')) {
            *out.get_mut(j)? = byte;
            j += 1;
        }
    }
    out.truncate(j);
    Some(out)
}

const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const END: &str = "-----END CERTIFICATE-----";

fn decode_pem_blocks(text: &str, first: Field, max: usize) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        let field = nth_field(first, out.len());
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if out.len() == max {
            return Err(Error::cert(
                if max == 1 && first == Field::Cert {
                    C::MultipleCertificates
                } else {
                    C::ChainTooLong
                },
                field,
            ));
        }
        // Only whitespace may stand between blocks.
        let body_and_rest = rest
            .strip_prefix(BEGIN)
            .ok_or(Error::cert(C::BadPem, field))?;
        let end = memchr::memmem::find(body_and_rest.as_bytes(), END.as_bytes())
            .ok_or(Error::cert(C::BadPem, field))?;
        let block_len = BEGIN.len() + end + END.len();
        // Any line width, LF or CRLF, or no line breaks at all: the body is
        // base64 once whitespace is removed. (Certificates are public, so
        // this uses a fast decoder rather than a constant-time one.)
        let body = &body_and_rest[..end];
        let der = decode_base64_der(body, field).map_err(|_| Error::cert(C::BadPem, field))?;
        out.push(der);
        rest = &rest[block_len..];
    }
    if out.is_empty() {
        return Err(Error::cert(C::NoCertificate, first));
    }
    Ok(out)
}

fn nth_field(first: Field, n: usize) -> Field {
    match first {
        Field::Cert if n == 0 => Field::Cert,
        Field::Cert => Field::Chain(n),
        Field::Chain(i) => Field::Chain(i + n),
    }
}

pub(crate) fn decode_base64_der(text: &str, field: Field) -> Result<Vec<u8>, Error> {
    let bad = || Error::cert(C::BadEncoding, field);
    let bytes = text.as_bytes();
    // URL-encoded PEM arrives here without line breaks: decode directly,
    // and strip whitespace only when that fails.
    let der = match STANDARD.decode(bytes) {
        Ok(der) => der,
        Err(_) if bytes.iter().any(u8::is_ascii_whitespace) => {
            // PEM bodies are 64-character runs between line breaks: copy runs.
            let mut compact = Vec::with_capacity(bytes.len());
            let mut rest = bytes;
            while let Some(i) = memchr::memchr3(b'\n', b'\r', b' ', rest) {
                compact.extend_from_slice(&rest[..i]);
                rest = &rest[i + 1..];
            }
            compact.extend_from_slice(rest);
            if compact.iter().any(u8::is_ascii_whitespace) {
                // Tabs or form feeds (rare): drop them too.
                compact.retain(|b| !b.is_ascii_whitespace());
            }
            STANDARD.decode(&compact).map_err(|_| bad())?
        }
        Err(_) => return Err(bad()),
    };
    if der.is_empty() {
        return Err(bad());
    }
    Ok(der)
}

impl Element<'_> {
    /// Decodes the element's certificate (`Cert`, or the first of `Chain`
    /// when `Cert` is absent) and chain, and checks that `Hash`, `Chain`,
    /// `Subject`, `URI` and `DNS` agree with it.
    ///
    /// # Errors
    /// - [`CertErrorKind::NoCertificate`](crate::CertErrorKind::NoCertificate)
    ///   when the element has neither `Cert` nor `Chain`;
    /// - other [`CertErrorKind`](crate::CertErrorKind)s when they do not decode;
    /// - [`ErrorKind::Inconsistent`](crate::ErrorKind::Inconsistent) for the
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
            .decode_without_checks(limits)?
            .ok_or_else(|| Error::cert(C::NoCertificate, Field::Cert).with_element(self.index()))?;
        if let Some(problem) = self.inconsistencies(&fc).next() {
            return Err(Error::inconsistent(problem).with_element(self.index()));
        }
        Ok(fc)
    }

    /// Decodes `Cert` and `Chain` without any consistency check. `Ok(None)`
    /// when the element carries neither.
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
    /// [`CertErrorKind`](crate::CertErrorKind) errors naming this element.
    pub fn decode_without_checks(&self, limits: &Limits) -> Result<Option<ForwardedCert>, Error> {
        let at = |e: Error, offset: usize| e.with_element(self.index()).with_offset(offset);
        let cert = match self.cert() {
            Some(v) => Some((
                v,
                decode_one(v.raw(), Field::Cert).map_err(|e| at(e, v.offset()))?,
            )),
            None => None,
        };
        let chain = match self.chain() {
            // Envoy's Chain starts with exactly the text of Cert: reuse its
            // DER instead of decoding it again. Only the rest is decoded.
            Some(v) => match &cert {
                Some((c, der)) if v.raw().len() > c.raw().len() && v.raw().starts_with(c.raw()) => {
                    let rest = &v.raw()[c.raw().len()..];
                    let mut chain = Vec::with_capacity(4);
                    chain.push(der.clone());
                    if !rest.trim().is_empty() {
                        let more = decode_certificates(
                            rest,
                            Field::Chain(1),
                            limits.chain().saturating_sub(1),
                        )
                        .map_err(|e| at(e, v.offset()))?;
                        chain.extend(more);
                    }
                    chain
                }
                Some((c, der)) if v.raw() == c.raw() => vec![der.clone()],
                _ => decode_certificates(v.raw(), Field::Chain(0), limits.chain())
                    .map_err(|e| at(e, v.offset()))?,
            },
            None => Vec::new(),
        };
        let (leaf_der, field, offset) = match cert {
            Some((v, der)) => (der, Field::Cert, v.offset()),
            None => match (chain.first(), self.chain()) {
                (Some(d), Some(v)) => (d.clone(), Field::Chain(0), v.offset()),
                _ => return Ok(None),
            },
        };
        let leaf =
            CertIdentity::from_der_field(leaf_der, field, limits).map_err(|e| at(e, offset))?;
        let leaf_in_chain = !chain.is_empty();
        Ok(Some(ForwardedCert::new(leaf, chain, leaf_in_chain)))
    }

    /// Every way in which this element disagrees with `cert`, in the order
    /// `Hash`, `Chain`, `Subject`, `URI`, `DNS`. Empty when consistent.
    pub fn inconsistencies<'s>(
        &'s self,
        cert: &'s ForwardedCert,
    ) -> impl Iterator<Item = Inconsistency> + 's {
        self.inconsistencies_with(cert, None, false)
    }

    /// As [`inconsistencies`](Self::inconsistencies), taking what the
    /// policy's cache already knows to match this certificate as matching
    /// without checking it again: a `Subject` text, and (`hash_known`) the
    /// element's `Hash` text, which is part of the cache key.
    pub(crate) fn inconsistencies_with<'s>(
        &'s self,
        cert: &'s ForwardedCert,
        subject_known: Option<&'s str>,
        hash_known: bool,
    ) -> impl Iterator<Item = Inconsistency> + 's {
        let leaf = cert.leaf();
        let hash = self
            .hash()
            .filter(|h| !hash_known && !hash_matches(h.raw(), leaf))
            .map(|_| Inconsistency::HashMismatch);
        let chain = (self.cert().is_some()
            && self.chain().is_some()
            && !cert.chain_der().is_empty()
            && !cert.chain_starts_with_leaf)
            .then_some(Inconsistency::ChainLeafMismatch);
        let subject = self
            .subject()
            .filter(|s| {
                subject_known != Some(s.raw())
                    && DistinguishedName::parse_envoy_subject(s.raw())
                        .map_or(true, |dn| &dn != leaf.subject_name())
            })
            .map(|_| Inconsistency::SubjectMismatch);
        let (uri_ok, dns_ok) = self.sans_consistent(leaf);
        let uri = (!uri_ok).then_some(Inconsistency::UriMismatch);
        let dns = (!dns_ok).then_some(Inconsistency::DnsMismatch);
        [hash, chain, subject, uri, dns].into_iter().flatten()
    }
}

impl Element<'_> {
    /// Whether the `URI` and the `DNS` values are exactly the certificate's
    /// SANs, in one pass over the pairs.
    fn sans_consistent(&self, leaf: &CertIdentity) -> (bool, bool) {
        let mut uri = SanCheck::new(leaf.san().uri());
        let mut dns = SanCheck::new(leaf.san().dns());
        // From the first URI or DNS pair: not through Cert and Chain again.
        for pair in self.pairs_from_first(&[crate::Key::Uri, crate::Key::Dns]) {
            match pair.key() {
                crate::Key::Uri => uri.push(pair.value().raw()),
                crate::Key::Dns => dns.push(pair.value().raw()),
                _ => {}
            }
        }
        (uri.ok(), dns.ok())
    }
}

/// Whether values pushed one by one are exactly the SANs, in order. No
/// values means the field was not forwarded; a single empty value (Envoy's
/// `URI=`) means the certificate has none.
struct SanCheck<'a> {
    sans: &'a [String],
    seen: usize,
    empty_first: bool,
    ok: bool,
}

impl<'a> SanCheck<'a> {
    const fn new(sans: &'a [String]) -> Self {
        Self {
            sans,
            seen: 0,
            empty_first: false,
            ok: true,
        }
    }

    fn push(&mut self, value: &str) {
        if self.seen == 0 && value.is_empty() {
            self.empty_first = true;
        } else if self.empty_first || self.sans.get(self.seen).map(String::as_str) != Some(value) {
            self.ok = false;
        }
        self.seen += 1;
    }

    fn ok(&self) -> bool {
        match (self.seen, self.empty_first) {
            (0, _) => true,
            (1, true) => self.sans.is_empty(),
            (_, true) => false,
            (n, false) => self.ok && n == self.sans.len(),
        }
    }
}

/// Envoy's `Hash` is hex SHA-256; 40 hex digits are taken as SHA-1 (what
/// nginx's `$ssl_client_fingerprint` gives). Either case.
fn hash_matches(hex: &str, leaf: &CertIdentity) -> bool {
    let expected: &[u8] = match hex.len() {
        64 => leaf.sha256(),
        40 => leaf.sha1(),
        _ => return false,
    };
    hex.as_bytes()
        .chunks_exact(2)
        .zip(expected)
        .all(|(pair, &b)| crate::hex::byte(pair[0], pair[1]) == Some(b))
}

/// The header's values must be exactly the certificate's SANs, in order.
/// No values means the field was not forwarded; a single empty value (how
/// Envoy writes `URI=` for "none") means the certificate has none. The
/// specification [`SanCheck`] is tested against.
#[cfg(test)]
fn sans_match<'v>(mut values: impl Iterator<Item = &'v str>, sans: &[String]) -> bool {
    let Some(first) = values.next() else {
        return true;
    };
    if first.is_empty() {
        return sans.is_empty() && values.next().is_none();
    }
    let mut sans = sans.iter();
    if sans.next().map(String::as_str) != Some(first) {
        return false;
    }
    loop {
        match (values.next(), sans.next()) {
            (None, None) => return true,
            (Some(v), Some(s)) if v == s => {}
            _ => return false,
        }
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
            if let Some(fc) = element.decode_without_checks(limits)?
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
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn percent_decodes_rfc3986_only() {
        let keep = |s: &[u8]| percent_decode(s, Newlines::Keep);
        assert_eq!(keep(b"a%2Bb+c%2f%0A").unwrap(), b"a+b+c/\n");
        assert_eq!(keep(b"%"), None);
        assert_eq!(keep(b"%4"), None);
        assert_eq!(keep(b"%G0"), None);
        assert_eq!(keep(b"").unwrap(), b"");
        let drop = |s: &[u8]| percent_decode(s, Newlines::Drop);
        assert_eq!(drop(b"AB%0D%0ACD%0a%25").unwrap(), b"ABCD%");
    }

    /// One byte at a time, as RFC 3986 reads: what the word-at-a-time
    /// decoder must agree with.
    fn reference(input: &[u8], newlines: Newlines) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&b) = input.get(i) {
            if b == b'%' {
                let byte = crate::hex::byte(*input.get(i + 1)?, *input.get(i + 2)?)?;
                if newlines == Newlines::Keep || !matches!(byte, b'\n' | b'\r') {
                    out.push(byte);
                }
                i += 3;
            } else {
                out.push(b);
                i += 1;
            }
        }
        Some(out)
    }

    #[test]
    fn word_at_a_time_agrees_with_bytewise_at_every_offset() {
        // Escapes (valid, truncated, or bad) at every offset of the
        // eight-byte words, with every length up to three words.
        for len in 0..26 {
            for at in 0..len {
                for esc in [&b"%41"[..], b"%0A", b"%0d", b"%", b"%4", b"%zz", b"%%41"] {
                    let mut input: Vec<u8> = (0..len).map(|n| b'a' + (n % 26) as u8).collect();
                    input.splice(at..at, esc.iter().copied());
                    for nl in [Newlines::Keep, Newlines::Drop] {
                        assert_eq!(
                            percent_decode(&input, nl),
                            reference(&input, nl),
                            "{:?}",
                            String::from_utf8_lossy(&input)
                        );
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn percent_decode_matches_reference(input in proptest::collection::vec(
            proptest::sample::select(b"%0aAfFgG+/=\n-".to_vec()), 0..80)) {
            for nl in [Newlines::Keep, Newlines::Drop] {
                proptest::prop_assert_eq!(percent_decode(&input, nl), reference(&input, nl));
            }
        }
    }

    #[test]
    fn incremental_san_check_agrees_with_sans_match() {
        let sans = ["a".to_owned(), "b".to_owned()];
        let cases: [&[&str]; 9] = [
            &[],
            &["a", "b"],
            &["a"],
            &["b", "a"],
            &["a", "b", "b"],
            &[""],
            &["", ""],
            &["x"],
            &["", "a"],
        ];
        for set in [&sans[..], &[]] {
            for values in cases {
                let mut c = SanCheck::new(set);
                values.iter().for_each(|v| c.push(v));
                assert_eq!(
                    c.ok(),
                    sans_match(values.iter().copied(), set),
                    "{values:?} vs {set:?}"
                );
            }
        }
    }

    #[test]
    fn sans_match_rules() {
        let sans = vec!["a".to_owned(), "b".to_owned()];
        assert!(sans_match([].into_iter(), &sans));
        assert!(sans_match(["a", "b"].into_iter(), &sans));
        assert!(!sans_match(["a"].into_iter(), &sans));
        assert!(!sans_match(["b", "a"].into_iter(), &sans));
        assert!(!sans_match(["a", "b", "b"].into_iter(), &sans));
        assert!(!sans_match([""].into_iter(), &sans));
        assert!(sans_match([""].into_iter(), &[]));
        assert!(!sans_match(["", ""].into_iter(), &[]));
        assert!(!sans_match(["x"].into_iter(), &[]));
    }

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
        assert_eq!(e.kind(), crate::ErrorKind::Cert(C::BadPercentEncoding));
        let e = decode_certificate("garbage -----BEGIN CERTIFICATE-----").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Cert(C::BadPem));
        let e = decode_certificate("AAAA").unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Cert(C::BadDer));
    }
}
