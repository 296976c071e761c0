//! The identity read from a forwarded certificate.

use core::fmt;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use const_oid::db::{rfc5280, rfc5912, rfc8410};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::dn::DistinguishedName;
use crate::error::{Error, Field};
use crate::limits::Limits;
use crate::oid::Oid;
use crate::x509::{self, CertView, GeneralName, KeptExtensions, NameRef, Span, Tlv};

/// The subject alternative names of a certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubjectAltNames {
    dns: Vec<String>,
    uri: Vec<String>,
    email: Vec<String>,
    ip: Vec<IpAddr>,
}

impl SubjectAltNames {
    /// DNS names, in certificate order.
    pub fn dns(&self) -> &[String] {
        &self.dns
    }

    /// URIs (SPIFFE IDs among them), in certificate order.
    pub fn uri(&self) -> &[String] {
        &self.uri
    }

    /// RFC 822 e-mail addresses, in certificate order.
    pub fn email(&self) -> &[String] {
        &self.email
    }

    /// IP addresses, in certificate order.
    pub fn ip(&self) -> &[IpAddr] {
        &self.ip
    }

    /// True when the certificate has no SAN of these four kinds.
    pub fn is_empty(&self) -> bool {
        self.dns.is_empty() && self.uri.is_empty() && self.email.is_empty() && self.ip.is_empty()
    }
}

/// The algorithm of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA.
    Rsa,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// ECDSA on NIST P-521.
    EcdsaP521,
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// Any other algorithm; the dotted OID of the algorithm (and, for EC,
    /// of the curve).
    Other(String),
}

/// A certificate's public key: algorithm and size in bits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PublicKeyInfo {
    algorithm: KeyAlgorithm,
    bits: u32,
}

impl PublicKeyInfo {
    /// The algorithm.
    pub fn algorithm(&self) -> &KeyAlgorithm {
        &self.algorithm
    }

    /// The key size in bits (modulus size for RSA, curve size for EC).
    /// Zero when unknown.
    pub const fn bits(&self) -> u32 {
        self.bits
    }
}

impl fmt::Display for PublicKeyInfo {
    /// `rsa-2048`, `ecdsa-p256`, `ecdsa-p384`, `ecdsa-p521`, `ed25519`,
    /// `ed448`, or `other-<oid>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.algorithm {
            KeyAlgorithm::Rsa => write!(f, "rsa-{}", self.bits),
            KeyAlgorithm::EcdsaP256 => f.write_str("ecdsa-p256"),
            KeyAlgorithm::EcdsaP384 => f.write_str("ecdsa-p384"),
            KeyAlgorithm::EcdsaP521 => f.write_str("ecdsa-p521"),
            KeyAlgorithm::Ed25519 => f.write_str("ed25519"),
            KeyAlgorithm::Ed448 => f.write_str("ed448"),
            KeyAlgorithm::Other(oid) => write!(f, "other-{oid}"),
        }
    }
}

/// Everything a service may want to know about a forwarded certificate,
/// read once from its DER and owned (`Clone` is cheap: the data is shared).
///
/// A `CertIdentity` only says what the certificate contains. It says nothing
/// about whether the certificate should be trusted: that is what
/// the policy decides.
#[derive(Clone)]
pub struct CertIdentity {
    inner: Arc<Inner>,
}

/// Two identities are equal when their DER is.
impl PartialEq for CertIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for CertIdentity {}

/// Hashes the SHA-256 of the DER (equal DER, equal digest).
impl core::hash::Hash for CertIdentity {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.inner.sha256.hash(state);
    }
}

