//! The rejection a layer answers with, and how its response is built.

use core::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use xfcc::outcome::Refused;

/// Why the layer (or the extractor) turned a request away: the policy's
/// [`Rejection`](xfcc::Rejection), or `xfcc_layer_missing` when the `ClientCert` extractor
/// runs on a route the layer does not cover (a wiring mistake, not a
/// verdict on the request: 500). A thin wrapper of [`xfcc::outcome::Refused`], which
/// the actix-web adapter wraps too: codes, statuses and bodies are the
/// same in both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfccRejection(Refused);

impl XfccRejection {
    #[cfg(feature = "axum")]
    pub(crate) fn missing_layer() -> Self {
        Self(Refused::LayerMissing)
    }

    /// What was refused, shared with the other adapters. Every method of
    /// [`Refused`] (`code`, `reason`, `rejection`, `is_missing`,
    /// `is_layer_missing`, `json_body`) is also reachable through `Deref`.
    pub fn refused(&self) -> &Refused {
        &self.0
    }

    /// The HTTP status of the default response ([`Refused::status`]): 403
    /// for every policy rejection, 500 for `peer_unavailable` and every
    /// wiring refusal (the extractor used without the layer).
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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

impl From<Refused> for XfccRejection {
    fn from(refused: Refused) -> Self {
        Self(refused)
    }
}

impl core::ops::Deref for XfccRejection {
    type Target = Refused;

    fn deref(&self) -> &Refused {
        &self.0
    }
}

impl fmt::Display for XfccRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
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
/// #     .allow(xfcc::Rule::new("any").thumbprint(["ab".repeat(32)]))
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
