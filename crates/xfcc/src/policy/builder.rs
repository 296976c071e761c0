//! Building a policy: the settings, each with its default, and the checks
//! that refuse a setting the policy cannot honour.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::cache::Cache;
use super::proxies::TrustedProxy;
use super::reading::{ElementCount, Reading};
use super::{Decision, Policy};
use crate::chain::{self as chains, AnchorSource, TrustAnchors};
use crate::format::Format;
use crate::limits::Limits;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::outcome::{ConfigError, IdentityFrom};
use crate::parse::{ParseOptions, Syntax};
use crate::rules::{CompiledRule, Rule};

/// What to do when the header is absent, mirroring Azure Container Apps'
/// `clientCertificateMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Mode {
    /// No header: reject with `missing`. The default.
    #[default]
    Require,
    /// No header: pass with no identity (handlers enforce per route); a
    /// header that is present must still verify.
    Accept,
    /// Report only (`mode = "report"`), for rolling a policy out: every
    /// request is verified and explained exactly as in [`Mode::Require`],
    /// and [`Policy::verify`](crate::Policy::verify) returns the same
    /// decision, but a refusal is marked
    /// ([`Rejection::is_report_only`](crate::Rejection::is_report_only)),
    /// counted as `result="would_deny"` and logged as a would-be refusal,
    /// and the adapters let the request go on with no `ClientCert` and the
    /// rejection in its extensions. A handler that takes the required
    /// `ClientCert` extractor still answers that request with the
    /// rejection: an identity that did not verify is never handed out.
    Report,
}

/// The clock a policy reads for validity checks (see [`PolicyBuilder::clock`]).
pub(crate) type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Builds a [`Policy`]. Every setter states its default.
#[must_use]
pub struct PolicyBuilder {
    mode: Mode,
    /// `None` until set, so that a format without elements can refuse it.
    count: Option<ElementCount>,
    trust: Option<i64>,
    by: Option<String>,
    leeway: Duration,
    rules: Vec<Rule>,
    limits: Limits,
    syntax: Syntax,
    format: Format,
    header_name: Option<String>,
    clock: Option<Clock>,
    cache: usize,
    cache_max_bytes: u64,
    anchors: Vec<(String, AnchorSource)>,
    max_intermediates: usize,
    #[cfg(feature = "chain")]
    revocation: chains::Revocation,
    trusted_peers: Option<Vec<String>>,
    trusted_proxies: Vec<TrustedProxy>,
    by_is_proxy: Option<bool>,
    identity_from: IdentityFrom,
    sources: Vec<Source>,
    proxy_verifies_chain: bool,
}

/// One proxy of several in front of a service (`[[sources]]` in a policy
/// file), for [`PolicyBuilder::source`]: its name (in logs, metrics and
/// [`ClientCert::source`](crate::ClientCert::source)), the addresses its
/// connections come from (its `trusted_peers`), and how it writes the
/// header: name, format and elements. A request is judged by the source
/// its TCP peer belongs to; the rules, anchor sets, validity and mode are
/// the policy's. Each setter has the default of the [`PolicyBuilder`]
/// setter of the same name.
#[derive(Debug, Clone)]
#[must_use]
pub struct Source {
    name: String,
    trusted_peers: Vec<String>,
    trusted_proxies: Vec<TrustedProxy>,
    by_is_proxy: Option<bool>,
    header_name: Option<String>,
    format: Format,
    count: Option<ElementCount>,
    trust: Option<i64>,
    by: Option<String>,
    identity_from: IdentityFrom,
}

