//! The validation policy: which element to trust, consistency, validity,
//! and allow rules, built once and checked for every request.
//!
//! ```
//! use xfcc::{Policy, Rule};
//! # let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/envoy/rsa-chain.txt")).unwrap();
//! // A name alone is what a forger writes first: pin the certificate (or
//! // verify a chain to your CA with `TrustAnchors` and `Rule::chain`).
//! let policy = Policy::builder()
//!     .allow(
//!         Rule::new("payments")
//!             .subject_cn(["client-app.contoso.example"])
//!             .thumbprint(["642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"]),
//!     )
//!     .build()?;
//! let cert = policy.verify(&header)?;        // Result<ClientCert, Rejection>
//! assert_eq!(cert.rule(), "payments");
//! assert_eq!(cert.subject_cns().next(), Some("client-app.contoso.example"));
//!
//! let rejected = policy.verify("Hash=00;Cert=\"x\"").unwrap_err();
//! assert_eq!(rejected.code(), "malformed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod builder;
mod cache;
mod proxies;
mod reading;
mod verify;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use self::builder::Clock;
pub use self::builder::{Mode, PolicyBuilder, Source};
pub use self::proxies::TrustedProxy;
use self::reading::is_field_name;
pub use self::reading::{ElementCount, Reading};

use crate::chain as chains;
use crate::outcome::{ClientCert, Hint, IdentityFrom, Rejection, Verdict, Warning, WarningKind};
use crate::parse::{ParseOptions, Syntax};
use crate::rules::CompiledRule;

/// A value that does not read and begins with `<field name>:` was pasted
/// with its header's name: say so beside the parser's code.
fn name_hint(e: Rejection, value: &str) -> Rejection {
    let named = value.split_once(':').is_some_and(|(name, _)| {
        (2..=64).contains(&name.len()) && name.contains('-') && is_field_name(name)
    });
    if named {
        e.with_hint(Hint::HeaderNameInValue)
    } else {
        e
    }
}

/// What a source's name is written on: a certificate it allowed, or its
/// refusal.
trait Sourced {
    fn sourced_by(self, name: &Arc<str>) -> Self;
}

impl Sourced for ClientCert {
    fn sourced_by(self, name: &Arc<str>) -> Self {
        self.with_source(Arc::clone(name))
    }
}

impl Sourced for Option<ClientCert> {
    fn sourced_by(self, name: &Arc<str>) -> Self {
        self.map(|c| c.with_source(Arc::clone(name)))
    }
}

impl Sourced for Rejection {
    fn sourced_by(self, name: &Arc<str>) -> Self {
        self.with_source(Arc::clone(name))
    }
}

/// A validation policy: which element to trust, checked consistency and
/// validity, and allow rules. Build it with [`Policy::builder`], from a TOML
/// file ([`Policy::from_toml_file`]) or from the environment
/// ([`Policy::from_env`]). Cheap to clone (an `Arc`).
///
/// A policy is one set of rules (with its anchor sets, validity and mode)
/// read through one [`Reading`] of the header, or through one per
/// `[[sources]]` entry, the one the request's TCP peer belongs to
/// ([`readings`](Self::readings)).
///
/// `verify` checks, in order: header count, parse, element count, the
/// trusted element's `By`, every element's consistency (`Hash`, `Chain[0]`,
/// `Subject`, `URI`, `DNS` against its certificate), the validity period
/// (with leeway), then the rules; only a success yields a [`ClientCert`].
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    decision: Arc<Decision>,
    /// One reading, or one per `[[sources]]` entry (never none).
    readings: Vec<Arc<Reading>>,
    /// Whether the readings are `[[sources]]`, chosen by the peer.
    by_source: bool,
    /// Every header a request is read from ([`Policy::header_names`]).
    header_names: Arc<[String]>,
}

/// What every reading of a policy shares: how a certificate is judged.
struct Decision {
    mode: Mode,
    leeway: Duration,
    rules: Vec<CompiledRule>,
    options: ParseOptions,
    clock: Option<Clock>,
    chains: chains::Chains,
    /// `proxy_verifies_chain`: the operator says the proxy verifies client
    /// certificates (names-only rules are allowed).
    proxy_verifies_chain: bool,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.decision();
        f.debug_struct("Policy")
            .field("mode", &d.mode)
            .field("leeway", &d.leeway)
            .field(
                "rules",
                &d.rules.iter().map(|r| &*r.label).collect::<Vec<_>>(),
            )
            .field("readings", &self.inner.readings)
            .finish_non_exhaustive()
    }
}

impl Policy {
    /// The largest validity leeway a policy accepts: one day.
    pub const MAX_LEEWAY: Duration = Duration::from_secs(86_400);

    /// The cache's memory bound unless set: 16 MiB.
    pub const DEFAULT_CACHE_BYTES: u64 = 16 * 1024 * 1024;

