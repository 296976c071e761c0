//! Chain verification with rustls-webpki (feature `chain`): the leaf from
//! `Cert`, candidate intermediates from `Chain` (the client chose them), and
//! the policy's own trust anchors. No path validation is written here.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use der::Decode;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, TrustAnchor, UnixTime};
use webpki::{
    CertRevocationList, EndEntityCert, Error as WebpkiError, ExtendedKeyUsageValidator,
    KeyPurposeIdIter, KeyUsage, OwnedCertRevocationList, RevocationOptionsBuilder,
};

use super::rule::CompiledRule;
use super::{AnchorSource, ConfigError};
use crate::decode::ForwardedCert;

/// Which certificates of the path are checked against the CRLs
/// (webpki's `RevocationCheckDepth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationDepth {
    /// Only the leaf.
    EndEntity,
    /// Every certificate of the path. The default.
    #[default]
    Chain,
}

/// What to do when no configured CRL covers a certificate
/// (webpki's `UnknownStatusPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownStatus {
    /// Accept it. The default: typically only the issuing CA's CRL is configured.
    #[default]
    Allow,
    /// Reject it (`revocation_unknown`).
    Deny,
}

/// Whether a CRL past its `nextUpdate` is still used
/// (webpki's `ExpirationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CrlExpiry {
    /// A stale CRL fails verification (`crl_expired`). The default.
    #[default]
    Enforce,
    /// A stale CRL is used as it is.
    Ignore,
}

/// How CRLs are applied; see the `chain` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Revocation {
    /// Which certificates are checked. Default [`RevocationDepth::Chain`].
    pub depth: RevocationDepth,
    /// Certificates no CRL covers. Default [`UnknownStatus::Allow`].
    pub unknown: UnknownStatus,
    /// Stale CRLs. Default [`CrlExpiry::Enforce`].
    pub expiry: CrlExpiry,
}

struct AnchorSet {
    anchors: Vec<TrustAnchor<'static>>,
    crls: Vec<CertRevocationList<'static>>,
    require_client_auth: bool,
}

pub(crate) struct Chains {
    sets: BTreeMap<String, AnchorSet>,
    max_intermediates: usize,
    revocation: Revocation,
}

impl fmt::Debug for Chains {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chains")
            .field("sets", &self.sets.keys().collect::<Vec<_>>())
            .field("max_intermediates", &self.max_intermediates)
            .finish_non_exhaustive()
    }
}

/// Accepts any EKU (for `require_client_auth = false`).
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), WebpkiError> {
        for id in iter {
            id?;
        }
        Ok(())
    }
}

pub(crate) fn build(
    sources: Vec<(String, AnchorSource)>,
    rules: &[CompiledRule],
    max_intermediates: usize,
    revocation: Revocation,
) -> Result<Chains, ConfigError> {
    let mut sets = BTreeMap::new();
    for (name, src) in sources {
        let err = |message: String| ConfigError::AnchorSet {
            set: name.clone(),
            message,
        };
        let mut anchors = Vec::new();
        for (i, der) in CertificateDer::pem_slice_iter(&src.pem).enumerate() {
            let der = der.map_err(|e| err(format!("trust anchor {i}: bad PEM ({e})")))?;
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| err(format!("trust anchor {i}: {e}")))?
                .to_owned();
            anchors.push(anchor);
        }
        if anchors.is_empty() {
            return Err(err("no CERTIFICATE in the trust-anchor PEM".to_owned()));
        }
        let mut crls = Vec::new();
        for (i, bytes) in src.crls.iter().enumerate() {
            let ders: Vec<Vec<u8>> = if bytes.first() == Some(&0x30) {
                vec![bytes.clone()]
            } else {
                CertificateRevocationListDer::pem_slice_iter(bytes)
                    .map(|r| r.map(|d| d.as_ref().to_vec()))
                    .collect::<Result<_, _>>()
                    .map_err(|e| err(format!("CRL {i}: bad PEM ({e})")))?
            };
            if ders.is_empty() {
                return Err(err(format!("CRL {i}: no X509 CRL in the PEM")));
            }
            for d in ders {
                let crl = OwnedCertRevocationList::from_der(&d)
                    .map_err(|e| err(format!("CRL {i}: {e}")))?;
                crls.push(CertRevocationList::from(crl));
            }
        }
        if sets.contains_key(&name) {
            return Err(err("defined twice".to_owned()));
        }
        sets.insert(
            name,
            AnchorSet {
                anchors,
                crls,
                require_client_auth: src.require_client_auth,
            },
        );
    }
    for rule in rules {
        if let Some(set) = &rule.chain
            && !sets.contains_key(set)
        {
            return Err(ConfigError::Rule {
                rule: rule.label.to_string(),
                source: Box::new(ConfigError::UnknownAnchorSet(set.clone())),
            });
        }
    }
    Ok(Chains {
        sets,
        max_intermediates,
        revocation,
    })
}

