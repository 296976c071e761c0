//! The middleware.

use std::future::{Future, Ready, ready};
use std::pin::Pin;
use std::rc::Rc;

use pin_project_lite::pin_project;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::EitherBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use xfcc::{Policy, PolicyHandle};

use crate::rejection::{Respond, XfccRejection};

/// The middleware's verdict on a request it served, with the custom
/// rejection response the extractor must answer with too.
#[derive(Clone)]
pub(crate) struct Checked(
    pub(crate) xfcc::outcome::Verdict,
    pub(crate) Option<Respond>,
);

#[derive(Debug, Clone)]
struct Config {
    policy: PolicyHandle,
    /// Rejection events at the configured level and rate, shared by every
    /// clone (one count for all workers).
    #[cfg(feature = "tracing")]
    log: Arc<xfcc::run::RejectionLog>,
}

/// Verifies the forwarded client certificate of every request, as an
/// actix-web [`Transform`] (`App::new().wrap(Xfcc::new(policy))`).
///
/// On success the verified [`xfcc::ClientCert`] goes into the request
/// extensions and the request continues; in accept mode a request with no
/// header continues with none. Otherwise the service is not called and the
/// rejection response is sent (by default 403 `{"error":"<code>"}`). More
/// than one header line is rejected (`multiple_headers`).
///
/// In report mode ([`xfcc::Mode::Report`]) the middleware never rejects: a
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
/// use actix_web::{App, web};
/// use xfcc::{Policy, Rule, TrustAnchors};
/// use xfcc_actix::{ClientCert, Xfcc};
///
/// async fn whoami(cert: ClientCert) -> String {
///     cert.subject().to_owned()
/// }
///
/// # let ca_pem = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/root.pem")).unwrap();
/// let policy = Policy::builder()
///     .chain(TrustAnchors::new("contoso", ca_pem))
///     .allow(Rule::new("partner").issuer_cn(["Contoso Issuing CA 1"]).chain("contoso"))
///     .build()?;
/// let app = App::new().wrap(Xfcc::new(policy)).route("/whoami", web::get().to(whoami));
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Xfcc {
    config: Arc<Config>,
    respond: Option<Respond>,
}

impl std::fmt::Debug for Xfcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xfcc")
            .field("config", &self.config)
            .field("custom_rejection", &self.respond.is_some())
            .finish()
    }
}

impl Xfcc {
    /// Middleware for a policy, or for a [`PolicyHandle`] that can be
    /// reloaded. Reads the headers the policy in force names, at each
    /// request ([`Reading::header_name`](xfcc::Reading::header_name), and `client-cert-chain` too for RFC
    /// 9440), so a reload that changes them is followed.
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
                #[cfg(feature = "tracing")]
                log: Arc::new(xfcc::run::RejectionLog::new(
                    Some(tracing::Level::INFO),
                    xfcc::run::LogRate::DEFAULT,
                )),
            }),
            respond: None,
        }
    }

    /// Shapes the rejection response. Default: 403 with
    /// `{"error":"<reason code>"}`.
    #[must_use]
    pub fn with_rejection_response(
        mut self,
        f: impl Fn(&XfccRejection) -> HttpResponse + Send + Sync + 'static,
    ) -> Self {
        self.respond = Some(Arc::new(f));
        self
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

    #[cfg(feature = "tracing")]
    fn reconfigure(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }
}

impl From<Policy> for Xfcc {
    fn from(policy: Policy) -> Self {
        Self::new(policy)
    }
}

impl<S, B> Transform<S, ServiceRequest> for Xfcc
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = XfccMiddleware<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(XfccMiddleware {
            service: Rc::new(service),
            config: Arc::clone(&self.config),
            respond: self.respond.clone(),
        }))
    }
}