impl Source {
    /// The source `name`, whose connections come from `trusted_peers`
    /// (CIDR blocks or addresses, as [`PolicyBuilder::trusted_peers`]; no
    /// two sources may share an address). A source named by certificate
    /// alone passes no addresses and sets
    /// [`trusted_proxies`](Self::trusted_proxies).
    pub fn new<I, S>(name: impl Into<String>, trusted_peers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            name: name.into(),
            trusted_peers: trusted_peers.into_iter().map(Into::into).collect(),
            trusted_proxies: Vec::new(),
            by_is_proxy: None,
            header_name: None,
            format: Format::Envoy,
            count: None,
            trust: None,
            by: None,
            identity_from: IdentityFrom::Cert,
        }
    }

    /// The header this proxy writes (`header`); default the format's.
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.header_name = Some(name.into());
        self
    }

    /// This proxy's format; default Envoy.
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// `[sources.elements] count`.
    pub fn elements(mut self, count: ElementCount) -> Self {
        self.count = Some(count);
        self
    }

    /// `[sources.elements] trust`.
    pub fn trust_element(mut self, index: i64) -> Self {
        self.trust = Some(index);
        self
    }

    /// `[sources.elements] by`.
    pub fn trusted_proxy(mut self, by: impl Into<String>) -> Self {
        self.by = Some(by.into());
        self
    }

    /// `[sources.elements] identity_from`.
    pub fn identity_from(mut self, from: IdentityFrom) -> Self {
        self.identity_from = from;
        self
    }

    /// `[[sources.trusted_proxies]]`: this proxy's connections present a
    /// certificate one of these entries matches (as
    /// [`PolicyBuilder::trusted_proxies`]).
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        self.trusted_proxies.extend(proxies);
        self
    }

    /// `[sources.elements] by_is_proxy` (as [`PolicyBuilder::by_is_proxy`]).
    pub fn by_is_proxy(mut self, yes: bool) -> Self {
        self.by_is_proxy = Some(yes);
        self
    }
}

impl fmt::Debug for PolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyBuilder")
            .field("mode", &self.mode)
            .field("count", &self.count)
            .field("trust", &self.trust)
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Default for PolicyBuilder {
    fn default() -> Self {
        Self {
            mode: Mode::Require,
            count: None,
            trust: None,
            by: None,
            leeway: Duration::from_secs(60),
            rules: Vec::new(),
            limits: Limits::DEFAULT,
            syntax: Syntax::Strict,
            format: Format::Envoy,
            header_name: None,
            clock: None,
            cache: 0,
            cache_max_bytes: Policy::DEFAULT_CACHE_BYTES,
            anchors: Vec::new(),
            max_intermediates: 4,
            #[cfg(feature = "chain")]
            revocation: chains::Revocation::default(),
            trusted_peers: None,
            trusted_proxies: Vec::new(),
            by_is_proxy: None,
            identity_from: IdentityFrom::Cert,
            sources: Vec::new(),
            proxy_verifies_chain: false,
        }
    }
}

impl PolicyBuilder {
    /// The operator's statement that the proxy in front verifies every
    /// client certificate against the CA the service trusts, so that a rule
    /// which checks only names (no `thumbprint`, `spki_sha256` or `chain`)
    /// is not met by a self-signed certificate. Default `false`, and then
    /// [`build`](Self::build) refuses such a rule
    /// ([`ConfigErrorKind::NamesOnly`](crate::outcome::ConfigErrorKind::NamesOnly)):
    /// Azure Container Apps (any `clientCertificateMode`) and an Envoy
    /// without `validation_context` accept any certificate, and a name is
    /// what a forger writes first. Claim it only where the proxy verifies:
    /// Envoy with a `trusted_ca` (and without `trust_chain_verification:
    /// ACCEPT_UNTRUSTED`), nginx `ssl_verify_client on` with
    /// `ssl_client_certificate`, an Istio sidecar in `STRICT` mTLS, HAProxy
    /// `verify required` with `ca-file`, Caddy `require_and_verify`;
    /// `xfcc doctor` checks the claim against the proxy's configuration.
    /// TOML `proxy_verifies_chain`, environment `XFCC_PROXY_VERIFIES_CHAIN`.
    pub fn proxy_verifies_chain(mut self, verifies: bool) -> Self {
        self.proxy_verifies_chain = verifies;
        self
    }

    /// What a missing header means. Default [`Mode::Require`].
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How many elements the header must hold. Default exactly 1.
    pub fn elements(mut self, count: ElementCount) -> Self {
        self.count = Some(count);
        self
    }

    /// Which element to verify: an index from 0, or negative from the end
    /// (-1 is the last, which the proxy next to the service appended).
    /// Default 0. Every other element must still be consistent.
    pub fn trust_element(mut self, index: i64) -> Self {
        self.trust = Some(index);
        self
    }

