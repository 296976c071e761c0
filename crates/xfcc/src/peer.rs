//! The connection a request came on: the TCP peer's address and what it
//! presented in TLS, as an adapter tells the policy.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use crate::outcome::Rejection;

/// The connection a request came on, for `trusted_peers` (its address) and
/// `trusted_proxies` (the certificate it presented in TLS). An adapter
/// builds one per request from what its server tells it; what it cannot
/// tell stays unknown, and a policy that needs it refuses the request as
/// `peer_unavailable` (a wiring error), never lets it through.
///
/// ```
/// use std::sync::Arc;
/// use xfcc::{Peer, PeerCert};
/// let addr: std::net::IpAddr = "10.0.0.7".parse().unwrap();
/// // What an adapter without TLS knows: the address.
/// let peer = Peer::from(addr);
/// assert_eq!(peer.addr(), Some(addr));
/// assert!(peer.tls().is_none());
/// // Behind a TLS acceptor: the chain the proxy presented (DER, leaf
/// // first), built once per connection and shared by its requests.
/// # let der = vec![0x30, 0x00];
/// let peer = Peer::from(addr).with_tls(Some(Arc::new(PeerCert::new([der]))));
/// assert!(peer.tls().is_some());
/// ```
#[derive(Debug, Clone, Default)]
pub struct Peer {
    addr: Option<IpAddr>,
    tls: Option<PeerTls>,
}

/// What the connection presented in TLS, when the adapter knows.
#[derive(Debug, Clone)]
pub enum PeerTls {
    /// A TLS connection on which the peer presented no certificate.
    NoCertificate,
    /// The certificate chain the peer presented (and proved it holds the
    /// key of, in the handshake).
    Certificate(Arc<PeerCert>),
}

impl Peer {
    /// A peer the adapter knows nothing of.
    pub const fn unknown() -> Self {
        Self {
            addr: None,
            tls: None,
        }
    }

    /// The TCP peer's address, if known.
    pub const fn addr(&self) -> Option<IpAddr> {
        self.addr
    }

    /// With the TCP peer's address.
    #[must_use]
    pub const fn with_addr(mut self, addr: Option<IpAddr>) -> Self {
        self.addr = addr;
        self
    }

    /// With what the connection presented in TLS: `Some(cert)` the chain,
    /// `None` a TLS connection without a client certificate. Leave it
    /// unset where the adapter cannot tell (no TLS, or TLS it cannot see
    /// into).
    #[must_use]
    pub fn with_tls(mut self, cert: Option<Arc<PeerCert>>) -> Self {
        self.tls = Some(cert.map_or(PeerTls::NoCertificate, PeerTls::Certificate));
        self
    }

    /// What the connection presented in TLS; `None` when the adapter
    /// cannot tell.
    pub const fn tls(&self) -> Option<&PeerTls> {
        self.tls.as_ref()
    }
}

impl From<IpAddr> for Peer {
    fn from(addr: IpAddr) -> Self {
        Self::unknown().with_addr(Some(addr))
    }
}

impl From<Option<IpAddr>> for Peer {
    fn from(addr: Option<IpAddr>) -> Self {
        Self::unknown().with_addr(addr)
    }
}

impl From<SocketAddr> for Peer {
    fn from(addr: SocketAddr) -> Self {
        Self::from(addr.ip())
    }
}

impl From<&Peer> for Peer {
    fn from(peer: &Peer) -> Self {
        peer.clone()
    }
}

/// The most certificates of a peer's chain that are kept: more is refused
/// as `untrusted_proxy` (a proxy presents its certificate and perhaps an
/// intermediate or two).
pub(crate) const MAX_PEER_CHAIN: usize = 8;

