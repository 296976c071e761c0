//! The rejection the middleware (or the extractor) answers with.

use core::fmt;
use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use xfcc::{Reason, Refused, Rejection};

/// A custom rejection response, shared by every worker.
pub(crate) type Respond = Arc<dyn Fn(&XfccRejection) -> HttpResponse + Send + Sync>;

/// Why the middleware (or the extractor) turned a request away: the
/// policy's [`Rejection`], or `xfcc_layer_missing` when the `ClientCert`
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
    pub(crate) fn policy(r: Rejection) -> Self {
        Self(Refused::Policy(r), None)
    }

    pub(crate) fn missing_layer() -> Self {
        Self(Refused::LayerMissing, None)
    }

    /// Answers with `respond` (the middleware's custom response), if any.
    pub(crate) fn responding_with(mut self, respond: Option<Respond>) -> Self {
        self.1 = respond;
        self
    }

    /// What was refused, shared with the other adapters.
    pub fn refused(&self) -> &Refused {
        &self.0
    }

    /// The HTTP status of the default response ([`Refused::status`]): 403
    /// for every policy rejection, 500 for `peer_unavailable` and when the
    /// extractor is used without the middleware.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The default body: `{"error":"<code>"}`.
    pub fn json_body(&self) -> String {
        self.0.json_body()
    }

    /// The stable code: the [`Reason`]'s (`missing`, `not_allowed`, ...),
    /// or `xfcc_layer_missing`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The policy's reason; `None` when the middleware is missing.
    pub fn reason(&self) -> Option<Reason> {
        self.0.reason()
    }

    /// The policy's full rejection (detail code, element, thumbprint);
    /// `None` when the middleware is missing.
    pub fn rejection(&self) -> Option<&Rejection> {
        self.0.rejection()
    }

    /// True when no certificate header was sent.
    pub fn is_missing(&self) -> bool {
        self.0.is_missing()
    }

    /// True when the `ClientCert` extractor ran on a route without the
    /// middleware.
    pub fn is_layer_missing(&self) -> bool {
        self.0.is_layer_missing()
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
