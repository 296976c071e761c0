//! The `ClientCert` extractor.

use core::ops::Deref;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};

use crate::middleware::Checked;
use crate::rejection::XfccRejection;

/// The verified client certificate, as an actix-web extractor.
///
/// `ClientCert` answers 403 `{"error":"missing"}` (or the middleware's custom
/// rejection response) when the request carried no certificate (accept mode),
/// and in report mode with the refusal the middleware let through;
/// `Option<ClientCert>` never rejects. On a
/// route the middleware does not cover, `ClientCert` answers 500 and logs an
/// error instead of panicking. Dereferences to [`xfcc::ClientCert`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert(pub xfcc::ClientCert);

impl Deref for ClientCert {
    type Target = xfcc::ClientCert;

    fn deref(&self) -> &xfcc::ClientCert {
        &self.0
    }
}

impl FromRequest for ClientCert {
    type Error = XfccRejection;
    type Future = Ready<Result<Self, XfccRejection>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let ext = req.extensions();
        // The middleware's verdict says what a handler that needs the
        // identity gets (the would-be refusal in report mode, `missing` in
        // accept).
        if let Some(Checked(verdict, respond)) = ext.get::<Checked>() {
            return ready(
                verdict
                    .identity()
                    .map(|cert| Self(cert.clone()))
                    .map_err(|refused| XfccRejection::new(refused, respond.clone())),
            );
        }
        #[cfg(feature = "tracing")]
        tracing::error!(
            "xfcc_actix::ClientCert extractor used on a route the Xfcc middleware does not wrap: add .wrap(Xfcc::new(policy))"
        );
        ready(Err(XfccRejection::new(
            xfcc::outcome::Refused::LayerMissing,
            None,
        )))
    }
}
