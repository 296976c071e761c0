//! [`ForwardedCert`]: a forwarded leaf and the chain that came with it.
//! Its own module, below both the decoder that builds it and the
//! consistency checks that read it.

use crate::cert::CertIdentity;
use crate::error::{Error, Field};
use crate::limits::Limits;

/// A forwarded leaf certificate and the chain that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedCert {
    leaf: CertIdentity,
    /// The chain's DER, except an entry 0 that is exactly the leaf (Envoy's
    /// form), which is not stored twice: see `chain_starts_with_leaf`.
    stored: Vec<Vec<u8>>,
    leaf_in_chain: bool,
    /// Whether the chain's entry 0 is the leaf's DER (then not in `stored`).
    chain_starts_with_leaf: bool,
}

impl ForwardedCert {
    /// Whether the chain's first certificate is the leaf (Envoy's form).
    pub(crate) const fn chain_starts_with_leaf(&self) -> bool {
        self.chain_starts_with_leaf
    }

    /// `chain` is every certificate sent as the chain; `leaf_in_chain`
    /// says that its entry 0 stands for the leaf (Envoy's `Chain`).
    pub(crate) fn new(leaf: CertIdentity, mut chain: Vec<Vec<u8>>, leaf_in_chain: bool) -> Self {
        let starts_with_leaf = chain.first().is_some_and(|d| d.as_slice() == leaf.der());
        if starts_with_leaf {
            chain.remove(0);
        }
        Self::from_parts(leaf, chain, leaf_in_chain, starts_with_leaf)
    }

    /// As [`new`](Self::new) when the caller knows the chain started with
    /// the leaf and passes only the rest (`chain_starts_with_leaf`).
    pub(crate) const fn from_parts(
        leaf: CertIdentity,
        stored: Vec<Vec<u8>>,
        leaf_in_chain: bool,
        chain_starts_with_leaf: bool,
    ) -> Self {
        Self {
            leaf,
            stored,
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
    pub fn chain_der(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        let head = usize::from(self.chain_starts_with_leaf);
        (0..head + self.stored.len()).map(move |i| match i.checked_sub(head) {
            None => self.leaf.der(),
            Some(n) => self.stored.get(n).map_or(&[][..], Vec::as_slice),
        })
    }

    /// The DER of the chain without the leaf: the candidate intermediates.
    /// Unverified: the client chose them.
    pub fn intermediates_der(&self) -> &[Vec<u8>] {
        if self.leaf_in_chain && !self.chain_starts_with_leaf {
            // Entry 0 stands for the leaf but is another certificate (a
            // contradiction the consistency checks report): not a candidate.
            self.stored.get(1..).unwrap_or(&[])
        } else {
            &self.stored
        }
    }

    /// Parses every chain certificate.
    ///
    /// # Errors
    /// [`CertErrorKind::BadDer`](crate::error::CertErrorKind::BadDer) naming the
    /// first chain entry that does not parse.
    pub fn chain(&self) -> Result<Vec<CertIdentity>, Error> {
        self.chain_der()
            .enumerate()
            .map(|(i, d)| {
                if i == 0 && self.leaf_in_chain {
                    Ok(self.leaf.clone())
                } else {
                    CertIdentity::from_der_field(d.to_vec(), Field::Chain(i), &Limits::DEFAULT)
                }
            })
            .collect()
    }
}
