//! The rejection the middleware (or the extractor) answers with.

use core::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use xfcc::outcome::Refused;

/// A custom rejection response, shared by every worker.
pub(crate) type Respond = Arc<dyn Fn(&XfccRejection) -> HttpResponse + Send + Sync>;

/// Why the middleware (or the extractor) turned a request away: the
/// policy's [`Rejection`](xfcc::Rejection), or `xfcc_layer_missing` when the `ClientCert`
/// extractor runs on a route the middleware does not wrap (a wiring
/// mistake, not a verdict on the request: 500). As a [`ResponseError`] it
/// answers 403 `{"error":"<reason code>"}` (500
/// `{"error":"xfcc_layer_missing"}`).
///
/// A middleware built with `with_rejection_response` answers with that
/// response here too, also when the `ClientCert` extractor rejects.
#[derive(Clone)]
pub struct XfccRejection(Refused, Option<Respond>);

impl fmt::Debug for XfccRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("XfccRejection").field(&self.0).finish()
    }
}

/// Equal when the rejections are (the response shape is not compared).
impl PartialEq for XfccRejection {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl Eq for XfccRejection {}

impl XfccRejection {
    /// The refusal, answered with `respond` (the middleware's custom
    /// response) if any.
    pub(crate) fn new(refused: Refused, respond: Option<Respond>) -> Self {
        Self(refused, respond)
    }

    /// What was refused, shared with the other adapters. Every method of
    /// [`Refused`] (`code`, `reason`, `rejection`, `is_missing`,
    /// `is_layer_missing`, `json_body`) is also reachable through `Deref`.
    pub fn refused(&self) -> &Refused {
        &self.0
    }

    /// The HTTP status of the default response ([`Refused::status`]): 403
    /// for every policy rejection, 500 for `peer_unavailable` and every
    /// wiring refusal (the extractor used without the middleware).
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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

impl ResponseError for XfccRejection {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        match &self.1 {
            Some(respond) => respond(self),
            None => HttpResponse::build(self.status())
                .content_type(ContentType::json())
                .body(self.json_body()),
        }
    }
}
