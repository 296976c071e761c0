//! The rejection the middleware (or the extractor) answers with.

use core::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use xfcc::{Reason, Rejection};

use crate::middleware::Respond;

/// Why the middleware (or the extractor) turned a request away: a policy
/// [`Rejection`], or [`Reason::LayerMissing`] when the extractor runs on a
/// route the middleware does not wrap. As a [`ResponseError`] it answers
/// 403 `{"error":"<reason code>"}` (500 `{"error":"xfcc_layer_missing"}`).
///
/// A middleware built with `with_rejection_response` answers with that
/// response here too, also when the `ClientCert` extractor rejects.
#[derive(Clone)]
pub struct XfccRejection(Rejection, Option<Respond>);

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
        Self(r, None)
    }

    pub(crate) fn missing_layer() -> Self {
        Self(Rejection::layer_missing(), None)
    }

    /// Answers with `respond` (the middleware's custom response), if any.
    pub(crate) fn responding_with(mut self, respond: Option<Respond>) -> Self {
        self.1 = respond;
        self
    }

    /// The HTTP status of the default response: 403 for every policy
    /// rejection, 500 when the extractor is used without the middleware.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::FORBIDDEN)
    }

    /// The default body: `{"error":"<code>"}`.
    pub fn json_body(&self) -> String {
        self.0.json_body()
    }

    /// The stable reason code (`missing`, `not_allowed`, ...,
    /// `xfcc_layer_missing`).
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The reason.
    pub fn reason(&self) -> Reason {
        self.0.reason()
    }

    /// The full rejection (detail code, element, thumbprint).
    pub fn rejection(&self) -> &Rejection {
        &self.0
    }

    /// True when no certificate header was sent.
    pub fn is_missing(&self) -> bool {
        self.0.is_missing()
    }
}

impl fmt::Display for XfccRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.reason() {
            Reason::LayerMissing => {
                f.write_str("ClientCert extractor used on a route without the Xfcc middleware")
            }
            _ => fmt::Display::fmt(&self.0, f),
        }
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
