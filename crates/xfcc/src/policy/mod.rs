//! The validation policy: which element to trust, consistency, validity,
//! and allow rules, built once and checked for every request.
//!
//! ```
//! use xfcc::{Policy, Rule};
//! # let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/envoy/rsa-chain.txt")).unwrap();
//! let policy = Policy::builder()
//!     .allow(Rule::new("payments").issuer_cn(["Contoso Issuing CA 1"]).subject_cn(["client-app.contoso.example"]))
//!     .build()?;
//! let cert = policy.verify(&header)?;        // Result<ClientCert, Rejection>
//! assert_eq!(cert.rule(), "payments");
//! assert_eq!(cert.subject_cns().next(), Some("client-app.contoso.example"));
//!
//! let rejected = policy.verify("Hash=00;Cert=\"x\"").unwrap_err();
//! assert_eq!(rejected.code(), "malformed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod client_cert;
#[cfg(feature = "toml")]
mod config;
mod env;
mod handle;
mod rejection;
mod rule;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use self::client_cert::ClientCert;
#[cfg(feature = "toml")]
pub use self::config::PolicyFile;
pub use self::handle::PolicyHandle;
pub use self::rejection::{Reason, Rejection};
pub use self::rule::{Rule, Thumbprint};

use self::cache::{Cache, CachedCert, KeyRef};
use self::rule::CompiledRule;
use crate::decode::ForwardedCert;
use crate::error::{CertErrorKind, Error, Field};
use crate::format::Format;
use crate::parse::{Element, Limits, ParseOptions, Syntax, XfccHeader};

/// A policy that cannot be built: contradictory or malformed settings.
/// Messages name the setting and value at fault; none contains certificate
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A thumbprint that is not 64 (SHA-256) or 40 (SHA-1) hex digits.
    #[error("invalid thumbprint: {0}")]
    Thumbprint(String),
    /// A value that does not parse for its key.
    #[error("invalid {key} value {value:?}")]
    Value {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: String,
    },
    /// A rule without any constraint (it would allow every certificate).
    #[error("rule has no constraint")]
    EmptyRule,
    /// A policy without any rule.
    #[error("policy has no allow rule")]
    NoRules,
    /// An error inside one rule. Its `Display` includes the inner error,
    /// which is therefore not also a `source()`.
    #[error("rule {rule:?}: {error}")]
    Rule {
        /// The rule's name or index.
        rule: String,
        /// What is wrong with it.
        error: Box<ConfigError>,
    },
    /// Two rules with the same name.
    #[error("two rules are named {0:?}")]
    DuplicateRule(String),
    /// The trusted element index does not fit the expected element count.
    #[error("cannot trust element {trust} of exactly {count}")]
    TrustIndex {
        /// The configured index.
        trust: i64,
        /// The configured count.
        count: usize,
    },
    /// A rule names a trust-anchor set that is not configured.
    #[error("rule requires unknown chain anchor set {0:?}")]
    UnknownAnchorSet(String),
    /// A chain rule, but the crate was built without the `chain` feature.
    #[error("chain verification needs the `chain` cargo feature")]
    ChainUnavailable,
    /// A trust-anchor set that cannot be loaded.
    #[error("chain anchor set {set:?}: {message}")]
    AnchorSet {
        /// The set's name.
        set: String,
        /// What is wrong.
        message: String,
    },
    /// A policy file that cannot be read or parsed.
    #[error("policy file: {0}")]
    File(String),
    /// A list setting given no values (`thumbprint = []`, or only blanks):
    /// an empty list is a mistake, never "no constraint".
    #[error("{key} is an empty list; remove the setting or give it values")]
    EmptyList {
        /// The setting.
        key: &'static str,
    },
    /// A number outside the range the setting allows.
    #[error("{key} = {value} is out of range (at most {max})")]
    OutOfRange {
        /// The setting.
        key: &'static str,
        /// The value given.
        value: u64,
        /// The largest value allowed.
        max: u64,
    },
    /// A setting that the chosen header format cannot honour.
    #[error("{key} cannot be honoured with the {format} format: {why}")]
    FormatCannot {
        /// The setting.
        key: &'static str,
        /// The format's name.
        format: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// No allow rule in the environment.
    #[error(
        "no allow rule: set XFCC_POLICY_FILE, ALLOWED_CERT_THUMBPRINTS, ALLOWED_CERT_COMMON_NAMES or an XFCC_ALLOWED_* variable"
    )]
    NothingSet,
    /// An environment variable with a bad value. Its `Display` includes
    /// the inner error, which is therefore not also a `source()`.
    #[error("environment variable {var}: {error}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong with its value.
        error: Box<ConfigError>,
    },
}

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
}