struct Inner {
    der: Vec<u8>,
    sha256: [u8; 32],
    // Computed when first asked for: most requests never need them.
    sha1: OnceLock<[u8; 20]>,
    subject_str: OnceLock<String>,
    issuer_str: OnceLock<String>,
    // The names, SANs and EKUs are checked in full when the certificate is
    // read, but built (owned, allocated) only when first asked for: a
    // thumbprint or issuer rule never builds the subject or the SANs.
    subject: Lazy<DistinguishedName>,
    issuer: Lazy<DistinguishedName>,
    san: Lazy<SubjectAltNames>,
    ekus: Lazy<Vec<Oid>>,
    /// certificatePolicies' identifiers, read only when a rule asks (not
    /// checked when the certificate is read: a list that does not parse
    /// reads as none, which satisfies no policy rule).
    policies: Lazy<Vec<Oid>>,
    /// Where the `Extensions` list sits, for a lookup by OID.
    extensions_at: Option<Span>,
    /// The limits the certificate was checked with, so that a part built
    /// later is read exactly as it was checked.
    limits: Limits,
    serial: Span,
    not_before: i64,
    not_after: i64,
    /// The `SubjectPublicKeyInfo`, whose algorithm and size are read when
    /// first asked for.
    spki_at: Span,
    key: OnceLock<PublicKeyInfo>,
    self_issued: bool,
    /// basicConstraints `cA`.
    ca: bool,
    /// keyUsage bits (see [`x509::key_usage_bits`]), when the extension is there.
    key_usage: Option<u16>,
}

/// A part of the certificate built on first use from where it sits in the
/// DER (`None`: the certificate does not have it).
struct Lazy<T> {
    at: Option<Span>,
    value: OnceLock<T>,
}

impl<T: Default> Lazy<T> {
    const fn new(at: Option<Span>) -> Self {
        Self {
            at,
            value: OnceLock::new(),
        }
    }

    /// The part, built by `build` from the span the first time. A part
    /// the certificate does not have is `T::default()`. `build` re-reads
    /// what [`CertIdentity::from_der`] checked with the same limits, so it
    /// cannot fail; if it ever did, the part would read as empty, which
    /// matches no rule.
    fn get(&self, build: impl FnOnce(Span) -> x509::Result<T>) -> &T {
        self.value.get_or_init(|| {
            self.at
                .map_or_else(T::default, |at| build(at).unwrap_or_default())
        })
    }
}

impl fmt::Debug for CertIdentity {
    // Deliberately short: no DER bytes in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertIdentity")
            .field("subject", &self.subject())
            .field("issuer", &self.issuer())
            .field("sha256", &self.sha256_hex())
            .finish_non_exhaustive()
    }
}

impl CertIdentity {
    /// Parses a DER-encoded X.509 certificate.
    ///
    /// The fields are read in one pass with strict DER rules; whatever this
    /// accepts, x509-cert accepts and reads alike (tested, and checked by
    /// the `decode` fuzz target). It verifies no signature.
    ///
    /// # Errors
    /// [`CertErrorKind::BadDer`](crate::error::CertErrorKind::BadDer) when the DER is not one well-formed
    /// certificate: bad framing, trailing bytes, a structure RFC 5280 does
    /// not allow, an extension present twice, a non-canonical OID, or more
    /// extensions or name attributes than [`Limits::DEFAULT`] allows.
    /// [`Error::der_error`] says which field, which rule and where.
    pub fn from_der(der: Vec<u8>) -> Result<Self, Error> {
        Self::from_der_with(der, &Limits::DEFAULT)
    }

    /// As [`from_der`](Self::from_der), with `limits` bounding extensions
    /// and name attributes.
    ///
    /// # Errors
    /// As [`from_der`](Self::from_der).
    pub fn from_der_with(der: Vec<u8>, limits: &Limits) -> Result<Self, Error> {
        Self::from_der_field(der, Field::Cert, limits)
    }