/// What a connection presented in TLS, kept in its connection data
/// (`HttpRequest::conn_data`) by [`tls::on_connect`](crate::tls::on_connect)
/// (feature `rustls`), or by your own `on_connect` for another TLS stack:
/// the chain the peer presented, `None` for none. The middleware reads it
/// for the policy's `trusted_proxies`; without it the connection's TLS is
/// unknown, and such a policy refuses the request as `peer_unavailable`.
#[derive(Debug, Clone)]
pub struct PeerTls(pub Option<Arc<xfcc::PeerCert>>);

/// The service [`Xfcc`] wraps around the application.
#[doc(hidden)]
pub struct XfccMiddleware<S> {
    service: Rc<S>,
    config: Arc<Config>,
    respond: Option<Respond>,
}

impl<S> std::fmt::Debug for XfccMiddleware<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XfccMiddleware")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S, B> Service<ServiceRequest> for XfccMiddleware<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future, B>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        // The TCP peer (`peer_addr`), never a forwarded-for header: with
        // `trusted_peers`, only the proxy's own connections may carry the
        // certificate header.
        let mut peer = xfcc::Peer::from(req.peer_addr().map(|a| a.ip()));
        if let Some(PeerTls(cert)) = req.conn_data::<PeerTls>() {
            peer = peer.with_tls(cert.clone());
        }
        let headers = req.headers();
        // The core decides everything (mode, status, body); the
        // middleware only translates its verdict.
        let verdict = self
            .config
            .policy
            .decide(peer, |name| headers.get_all(name).map(|v| v.as_bytes()));
        #[cfg(feature = "tracing")]
        if let Some(r) = verdict.rejection() {
            self.config.log.log(r);
        }
        if let Some(refused) = verdict.refused() {
            let rejection = XfccRejection::new(refused.clone(), self.respond.clone());
            let mut res = rejection.error_response();
            res.extensions_mut().insert(rejection);
            return ResponseFuture::reject(req.into_response(res).map_into_right_body());
        }
        // Served: the client and the would-be refusal (report mode) where
        // handlers look for them, and the verdict for the extractor.
        {
            let mut ext = req.extensions_mut();
            if let Some(cert) = verdict.client_cert() {
                ext.insert(cert.clone());
            }
            if let Some(r) = verdict.rejection() {
                ext.insert(r.clone());
            }
            ext.insert(Checked(verdict, self.respond.clone()));
        }
        ResponseFuture::inner(self.service.call(req))
    }
}

pin_project! {
    /// The future of [`XfccMiddleware`]: the service's response, or the
    /// rejection, which is ready at once. Pinned in place, no allocation.
    #[doc(hidden)]
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] future: F },
        Reject { response: Option<ServiceResponse<EitherBody<B>>> },
    }
}

impl<F, B> std::fmt::Debug for ResponseFuture<F, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B> ResponseFuture<F, B> {
    const fn inner(future: F) -> Self {
        Self {
            state: State::Inner { future },
        }
    }

    const fn reject(r: ServiceResponse<EitherBody<B>>) -> Self {
        Self {
            state: State::Reject { response: Some(r) },
        }
    }
}

impl<F, B> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
{
    type Output = Result<ServiceResponse<EitherBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Inner { future } => {
                future.poll(cx).map_ok(ServiceResponse::map_into_left_body)
            }
            StateProj::Reject { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled again after completion: stay pending rather than
                // panic, as the tower adapter's future does.
                None => Poll::Pending,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_rejection_polled_after_completion_stays_pending() {
        let req = actix_web::test::TestRequest::default().to_srv_request();
        let res = req.into_response(actix_web::HttpResponse::Forbidden().finish());
        let mut fut = std::pin::pin!(ResponseFuture::<
            std::future::Ready<Result<ServiceResponse<()>, Error>>,
            (),
        >::reject(res.map_into_right_body()));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let first = fut.as_mut().poll(&mut cx);
        assert!(matches!(first, Poll::Ready(Ok(ref r)) if r.status() == 403));
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let _ = first.map(|r| r.unwrap());
    }
}