    /// The trusted element must carry this `By` value (the URI SAN of the
    /// proxy that wrote it). Default: not checked.
    pub fn trusted_proxy(mut self, by: impl Into<String>) -> Self {
        self.by = Some(by.into());
        self
    }

    /// Honour the header only from these TCP peers: CIDR blocks
    /// (`10.0.0.0/8`, `fd00::/8`) or single addresses. From any other
    /// peer, a request carrying the header is rejected as `untrusted_peer`
    /// and one without it is treated as missing; when the adapter cannot
    /// tell the peer, the request is rejected as `peer_unavailable` (500).
    /// Default: not checked. This guards against requests that reach the
    /// service around the proxy (see the README's trust boundary). TOML
    /// `trusted_peers`, environment `XFCC_TRUSTED_PEERS`.
    ///
    /// Enforced by [`Policy::verify_request`] (what the adapters call)
    /// and by the request-level methods that cannot know the peer
    /// ([`Policy::verify_request`], [`Policy::verify_header_values`]),
    /// which then reject; [`Policy::verify`] checks a header value alone.
    pub fn trusted_peers<I, S>(mut self, peers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.trusted_peers = Some(peers.into_iter().map(Into::into).collect());
        self
    }

    /// Honour the header only over a connection whose own TLS certificate
    /// (the proxy's, presented to the service) one of these entries
    /// matches: `[[trusted_proxies]]`, environment
    /// `XFCC_TRUSTED_PROXY_SPKI` (SPKI pins). A request carrying the header
    /// over any other connection (no certificate, another certificate, the
    /// right address without the key) is rejected as `untrusted_proxy`
    /// whatever its address, one without the header is treated as missing,
    /// and when the adapter cannot tell what the connection presented it
    /// is `peer_unavailable` (500). With [`trusted_peers`](Self::trusted_peers)
    /// as well, both must hold. Default: none.
    ///
    /// The service then terminates the proxy's TLS itself: the adapters
    /// ship an acceptor that hands them the certificate (xfcc-tower's
    /// `TlsListener`, xfcc-actix's `tls` module). Like `trusted_peers`, it
    /// is enforced by [`Policy::verify_request`] and [`Policy::decide`];
    /// [`Policy::verify`] checks a header value alone.
    pub fn trusted_proxies(mut self, proxies: impl IntoIterator<Item = TrustedProxy>) -> Self {
        self.trusted_proxies.extend(proxies);
        self
    }

    /// `[elements] by_is_proxy`: with [`trusted_proxies`](Self::trusted_proxies)
    /// and the Envoy format, the trusted element's `By` (the URI SAN of the
    /// proxy that wrote it) must be one of the URI SANs of the certificate
    /// the connection presented, so that a header written by one proxy is
    /// not believed from another; a mismatch is `untrusted_proxy`
    /// (`by_not_proxy`). Default `true` there. Set `false` where the proxy
    /// presents upstream a certificate other than its listener's (whose
    /// URI SAN Envoy writes as `By`). Refused without `trusted_proxies`,
    /// and for a format without `By`.
    pub fn by_is_proxy(mut self, yes: bool) -> Self {
        self.by_is_proxy = Some(yes);
        self
    }