    pub(crate) fn from_der_field(
        der: Vec<u8>,
        field: Field,
        limits: &Limits,
    ) -> Result<Self, Error> {
        let bad = |e: x509::Fail| Error::der(e.finish(), field);
        let CertView {
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            spki_at,
            extensions:
                KeptExtensions {
                    subject_alt_name,
                    ext_key_usage,
                    basic_constraints,
                    key_usage,
                    certificate_policies,
                    list: extensions_at,
                },
            ..
        } = CertView::parse(&der, limits).map_err(bad)?;
        // Everything is checked now, in the order the fields come; what
        // is kept is only where each part sits (see `Lazy`).
        let self_issued = subject.bytes() == issuer.bytes();
        let max = limits.name_attributes();
        issuer
            .check(max)
            .map_err(|e| bad(e.at(crate::error::DerField::Issuer)))?;
        subject
            .check(max)
            .map_err(|e| bad(e.at(crate::error::DerField::Subject)))?;
        if let Some(value) = &subject_alt_name {
            x509::general_names(value, limits, |_| {}).map_err(bad)?;
        }
        if let Some(value) = &ext_key_usage {
            x509::key_purposes(value, |_| {}).map_err(bad)?;
        }
        let ca = match basic_constraints {
            Some(v) => x509::basic_constraints_ca(&v).map_err(bad)?,
            None => false,
        };
        let key_usage = key_usage
            .map(|v| x509::key_usage_bits(&v))
            .transpose()
            .map_err(bad)?;
        let (issuer, subject) = (issuer.span(), subject.span());
        let (san, ekus) = (
            subject_alt_name.map(|t| t.span()),
            ext_key_usage.map(|t| t.span()),
        );
        let sha256 = Sha256::digest(&der).into();
        Ok(Self {
            inner: Arc::new(Inner {
                sha256,
                sha1: OnceLock::new(),
                subject_str: OnceLock::new(),
                issuer_str: OnceLock::new(),
                subject: Lazy::new(Some(subject)),
                issuer: Lazy::new(Some(issuer)),
                san: Lazy::new(san),
                ekus: Lazy::new(ekus),
                policies: Lazy::new(certificate_policies.map(|t| t.span())),
                extensions_at,
                limits: *limits,
                serial,
                not_before,
                not_after,
                spki_at,
                key: OnceLock::new(),
                self_issued,
                ca,
                key_usage,
                der,
            }),
        })
    }