/// How many elements (proxy hops) the header must hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElementCount {
    /// Exactly this many; anything else is rejected. Default: exactly 1,
    /// what an edge proxy in `SANITIZE_SET` mode sends.
    Exactly(usize),
    /// Any number (up to the parser's limit).
    Any,
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

/// A named set of trust anchors for [`PolicyBuilder::chain`]: a PEM bundle
/// of CA certificates, optional CRLs, and whether the leaf must carry the
/// clientAuth EKU (it must, unless told otherwise).
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustAnchors {
    name: String,
    source: AnchorSource,
}

impl TrustAnchors {
    /// The set `name` (what [`Rule::chain`] names), trusting the
    /// certificates of `anchors_pem`.
    pub fn new(name: impl Into<String>, anchors_pem: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            source: AnchorSource {
                pem: anchors_pem.into(),
                crls: Vec::new(),
                require_client_auth: true,
            },
        }
    }

    /// CRLs (PEM or DER) checked for revocation. Default none.
    pub fn crls<I, C>(mut self, crls: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        self.source.crls.extend(crls.into_iter().map(Into::into));
        self
    }

    /// Whether the leaf must list the clientAuth EKU. Default true; false
    /// accepts leaves issued for other purposes (a warning says so).
    pub fn require_client_auth(mut self, required: bool) -> Self {
        self.source.require_client_auth = required;
        self
    }
}

/// Where a chain rule's trust anchors come from.
#[derive(Debug, Clone)]
#[allow(dead_code)] // read by the `chain` feature
pub(crate) struct AnchorSource {
    pub(crate) pem: Vec<u8>,
    pub(crate) crls: Vec<Vec<u8>>,
    pub(crate) require_client_auth: bool,
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
        }
    }
}

impl PolicyBuilder {
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
    /// `Cert` and `Chain` text (the sender's `Hash` text is part of the key,
    /// and an entry is stored only once its `Hash` has been checked against
    /// the certificate). Every hit still checks the element's other fields
    /// and the validity period. A policy built anew (as on reload) starts
    /// empty. Default 0 (off).
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
    /// certificates no CRL covers, reject stale CRLs.
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
            return Err(ConfigError::NoRules);
        }
        if self.syntax == Syntax::Diagnostic {
            return Err(ConfigError::Value {
                key: "syntax",
                value: "diagnostic (for inspection only; a policy reads strict or lenient)"
                    .to_owned(),
            });
        }
        if self.cache > 0 && self.cache_max_bytes == 0 {
            return Err(ConfigError::Value {
                key: "cache_max_bytes",
                value: "0 (a cache needs room)".to_owned(),
            });
        }
        if self.leeway > Policy::MAX_LEEWAY {
            return Err(ConfigError::OutOfRange {
                key: "leeway_seconds",
                value: self.leeway.as_secs(),
                max: Policy::MAX_LEEWAY.as_secs(),
            });
        }
        let header_name = match self.header_name {
            Some(name) => checked_header_name(name)?,
            None => self.format.header_name().to_owned(),
        };
        if self.format != Format::Envoy {
            let cannot = |key, why| ConfigError::FormatCannot {
                key,
                format: self.format.name(),
                why,
            };
            if self.by.is_some() {
                return Err(cannot("by", "it carries no By field"));
            }
            if self.count.is_some() {
                return Err(cannot("count", "it carries one certificate, not elements"));
            }
            if self.trust.is_some() {
                return Err(cannot("trust", "it carries one certificate, not elements"));
            }
        }
        let count = self.count.unwrap_or(ElementCount::Exactly(1));
        let trust = self.trust.unwrap_or(0);
        if let ElementCount::Exactly(n) = count {
            let ok = n >= 1
                && ((trust >= 0 && trust.unsigned_abs() < n as u64)
                    || (trust < 0 && trust.unsigned_abs() <= n as u64));
            if !ok {
                return Err(ConfigError::TrustIndex { trust, count: n });
            }
        }
        let mut rules = Vec::with_capacity(self.rules.len());
        for (i, rule) in self.rules.into_iter().enumerate() {
            let compiled = rule.compile(i)?;
            if rules
                .iter()
                .any(|r: &CompiledRule| r.label == compiled.label)
            {
                return Err(ConfigError::DuplicateRule(compiled.label.to_string()));
            }
            rules.push(compiled);
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
        Ok(Policy {
            inner: Arc::new(Inner {
                mode: self.mode,
                count,
                trust,
                by: self.by,
                leeway: self.leeway,
                rules,
                options: ParseOptions::DEFAULT
                    .limits(self.limits)
                    .syntax(self.syntax),
                format: self.format,
                header_name,
                clock: self.clock,
                cache: (self.cache > 0).then(|| Cache::new(self.cache, self.cache_max_bytes)),
                chains,
            }),
        })
    }
}

