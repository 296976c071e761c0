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

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub(crate) use self::builder::Clock;
use self::builder::is_field_name;
pub use self::builder::{ElementCount, Mode, PolicyBuilder, Source};

use self::cache::{Cache, CachedCert, KeyRef};
use crate::chain as chains;
use crate::error::{CertErrorKind, Error, Field};
use crate::format::Format;
use crate::forwarded::ForwardedCert;
use crate::metrics;
use crate::outcome::{
    ChainFacts, ClientCert, Detail, Explanation, Hint, IdentityFrom, ProxyFields, Reason,
    Rejection, RuleMiss, Verdict, Warning, WarningKind,
};
use crate::parse::{Element, ParseOptions, Syntax, XfccHeader};
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
/// `verify` checks, in order: header count, parse, element count, the
/// trusted element's `By`, every element's consistency (`Hash`, `Chain[0]`,
/// `Subject`, `URI`, `DNS` against its certificate), the validity period
/// (with leeway), then the rules; only a success yields a [`ClientCert`].
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

struct Inner {
    mode: Mode,
    count: ElementCount,
    trust: i64,
    by: Option<String>,
    leeway: Duration,
    rules: Vec<CompiledRule>,
    options: ParseOptions,
    format: Format,
    header_name: String,
    clock: Option<Clock>,
    cache: Option<Cache>,
    /// Shared by the policies of a policy's sources.
    chains: Arc<chains::Chains>,
    /// `trusted_peers`, when set.
    trusted_peers: Option<Vec<ipnet::IpNet>>,
    identity_from: IdentityFrom,
    /// `[[sources]]`: when there are any, a request is judged by the
    /// policy of the source its peer belongs to.
    sources: Vec<SourcePolicy>,
    /// The name of the source this policy is, within a policy with sources.
    source: Option<Arc<str>>,
    /// `proxy_verifies_chain`: the operator says the proxy verifies client
    /// certificates (names-only rules are allowed).
    proxy_verifies_chain: bool,
    /// Every header a request is read from ([`Policy::header_names`]).
    header_names: Arc<[String]>,
}