    fn name<'s>(&'s self, part: &'s Lazy<DistinguishedName>) -> &'s DistinguishedName {
        let max = self.inner.limits.name_attributes();
        part.get(|at| DistinguishedName::from_cert(&NameRef::at(&self.inner.der, at), max))
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// SHA-256 of the DER (what Envoy's `Hash` carries).
    pub fn sha256(&self) -> &[u8; 32] {
        &self.inner.sha256
    }

    /// SHA-1 of the DER (the "thumbprint" the Azure portal and .NET show).
    pub fn sha1(&self) -> &[u8; 20] {
        self.inner
            .sha1
            .get_or_init(|| Sha1::digest(&self.inner.der).into())
    }

    /// SHA-256 thumbprint as 64 uppercase hex digits.
    pub fn sha256_hex(&self) -> String {
        crate::hex::upper(&self.inner.sha256)
    }

    /// SHA-1 thumbprint as 40 uppercase hex digits.
    pub fn sha1_hex(&self) -> String {
        crate::hex::upper(self.sha1())
    }

    /// The SHA-256 thumbprint as JOSE writes it: base64url without padding
    /// (43 characters), the `x5t#S256` member of a JWT's `cnf` claim for a
    /// certificate-bound access token (RFC 8705 section 3.1).
    ///
    /// Behind a proxy, a token is bound to the client's certificate when its
    /// `cnf.x5t#S256` equals this value for the verified [`ClientCert`]
    /// (compare after verifying the token's signature):
    ///
    /// ```
    /// # let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/client-rsa.der")).unwrap();
    /// # let cert = xfcc::inspect::CertIdentity::from_der(der).unwrap();
    /// // `claims` is the verified JWT's payload, e.g. a serde_json::Value.
    /// let cnf_x5t_s256 = "ZC09DLv2TR5Z8sc749cVwiICASOQlxN5ep7ouUEGQ6Q"; // claims["cnf"]["x5t#S256"]
    /// assert_eq!(cert.x5t_s256(), cnf_x5t_s256); // else: 401, the token is not this client's
    /// ```
    ///
    /// [`ClientCert`]: crate::ClientCert
    pub fn x5t_s256(&self) -> String {
        x5t_s256(&self.inner.sha256)
    }

    /// The subject as a parsed name.
    pub fn subject_name(&self) -> &DistinguishedName {
        self.name(&self.inner.subject)
    }

    /// The subject as an RFC 4514 string (most significant RDN last).
    pub fn subject(&self) -> &str {
        self.inner
            .subject_str
            .get_or_init(|| self.subject_name().to_string())
    }

    /// Every `CN` of the subject, in ASN.1 order.
    pub fn subject_cns(&self) -> impl Iterator<Item = &str> {
        self.subject_name().common_names()
    }

    /// The issuer as a parsed name.
    pub fn issuer_name(&self) -> &DistinguishedName {
        self.name(&self.inner.issuer)
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> &str {
        self.inner
            .issuer_str
            .get_or_init(|| self.issuer_name().to_string())
    }

    /// Whether `f` holds for a `CN` of the subject (`issuer`: of the
    /// issuer), read in place when the name has not been built.
    pub(crate) fn any_cn(&self, issuer: bool, f: impl FnMut(&str) -> bool) -> bool {
        let part = if issuer {
            &self.inner.issuer
        } else {
            &self.inner.subject
        };
        match (part.value.get(), part.at) {
            (Some(name), _) => name.common_names().any(f),
            (None, Some(at)) => crate::dn::any_common_name(
                &NameRef::at(&self.inner.der, at),
                self.inner.limits.name_attributes(),
                f,
            ),
            (None, None) => false,
        }
    }

    /// Every `CN` of the issuer, in ASN.1 order.
    pub fn issuer_cns(&self) -> impl Iterator<Item = &str> {
        self.issuer_name().common_names()
    }

    /// Whether subject and issuer are the same name (self-issued, which
    /// includes self-signed). Says nothing about the signature.
    pub fn is_self_issued(&self) -> bool {
        self.inner.self_issued
    }

    /// Subject alternative names.
    pub fn san(&self) -> &SubjectAltNames {
        self.inner.san.get(|at| {
            let mut san = SubjectAltNames::default();
            let value = Tlv::reread(&self.inner.der, at)?;
            x509::general_names(&value, &self.inner.limits, |name| match name {
                GeneralName::Dns(s) => san.dns.push(s.to_owned_string()),
                GeneralName::Uri(s) => san.uri.push(s.to_owned_string()),
                GeneralName::Email(s) => san.email.push(s.to_owned_string()),
                GeneralName::Ip(b) => {
                    if let Ok(v4) = <[u8; 4]>::try_from(b) {
                        san.ip.push(IpAddr::from(v4));
                    } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                        san.ip.push(IpAddr::from(v6));
                    }
                }
            })?;
            Ok(san)
        })
    }

    fn ekus(&self) -> &[Oid] {
        self.inner.ekus.get(|at| {
            let mut ekus = Vec::new();
            x509::key_purposes(&Tlv::reread(&self.inner.der, at)?, |oid| ekus.push(oid))?;
            Ok(ekus)
        })
    }

    /// Serial number bytes (big-endian, as encoded).
    pub fn serial(&self) -> &[u8] {
        self.inner.serial.of(&self.inner.der)
    }

    /// Serial number as uppercase hex, without leading `00` padding bytes.
    pub fn serial_hex(&self) -> String {
        let s = self.serial();
        let start = s
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(s.len().saturating_sub(1));
        crate::hex::upper(&s[start..])
    }

    /// Start of the validity period (before the Unix epoch for a date
    /// before 1970, which RFC 5280 allows).
    pub fn not_before(&self) -> SystemTime {
        system_time(self.inner.not_before)
    }

    /// End of the validity period.
    pub fn not_after(&self) -> SystemTime {
        system_time(self.inner.not_after)
    }

    /// Start of the validity period, in seconds since the Unix epoch
    /// (negative before 1970: `notBefore` 1950-01-01 is -631152000).
    pub fn not_before_unix(&self) -> i64 {
        self.inner.not_before
    }

    /// End of the validity period, in seconds since the Unix epoch
    /// (negative before 1970).
    pub fn not_after_unix(&self) -> i64 {
        self.inner.not_after
    }

    /// Start of the validity period as RFC 3339 in UTC (`2026-11-22T06:21:26Z`;
    /// `1950-01-01T00:00:00Z` as written).
    pub fn not_before_rfc3339(&self) -> String {
        crate::x509::rfc3339(self.inner.not_before)
    }

    /// End of the validity period as RFC 3339 in UTC.
    pub fn not_after_rfc3339(&self) -> String {
        crate::x509::rfc3339(self.inner.not_after)
    }

    /// The DER of the `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        self.inner.spki_at.of(&self.inner.der)
    }

