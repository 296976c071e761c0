//! [`Verdict`]: everything an adapter needs to answer one request, decided
//! once by the core ([`Policy::decide`](crate::Policy::decide)). An
//! adapter translates it into its framework's types and decides nothing:
//! not the mode, not a status, not a body.

use std::net::IpAddr;
use std::sync::Arc;

use super::{ClientCert, Refused, Rejection};

/// What to do with a request: serve it (with the client, or in report
/// mode with the would-be refusal beside it), or refuse it with a status
/// and a body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Serve the request. The verified client, or `None` where the mode
    /// lets a request without the header through (`accept`).
    Allow(Option<ClientCert>),
    /// `mode = "report"`: serve the request with no identity; the refusal
    /// it would have had is beside it (logged and counted as `would_deny`).
    Report(Rejection),
    /// Refuse the request: answer [`Refused::status`] with
    /// [`Refused::json_body`].
    Refuse(Refused),
}

/// The core's answer to one request ([`Policy::decide`](crate::Policy::decide)):
/// the [`Outcome`], the peer it was judged with and the header names it
/// read. Cheap to clone (the names are shared with the policy); adapters
/// keep it in the request (extensions, ASGI state, WSGI environ) so that a
/// handler's extractor reads the same decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    outcome: Outcome,
    peer: Option<IpAddr>,
    header_names: Arc<[String]>,
}

impl Verdict {
    pub(crate) fn new(
        result: Result<Option<ClientCert>, Rejection>,
        peer: Option<IpAddr>,
        header_names: Arc<[String]>,
    ) -> Self {
        let outcome = match result {
            Ok(cert) => Outcome::Allow(cert),
            Err(r) if r.is_report_only() => Outcome::Report(r),
            Err(r) => Outcome::Refuse(Refused::Policy(r)),
        };
        Self {
            outcome,
            peer,
            header_names,
        }
    }

    /// What to do.
    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// What to do, owned.
    pub fn into_outcome(self) -> Outcome {
        self.outcome
    }

    /// The TCP peer the request was judged with (`None`: the adapter could
    /// not tell).
    pub fn peer(&self) -> Option<IpAddr> {
        self.peer
    }

    /// The (lower-case) header names the policy read: its own and its
    /// chain header, or with `[[sources]]` every source's.
    pub fn header_names(&self) -> &[String] {
        &self.header_names
    }

    /// Whether the request is served ([`Outcome::Allow`] or
    /// [`Outcome::Report`]).
    pub fn serves(&self) -> bool {
        !matches!(self.outcome, Outcome::Refuse(_))
    }

    /// The verified client, when there is one.
    pub fn client_cert(&self) -> Option<&ClientCert> {
        match &self.outcome {
            Outcome::Allow(cert) => cert.as_ref(),
            _ => None,
        }
    }

    /// The policy's rejection: the would-be refusal in report mode, or the
    /// refusal.
    pub fn rejection(&self) -> Option<&Rejection> {
        match &self.outcome {
            Outcome::Report(r) => Some(r),
            Outcome::Refuse(r) => r.rejection(),
            Outcome::Allow(_) => None,
        }
    }

    /// The refusal to answer with: `None` when the request is served.
    pub fn refused(&self) -> Option<&Refused> {
        match &self.outcome {
            Outcome::Refuse(r) => Some(r),
            _ => None,
        }
    }

    /// What a handler that needs the identity (a required `ClientCert`
    /// extractor) gets: the client, or the refusal to answer with, which in
    /// report mode is the would-be refusal, and without a header in accept
    /// mode `missing`.
    ///
    /// # Errors
    /// The [`Refused`] the handler answers with.
    pub fn identity(&self) -> Result<&ClientCert, Refused> {
        match &self.outcome {
            Outcome::Allow(Some(cert)) => Ok(cert),
            Outcome::Allow(None) => Err(Refused::Policy(Rejection::missing())),
            Outcome::Report(r) => Err(Refused::Policy(r.clone())),
            Outcome::Refuse(r) => Err(r.clone()),
        }
    }
}
