//! axum extractors (feature `axum`).

use core::convert::Infallible;
use core::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::layer::Checked;
use crate::rejection::XfccRejection;

/// The verified client certificate, as an axum extractor.
///
/// `ClientCert` rejects with the layer's 403 `{"error":"missing"}` when the
/// request carried no certificate (accept mode), and in report mode with
/// the refusal the layer let through (`{"error":"not_allowed"}`, ...);
/// `Option<ClientCert>` never rejects. On a route the layer does not cover, `ClientCert` answers 500
/// and logs an error instead of panicking. Dereferences to
/// [`xfcc::ClientCert`]; its certificate, when one was forwarded, is
/// [`xfcc::ClientCert::certificate`] (none in `identity_from =
/// "proxy-fields"` mode).
///
/// ```
/// use xfcc_tower::ClientCert;
/// async fn whoami(cert: ClientCert) -> String {
///     cert.subject().to_owned()
/// }
/// async fn maybe(cert: Option<ClientCert>) -> String {
///     cert.map_or_else(|| "anonymous".to_owned(), |c| c.rule().to_owned())
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert(pub xfcc::ClientCert);

impl Deref for ClientCert {
    type Target = xfcc::ClientCert;

    fn deref(&self) -> &xfcc::ClientCert {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientCert {
    type Rejection = XfccRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(cert) = parts.extensions.get::<xfcc::ClientCert>() {
            return Ok(Self(cert.clone()));
        }
        if parts.extensions.get::<Checked>().is_some() {
            // Report mode let a refused request through: a handler that
            // needs the identity answers with the refusal.
            if let Some(r) = parts.extensions.get::<xfcc::Rejection>() {
                return Err(XfccRejection::policy(r.clone()));
            }
            return Err(XfccRejection::missing());
        }
        missing_layer();
        Err(XfccRejection::missing_layer())
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientCert {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        if parts.extensions.get::<Checked>().is_none() {
            missing_layer();
        }
        Ok(parts
            .extensions
            .get::<xfcc::ClientCert>()
            .cloned()
            .map(Self))
    }
}

fn missing_layer() {
    #[cfg(feature = "tracing")]
    tracing::error!(
        "xfcc_tower::ClientCert extractor used on a route that XfccLayer does not cover: add the layer"
    );
}

/// The default response; behind an [`XfccLayer`](crate::XfccLayer) with
/// `with_rejection_response`, the layer answers with its own instead.
impl IntoResponse for XfccRejection {
    fn into_response(self) -> Response {
        let mut res: Response = self.to_response();
        res.extensions_mut().insert(crate::rejection::FromExtractor);
        res
    }
}