    /// SHA-256 of the `SubjectPublicKeyInfo` DER: what an SPKI pin
    /// (`spki_sha256`, RFC 7469's `pin-sha256`) names. It survives
    /// re-issuance with the same key.
    pub fn spki_sha256(&self) -> [u8; 32] {
        use sha2::Digest as _;
        sha2::Sha256::digest(self.spki_der()).into()
    }

    /// [`spki_sha256`](Self::spki_sha256) as standard base64, the form
    /// RFC 7469, Envoy's `verify_certificate_spki` and a policy's
    /// `spki_sha256` write.
    pub fn spki_sha256_base64(&self) -> String {
        base64_simd::STANDARD.encode_to_string(self.spki_sha256())
    }

    /// The public key's algorithm and size.
    pub fn public_key(&self) -> &PublicKeyInfo {
        self.inner.key.get_or_init(|| {
            match x509::public_key_parts(&self.inner.der, self.inner.spki_at) {
                Ok((alg, params, key)) => key_info(&alg, params, key),
                // Not reached: the key was checked when the certificate was read.
                Err(_) => PublicKeyInfo {
                    algorithm: KeyAlgorithm::Other(String::new()),
                    bits: 0,
                },
            }
        })
    }

    /// Extended key usages as dotted OIDs, in certificate order; empty when
    /// the certificate has no EKU extension.
    pub fn extended_key_usages(&self) -> Vec<String> {
        self.ekus().iter().map(ToString::to_string).collect()
    }

    /// The policy identifiers the certificatePolicies extension asserts, as
    /// dotted OIDs in certificate order (`2.23.140.1.2.1`); empty when the
    /// certificate has none, or a list that does not parse. What a
    /// `certificate_policies` rule reads: the leaf's own assertion, not
    /// RFC 5280's policy processing along the chain.
    pub fn certificate_policies(&self) -> Vec<String> {
        self.policy_oids().iter().map(ToString::to_string).collect()
    }

    pub(crate) fn policy_oids(&self) -> &[Oid] {
        self.inner.policies.get(|at| {
            let mut ids = Vec::new();
            x509::policy_ids(&Tlv::reread(&self.inner.der, at)?, |oid| ids.push(oid))?;
            Ok(ids)
        })
    }

    /// The OIDs of every extension, dotted, in certificate order.
    pub fn extension_oids(&self) -> Vec<String> {
        self.extensions()
            .into_iter()
            .filter_map(|(id, _)| Oid::from_der(id).map(|o| o.to_string()))
            .collect()
    }

    /// The `extnValue` contents (the DER the extension's OCTET STRING
    /// holds) of the extension `oid` (dotted, e.g. `1.3.6.1.4.1.311.21.7`),
    /// when the certificate has it; `None` also for a string that is not
    /// an OID.
    pub fn extension(&self, oid: &str) -> Option<&[u8]> {
        let oid = Oid::parse(oid.trim())?;
        self.extension_der(oid.as_bytes())
    }

    /// [`extension`](Self::extension) by the OID's DER contents.
    pub(crate) fn extension_der(&self, oid: &[u8]) -> Option<&[u8]> {
        self.extensions()
            .into_iter()
            .find_map(|(id, value)| (id == oid).then_some(value))
    }

    fn extensions(&self) -> Vec<(&[u8], &[u8])> {
        self.inner
            .extensions_at
            .map(|at| x509::extensions_in(&self.inner.der, at))
            .unwrap_or_default()
    }

    /// Whether basicConstraints marks it a CA (`cA` TRUE).
    pub fn is_ca(&self) -> bool {
        self.inner.ca
    }

    /// Whether keyUsage allows signing certificates or CRLs (keyCertSign
    /// or cRLSign): a CA key, which an X.509-SVID leaf must not have.
    pub fn can_sign_certificates(&self) -> bool {
        const KEY_CERT_SIGN: u16 = 1 << (15 - 5);
        const CRL_SIGN: u16 = 1 << (15 - 6);
        self.inner
            .key_usage
            .is_some_and(|bits| bits & (KEY_CERT_SIGN | CRL_SIGN) != 0)
    }

