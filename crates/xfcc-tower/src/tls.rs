//! Terminating the proxy's TLS in the service (feature `rustls`), for a
//! policy with `trusted_proxies`: [`TlsListener`] accepts TCP connections,
//! completes their handshakes (concurrently, each within a time limit), and
//! hands each connection over with its [`TlsPeer`]: the address and the
//! certificate the proxy presented. [`XfccLayer`](crate::XfccLayer) reads
//! the `TlsPeer` from the request extensions (axum's
//! `ConnectInfo<TlsPeer>`, or a `TlsPeer` a hyper server inserts).
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use xfcc_tower::{XfccLayer, tls::{TlsListener, TlsPeer}};
//! # async fn run(policy: xfcc::Policy, cert: Vec<u8>, key: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let config = xfcc::tls::server_config_from_pem(&cert, &key)?;
//! let tcp = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//! let app = Router::new().route("/", get(|| async { "hi" })).layer(XfccLayer::new(policy));
//! axum::serve(
//!     TlsListener::new(tcp, config),
//!     app.into_make_service_with_connect_info::<TlsPeer>(),
//! )
//! .await?;
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use xfcc::{Peer, PeerCert};

/// A connection's peer as the TLS listener saw it: its address and the
/// certificate chain it presented (none when it presented none). The
/// layer turns it into the [`xfcc::Peer`] the policy judges.
#[derive(Debug, Clone)]
pub struct TlsPeer {
    addr: SocketAddr,
    cert: Option<Arc<PeerCert>>,
}

impl TlsPeer {
    /// From a finished handshake: the TCP peer's address and what rustls
    /// kept of the client's certificate (for a hyper server that inserts
    /// it into each request's extensions).
    pub fn new(addr: SocketAddr, conn: &tokio_rustls::rustls::ServerConnection) -> Self {
        Self {
            addr,
            cert: xfcc::tls::peer_cert(conn.peer_certificates()),
        }
    }

    /// The TCP peer's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The certificate chain the peer presented, if it presented one.
    pub fn cert(&self) -> Option<&Arc<PeerCert>> {
        self.cert.as_ref()
    }

    /// What the policy reads: the address, and a TLS connection with (or
    /// without) a certificate.
    pub fn peer(&self) -> Peer {
        Peer::from(self.addr.ip()).with_tls(self.cert.clone())
    }
}

/// How many handshakes a listener runs at once unless told otherwise.
const DEFAULT_HANDSHAKES: usize = 256;
/// How long a handshake may take unless told otherwise.
const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Handshake = Option<(TlsStream<TcpStream>, TlsPeer)>;

/// A TCP listener that completes each connection's TLS handshake before
/// handing it over, with the peer's certificate. Handshakes run
/// concurrently (at most [`max_handshakes`](Self::max_handshakes) at once,
/// each within [`handshake_timeout`](Self::handshake_timeout)), so a peer
/// that stalls its handshake holds up no one else; one that fails or times
/// out is dropped. With the `axum` feature it is an
/// [`axum::serve::Listener`]; elsewhere call [`accept`](Self::accept).
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
    max_handshakes: usize,
    timeout: Duration,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("local_addr", &self.tcp.local_addr().ok())
            .field("handshakes", &self.handshakes.len())
            .field("max_handshakes", &self.max_handshakes)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// Listens on `tcp` with this rustls configuration (build it with
    /// [`xfcc::tls::server_config`] so that every connection is asked for
    /// its certificate).
    pub fn new(
        tcp: TcpListener,
        config: impl Into<Arc<tokio_rustls::rustls::ServerConfig>>,
    ) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config.into()),
            handshakes: JoinSet::new(),
            max_handshakes: DEFAULT_HANDSHAKES,
            timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Most handshakes in progress at once; beyond it, new connections
    /// wait in the kernel's backlog. Default 256 (zero cannot be asked
    /// for: no connection would ever be accepted).
    #[must_use]
    pub fn max_handshakes(mut self, n: std::num::NonZeroUsize) -> Self {
        self.max_handshakes = n.get();
        self
    }

    /// How long a handshake may take before the connection is dropped.
    /// Default 10 s.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The local address.
    ///
    /// # Errors
    /// The socket's.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.tcp.local_addr()
    }

    /// The next connection whose handshake completed, with its peer.
    /// Failed handshakes and accept errors are skipped (an accept error
    /// such as too many open files pauses accepting for a second).
    pub async fn accept(&mut self) -> (TlsStream<TcpStream>, TlsPeer) {
        loop {
            let room = self.handshakes.len() < self.max_handshakes;
            tokio::select! {
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
                accepted = self.tcp.accept(), if room => match accepted {
                    Ok((tcp, addr)) => {
                        let acceptor = self.acceptor.clone();
                        let timeout = self.timeout;
                        self.handshakes.spawn(async move {
                            let tls = tokio::time::timeout(timeout, acceptor.accept(tcp))
                                .await
                                .ok()?
                                .ok()?;
                            let peer = TlsPeer::new(addr, tls.get_ref().1);
                            Some((tls, peer))
                        });
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                },
            }
        }
    }
}

#[cfg(feature = "axum")]
impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = TlsPeer;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        Self::accept(self).await
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(TlsPeer {
            addr: self.tcp.local_addr()?,
            cert: None,
        })
    }
}

#[cfg(feature = "axum")]
impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>>
    for TlsPeer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        stream.remote_addr().clone()
    }
}
