//! The rejection the middleware (or the extractor) answers with.

use core::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use xfcc::{Reason, Rejection};

/// Why the middleware (or the extractor) turned a request away: a policy
/// [`Rejection`], or [`Reason::LayerMissing`] when the extractor runs on a
/// route the middleware does not wrap. As a [`ResponseError`] it answers
/// 403 `{"error":"<reason code>"}` (500 `{"error":"xfcc_layer_missing"}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfccRejection(Rejection);

impl XfccRejection {
    pub(crate) fn policy(r: Rejection) -> Self {
        Self(r)
    }

    pub(crate) fn missing_layer() -> Self {
        Self(Rejection::layer_missing())
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
        StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::FORBIDDEN)
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(ContentType::json())
            .body(self.0.json_body())
    }
}
