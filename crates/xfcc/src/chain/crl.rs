//! CRLs as the chain check holds them (feature `chain`): each with its
//! issuer, CRL number and `thisUpdate`, so that per issuer the newest one
//! applies whatever its source (a file or a fetch), and a fetched answer is
//! taken only when a trust anchor of its set signed it and it is no older
//! than what is held. The signature is checked with rustls-webpki's own
//! algorithms ([`webpki::ALL_VERIFICATION_ALGS`]); nothing here is crypto.
#![cfg_attr(
    not(feature = "crl-fetch"),
    allow(dead_code, reason = "a fetched answer is judged only with crl-fetch")
)]

use std::borrow::Borrow;
use std::cmp::Ordering;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateRevocationListDer, TrustAnchor};
use webpki::{CertRevocationList, OwnedCertRevocationList};

/// One CRL: what rustls-webpki checks with, and what orders it.
#[derive(Debug)]
pub(crate) struct Crl {
    pub(crate) list: CertRevocationList<'static>,
    /// The issuer's name contents, as webpki compares them.
    issuer: Vec<u8>,
    /// The CRL number's magnitude, without leading zeros.
    number: Option<Vec<u8>>,
    /// `thisUpdate`, Unix seconds.
    this_update: i64,
}

impl Crl {
    /// Reads one DER CRL: rustls-webpki must accept it, and the crate's
    /// DER reader must read its `thisUpdate` and CRL number. With
    /// `signers` (a fetched answer), one of them must have issued and
    /// signed it.
    fn read(der: &[u8], signers: Option<&[TrustAnchor<'_>]>) -> Result<Self, String> {
        let list = OwnedCertRevocationList::from_der(der).map_err(|e| e.to_string())?;
        let view = crate::x509::CrlView::parse(der)
            .map_err(|e| format!("a CRL that does not read ({})", e.finish().kind().code()))?;
        let list = CertRevocationList::from(list);
        let issuer = list.issuer().to_vec();
        if let Some(anchors) = signers
            && !signed_by(&view, &issuer, anchors)
        {
            return Err(format!(
                "a CRL issued by {} is not signed by a trust anchor of this set (a fetched CRL must be; put its issuing CA's certificate in trust_anchors, or list that CRL as a file)",
                issuer_text(&issuer)
            ));
        }
        let number = view.number.map(|n| {
            let start = n.iter().position(|&b| b != 0).unwrap_or(n.len());
            n[start..].to_vec()
        });
        Ok(Self {
            list,
            issuer,
            number,
            this_update: view.this_update,
        })
    }

    /// Whether this CRL and `other` are the same issuer's.
    pub(crate) fn same_issuer(&self, other: &Self) -> bool {
        self.issuer == other.issuer
    }

    /// Which of two CRLs of one issuer is newer: by CRL number when both
    /// have one (then by `thisUpdate`), else by `thisUpdate`.
    pub(crate) fn cmp_age(&self, other: &Self) -> Ordering {
        let by_update = self.this_update.cmp(&other.this_update);
        match (&self.number, &other.number) {
            (Some(a), Some(b)) => a.len().cmp(&b.len()).then(a.cmp(b)).then(by_update),
            _ => by_update,
        }
    }

    /// The CRL number in hex, or `none`, for a log line.
    pub(crate) fn number_text(&self) -> String {
        self.number
            .as_deref()
            .map_or_else(|| "none".to_owned(), crate::hex::upper)
    }
}

/// Whether an anchor of `anchors` issued and signed the CRL `view`, whose
/// issuer name (contents) is `issuer`: webpki's own algorithms, matched by
/// their identifiers as webpki matches them.
fn signed_by(view: &crate::x509::CrlView<'_>, issuer: &[u8], anchors: &[TrustAnchor<'_>]) -> bool {
    anchors.iter().any(|a| {
        a.subject.as_ref() == issuer
            && crate::x509::spki_algorithm_and_key(a.subject_public_key_info.as_ref()).is_ok_and(
                |(key_alg, key)| {
                    webpki::ALL_VERIFICATION_ALGS.iter().any(|v| {
                        v.public_key_alg_id().as_ref() == key_alg
                            && v.signature_alg_id().as_ref() == view.alg
                            && v.verify_signature(key, view.tbs, view.signature).is_ok()
                    })
                },
            )
    })
}

/// An issuer name (contents) as RFC 4514 text, for a log line (bounded:
/// read with the crate's limits, or named by its length).
fn issuer_text(issuer: &[u8]) -> String {
    let name = crate::x509::NameRef::at(issuer, crate::x509::Span::whole(issuer.len()));
    crate::dn::DistinguishedName::from_cert(&name, crate::limits::Limits::DEFAULT.name_attributes())
        .map_or_else(
            |_| format!("(an issuer name of {} bytes)", issuer.len()),
            |n| n.to_string(),
        )
}

/// The CRLs in `bytes`: one DER CRL, or PEM holding one or more. With
/// `signers` (a fetched answer), each must be issued and signed by one of
/// those anchors.
pub(crate) fn parse(bytes: &[u8], signers: Option<&[TrustAnchor<'_>]>) -> Result<Vec<Crl>, String> {
    let ders: Vec<Vec<u8>> = if bytes.first() == Some(&0x30) {
        vec![bytes.to_vec()]
    } else {
        CertificateRevocationListDer::pem_slice_iter(bytes)
            .map(|r| r.map(|d| d.as_ref().to_vec()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("bad PEM ({e})"))?
    };
    if ders.is_empty() {
        return Err("no X509 CRL in the PEM".to_owned());
    }
    ders.iter().map(|d| Crl::read(d, signers)).collect()
}

/// Per issuer, the newest of `crls` (the first of equals), in the order
/// the issuers first appear: what a verification checks with (on
/// references), so that a CRL file beside a fetched URL never hides a newer
/// CRL of the same issuer (webpki uses the first match), and what a set
/// holds (owned).
pub(crate) fn newest<C: Borrow<Crl>>(crls: impl IntoIterator<Item = C>) -> Vec<C> {
    let mut kept: Vec<C> = Vec::new();
    for c in crls {
        match kept.iter().position(|k| k.borrow().same_issuer(c.borrow())) {
            Some(i) if c.borrow().cmp_age(kept[i].borrow()) == Ordering::Greater => kept[i] = c,
            Some(_) => {}
            None => kept.push(c),
        }
    }
    kept
}

/// Judges a fetched answer (already read with the set's anchors as
/// signers: [`parse`]) against the CRLs held: per issuer the newest of the
/// answer is kept; none may be older than the one held for its issuer, and
/// no issuer held may be missing. Returns the CRLs to hold, or why the
/// answer is refused (the held ones then stay).
pub(crate) fn accept(answer: Vec<Crl>, held: &[Crl]) -> Result<Vec<Crl>, String> {
    let kept = newest(answer);
    for h in held {
        match kept.iter().find(|k| k.same_issuer(h)) {
            None => {
                return Err(format!(
                    "the answer has no CRL of {}, which the set held (number {}): refused, so a revocation cannot be dropped",
                    issuer_text(&h.issuer),
                    h.number_text()
                ));
            }
            Some(k) if k.cmp_age(h) == Ordering::Less => {
                return Err(format!(
                    "the CRL of {} is older (number {}, thisUpdate {}) than the one held (number {}, thisUpdate {}): refused, so a revocation cannot be undone",
                    issuer_text(&h.issuer),
                    k.number_text(),
                    crate::x509::rfc3339(k.this_update),
                    h.number_text(),
                    crate::x509::rfc3339(h.this_update)
                ));
            }
            Some(_) => {}
        }
    }
    Ok(kept)
}
