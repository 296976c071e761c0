//! The rejection the middleware (or the extractor) answers with.

use core::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, ResponseError};
use xfcc::{Reason, Rejection};

/// Why the middleware (or the extractor) turned a request away. As a
/// [`ResponseError`] it answers 403 `{"error":"<reason code>"}` (500
/// `{"error":"xfcc_layer_missing"}` for the extractor without the
/// middleware).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XfccRejection {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Policy(Rejection),
    MissingLayer,
}

impl XfccRejection {
    pub(crate) fn policy(r: Rejection) -> Self {
        Self {
            kind: Kind::Policy(r),
        }
    }

    pub(crate) fn missing_layer() -> Self {
        Self {
            kind: Kind::MissingLayer,
        }
    }

    /// The stable reason code (`missing`, `not_allowed`, ...), or
    /// `xfcc_layer_missing`.
    pub fn code(&self) -> &'static str {
        match &self.kind {
            Kind::Policy(r) => r.code(),
            Kind::MissingLayer => "xfcc_layer_missing",
        }
    }

    /// The policy's reason, when the policy rejected.
    pub fn reason(&self) -> Option<Reason> {
        self.rejection().map(Rejection::reason)
    }

    /// The policy's full rejection (detail code, element, thumbprint).
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.kind {
            Kind::Policy(r) => Some(r),
            Kind::MissingLayer => None,
        }
    }

    /// True when no certificate header was sent.
    pub fn is_missing(&self) -> bool {
        self.rejection().is_some_and(Rejection::is_missing)
    }
}

impl fmt::Display for XfccRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Policy(r) => fmt::Display::fmt(r, f),
            Kind::MissingLayer => {
                f.write_str("ClientCert extractor used on a route without the Xfcc middleware")
            }
        }
    }
}

impl ResponseError for XfccRejection {
    fn status_code(&self) -> StatusCode {
        match &self.kind {
            Kind::Policy(r) => {
                StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::FORBIDDEN)
            }
            Kind::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code())
            .content_type(ContentType::json())
            .body(xfcc::json_error(self.code()))
    }
}
