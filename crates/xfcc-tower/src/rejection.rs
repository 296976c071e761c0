//! The rejection a layer answers with, and how its response is built.

use core::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use xfcc::{Reason, Rejection};

/// Why the layer (or the extractor) turned a request away: the policy's
/// [`Rejection`], or `xfcc_layer_missing` when the `ClientCert` extractor
/// runs on a route the layer does not cover (a wiring mistake, not a
/// verdict on the request: 500).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfccRejection(Option<Rejection>);

impl XfccRejection {
    pub(crate) fn policy(r: Rejection) -> Self {
        Self(Some(r))
    }

    #[cfg(feature = "axum")]
    pub(crate) fn missing() -> Self {
        Self(Some(Rejection::missing()))
    }

    #[cfg(feature = "axum")]
    pub(crate) fn missing_layer() -> Self {
        Self(None)
    }

    /// The HTTP status of the default response: 403 for every policy
    /// rejection (as the recipes and Azure Container Apps users expect; 401
    /// would need a `WWW-Authenticate` challenge), 500 for
    /// `peer_unavailable` (the server does not pass the peer address while
    /// `trusted_peers` is set) and when the extractor is used without the
    /// layer.
    pub fn status(&self) -> StatusCode {
        match &self.0 {
            Some(r) if r.reason() != Reason::PeerUnavailable => StatusCode::FORBIDDEN,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code: the [`Reason`]'s (`missing`, `not_allowed`, ...),
    /// or `xfcc_layer_missing`.
    pub fn code(&self) -> &'static str {
        self.0.as_ref().map_or(LAYER_MISSING, Rejection::code)
    }

    /// The policy's reason; `None` when the layer is missing.
    pub fn reason(&self) -> Option<Reason> {
        self.0.as_ref().map(Rejection::reason)
    }

    /// The policy's full rejection (detail code, element, thumbprint);
    /// `None` when the layer is missing.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.0.as_ref()
    }

    /// True when no certificate header was sent.
    pub fn is_missing(&self) -> bool {
        self.0.as_ref().is_some_and(Rejection::is_missing)
    }

    /// True when the `ClientCert` extractor ran on a route without the layer.
    pub fn is_layer_missing(&self) -> bool {
        self.0.is_none()
    }

    /// The default body: `{"error":"<code>"}`.
    pub fn json_body(&self) -> String {
        format!("{{\"error\":\"{}\"}}", self.code())
    }

    /// The default response, with any body type built from bytes.
    pub fn to_response<B: From<Bytes>>(&self) -> Response<B> {
        let mut res = Response::new(B::from(Bytes::from(self.json_body())));
        *res.status_mut() = self.status();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        res.extensions_mut().insert(self.clone());
        res
    }
}

/// The code of a [`XfccRejection`] whose layer is missing.
const LAYER_MISSING: &str = "xfcc_layer_missing";

impl fmt::Display for XfccRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(r) => fmt::Display::fmt(r, f),
            None => f.write_str("ClientCert extractor used on a route without XfccLayer"),
        }
    }
}

impl std::error::Error for XfccRejection {}

/// Marks a response that the `ClientCert` extractor produced, so that the
/// layer around the handler reshapes it with its own rejection response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FromExtractor;

/// Builds the response for a rejected request.
///
/// Implemented by [`JsonForbidden`] (the default) and by any
/// `Fn(&XfccRejection) -> http::Response<B> + Clone`, for example a gRPC
/// status for tonic:
///
/// ```
/// # use xfcc_tower::{XfccLayer, XfccRejection};
/// # let policy = xfcc::Policy::builder()
/// #     .allow(xfcc::Rule::new("any").subject_cn(["client"]))
/// #     .build()?;
/// let layer = XfccLayer::new(policy).with_rejection_response(|r: &XfccRejection| {
///     tonic::Status::permission_denied(r.code()).into_http::<tonic::body::Body>()
/// });
/// # let _ = layer;
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
pub trait OnRejection<B>: Clone {
    /// The response to send instead of calling the inner service.
    fn response(&self, rejection: &XfccRejection) -> Response<B>;
}

/// The default: 403 (500 for a missing layer) with `{"error":"<code>"}`
/// and the rejection in the response extensions.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsonForbidden;

impl<B: From<Bytes>> OnRejection<B> for JsonForbidden {
    fn response(&self, rejection: &XfccRejection) -> Response<B> {
        rejection.to_response()
    }
}

impl<B, F> OnRejection<B> for F
where
    F: Fn(&XfccRejection) -> Response<B> + Clone,
{
    fn response(&self, rejection: &XfccRejection) -> Response<B> {
        let mut res = self(rejection);
        res.extensions_mut().insert(rejection.clone());
        res
    }
}