    /// The SPIFFE ID of an X.509-SVID: the certificate's only URI SAN, when
    /// it is a syntactically valid `spiffe://` ID and the certificate is a
    /// leaf (not a CA, no keyCertSign or cRLSign), as the X.509-SVID
    /// specification requires. `None` otherwise, including for zero or
    /// several URI SANs.
    pub fn spiffe_id(&self) -> Option<&str> {
        match self.san().uri.as_slice() {
            [uri] if !self.is_ca() && !self.can_sign_certificates() => {
                crate::spiffe::parse_id(uri).ok().map(|_| uri.as_str())
            }
            _ => None,
        }
    }

    /// Whether the EKU extension lists id-kp-clientAuth.
    pub fn has_client_auth_eku(&self) -> bool {
        self.ekus()
            .iter()
            .any(|o| o.is(&rfc5280::ID_KP_CLIENT_AUTH))
    }
}

fn key_info(alg: &Oid, params: Option<Tlv<'_>>, key: &[u8]) -> PublicKeyInfo {
    let (algorithm, bits) = if alg.is(&rfc5912::RSA_ENCRYPTION) {
        (KeyAlgorithm::Rsa, x509::rsa_modulus_bits(key).unwrap_or(0))
    } else if alg.is(&rfc5912::ID_EC_PUBLIC_KEY) {
        match x509::oid_parameter(params) {
            Some(c) if c.is(&rfc5912::SECP_256_R_1) => (KeyAlgorithm::EcdsaP256, 256),
            Some(c) if c.is(&rfc5912::SECP_384_R_1) => (KeyAlgorithm::EcdsaP384, 384),
            Some(c) if c.is(&rfc5912::SECP_521_R_1) => (KeyAlgorithm::EcdsaP521, 521),
            Some(c) => (KeyAlgorithm::Other(format!("{alg}/{c}")), 0),
            None => (KeyAlgorithm::Other(alg.to_string()), 0),
        }
    } else if alg.is(&rfc8410::ID_ED_25519) {
        (KeyAlgorithm::Ed25519, 256)
    } else if alg.is(&rfc8410::ID_ED_448) {
        (KeyAlgorithm::Ed448, 456)
    } else {
        (KeyAlgorithm::Other(alg.to_string()), 0)
    };
    PublicKeyInfo { algorithm, bits }
}

/// Seconds since the Unix epoch, either side of it, as a `SystemTime`.
fn system_time(secs: i64) -> SystemTime {
    let d = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        UNIX_EPOCH + d
    } else {
        UNIX_EPOCH - d
    }
}

/// A SHA-256 as JOSE's `x5t#S256`: base64url without padding.
pub(crate) fn x5t_s256(sha256: &[u8; 32]) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(sha256)
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    /// Every common name [`CertIdentity::any_cn`] sees in place, in order.
    fn cns_in_place(c: &CertIdentity, issuer: bool) -> Vec<String> {
        let mut seen = Vec::new();
        // `f` never holds, so every CN is visited.
        let found = c.any_cn(issuer, |cn| {
            seen.push(cn.to_owned());
            false
        });
        assert!(!found);
        seen
    }

    /// Read in place or from the built name, the common names are the
    /// same, for every fixture (UTF8String, PrintableString, Latin-1 in a
    /// one-byte type, UniversalString, no CN, several attributes).
    #[test]
    fn common_names_in_place_are_the_built_names() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
        let mut certs = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "der") {
                continue;
            }
            let der = std::fs::read(&path).unwrap();
            for issuer in [false, true] {
                let fresh = CertIdentity::from_der(der.clone()).unwrap();
                let in_place = cns_in_place(&fresh, issuer);
                let name = if issuer {
                    fresh.issuer_name()
                } else {
                    fresh.subject_name()
                };
                let built: Vec<String> = name.common_names().map(str::to_owned).collect();
                assert_eq!(in_place, built, "{}", path.display());
                // Once built, the built name answers, alike.
                assert_eq!(cns_in_place(&fresh, issuer), built, "{}", path.display());
                for cn in &built {
                    let again = CertIdentity::from_der(der.clone()).unwrap();
                    assert!(again.any_cn(issuer, |x| x == cn));
                    assert!(!again.any_cn(issuer, |x| x == format!("{cn}x")));
                }
            }
            certs += 1;
        }
        assert!(certs >= 10, "{certs}");
    }
}
