//! axum extractors (feature `axum`).

use core::convert::Infallible;
use core::ops::Deref;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;

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
        // The layer's verdict says what a handler that needs the identity
        // gets (the would-be refusal in report mode, `missing` in accept).
        match parts.extensions.get::<xfcc::outcome::Verdict>() {
            Some(verdict) => verdict
                .identity()
                .map(|cert| Self(cert.clone()))
                .map_err(XfccRejection::from),
            None => {
                missing_layer();
                Err(XfccRejection::missing_layer())
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for ClientCert {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let verdict = parts.extensions.get::<xfcc::outcome::Verdict>();
        if verdict.is_none() {
            missing_layer();
        }
        Ok(verdict
            .and_then(xfcc::outcome::Verdict::client_cert)
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
