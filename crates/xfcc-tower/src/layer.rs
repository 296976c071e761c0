//! The layer and its service.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;
use xfcc::{Policy, PolicyHandle};

use crate::future::ResponseFuture;
use crate::rejection::{JsonForbidden, OnRejection, XfccRejection};

#[derive(Debug, Clone)]
struct Config {
    policy: PolicyHandle,
    /// Where the TCP peer's address is read from, for `trusted_peers`.
    peer: PeerAddr,
    /// Where what the connection presented in TLS is read from, for
    /// `trusted_proxies`.
    tls: PeerTlsFrom,
    /// Rejection events at the configured level and rate, shared by every
    /// clone (one count for all workers).
    #[cfg(feature = "tracing")]
    log: Arc<xfcc::run::RejectionLog>,
}

/// Verifies the forwarded client certificate of every request.
///
/// On success the verified [`xfcc::ClientCert`] goes into the request
/// extensions and the request continues; in accept mode a request with no
/// header continues with none. Otherwise the inner service is not called and
/// the rejection response is sent (by default 403 `{"error":"<code>"}`).
/// More than one header line is rejected (`multiple_headers`).
///
/// In report mode ([`xfcc::Mode::Report`]) the layer never rejects: a
/// request the policy would refuse is logged and counted as `would_deny`
/// and goes on with no `ClientCert` and the [`xfcc::Rejection`] in its
/// extensions (`req.extensions().get::<xfcc::Rejection>()`); the required
/// [`ClientCert`](crate::ClientCert) extractor answers such a request with
/// that rejection, `Option<ClientCert>` gives `None`.
///
/// # Trust boundary
/// The header means something only if the proxy in front overwrites any
/// client-sent value (Envoy `SANITIZE_SET`) and the service is reachable only
/// through that proxy.
///
/// ```
/// use axum::{Router, routing::get};
/// use xfcc::{Policy, Rule, TrustAnchors};
/// use xfcc_tower::XfccLayer;
///
/// # let ca_pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/root.pem")).unwrap();
/// let policy = Policy::builder()
///     .chain(TrustAnchors::new("contoso", ca_pem))
///     .allow(Rule::new("partner").issuer_cn(["Contoso Issuing CA 1"]).chain("contoso"))
///     .build()?;
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(XfccLayer::new(policy));
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct XfccLayer<R = JsonForbidden> {
    config: Arc<Config>,
    on_rejection: R,
}

impl XfccLayer<JsonForbidden> {
    /// A layer for a policy, or for a [`PolicyHandle`] that can be reloaded.
    /// Reads the headers the policy in force names, at each request
    /// ([`Reading::header_name`](xfcc::Reading::header_name): `x-forwarded-client-cert` for Envoy; and
    /// `client-cert-chain` too for RFC 9440), so a reload that changes them
    /// is followed.
    ///
    /// Logs each of the policy's [warnings](xfcc::Policy::warnings) once,
    /// at WARN (feature `tracing`).
    pub fn new(policy: impl Into<PolicyHandle>) -> Self {
        let policy = policy.into();
        #[cfg(feature = "tracing")]
        policy.current().log_warnings();
        Self {
            config: Arc::new(Config {
                policy,
                peer: default_peer,
                tls: default_tls,
                #[cfg(feature = "tracing")]
                log: Arc::new(xfcc::run::RejectionLog::new(
                    Some(tracing::Level::INFO),
                    xfcc::run::LogRate::DEFAULT,
                )),
            }),
            on_rejection: JsonForbidden,
        }
    }
}

impl<R> XfccLayer<R> {
    /// Shapes the rejection response (a gRPC status for tonic,
    /// problem+json, ...). Default: [`JsonForbidden`].
    pub fn with_rejection_response<R2>(self, on_rejection: R2) -> XfccLayer<R2> {
        XfccLayer {
            config: self.config,
            on_rejection,
        }
    }

    /// Level of the `tracing` event (target `xfcc`) emitted for each
    /// rejection: reason code, detail, element index, thumbprint, hint.
    /// Default `INFO`; `None` turns it off (but `peer_unavailable`, a
    /// wiring error, is logged at `ERROR` whatever this says).
    #[cfg(feature = "tracing")]
    #[must_use]
    pub fn log_level(self, level: impl Into<Option<tracing::Level>>) -> Self {
        let level = level.into();
        self.reconfigure(|c| c.log = Arc::new(xfcc::run::RejectionLog::new(level, c.log.rate())))
    }

    /// How many rejection events each reason may log per second; above it
    /// they are counted and one summary event per reason says how many
    /// were not logged ([`xfcc::run::LogRate`]). Default
    /// [`LogRate::DEFAULT`](xfcc::run::LogRate::DEFAULT), 10 per reason per
    /// second, so a flood of bad requests cannot decide the log bill;
    /// `peer_unavailable` is always logged, and metrics count every
    /// rejection. The examples read it from `XFCC_LOG_RATE`
    /// ([`LogRate::from_env`](xfcc::run::LogRate::from_env)).
    #[cfg(feature = "tracing")]
    #[must_use]
    pub fn log_rate(self, rate: xfcc::run::LogRate) -> Self {
        self.reconfigure(|c| c.log = Arc::new(xfcc::run::RejectionLog::new(c.log.level(), rate)))
    }