#[cfg(not(feature = "chain"))]
mod chains {
    use super::{AnchorSource, ConfigError, rule::CompiledRule};

    /// Without the `chain` feature there is nothing to verify chains with.
    #[derive(Debug, Default)]
    pub(crate) struct Chains;

    pub(crate) fn build(
        anchors: Vec<(String, AnchorSource)>,
        rules: &[CompiledRule],
    ) -> Result<Chains, ConfigError> {
        if !anchors.is_empty() || rules.iter().any(|r| r.chain.is_some()) {
            return Err(ConfigError::ChainUnavailable);
        }
        Ok(Chains)
    }

    impl Chains {
        pub(crate) fn warnings(&self) -> Vec<String> {
            Vec::new()
        }

        pub(crate) fn verify(
            &self,
            _set: &str,
            _fc: &crate::ForwardedCert,
            _now: std::time::SystemTime,
            _want_until: bool,
            _limits: &crate::Limits,
        ) -> Result<Option<std::time::SystemTime>, &'static str> {
            Err("chain_unavailable")
        }
    }
}

#[cfg(feature = "chain")]
#[path = "chain.rs"]
mod chains;
#[cfg(feature = "chain")]
pub use chains::{CrlExpiry, Revocation, RevocationDepth, UnknownStatus};

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
    chains: chains::Chains,
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