/// The certificate chain a TLS peer presented (DER, leaf first), as the
/// TLS library handed it over after the handshake. Build it once per
/// connection: a policy remembers on it what it decided of the chain (per
/// policy, until the decision lapses), so the requests of one connection
/// verify it once.
pub struct PeerCert {
    der: Vec<Vec<u8>>,
    /// What policies decided of it: (the deciding reading's id, reusable
    /// until, the decision). A few entries: a connection meets one policy,
    /// or a few across reloads or sources.
    judged: Mutex<Vec<Judged>>,
}

/// One policy reading's decision on a peer's chain.
#[derive(Clone)]
pub(crate) struct Judged {
    pub(crate) reading: u64,
    pub(crate) until: SystemTime,
    pub(crate) outcome: Result<Arc<Hop>, Rejection>,
}

/// What a policy learned of a hop whose certificate one of its
/// `trusted_proxies` entries matched.
#[derive(Debug)]
pub(crate) struct Hop {
    /// The entry's name.
    pub(crate) proxy: Arc<str>,
    /// The certificate's URI SANs: the `By` its elements may carry.
    pub(crate) uris: Vec<String>,
}

/// How many decisions a [`PeerCert`] remembers.
const JUDGED_MAX: usize = 4;

impl PeerCert {
    /// The chain as presented: DER certificates, leaf first. Nothing is
    /// parsed here; the policy reads the chain when it judges it, with its
    /// own limits.
    pub fn new<I, D>(chain: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: Into<Vec<u8>>,
    {
        Self {
            der: chain.into_iter().map(Into::into).collect(),
            judged: Mutex::new(Vec::new()),
        }
    }

    /// The chain as presented (DER, leaf first).
    pub fn chain_der(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.der.iter().map(Vec::as_slice)
    }

    /// A decision made before by `reading`, if it still holds at `now`.
    pub(crate) fn judged(&self, reading: u64, now: SystemTime) -> Option<Judged> {
        let judged = self.judged.lock().unwrap_or_else(PoisonError::into_inner);
        judged
            .iter()
            .find(|j| j.reading == reading && now <= j.until)
            .cloned()
    }

    /// Remembers a decision (the oldest goes when full).
    pub(crate) fn remember(&self, j: Judged) {
        let mut judged = self.judged.lock().unwrap_or_else(PoisonError::into_inner);
        judged.retain(|old| old.reading != j.reading);
        if judged.len() >= JUDGED_MAX {
            judged.remove(0);
        }
        judged.push(j);
    }
}

impl fmt::Debug for PeerCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerCert")
            .field("certificates", &self.der.len())
            .finish_non_exhaustive()
    }
}

/// The chains of the last few peers, for an adapter that is handed a
/// connection's certificates anew with every request (the Python and Node
/// bindings): the same chain, byte for byte, gets the same [`PeerCert`],
/// so a policy's decision on it is reused instead of verifying the chain
/// again per request. Bounded: at most `capacity` chains, the least
/// recently used dropped first.
pub struct RecentPeers {
    recent: Mutex<std::collections::VecDeque<Arc<PeerCert>>>,
    capacity: usize,
}

impl RecentPeers {
    /// Remembers at most `capacity` chains (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            recent: Mutex::new(std::collections::VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    /// The [`PeerCert`] for this chain (DER, leaf first): the one given
    /// out before for the same bytes, or a new one.
    pub fn get<D: AsRef<[u8]>>(&self, chain: &[D]) -> Arc<PeerCert> {
        let same = |p: &PeerCert| {
            p.der.len() == chain.len()
                && p.der
                    .iter()
                    .zip(chain)
                    .all(|(a, b)| a.as_slice() == b.as_ref())
        };
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = recent
            .iter()
            .position(|p| same(p))
            .and_then(|i| recent.remove(i))
        {
            recent.push_front(Arc::clone(&found));
            return found;
        }
        let fresh = Arc::new(PeerCert::new(chain.iter().map(|d| d.as_ref().to_vec())));
        if recent.len() >= self.capacity {
            recent.pop_back();
        }
        recent.push_front(Arc::clone(&fresh));
        fresh
    }
}

impl fmt::Debug for RecentPeers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecentPeers")
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