    /// Where the layer reads the TCP peer's address for the policy's
    /// `trusted_peers` (a function of the request extensions). The default
    /// reads axum's `ConnectInfo<SocketAddr>` (serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()`) or a plain
    /// `SocketAddr` extension (hyper: insert it per connection). For tonic:
    ///
    /// ```
    /// # use xfcc::{Policy, Rule};
    /// # use xfcc_tower::XfccLayer;
    /// # let policy = Policy::builder().trusted_peers(["10.0.0.0/8"]).allow(Rule::new("p").thumbprint(["ab".repeat(32)])).build()?;
    /// use tonic::transport::server::TcpConnectInfo;
    /// let layer = XfccLayer::new(policy).peer_addr(|ext| {
    ///     ext.get::<TcpConnectInfo>()?.remote_addr().map(|a| a.ip())
    /// });
    /// # Ok::<(), xfcc::ConfigError>(())
    /// ```
    ///
    /// With `trusted_peers` set and no address found, the request is
    /// rejected as `peer_unavailable` (500), never let through.
    #[must_use]
    pub fn peer_addr(self, from: PeerAddr) -> Self {
        self.reconfigure(|c| c.peer = from)
    }

    /// Where the layer reads what the connection presented in TLS, for the
    /// policy's `trusted_proxies` (a function of the request extensions):
    /// `None` when it cannot tell, `Some(None)` for a TLS connection
    /// without a client certificate, `Some(Some(cert))` for the chain
    /// presented. The default reads the [`TlsPeer`](crate::tls::TlsPeer)
    /// that [`TlsListener`](crate::tls::TlsListener) gives axum
    /// (`ConnectInfo<TlsPeer>`), or one a hyper server inserted (feature
    /// `rustls`). For tonic with its own TLS, read
    /// `TlsConnectInfo::peer_certs()` and build the chain with
    /// [`xfcc::tls::peer_cert`] (once per connection, where tonic keeps
    /// the connection's info, so its decision is reused).
    ///
    /// With `trusted_proxies` set and nothing found, the request is
    /// rejected as `peer_unavailable` (500), never let through.
    #[must_use]
    pub fn peer_tls(self, from: PeerTlsFrom) -> Self {
        self.reconfigure(|c| c.tls = from)
    }

    fn reconfigure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }
}

impl From<Policy> for XfccLayer {
    fn from(policy: Policy) -> Self {
        Self::new(policy)
    }
}

impl<S, R: Clone> Layer<S> for XfccLayer<R> {
    type Service = Xfcc<S, R>;

    fn layer(&self, inner: S) -> Self::Service {
        Xfcc {
            inner,
            config: Arc::clone(&self.config),
            on_rejection: self.on_rejection.clone(),
        }
    }
}

/// Reads the TCP peer's address from a request's extensions (see
/// [`XfccLayer::peer_addr`]).
pub type PeerAddr = fn(&http::Extensions) -> Option<IpAddr>;

/// Reads what a request's connection presented in TLS from its extensions
/// (see [`XfccLayer::peer_tls`]).
pub type PeerTlsFrom = fn(&http::Extensions) -> Option<Option<Arc<xfcc::PeerCert>>>;

/// The [`TlsPeer`](crate::tls::TlsPeer) of the connection, if the
/// listener left one.
#[cfg(feature = "rustls")]
fn tls_peer(ext: &http::Extensions) -> Option<&crate::tls::TlsPeer> {
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) =
        ext.get::<axum::extract::ConnectInfo<crate::tls::TlsPeer>>()
    {
        return Some(peer);
    }
    ext.get::<crate::tls::TlsPeer>()
}

/// The `TlsPeer`'s certificate (feature `rustls`); otherwise unknown.
fn default_tls(ext: &http::Extensions) -> Option<Option<Arc<xfcc::PeerCert>>> {
    #[cfg(feature = "rustls")]
    if let Some(peer) = tls_peer(ext) {
        return Some(peer.cert().cloned());
    }
    let _ = ext;
    None
}

/// A `TlsPeer`'s address, axum's `ConnectInfo<SocketAddr>`, else a
/// `SocketAddr` extension.
fn default_peer(ext: &http::Extensions) -> Option<IpAddr> {
    #[cfg(feature = "rustls")]
    if let Some(peer) = tls_peer(ext) {
        return Some(peer.addr().ip());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(addr)) =
        ext.get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(addr.ip());
    }
    ext.get::<SocketAddr>().map(SocketAddr::ip)
}

/// The service [`XfccLayer`] produces.
#[derive(Debug, Clone)]
pub struct Xfcc<S, R = JsonForbidden> {
    inner: S,
    config: Arc<Config>,
    on_rejection: R,
}

impl<S, R> Xfcc<S, R> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, ResB, R> Service<Request<B>> for Xfcc<S, R>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    R: OnRejection<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB, R>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let headers = req.headers();
        let ext = req.extensions();
        let mut peer = xfcc::Peer::from((self.config.peer)(ext));
        if let Some(tls) = (self.config.tls)(ext) {
            peer = peer.with_tls(tls);
        }
        // The core decides everything (mode, status, body); the layer only
        // translates its verdict.
        let verdict = self.config.policy.decide(peer, |name| {
            headers
                .get_all(name)
                .into_iter()
                .map(http::HeaderValue::as_bytes)
        });
        #[cfg(feature = "tracing")]
        if let Some(r) = verdict.rejection() {
            self.config.log.log(r);
        }
        if let Some(refused) = verdict.refused() {
            let rejection = XfccRejection::from(refused.clone());
            return ResponseFuture::reject(self.on_rejection.response(&rejection));
        }
        // Served: the client and the would-be refusal (report mode) where
        // handlers look for them, and the verdict for the extractor.
        let ext = req.extensions_mut();
        if let Some(cert) = verdict.client_cert() {
            ext.insert(cert.clone());
        }
        if let Some(r) = verdict.rejection() {
            ext.insert(r.clone());
        }
        ext.insert(verdict);
        ResponseFuture::inner(self.inner.call(req), self.on_rejection.clone())
    }
}