impl Chains {
    /// Verifies `fc` to the named set at `now`. On success, with
    /// `want_until`, the time until which the result may be reused (the
    /// earliest `notAfter` on the path), or `None` when it must not be
    /// reused (CRLs are in play, or nobody asked).
    pub(crate) fn verify(
        &self,
        set: &str,
        fc: &ForwardedCert,
        now: SystemTime,
        want_until: bool,
    ) -> Result<Option<SystemTime>, &'static str> {
        let set = self.sets.get(set).ok_or("unknown_anchor_set")?;
        // webpki applies its EKU check along the whole path, where a CA
        // without an EKU extension is fine ("required if present"); the leaf
        // itself must list clientAuth.
        if set.require_client_auth && !fc.leaf().has_client_auth_eku() {
            return Err("wrong_eku");
        }
        let leaf_der = CertificateDer::from(fc.leaf().der());
        let leaf = EndEntityCert::try_from(&leaf_der).map_err(|e| sub_reason(&e))?;
        let intermediates: Vec<CertificateDer<'_>> = fc
            .intermediates_der()
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        let time = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        let crl_refs: Vec<&CertRevocationList<'_>> = set.crls.iter().collect();
        let revocation = RevocationOptionsBuilder::new(&crl_refs).ok().map(|b| {
            b.with_depth(match self.revocation.depth {
                RevocationDepth::EndEntity => webpki::RevocationCheckDepth::EndEntity,
                RevocationDepth::Chain => webpki::RevocationCheckDepth::Chain,
            })
            .with_status_policy(match self.revocation.unknown {
                UnknownStatus::Allow => webpki::UnknownStatusPolicy::Allow,
                UnknownStatus::Deny => webpki::UnknownStatusPolicy::Deny,
            })
            .with_expiration_policy(match self.revocation.expiry {
                CrlExpiry::Enforce => webpki::ExpirationPolicy::Enforce,
                CrlExpiry::Ignore => webpki::ExpirationPolicy::Ignore,
            })
            .build()
        });
        let until = Cell::new(fc.leaf().not_after());
        let max = self.max_intermediates;
        let check_path = |path: &webpki::VerifiedPath<'_>| {
            let mut n = 0;
            for cert in path.intermediate_certificates() {
                n += 1;
                // Only a cache needs to know how long the result holds.
                if want_until && let Some(t) = not_after(cert.der().as_ref()) {
                    until.set(until.get().min(t));
                }
            }
            if n > max {
                return Err(WebpkiError::MaximumPathDepthExceeded);
            }
            Ok(())
        };
        let algs = webpki::ALL_VERIFICATION_ALGS;
        let result = if set.require_client_auth {
            leaf.verify_for_usage(
                algs,
                &set.anchors,
                &intermediates,
                time,
                KeyUsage::client_auth(),
                revocation,
                Some(&check_path),
            )
        } else {
            leaf.verify_for_usage(
                algs,
                &set.anchors,
                &intermediates,
                time,
                AnyUsage,
                revocation,
                Some(&check_path),
            )
        };
        result.map_err(|e| sub_reason(&e))?;
        Ok((want_until && set.crls.is_empty()).then(|| until.get()))
    }
}

fn not_after(der: &[u8]) -> Option<SystemTime> {
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let secs = cert
        .tbs_certificate()
        .validity()
        .not_after
        .to_unix_duration()
        .as_secs();
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// The stable sub-reason of a chain failure (`Rejection::detail`).
fn sub_reason(e: &WebpkiError) -> &'static str {
    match e {
        WebpkiError::UnknownIssuer => "unknown_issuer",
        WebpkiError::CertExpired { .. } => "expired",
        WebpkiError::CertNotValidYet { .. } => "not_yet_valid",
        WebpkiError::RequiredEkuNotFoundContext(_) => "wrong_eku",
        WebpkiError::CertRevoked => "revoked",
        WebpkiError::UnknownRevocationStatus => "revocation_unknown",
        WebpkiError::CrlExpired { .. } => "crl_expired",
        WebpkiError::InvalidSignatureForPublicKey
        | WebpkiError::UnsupportedSignatureAlgorithmContext(_)
        | WebpkiError::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | WebpkiError::SignatureAlgorithmMismatch => "bad_signature",
        WebpkiError::MaximumPathDepthExceeded | WebpkiError::PathLenConstraintViolated => {
            "path_too_long"
        }
        WebpkiError::CaUsedAsEndEntity => "ca_used_as_leaf",
        WebpkiError::NameConstraintViolation => "name_constraints",
        _ => "invalid_chain",
    }
}