/// A valid HTTP field name (RFC 9110 5.1: a token), lower-cased.
pub(crate) fn checked_header_name(name: String) -> Result<String, ConfigError> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(tchar) {
        return Err(ConfigError::Value {
            key: "header_name",
            value: name,
        });
    }
    Ok(name.to_ascii_lowercase())
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

    /// Every setting that weakens the policy, each naming the setting (its
    /// policy-file key), for logs, `xfcc check` and `xfcc doctor`:
    ///
    /// - a rule that pins no thumbprint and requires no chain: a
    ///   self-signed certificate with those names passes it, and Azure
    ///   Container Apps' ingress accepts any certificate;
    /// - `mode = "accept"`: a request without the header reaches handlers;
    /// - `[elements] count` other than exactly 1 without `by`: any element
    ///   could have been written by a client, unless the trusted one is
    ///   tied to the proxy that wrote it;
    /// - `leeway_seconds` over five minutes;
    /// - lenient syntax;
    /// - an anchor set with `require_client_auth = false`, or stale CRLs
    ///   used anyway.
    pub fn warnings(&self) -> Vec<String> {
        let p = &*self.inner;
        let mut out: Vec<String> = p
            .rules
            .iter()
            .filter(|r| r.is_name_only())
            .map(|r| {
                format!(
                    "rule {:?} checks only names: a self-signed certificate with those names passes it; add `thumbprint` or `chain`",
                    r.label
                )
            })
            .collect();
        if p.mode == Mode::Accept {
            out.push(
                "mode = \"accept\": requests without the header reach the service with no identity; every handler must check"
                    .to_owned(),
            );
        }
        if p.count != ElementCount::Exactly(1) && p.by.is_none() && p.format == Format::Envoy {
            out.push(
                "[elements] count is not exactly 1 and `by` is not set: the trusted element is not tied to the proxy that wrote it"
                    .to_owned(),
            );
        }
        if p.leeway > Duration::from_secs(300) {
            out.push(format!(
                "leeway_seconds = {}: certificates are accepted that long after they expire",
                p.leeway.as_secs()
            ));
        }
        if !p.format.carries_chain() {
            for r in p.rules.iter().filter(|r| r.chain.is_some()) {
                out.push(format!(
                    "rule {:?}: the {} format forwards the leaf alone, so its chain verifies only leaves issued directly by a trust anchor (put the issuing CA in trust_anchors)",
                    r.label,
                    p.format.name()
                ));
            }
        }
        if p.options.get_syntax() == Syntax::Lenient {
            out.push("syntax is lenient: headers Envoy never writes are read".to_owned());
        }
        out.extend(p.chains.warnings());
        out
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
        self.verify_inner(value, None, now)
    }

    /// Applies the mode: `None` (no header) is `Ok(None)` in
    /// [`Mode::Accept`] and rejected as `missing` in [`Mode::Require`]; a
    /// present value must verify in both.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_optional(&self, value: Option<&str>) -> Result<Option<ClientCert>, Rejection> {
        match value {
            Some(v) => self.verify(v).map(Some),
            None => self.on_missing(),
        }
    }

    /// What the adapters call: every line of the header as received.
    /// No line applies the mode; more than one line is rejected as
    /// `multiple_headers` (RFC 9110 would join them with `, `, which reads
    /// as extra elements); a value that is not UTF-8 is `malformed`.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_header_values<'v, I>(&self, values: I) -> Result<Option<ClientCert>, Rejection>
    where
        I: IntoIterator<Item = &'v [u8]>,
    {
        self.verify_lines(values, None)
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
    /// Because the names come from the policy at each call, an adapter
    /// built on a [`PolicyHandle`] follows a reload that changes them.
    ///
    /// # Errors
    /// A [`Rejection`].
    pub fn verify_request<'v, F, I>(&self, mut lines: F) -> Result<Option<ClientCert>, Rejection>
    where
        F: FnMut(&str) -> I,
        I: IntoIterator<Item = &'v [u8]>,
    {
        let chain = match self.inner.format.chain_header_name() {
            Some(name) => self.chain_lines(lines(name))?,
            None => None,
        };
        self.verify_lines(lines(&self.inner.header_name), chain.as_deref())
    }

    /// The chain header's lines joined as one list, `None` when absent.
    fn chain_lines<'v>(
        &self,
        lines: impl IntoIterator<Item = &'v [u8]>,
    ) -> Result<Option<String>, Rejection> {
        let max = self.inner.options.get_limits().bytes();
        let mut joined: Option<String> = None;
        for line in lines {
            let text = std::str::from_utf8(line).map_err(|e| {
                Rejection::from(Error::from(crate::ParseError::new(
                    crate::ParseErrorKind::InvalidUtf8,
                    e.valid_up_to(),
                )))
            })?;
            let out = joined.get_or_insert_with(String::new);
            if !out.is_empty() {
                out.push_str(", ");
            }
            if out.len() + text.len() > max {
                return Err(Error::from(crate::ParseError::new(
                    crate::ParseErrorKind::TooLong,
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
            return Err(Rejection::new(Reason::MultipleHeaders, "multiple_headers"));
        }
        let text = std::str::from_utf8(first).map_err(|e| {
            Rejection::from(Error::from(crate::ParseError::new(
                crate::ParseErrorKind::InvalidUtf8,
                e.valid_up_to(),
            )))
        })?;
        self.verify_inner(text, chain, self.now()).map(Some)
    }

    fn on_missing(&self) -> Result<Option<ClientCert>, Rejection> {
        match self.inner.mode {
            Mode::Accept => Ok(None),
            Mode::Require => Err(Rejection::new(Reason::Missing, "missing")),
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
            if value.len() > p.options.get_limits().bytes() {
                return Err(Error::from(crate::ParseError::new(
                    crate::ParseErrorKind::TooLong,
                    p.options.get_limits().bytes(),
                ))
                .into());
            }
            let fc = p.format.decode(value, chain, p.options.get_limits())?;
            return self.finish(&Arc::new(CachedCert::new(fc)), 0, now);
        }

        let header = XfccHeader::parse_with(value, &p.options).map_err(Error::from)?;
        let n = header.len();
        if let ElementCount::Exactly(expected) = p.count {
            if n > expected {
                return Err(Rejection::new(Reason::TooManyElements, "too_many_elements"));
            }
            if n < expected {
                return Err(Rejection::new(Reason::TooFewElements, "too_few_elements"));
            }
        }
        let trusted = if p.trust >= 0 {
            usize::try_from(p.trust).ok().filter(|&i| i < n)
        } else {
            n.checked_sub(usize::try_from(p.trust.unsigned_abs()).unwrap_or(usize::MAX))
        }
        .ok_or_else(|| Rejection::new(Reason::TooFewElements, "too_few_elements"))?;

        let mut chosen = None;
        // Decoded certificates are stored only once the whole header is
        // allowed: what the policy rejects never occupies the cache.
        let mut fresh: Vec<(KeyRef<'_>, Arc<CachedCert>)> = Vec::new();
        for element in header.elements() {
            let index = element.index();
            if index == trusted {
                if let Some(by) = &p.by
                    && !element.by().any(|b| b.raw() == by)
                {
                    return Err(
                        Rejection::new(Reason::UntrustedProxy, "untrusted_proxy").at_element(index)
                    );
                }
                let cached = self.decode(&element, &mut fresh)?.ok_or_else(|| {
                    Error::cert(CertErrorKind::NoCertificate, Field::Cert).with_element(index)
                })?;
                chosen = Some(cached);
            } else {
                // Untrusted elements must still agree with their own
                // certificates: this is what exposes a SAN that smuggled
                // delimiters into the header.
                self.decode(&element, &mut fresh)?;
            }
        }
        let cached =
            chosen.ok_or_else(|| Rejection::new(Reason::TooFewElements, "too_few_elements"))?;
        let allowed = self.finish(&cached, trusted, now)?;
        if let Some(cache) = &p.cache {
            for (key, entry) in fresh {
                cache.insert(&key, entry);
            }
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
        let key = KeyRef::new(cert_raw.raw(), chain_raw, element.hash().map(|h| h.raw()));
        let (cached, hit) = match p.cache.as_ref().and_then(|c| c.get(&key)) {
            Some(hit) => (hit, true),
            None => {
                let Some(fc) = element.decode_without_checks(p.options.get_limits())? else {
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
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some(problem) = problem {
            let r = Rejection::from(Error::inconsistent(problem).with_element(element.index()));
            return Err(r.with_thumbprint(*cached.cert().leaf().sha256()));
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
        let reject = |r: Rejection| r.at_element(index).with_thumbprint(*leaf.sha256());
        // `leeway` is at most a day (checked at build time), and the
        // arithmetic is checked anyway: a clock at the end of time is
        // "not yet valid" for nothing and never panics.
        if now
            .checked_add(p.leeway)
            .is_some_and(|t| t < leaf.not_before())
        {
            return Err(reject(Rejection::new(Reason::NotYetValid, "not_yet_valid")));
        }
        if now
            .checked_sub(p.leeway)
            .is_some_and(|t| t > leaf.not_after())
        {
            return Err(reject(Rejection::new(Reason::Expired, "expired")));
        }
        let (rule, chain_verified) = match cached.decision(now) {
            Some(d) => d,
            None => {
                let (rule, chain, until) = self.decide(cached.cert(), now).map_err(reject)?;
                if let Some(until) = until {
                    cached.set_decision(rule, chain, until);
                }
                (rule, chain)
            }
        };
        Ok(ClientCert::new(
            leaf.clone(),
            Arc::clone(&p.rules[rule].label),
            index,
            now,
            chain_verified,
        ))
    }

    /// The first rule that allows the certificate: (rule index, chain
    /// verified, reusable until). A name or thumbprint decision holds for
    /// the leaf's lifetime; a chain decision until the earliest `notAfter`
    /// on the path, and not at all when CRLs are in play.
    fn decide(
        &self,
        fc: &ForwardedCert,
        now: SystemTime,
    ) -> Result<(usize, bool, Option<SystemTime>), Rejection> {
        let p = &*self.inner;
        let mut chain_failure = None;
        // Each anchor set is verified at most once per header, however many
        // rules name it.
        let mut failed_sets: Vec<&str> = Vec::new();
        for (i, rule) in p.rules.iter().enumerate() {
            if !rule.matches(fc.leaf()) {
                continue;
            }
            match rule.chain.as_deref() {
                None => return Ok((i, false, Some(fc.leaf().not_after()))),
                Some(set) if failed_sets.contains(&set) => {}
                Some(set) => {
                    let limits = p.options.get_limits();
                    match p.chains.verify(set, fc, now, p.cache.is_some(), limits) {
                        Ok(until) => return Ok((i, true, until)),
                        Err(detail) => {
                            chain_failure = chain_failure.or(Some(detail));
                            failed_sets.push(set);
                        }
                    }
                }
            }
        }
        Err(match chain_failure {
            Some(detail) => Rejection::new(Reason::ChainInvalid, detail),
            None => Rejection::new(Reason::NotAllowed, "not_allowed"),
        })
    }

    /// Number of certificates in the cache (0 without one).
    pub fn cached(&self) -> usize {
        self.inner.cache.as_ref().map_or(0, Cache::len)
    }

    /// The bytes the cache's entries are weighed at (0 without one).
    pub fn cached_bytes(&self) -> u64 {
        self.inner.cache.as_ref().map_or(0, Cache::weight)
    }
}