/// One `[[sources]]` entry: its name, its peers' blocks, and the policy it
/// judges requests with (its reading, the shared rules and anchor sets).
struct SourcePolicy {
    name: Arc<str>,
    nets: Vec<ipnet::IpNet>,
    policy: Policy,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Policy")
            .field("mode", &i.mode)
            .field("count", &i.count)
            .field("trust", &i.trust)
            .field("by", &i.by)
            .field("leeway", &i.leeway)
            .field(
                "rules",
                &i.rules.iter().map(|r| &*r.label).collect::<Vec<_>>(),
            )
            .field("format", &i.format)
            .field("header_name", &i.header_name)
            .field("cache", &i.cache.is_some())
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

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.inner.mode
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.inner.format
    }

    /// The (lower-case) header name to read.
    pub fn header_name(&self) -> &str {
        &self.inner.header_name
    }

    /// Every (lower-case) header a request is read from, sorted: the
    /// policy's own and, for a format with one, its chain header
    /// (`client-cert-chain`); with `[[sources]]`, every source's. What an
    /// adapter that cannot hand over all headers (WSGI's `HTTP_*` keys)
    /// reads, and what [`Verdict::header_names`] says.
    pub fn header_names(&self) -> &[String] {
        &self.inner.header_names
    }

    /// The header names a policy reads, sorted: with `sources`, theirs;
    /// else `header` and the chain header of `format`, if it has one.
    fn names_read(header: &str, format: Format, sources: &[SourcePolicy]) -> Arc<[String]> {
        let mut names: Vec<String> = if sources.is_empty() {
            std::iter::once(header.to_owned())
                .chain(format.chain_header_name().map(str::to_owned))
                .collect()
        } else {
            sources
                .iter()
                .flat_map(|s| s.policy.header_names().iter().cloned())
                .collect()
        };
        names.sort();
        names.dedup();
        names.into()
    }

    /// The request-level verdict an adapter translates, and nothing more:
    /// [`verify_request`](Self::verify_request)'s result with the mode
    /// applied ([`Outcome::Report`](crate::Outcome::Report) in report mode), the status and body of
    /// a refusal ([`Refused`](crate::Refused)), the peer and the header names read.
    pub fn decide<'v, F, I>(&self, peer: Option<std::net::IpAddr>, lines: F) -> Verdict
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let result = self.verify_request(peer, lines);
        Verdict::new(result, peer, Arc::clone(&self.inner.header_names))
    }

    /// `[elements] count`: how many elements a header must have.
    pub fn element_count(&self) -> ElementCount {
        self.inner.count
    }

    /// `[elements] trust`: the index of the trusted element (negative from
    /// the end).
    pub fn trusted_element(&self) -> i64 {
        self.inner.trust
    }

    /// `[elements] by`: the proxy the trusted element must name, if set.
    pub fn trusted_proxy(&self) -> Option<&str> {
        self.inner.by.as_deref()
    }

    /// `[elements] identity_from`: where the identity is read from.
    pub fn identity_from(&self) -> IdentityFrom {
        self.inner.identity_from
    }

    /// Whether `trusted_peers` is set (with `[[sources]]`, each source's).
    pub fn has_trusted_peers(&self) -> bool {
        self.inner.trusted_peers.is_some() || !self.inner.sources.is_empty()
    }

    /// The `[[sources]]`, in order: each name, and the policy its requests
    /// are judged by (whose [`format`](Self::format),
    /// [`header_name`](Self::header_name) and elements are that proxy's).
    /// Empty for a policy without sources, whose own settings apply.
    pub fn sources(&self) -> impl Iterator<Item = (&str, &Self)> {
        self.inner.sources.iter().map(|s| (&*s.name, &s.policy))
    }

    /// The source `name`'s policy (see [`sources`](Self::sources)).
    pub fn source(&self, name: &str) -> Option<&Self> {
        self.sources().find(|(n, _)| *n == name).map(|(_, p)| p)
    }

    /// Within a policy with sources, the name of the source this policy
    /// is; `None` otherwise.
    pub fn source_name(&self) -> Option<&str> {
        self.inner.source.as_deref()
    }

    /// `proxy_verifies_chain`: whether the operator said the proxy in
    /// front verifies client certificates against their CA, which a policy
    /// with a rule that checks only names needs
    /// ([`PolicyBuilder::proxy_verifies_chain`]). `xfcc doctor` checks the
    /// claim against the proxy's configuration.
    pub fn proxy_verifies_chain(&self) -> bool {
        self.inner.proxy_verifies_chain
    }

    /// The names of the rules that check only names (no `thumbprint`, no
    /// `chain`): a self-signed certificate with those names passes them, so
    /// they are only as good as the proxy's own verification. For tools
    /// that judge a policy together with its proxy (`xfcc doctor`).
    pub fn name_only_rules(&self) -> impl Iterator<Item = &str> {
        self.inner
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
        self.inner
            .rules
            .iter()
            .filter(|r| r.reads_field("Issuer"))
            .map(|r| &*r.label)
    }

    /// Every setting that weakens the policy, each naming the setting (its
    /// policy-file key), for logs, `xfcc check` and `xfcc doctor`:
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
        let p = &*self.inner;
        let proxy_fields = p.identity_from == IdentityFrom::ProxyFields;
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
        // With trusted_peers and trust = -1 the trusted element is the one
        // the nearest proxy (the only peer allowed) appended: tied to it.
        let pinned_last = p.trusted_peers.is_some() && p.trust == -1;
        if p.count != ElementCount::Exactly(1)
            && p.by.is_none()
            && !pinned_last
            && p.format == Format::Envoy
        {
            out.push(Warning::new(
                WarningKind::ElementsWithoutBy,
                format!(
                    "[elements] count is not exactly 1 and `by` is not set: element {} is not tied to the proxy that wrote it, and a client can send it",
                    p.trust
                ),
                if p.trusted_peers.is_some() {
                    "[elements] by = \"<the URI SAN of the proxy that writes the trusted element>\", or trust = -1 (the element the nearest proxy, your trusted peer, appended)"
                } else {
                    "[elements] by = \"<the URI SAN of the proxy that writes the trusted element>\", or trusted_peers = [\"<the proxy's address>\"] with trust = -1"
                },
            ));
        }
        if proxy_fields && p.trusted_peers.is_none() {
            out.push(Warning::new(
                WarningKind::ProxyFieldsWithoutPeers,
                "identity_from = \"proxy-fields\" without trusted_peers: `by` names the proxy that wrote an element, but a request that reaches the service around it writes the By too; set trusted_peers (or make sure nothing else can connect)",
                "trusted_peers = [\"<the proxy's address>/32\"]",
            ));
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
        if !p.format.carries_chain() {
            for r in p.rules.iter().filter(|r| r.chain.is_some()) {
                out.push(Warning::new(
                    WarningKind::LeafOnlyChain,
                    format!(
                        "rule {:?}: the {} format forwards the leaf alone, so its chain verifies only leaves issued directly by a trust anchor (put the issuing CA in trust_anchors)",
                        r.label,
                        p.format.code()
                    ),
                    "put the CA that issues the client certificates in trust_anchors",
                ));
            }
        }
        if p.options.syntax() == Syntax::Lenient {
            out.push(Warning::new(
                WarningKind::LenientSyntax,
                "syntax is lenient: headers Envoy never writes are read",
                "syntax = \"strict\" (the default)",
            ));
        }
        out.extend(p.chains.warnings());
        if !p.sources.is_empty() {
            // The policy's own reading is not used: each source's is.
            let reading = |k: WarningKind| {
                matches!(
                    k,
                    WarningKind::ElementsWithoutBy
                        | WarningKind::ProxyFieldsWithoutPeers
                        | WarningKind::LeafOnlyChain
                )
            };
            out.retain(|w| !reading(w.kind()));
            for s in &p.sources {
                for w in s.policy.warnings() {
                    if reading(w.kind()) {
                        out.push(Warning::new(
                            w.kind(),
                            format!("[[sources]] {:?}: {}", &*s.name, w.message()),
                            format!("in [[sources]] {:?}: {}", &*s.name, w.fix()),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Logs every [warning](Self::warnings) at WARN (target `xfcc`), one
    /// event each with its `code` and `fix`: what the tower layer and the
    /// actix middleware do once when they are built, and
    /// [`PolicyWatcher`](crate::PolicyWatcher) on each reload, so that a weakened policy never
    /// starts silently.
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub fn log_warnings(&self) {
        for w in self.warnings() {
            tracing::warn!(target: "xfcc", code = w.code(), fix = w.fix(), "policy warning: {w}");
        }
    }

    fn now(&self) -> SystemTime {
        self.inner
            .clock
            .as_ref()
            .map_or_else(SystemTime::now, |c| c())
    }

    /// Verifies one header value against the policy at the policy's clock.
    ///
    /// # Errors
    /// A [`Rejection`] with its [`Reason`].
    pub fn verify(&self, value: &str) -> Result<ClientCert, Rejection> {
        self.verify_at(value, self.now())
    }

    /// As [`verify`](Self::verify), at the given time.
    ///
    /// # Errors
    /// A [`Rejection`] with its [`Reason`].
    pub fn verify_at(&self, value: &str, now: SystemTime) -> Result<ClientCert, Rejection> {
        let start = metrics::start();
        let result = if self.inner.sources.is_empty() {
            self.verify_inner(value, None, now)
        } else {
            // Which proxy's reading applies depends on the peer.
            Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer))
        };
        let result = self.mark(result);
        metrics::verification(start, result.as_ref().map(Some));
        result
    }

    /// Every line of the policy's header as received (none, one, or more),
    /// for a caller that has only that header: no line applies the mode
    /// (`Ok(None)` in [`Mode::Accept`], `missing` in [`Mode::Require`]);
    /// more than one line is rejected as `multiple_headers` (RFC 9110 would
    /// join them with `, `, which reads as extra elements); a value that is
    /// not UTF-8 is `malformed`. With `trusted_peers` set it is always
    /// `peer_unavailable`: use [`verify_request`](Self::verify_request)
    /// with the peer's address.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_header_values<'v, I>(&self, values: I) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let start = metrics::start();
        let result = if self.has_trusted_peers() {
            // The peer is unknown here: never honour the header.
            Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer))
        } else {
            self.verify_lines(values, None)
        };
        let result = self.mark(result);
        metrics::verification(start, result.as_ref().map(Option::as_ref));
        result
    }

    /// What the HTTP adapters call for each request: `lines(name)` gives
    /// every field line of the header `name` (lower-case) as received. Reads
    /// the policy's header ([`header_name`](Self::header_name)) as
    /// [`verify_header_values`](Self::verify_header_values) does and, for a
    /// format with a separate chain header (RFC 9440 `client-cert-chain`),
    /// that one too, so chain rules see the intermediates. Several chain
    /// lines are one list (RFC 9110 5.3); together they must fit the
    /// policy's byte limit, and each must be UTF-8.
    ///
    /// `peer` is the TCP peer's address, for `trusted_peers`: with the
    /// setting, `None` is `peer_unavailable` (a wiring error, never
    /// allowed) and a peer outside the list that sent the header is
    /// `untrusted_peer`; without it, `peer` is not read.
    ///
    /// Because the names come from the policy at each call, an adapter
    /// built on a [`PolicyHandle`](crate::PolicyHandle) follows a reload that changes them.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_request<'v, F, I>(
        &self,
        peer: Option<std::net::IpAddr>,
        mut lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        if !self.inner.sources.is_empty() {
            return self.verify_by_source(peer, lines);
        }
        let start = metrics::start();
        let p = &*self.inner;
        let result = match (&p.trusted_peers, peer) {
            (Some(_), None) => Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer)),
            (Some(_), Some(ip)) if !self.is_trusted_peer(ip) => {
                let sent = self.header_sent(&mut lines);
                self.untrusted_peer(ip, sent)
            }
            _ => match p.format.chain_header_name() {
                Some(name) => self
                    .chain_lines(lines(name))
                    .and_then(|chain| self.verify_lines(lines(&p.header_name), chain.as_deref())),
                None => self.verify_lines(lines(&p.header_name), None),
            },
        };
        let result = self.mark(result);
        metrics::verification(start, result.as_ref().map(Option::as_ref));
        result
    }

    /// With `[[sources]]`: the source the peer belongs to judges the
    /// request; a peer in none that sends any source's header is
    /// `untrusted_peer`, one that sends none gets the mode's answer.
    fn verify_by_source<'v, F, I>(
        &self,
        peer: Option<std::net::IpAddr>,
        mut lines: F,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let found = peer.map(|ip| {
            let ip = ip.to_canonical();
            (
                ip,
                self.inner
                    .sources
                    .iter()
                    .find(|s| s.nets.iter().any(|n| n.contains(&ip))),
            )
        });
        if let Some((ip, Some(source))) = found {
            return source.policy.verify_request(Some(ip), lines);
        }
        let start = metrics::start();
        let result = match found {
            None => Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeer)),
            Some((ip, _)) => {
                let sent = self
                    .inner
                    .sources
                    .iter()
                    .any(|s| s.policy.header_sent(&mut lines));
                self.untrusted_peer(ip, sent)
            }
        };
        let result = self.mark(result);
        metrics::verification(start, result.as_ref().map(Option::as_ref));
        result
    }

    /// Whether the request has a line of this policy's header, or of its
    /// chain header.
    fn header_sent<'v, F, I>(&self, lines: &mut F) -> bool
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let p = &*self.inner;
        let mut sent = |name: &str| lines(name).into_iter().next().is_some();
        p.format.chain_header_name().is_some_and(&mut sent) || sent(&p.header_name)
    }

    /// A peer the header may not come from: `untrusted_peer` when it sent
    /// the header, else what the mode says of a request without one.
    fn untrusted_peer(
        &self,
        ip: std::net::IpAddr,
        sent: bool,
    ) -> Result<Option<ClientCert>, Rejection> {
        if sent {
            Err(Rejection::of(Reason::UntrustedPeer)
                .with_peer(ip)
                .with_hint(Hint::UntrustedPeer))
        } else {
            self.on_missing()
        }
    }

    /// In report mode, marks a refusal as one that only reports; within a
    /// policy with sources, names the source on the refusal and on the
    /// certificate.
    fn mark<T: Sourced>(&self, result: Result<T, Rejection>) -> Result<T, Rejection> {
        let result = match &self.inner.source {
            Some(name) => result
                .map(|t| t.sourced_by(name))
                .map_err(|r| r.sourced_by(name)),
            None => result,
        };
        match self.inner.mode {
            Mode::Report => result.map_err(Rejection::reported),
            Mode::Require | Mode::Accept => result,
        }
    }

    /// Whether `trusted_peers` lets a request from `peer` carry the header
    /// (always true when it is not set); with `[[sources]]`, whether `peer`
    /// belongs to one.
    pub fn is_trusted_peer(&self, peer: std::net::IpAddr) -> bool {
        let ip = peer.to_canonical();
        if !self.inner.sources.is_empty() {
            return self
                .inner
                .sources
                .iter()
                .any(|s| s.nets.iter().any(|n| n.contains(&ip)));
        }
        self.inner
            .trusted_peers
            .as_ref()
            .is_none_or(|nets| nets.iter().any(|n| n.contains(&ip)))
    }

    /// The chain header's lines joined as one list, `None` when absent.
    fn chain_lines<'v>(
        &self,
        lines: impl IntoIterator<Item = &'v [u8]>,
    ) -> Result<Option<String>, Rejection> {
        let max = self.inner.options.limits().bytes();
        let mut joined: Option<String> = None;
        for line in lines {
            let text = std::str::from_utf8(line).map_err(|e| {
                Rejection::from(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::InvalidUtf8,
                    e.valid_up_to(),
                )))
            })?;
            let out = joined.get_or_insert_with(String::new);
            if !out.is_empty() {
                out.push_str(", ");
            }
            if out.len() + text.len() > max {
                return Err(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::TooLong,
                    max,
                ))
                .into());
            }
            out.push_str(text);
        }
        Ok(joined)
    }

    fn verify_lines<'v, I>(
        &self,
        values: I,
        chain: Option<&str>,
    ) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        let mut values = values.into_iter();
        let Some(first) = values.next() else {
            return self.on_missing();
        };
        if values.next().is_some() {
            return Err(Rejection::of(Reason::MultipleHeaders));
        }
        let text = std::str::from_utf8(first).map_err(|e| {
            Rejection::from(Error::from(crate::error::ParseError::new(
                crate::error::ParseErrorKind::InvalidUtf8,
                e.valid_up_to(),
            )))
        })?;
        if self.inner.format.means_no_certificate(text) {
            // HAProxy and Caddy set the header from a variable that is
            // empty (or, for Caddy, unreplaced) without a client certificate.
            return self.on_missing();
        }
        self.verify_inner(text, chain, self.now()).map(Some)
    }

    fn on_missing(&self) -> Result<Option<ClientCert>, Rejection> {
        match self.inner.mode {
            Mode::Accept => Ok(None),
            Mode::Require | Mode::Report => Err(Rejection::of(Reason::Missing)),
        }
    }

    fn verify_inner(
        &self,
        value: &str,
        chain: Option<&str>,
        now: SystemTime,
    ) -> Result<ClientCert, Rejection> {
        let p = &*self.inner;
        if p.format != Format::Envoy {
            if p.format.means_no_certificate(value) {
                return Err(Rejection::of(Reason::Missing));
            }
            if value.len() > p.options.limits().bytes() {
                return Err(Error::from(crate::error::ParseError::new(
                    crate::error::ParseErrorKind::TooLong,
                    p.options.limits().bytes(),
                ))
                .into());
            }
            // One certificate (and chain) per value: the cache is keyed
            // by the exact texts, and stores only what is allowed.
            let key = KeyRef::new(value, chain.unwrap_or(""), None);
            let (cached, hit) = match self.cache_get(&key) {
                Some((cached, _)) => (cached, true),
                None => {
                    let fc = p
                        .format
                        .decode(value, chain, p.options.limits())
                        .map_err(|e| name_hint(Rejection::from(e), value))?;
                    (Arc::new(CachedCert::new(fc)), false)
                }
            };
            let allowed = self.finish(&cached, 0, now)?;
            if let (false, Some(cache)) = (hit, &p.cache) {
                cache.insert(&key, cached, 0);
            }
            return Ok(allowed);
        }

        // An allowed header seen before, byte for byte: it parses and checks
        // as it did, so only what depends on the clock is done again.
        // (Counted as a lookup only when it hits: a miss goes on to the
        // elements' lookups, which count.)
        let whole = KeyRef::header(value);
        if let Some((cached, index)) = p.cache.as_ref().and_then(|c| c.get(&whole)) {
            metrics::cache_lookup(true);
            return self.finish(&cached, index, now);
        }
        let header = XfccHeader::parse_with(value, &p.options).map_err(|e| {
            let r = Rejection::from(Error::from(e));
            if crate::parse::is_json_form(value, p.options.syntax()) {
                r.with_hint(Hint::JsonForm)
            } else {
                name_hint(r, value)
            }
        })?;
        let n = header.len();
        if let ElementCount::Exactly(expected) = p.count {
            let counts = Hint::Elements { seen: n, expected };
            if n > expected {
                return Err(Rejection::of(Reason::TooManyElements).with_hint(counts));
            }
            if n < expected {
                return Err(Rejection::of(Reason::TooFewElements).with_hint(counts));
            }
        }
        let trusted = if p.trust >= 0 {
            usize::try_from(p.trust).ok().filter(|&i| i < n)
        } else {
            n.checked_sub(usize::try_from(p.trust.unsigned_abs()).unwrap_or(usize::MAX))
        }
        .ok_or_else(|| Rejection::of(Reason::TooFewElements))?;

        // The trusted proxy writes one element per request. Its `By` in two
        // elements means a client's SAN (which Envoy writes unescaped)
        // split an element and forged the second half.
        if let Some(by) = &p.by
            && n > 1
            && header
                .elements()
                .filter(|e| e.by().any(|b| b.text() == by.as_str()))
                .nth(1)
                .is_some()
        {
            return Err(Rejection::new(Reason::UntrustedProxy, Detail::RepeatedBy));
        }
        let mut chosen = None;
        let mut fields = None;
        // Decoded certificates are stored only once the whole header is
        // allowed: what the policy rejects never occupies the cache.
        let mut fresh: Vec<(KeyRef<'_>, Arc<CachedCert>)> = Vec::new();
        for element in header.elements() {
            let index = element.index();
            if index == trusted {
                if let Some(by) = &p.by
                    && !element.by().any(|b| b.text() == by.as_str())
                {
                    return Err(Rejection::of(Reason::UntrustedProxy).at_element(index));
                }
                if p.identity_from == IdentityFrom::ProxyFields
                    && element.cert().is_none()
                    && element.chain().is_none()
                {
                    fields = Some(ProxyFields::read(&element)?);
                    continue;
                }
                let cached = self.decode(&element, &mut fresh)?.ok_or_else(|| {
                    let e = Rejection::from(
                        Error::cert(CertErrorKind::NoCertificate, Field::Cert).with_element(index),
                    );
                    // What a mesh that forwards no certificate sends.
                    let fields = element.hash().is_some()
                        || element.uri().next().is_some()
                        || element.subject().is_some();
                    if fields && p.format == Format::Envoy {
                        e.with_hint(Hint::FieldsWithoutCert)
                    } else {
                        e
                    }
                })?;
                chosen = Some(cached);
            } else {
                // Untrusted elements must still agree with their own
                // certificates: this is what exposes a SAN that smuggled
                // delimiters into the header.
                self.decode(&element, &mut fresh)?;
            }
        }
        if let Some(fields) = fields {
            // Other elements' certificates were checked, but the trusted
            // one has none: nothing for the cache.
            return self.finish_fields(fields, trusted, now);
        }
        let cached = chosen.ok_or_else(|| Rejection::of(Reason::TooFewElements))?;
        let allowed = self.finish(&cached, trusted, now)?;
        if let Some(cache) = &p.cache {
            // A one-element header needs no element entry beside its own.
            if n > 1 {
                for (key, entry) in fresh {
                    cache.insert(&key, entry, 0);
                }
            }
            cache.insert(&whole, cached, trusted);
        }
        Ok(allowed)
    }

    /// Decodes an element's certificate (through the cache) and checks the
    /// element's fields against it.
    fn decode<'h>(
        &self,
        element: &Element<'h>,
        fresh: &mut Vec<(KeyRef<'h>, Arc<CachedCert>)>,
    ) -> Result<Option<Arc<CachedCert>>, Rejection> {
        let p = &*self.inner;
        let Some(cert_raw) = element.cert().or(element.chain()) else {
            return Ok(None);
        };
        let chain_raw = element.chain().map_or("", |v| v.raw());
        let key = KeyRef::new(cert_raw.raw(), chain_raw, element.hash().map(|h| h.raw()))
            .json(element.is_json());
        let (cached, hit) = match self.cache_get(&key) {
            Some((hit, _)) => (hit, true),
            None => {
                let Some(fc) = element.decode_unchecked(p.options.limits())? else {
                    return Ok(None);
                };
                (Arc::new(CachedCert::new(fc)), false)
            }
        };
        let (fc, leaf) = (cached.cert(), cached.cert().leaf());
        // What the cache has established is not checked again: a hit's key
        // holds the Hash text (checked when it was stored), and a Subject
        // text seen with this certificate before is remembered.
        let subject_known = element.subject().map(|s| s.raw()) == cached.known_subject();
        let [uri, dns] = element.san_inconsistencies(leaf);
        let problem = [
            (!hit).then(|| element.hash_inconsistency(leaf)).flatten(),
            element.chain_inconsistency(fc),
            (!subject_known)
                .then(|| element.subject_inconsistency(leaf))
                .flatten(),
            uri,
            dns,
            element.issuer_inconsistency(leaf),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(problem) = problem {
            let r = Rejection::from(Error::inconsistent(problem).with_element(element.index()));
            return Err(r.explained(Explanation::about(leaf.clone())));
        }
        if let Some(subject) = element.subject() {
            cached.remember_subject(subject.raw());
        }
        // Only what agrees with its own Hash is stored (see `cache::Key`),
        // and only once the header is allowed (the caller stores it).
        if !hit && p.cache.is_some() {
            fresh.push((key, Arc::clone(&cached)));
        }
        Ok(Some(cached))
    }

    fn finish(
        &self,
        cached: &Arc<CachedCert>,
        index: usize,
        now: SystemTime,
    ) -> Result<ClientCert, Rejection> {
        let p = &*self.inner;
        let leaf = cached.cert().leaf();
        let about = || Explanation::about(leaf.clone());
        let reject = |r: Rejection| r.at_element(index);
        let out_of_date = |reason| {
            let why = about().with_clock(now, p.leeway);
            Err(reject(Rejection::of(reason)).explained(why))
        };
        // `leeway` is at most a day (checked at build time), and the
        // arithmetic is checked anyway: a clock at the end of time is
        // "not yet valid" for nothing and never panics.
        if now
            .checked_add(p.leeway)
            .is_some_and(|t| t < leaf.not_before())
        {
            return out_of_date(Reason::NotYetValid);
        }
        if now
            .checked_sub(p.leeway)
            .is_some_and(|t| t > leaf.not_after())
        {
            return out_of_date(Reason::Expired);
        }
        let (rule, anchor) = match cached.decision(now) {
            Some(d) => d,
            None => {
                let (rule, anchor, until) = self.judge_rules(cached.cert(), now).map_err(reject)?;
                if let Some(until) = until {
                    cached.set_decision(rule, anchor, until);
                }
                (rule, anchor)
            }
        };
        let verified_by = anchor.and_then(|a| {
            let set = p.rules[rule].chain.as_deref()?;
            let (name, anchors) = p.chains.verified_by(set)?;
            Some(crate::outcome::VerifiedBy::new(name, anchors, a))
        });
        Ok(ClientCert::new(
            leaf.clone(),
            Arc::clone(&p.rules[rule].label),
            index,
            now,
            verified_by,
        ))
    }

    /// The first rule that the proxy's fields satisfy (no validity period
    /// and no chain to check: the policy cannot be built with chain rules
    /// in this mode).
    fn finish_fields(
        &self,
        fields: ProxyFields,
        index: usize,
        now: SystemTime,
    ) -> Result<ClientCert, Rejection> {
        let p = &*self.inner;
        let mut rules = Vec::with_capacity(p.rules.len());
        for rule in &p.rules {
            let failed = rule.misses(&fields);
            if failed.is_empty() && rule.chain.is_none() {
                let label = Arc::clone(&rule.label);
                return Ok(ClientCert::from_fields(fields, label, index, now));
            }
            rules.push(RuleMiss::new(Arc::clone(&rule.label), failed, Vec::new()));
        }
        let why = Explanation::about_fields(fields).with_rules(rules);
        Err(Rejection::of(Reason::NotAllowed)
            .at_element(index)
            .explained(why))
    }

    /// The first rule that allows the certificate: (rule index, chain
    /// verified, reusable until). A name or thumbprint decision holds for
    /// the leaf's lifetime; a chain decision until the earliest `notAfter`
    /// on the path, and not at all when CRLs are in play.
    fn judge_rules(
        &self,
        fc: &ForwardedCert,
        now: SystemTime,
    ) -> Result<(usize, Option<usize>, Option<SystemTime>), Rejection> {
        let p = &*self.inner;
        let mut chain_failure = None;
        // Each anchor set is verified at most once per header, however many
        // rules name it.
        let mut failed_sets: Vec<&str> = Vec::new();
        let leaf = fc.leaf();
        // Each rule is evaluated once, in full: what it fails both decides
        // and, on rejection, explains (no second pass over the SANs).
        // (Built only once a rule does not allow: nothing is allocated for
        // the explanation of a certificate the first rule allows.)
        let mut rules = Vec::new();
        for (i, rule) in p.rules.iter().enumerate() {
            let failed = rule.misses(leaf);
            let names_hold = failed.is_empty();
            if names_hold && rule.chain.is_none() {
                return Ok((i, None, Some(leaf.not_after())));
            }
            let seen = rule.seen(&failed, leaf);
            rules.push(RuleMiss::new(Arc::clone(&rule.label), failed, seen));
            let Some(set) = rule.chain.as_deref().filter(|_| names_hold) else {
                continue;
            };
            if failed_sets.contains(&set) {
                continue;
            }
            let limits = p.options.limits();
            match p.chains.verify(set, fc, now, p.cache.is_some(), limits) {
                Ok((until, anchor)) => return Ok((i, Some(anchor), until)),
                Err(detail) => {
                    chain_failure = chain_failure.or(Some((set, detail)));
                    failed_sets.push(set);
                }
            }
        }
        let why = Explanation::about(leaf.clone()).with_rules(rules);
        Err(match chain_failure {
            Some((set, detail)) => {
                let intermediates = fc.intermediates_der().len();
                let facts =
                    ChainFacts::new(set.to_owned(), p.chains.anchor_names(set), intermediates);
                Rejection::new(Reason::ChainInvalid, Detail::Chain(detail))
                    .explained(why.with_chain(facts))
            }
            None => Rejection::of(Reason::NotAllowed).explained(why),
        })
    }

    /// A cache lookup, counted by the `metrics` feature (nothing without a
    /// cache).
    fn cache_get(&self, key: &KeyRef<'_>) -> Option<(Arc<CachedCert>, usize)> {
        let cache = self.inner.cache.as_ref()?;
        let found = cache.get(key);
        metrics::cache_lookup(found.is_some());
        found
    }

    /// Number of certificates in the cache (0 without one).
    pub fn cache_len(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, Cache::len)
    }

    /// The bytes the cache's entries are weighed at (0 without one).
    pub fn cache_bytes(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, Cache::weight)
    }
}