    /// A builder with the defaults: require the header, exactly one
    /// element, trust element 0, 60 s leeway, strict syntax, default limits,
    /// Envoy format, no cache. At least one rule must be added.
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::default()
    }

    /// A policy of these rules read through these readings.
    fn assemble(decision: Arc<Decision>, readings: Vec<Arc<Reading>>, by_source: bool) -> Self {
        let mut names: Vec<String> = readings
            .iter()
            .flat_map(|r| r.header_names().map(str::to_owned))
            .collect();
        names.sort();
        names.dedup();
        Self {
            inner: Arc::new(Inner {
                decision,
                readings,
                by_source,
                header_names: names.into(),
            }),
        }
    }

    fn decision(&self) -> &Decision {
        &self.inner.decision
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.decision().mode
    }

    /// How the policy reads the header: one [`Reading`] or, with
    /// `[[sources]]`, one per source in order (the one a request's TCP peer
    /// belongs to reads it). Never empty.
    pub fn readings(&self) -> impl ExactSizeIterator<Item = &Reading> {
        self.inner.readings.iter().map(|r| &**r)
    }

    /// With `[[sources]]`, the same policy reading only the source `name`'s
    /// header, whatever the peer (for a tool that knows which proxy wrote a
    /// header, as `xfcc check --source` does): its
    /// [`verify`](Self::verify) reads as that proxy writes, and what it
    /// allows names the source. The rules, anchor sets and mode are
    /// shared. `None` when the policy has no source of that name.
    pub fn for_source(&self, name: &str) -> Option<Self> {
        let reading = self
            .inner
            .readings
            .iter()
            .find(|r| r.source.as_deref() == Some(name))?;
        Some(Self::assemble(
            Arc::clone(&self.inner.decision),
            vec![Arc::clone(reading)],
            false,
        ))
    }

    /// Every (lower-case) header a request is read from, sorted: each
    /// reading's ([`Reading::header_names`]: the certificate header and,
    /// for a format with one, its chain header). What an adapter that
    /// cannot hand over all headers (WSGI's `HTTP_*` keys) reads, and what
    /// [`Verdict::header_names`] says.
    pub fn header_names(&self) -> &[String] {
        &self.inner.header_names
    }

    /// The request-level verdict an adapter translates, and nothing more:
    /// [`verify_request`](Self::verify_request)'s result with the mode
    /// applied ([`Outcome::Report`](crate::outcome::Outcome::Report) in report mode), the status and body of
    /// a refusal ([`Refused`](crate::outcome::Refused)), the peer and the header names read.
    ///
    /// `peer` is the connection: its address, and what it presented in TLS
    /// (see [`Peer`](crate::Peer); an `IpAddr` or `Option<IpAddr>` converts).
    pub fn decide<'v, F, I>(&self, peer: impl Into<crate::Peer>, lines: F) -> Verdict
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let peer = peer.into();
        let result = self.verify_from(&peer, lines);
        Verdict::new(result, peer.addr(), Arc::clone(&self.inner.header_names))
    }

    /// Whether only listed peers may send the header: `trusted_peers`, or
    /// `[[sources]]` (each lists its own addresses or certificates).
    pub fn has_trusted_peers(&self) -> bool {
        self.inner.by_source || self.readings().any(Reading::has_trusted_peers)
    }

    /// Whether only connections presenting a proxy's certificate may send
    /// the header (`[[trusted_proxies]]`, in the policy or a source): the
    /// adapter must then tell the policy what each connection presented in
    /// TLS ([`Peer::with_tls`](crate::Peer::with_tls)).
    pub fn has_trusted_proxies(&self) -> bool {
        self.readings().any(Reading::has_trusted_proxies)
    }

    /// `proxy_verifies_chain`: whether the operator said the proxy in
    /// front verifies client certificates against their CA, which a policy
    /// with a rule that checks only names needs
    /// ([`PolicyBuilder::proxy_verifies_chain`]). `xfcc doctor` checks the
    /// claim against the proxy's configuration.
    pub fn proxy_verifies_chain(&self) -> bool {
        self.decision().proxy_verifies_chain
    }

    /// The names of the rules that check only names (no `thumbprint`, no
    /// `chain`): a self-signed certificate with those names passes them, so
    /// they are only as good as the proxy's own verification. For tools
    /// that judge a policy together with its proxy (`xfcc doctor`).
    pub fn name_only_rules(&self) -> impl Iterator<Item = &str> {
        self.decision()
            .rules
            .iter()
            .filter(|r| r.is_name_only())
            .map(|r| &*r.label)
    }

    /// The names of the rules with an `issuer` or `issuer_cn` constraint.
    /// With `identity_from = "proxy-fields"` they read the proxy's `Issuer`
    /// (Envoy 1.38+, `issuer: true`), which the proxy must forward. For
    /// tools that judge a policy together with its proxy (`xfcc doctor`).
    pub fn issuer_rules(&self) -> impl Iterator<Item = &str> {
        self.decision()
            .rules
            .iter()
            .filter(|r| r.reads_field("Issuer"))
            .map(|r| &*r.label)
    }

    /// Every setting that weakens the policy, each naming the setting (its
    /// policy-file key; with `[[sources]]`, a reading's warning names its
    /// source), for logs, `xfcc check` and `xfcc doctor`:
    ///
    /// - a rule that pins no thumbprint and requires no chain (which only
    ///   builds with `proxy_verifies_chain = true`): a self-signed
    ///   certificate with those names passes it unless the proxy verifies,
    ///   and Azure Container Apps' ingress accepts any certificate;
    /// - `mode = "accept"`: a request without the header reaches handlers;
    /// - `[elements] count` other than exactly 1 without `by`: any element
    ///   could have been written by a client, unless the trusted one is
    ///   tied to the proxy that wrote it;
    /// - `identity_from = "proxy-fields"` without `trusted_peers`;
    /// - `leeway_seconds` over five minutes;
    /// - lenient syntax;
    /// - an anchor set with `require_client_auth = false`, or stale CRLs
    ///   used anyway.
    pub fn warnings(&self) -> Vec<Warning> {
        let p = self.decision();
        let proxy_fields = self
            .readings()
            .any(|r| r.identity_from == IdentityFrom::ProxyFields);
        let mut out: Vec<Warning> = p
            .rules
            .iter()
            .filter(|r| r.is_name_only())
            .map(|r| {
                Warning::new(
                    WarningKind::NamesOnlyRule,
                    format!(
                        "rule {:?} checks only names and relies on proxy_verifies_chain = true: a self-signed certificate with those names passes it unless the proxy really verifies client certificates against your CA (the Azure Container Apps ingress accepts any certificate; `xfcc doctor --policy` checks the proxy's configuration)",
                        r.label
                    ),
                    if proxy_fields {
                        // `chain` needs a certificate, which proxy-fields
                        // elements do not carry.
                        format!("add `thumbprint` (the SHA-256 the proxy's `Hash` carries) to rule {:?}, or make sure the proxy verifies the client against your CA", r.label)
                    } else {
                        format!("add `thumbprint` or `chain` to rule {:?}", r.label)
                    },
                )
            })
            .collect();
        if p.mode == Mode::Report {
            out.push(Warning::new(
                WarningKind::ReportMode,
                "mode = \"report\": nothing is refused; would-be refusals are logged and counted (xfcc_verifications_total{result=\"would_deny\"}) and the requests go on without an identity",
                "mode = \"require\" once the would_deny counts show only the clients you mean to refuse",
            ));
        }
        if p.mode == Mode::Accept {
            out.push(Warning::new(
                WarningKind::AcceptMode,
                "mode = \"accept\": requests without the header reach the service with no identity; every handler must check",
                "mode = \"require\", or take the required ClientCert extractor in every handler that needs an identity",
            ));
        }
        // A policy's only reading is warned about in the reference's order;
        // sources' readings, each naming its source, come last.
        let mut readings: Vec<Warning> =
            self.readings().flat_map(|r| r.warnings(&p.rules)).collect();
        if !self.inner.by_source {
            let (leaf_only, elements): (Vec<_>, Vec<_>) = readings
                .drain(..)
                .partition(|w| w.kind() == WarningKind::LeafOnlyChain);
            out.extend(elements);
            readings = leaf_only;
        }
        if p.leeway > Duration::from_secs(300) {
            out.push(Warning::new(
                WarningKind::LongLeeway,
                format!(
                    "leeway_seconds = {}: certificates are accepted that long after they expire",
                    p.leeway.as_secs()
                ),
                "[validity] leeway_seconds = 60 (at most 300)",
            ));
        }
        if !self.inner.by_source {
            out.append(&mut readings);
        }
        if p.options.syntax() == Syntax::Lenient {
            out.push(Warning::new(
                WarningKind::LenientSyntax,
                "syntax is lenient: headers Envoy never writes are read",
                "syntax = \"strict\" (the default)",
            ));
        }
        out.extend(p.chains.warnings());
        out.append(&mut readings);
        out
    }

    /// Logs every [warning](Self::warnings) at WARN (target `xfcc`), one
    /// event each with its `code` and `fix`: what the tower layer and the
    /// actix middleware do once when they are built, and
    /// [`PolicyWatcher`](crate::run::PolicyWatcher) on each reload, so that a weakened policy never
    /// starts silently.
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn log_warnings(&self) {
        for w in self.warnings() {
            tracing::warn!(target: "xfcc", code = w.code(), fix = w.fix(), "policy warning: {w}");
        }
    }
}