    /// Where the client's identity comes from. Default
    /// [`IdentityFrom::Cert`]. [`IdentityFrom::ProxyFields`] also verifies
    /// elements that carry no certificate, from the proxy's `Hash`,
    /// `Subject`, `URI` and `DNS`; [`build`](Self::build) then requires
    /// [`trusted_peers`](Self::trusted_peers) or
    /// [`trusted_proxy`](Self::trusted_proxy) and refuses rules that need
    /// the certificate itself. TOML `[elements] identity_from`, environment
    /// `XFCC_IDENTITY_FROM`.
    ///
    /// ```
    /// use xfcc::{Policy, Rule, outcome::IdentityFrom};
    /// // What an Istio sidecar forwards by default: no Cert.
    /// let header = "By=spiffe://cluster.local/ns/shop/sa/orders;\
    ///     Hash=3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b;\
    ///     Subject=\"\";URI=spiffe://cluster.local/ns/shop/sa/frontend";
    /// let policy = Policy::builder()
    ///     // Istio in STRICT mTLS verifies every client against the mesh CA.
    ///     .proxy_verifies_chain(true)
    ///     .identity_from(IdentityFrom::ProxyFields)
    ///     .trusted_proxy("spiffe://cluster.local/ns/shop/sa/orders")
    ///     .allow(Rule::new("frontend").spiffe_id(["spiffe://cluster.local/ns/shop/sa/frontend"]))
    ///     .build()?;
    /// let client = policy.verify(header)?;
    /// assert_eq!(client.verified_from(), IdentityFrom::ProxyFields);
    /// assert_eq!(client.spiffe_id(), Some("spiffe://cluster.local/ns/shop/sa/frontend"));
    /// assert!(client.certificate().is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn identity_from(mut self, from: IdentityFrom) -> Self {
        self.identity_from = from;
        self
    }

    /// Clock skew allowed around the validity period. Default 60 s, at
    /// most [`Policy::MAX_LEEWAY`] (one day; more is a [`ConfigError`]).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Adds an allow rule; a certificate passes if any rule matches.
    pub fn allow(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Parser limits. Default [`Limits::DEFAULT`].
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Parser syntax. Default [`Syntax::Strict`].
    pub fn syntax(mut self, syntax: Syntax) -> Self {
        self.syntax = syntax;
        self
    }

    /// The header format. Default [`Format::Envoy`].
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The header to read. Default: the format's
    /// ([`Format::header_name`]), `x-forwarded-client-cert` for Envoy.
    /// It must be a valid HTTP field name; anything else is a
    /// [`ConfigError`] from [`build`](Self::build), never replaced by a default.
    pub fn header_name(mut self, name: impl Into<String>) -> Self {
        self.header_name = Some(name.into());
        self
    }

    /// The clock for validity checks. Default [`SystemTime::now`].
    pub fn clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Keeps up to `capacity` decoded certificates, found by the exact
    /// text of the whole header (an allowed header seen again, byte for
    /// byte, is not parsed again) or, for a header of several elements, by
    /// each element's exact `Cert` and `Chain` text (the sender's `Hash`
    /// text is part of the key, and an entry is stored only once its `Hash`
    /// has been checked against the certificate). An element hit still
    /// checks the element's other fields; every hit checks the validity
    /// period and re-decides when the recorded decision has lapsed. A
    /// policy built anew (as on reload) starts empty. Default 0 (off).
    ///
    /// Only the certificates of headers the policy allowed are stored, so
    /// strangers cannot fill it, and entries are weighed by their bytes
    /// ([`cache_max_bytes`](Self::cache_max_bytes)).
    pub fn cache(mut self, capacity: usize) -> Self {
        self.cache = capacity;
        self
    }

    /// The most memory the cache holds, in bytes (key texts and
    /// certificates, weighed per entry). Default
    /// [`Policy::DEFAULT_CACHE_BYTES`] (16 MiB); 0 with a cache is a
    /// [`ConfigError`].
    pub fn cache_max_bytes(mut self, bytes: u64) -> Self {
        self.cache_max_bytes = bytes;
        self
    }

    /// Adds a named set of trust anchors for rules with [`Rule::chain`].
    /// Needs the `chain` feature (without it, [`build`](Self::build)
    /// refuses the policy).
    ///
    /// ```
    /// # let root = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/root.pem")).unwrap();
    /// use xfcc::{Policy, Rule, TrustAnchors};
    /// let policy = Policy::builder()
    ///     .chain(TrustAnchors::new("partners", root))
    ///     .allow(Rule::new("partner").issuer_cn(["Contoso Issuing CA 1"]).chain("partners"))
    ///     .build();
    /// # #[cfg(feature = "chain")] assert!(policy.is_ok());
    /// ```
    pub fn chain(mut self, anchors: TrustAnchors) -> Self {
        self.anchors.push((anchors.name, anchors.source));
        self
    }

    /// Most intermediates allowed between a chain rule's leaf and its trust
    /// anchor. Default 4.
    pub fn max_chain_intermediates(mut self, n: usize) -> Self {
        self.max_intermediates = n;
        self
    }

    /// How CRLs are applied. Default: every certificate of the path, allow
    /// certificates no CRL covers, reject stale CRLs (a policy file's
    /// `[revocation]` table). Anything else where no anchor set has CRLs or
    /// CRL URLs is refused at build, naming the key (`stale_crls`, `depth`,
    /// `unknown_status`): it would be ignored.
    #[cfg(feature = "chain")]
    #[cfg_attr(docsrs, doc(cfg(feature = "chain")))]
    pub fn revocation(mut self, revocation: chains::Revocation) -> Self {
        self.revocation = revocation;
        self
    }

    /// Checks the settings and builds the policy.
    ///
    /// # Errors
    /// A [`ConfigError`] for no rules, a rule without constraints or with a
    /// bad value, a thumbprint of the wrong length, duplicate rule names, a
    /// trusted index outside the expected count, or an unknown or unloadable
    /// anchor set.
    pub fn build(self) -> Result<Policy, ConfigError> {
        if self.rules.is_empty() {
            return Err(ConfigError::from(Repr::NoRules));
        }
        if self.syntax == Syntax::Diagnostic {
            return Err(ConfigError::value(
                "syntax",
                "diagnostic",
                "strict or lenient (diagnostic is for inspection only)",
            ));
        }
        if self.cache > 0 && self.cache_max_bytes == 0 {
            return Err(ConfigError::value(
                "cache_max_bytes",
                "0",
                "more than 0 bytes (a cache needs room), or no cache",
            ));
        }
        if self.leeway > Policy::MAX_LEEWAY {
            return Err(ConfigError::from(Repr::OutOfRange {
                key: "leeway_seconds",
                value: self.leeway.as_secs(),
                max: Policy::MAX_LEEWAY.as_secs(),
            }));
        }
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.into_iter().enumerate() {
            let compiled = rule.compile(i)?;
            if rules
                .iter()
                .any(|r: &CompiledRule| r.label == compiled.label)
            {
                return Err(ConfigError::from(Repr::DuplicateRule(
                    compiled.label.to_string(),
                )));
            }
            rules.push(compiled);
        }
        let sources = self.sources;
        if !sources.is_empty() {
            // One proxy's settings for the whole policy beside several
            // sources: which proxy's would they be?
            let ambiguous = |key: &'static str, value: String| {
                Err(ConfigError::value(
                    key,
                    value,
                    "nothing for the whole policy once [[sources]] is set: set it in each [[sources]] (with several proxies, one value for all is ambiguous)",
                ))
            };
            if let Some(peers) = &self.trusted_peers {
                return ambiguous("trusted_peers", peers.join(", "));
            }
            if let Some(p) = self.trusted_proxies.first() {
                return ambiguous(
                    "trusted_proxies",
                    p.rule.name.clone().unwrap_or_else(|| "0".to_owned()),
                );
            }
            if let Some(b) = self.by_is_proxy {
                return ambiguous("by_is_proxy", b.to_string());
            }
            if let Some(h) = &self.header_name {
                return ambiguous("header_name", h.clone());
            }
            if self.format != Format::Envoy {
                return ambiguous("format", self.format.code().to_owned());
            }
            if let Some(c) = self.count {
                return ambiguous("count", format!("{c:?}"));
            }
            if let Some(t) = self.trust {
                return ambiguous("trust", t.to_string());
            }
            if let Some(by) = &self.by {
                return ambiguous("by", by.clone());
            }
            if self.identity_from != IdentityFrom::Cert {
                return ambiguous("identity_from", self.identity_from.code().to_owned());
            }
        }
        let reading = Reading::check(
            self.format,
            self.header_name,
            self.count,
            self.trust,
            self.by,
            self.identity_from,
            self.trusted_peers,
            self.trusted_proxies,
            self.by_is_proxy,
            &rules,
        )?;
        // A rule a self-signed certificate can meet needs the operator's
        // word that the proxy verifies client certificates.
        if !self.proxy_verifies_chain
            && let Some(r) = rules.iter().find(|r| r.is_name_only())
        {
            let proxy_fields = reading.identity_from == IdentityFrom::ProxyFields
                || sources
                    .iter()
                    .any(|s| s.identity_from == IdentityFrom::ProxyFields);
            return Err(ConfigError::from(Repr::Rule {
                rule: r.label.to_string(),
                error: ConfigError::from(Repr::NamesOnly {
                    key: r.first_key(),
                    proxy_fields,
                }),
            }));
        }
        let mut readings: Vec<(std::sync::Arc<str>, Reading)> = Vec::with_capacity(sources.len());
        for src in sources {
            let name = src.name.trim().to_owned();
            if name.is_empty() || readings.iter().any(|(n, _)| **n == *name) {
                return Err(ConfigError::value(
                    "name",
                    src.name,
                    "a [[sources]] name that is not blank and that no other source has",
                ));
            }
            if src.trusted_peers.is_empty() && src.trusted_proxies.is_empty() {
                return Err(ConfigError::from(Repr::EmptyList {
                    key: "trusted_peers",
                }));
            }
            let r = Reading::check(
                src.format,
                src.header_name,
                src.count,
                src.trust,
                src.by,
                src.identity_from,
                (!src.trusted_peers.is_empty()).then_some(src.trusted_peers),
                src.trusted_proxies,
                src.by_is_proxy,
                &rules,
            )?;
            // A peer belongs to one source at most: overlapping blocks
            // would judge its requests by either proxy's settings.
            let nets = r.trusted_peers.as_deref().unwrap_or_default();
            for (other, o) in &readings {
                for a in nets {
                    for b in o.trusted_peers.as_deref().unwrap_or_default() {
                        if a.contains(&b.network()) || b.contains(&a.network()) {
                            return Err(ConfigError::value(
                                "trusted_peers",
                                format!("{a} ({name}) and {b} ({other})"),
                                "blocks no two [[sources]] share: a request from an address both hold could be judged by either proxy's settings",
                            ));
                        }
                    }
                }
            }
            readings.push((name.into(), r));
        }
        #[cfg(feature = "chain")]
        let chains = chains::build(
            self.anchors,
            &rules,
            self.max_intermediates,
            self.revocation,
        )?;
        #[cfg(not(feature = "chain"))]
        let chains = {
            let _ = self.max_intermediates;
            chains::build(self.anchors, &rules)?
        };
        for r in std::iter::once(&reading).chain(readings.iter().map(|(_, r)| r)) {
            if let Some(p) = &r.proxies {
                p.check_anchors(&chains)?;
            }
        }
        let options = ParseOptions::DEFAULT
            .with_limits(self.limits)
            .with_syntax(self.syntax);
        // Each reading has its own cache (a header allowed under one
        // proxy's element rules says nothing under another's), the capacity
        // and bytes shared out so the bound stays the policy's.
        let by_source = !readings.is_empty();
        let mut readings: Vec<Reading> = if by_source {
            readings
                .into_iter()
                .map(|(name, mut r)| {
                    r.source = Some(name);
                    r
                })
                .collect()
        } else {
            vec![reading]
        };
        let share = readings.len();
        for r in &mut readings {
            let entries = self.cache / share;
            r.cache =
                (entries > 0).then(|| Cache::new(entries, self.cache_max_bytes / share as u64));
        }
        let decision = Decision {
            mode: self.mode,
            leeway: self.leeway,
            rules,
            options,
            clock: self.clock,
            chains,
            proxy_verifies_chain: self.proxy_verifies_chain,
        };
        Ok(Policy::assemble(
            Arc::new(decision),
            readings.into_iter().map(Arc::new).collect(),
            by_source,
        ))
    }

    /// Adds a source: one of several proxies in front of the service, each
    /// with its own addresses, header, format and elements
    /// (`[[sources]]`). With sources, a request is judged by the source
    /// its TCP peer belongs to, and a peer in no source that sends the
    /// header is `untrusted_peer`; `trusted_peers`, the header name, the
    /// format and the `[elements]` settings of the whole policy are then
    /// refused as ambiguous, and sources whose addresses overlap are
    /// refused. Default: no sources (one proxy, as the policy's own
    /// settings say).
    pub fn source(mut self, source: Source) -> Self {
        self.sources.push(source);
        self
    }
}
