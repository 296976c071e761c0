//! Why a certificate was refused, in terms a person can act on: the
//! certificate's own values beside what did not hold.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::ProxyFields;
use crate::cert::CertIdentity;

/// What a [`Rejection`](crate::Rejection) is about beyond its codes: the
/// certificate concerned (subject, issuer, SANs, SHA-256 and SHA-1
/// thumbprints, validity) and, by reason,
///
/// - `not_allowed`: each allow rule with the keys of its constraints that
///   the certificate fails ([`rules`](Self::rules));
/// - `expired` / `not_yet_valid`: the clock and leeway used
///   ([`clock`](Self::clock)), beside the certificate's validity;
/// - `chain_invalid`: the anchor set, its anchors' subjects, and how many
///   intermediates were presented ([`chain`](Self::chain)), beside the
///   leaf's issuer.
///
/// For logs and tools only: the adapters' response bodies stay
/// `{"error":"<code>"}`. It holds the certificate the client sent and the
/// names of the constraints it failed, never a rule's pinned values, and
/// its `Display` never writes certificate bytes.
///
/// ```
/// use xfcc::{Policy, Rule};
/// # let header = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/envoy/rsa-chain.txt")).unwrap();
/// let policy = Policy::builder()
///     .allow(Rule::new("partner").subject_cn(["someone-else"]).thumbprint(["sha1:0000000000000000000000000000000000000000"]))
///     .build()?;
/// let rejection = policy.verify(&header).unwrap_err();
/// let why = rejection.explanation().unwrap();
/// assert_eq!(why.rules()[0].failed(), ["subject_cn", "thumbprint"]);
/// assert_eq!(why.certificate().unwrap().subject_cns().next(), Some("client-app.contoso.example"));
/// assert!(why.to_string().contains("rule \"partner\" failed subject_cn, thumbprint"));
/// # Ok::<(), xfcc::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    certificate: Option<CertIdentity>,
    fields: Option<ProxyFields>,
    rules: Vec<RuleMiss>,
    clock: Option<(SystemTime, Duration)>,
    chain: Option<ChainFacts>,
}

/// One allow rule that did not match, and the keys (as in the policy file:
/// `issuer_cn`, `san_uri`, `thumbprint`, ...) of its constraints that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleMiss {
    rule: Arc<str>,
    failed: Vec<&'static str>,
    seen: Vec<String>,
}

impl RuleMiss {
    pub(crate) const fn new(rule: Arc<str>, failed: Vec<&'static str>, seen: Vec<String>) -> Self {
        Self { rule, failed, seen }
    }

    /// For a failed `certificate_policies` or `extension` constraint, what
    /// the certificate holds instead: `certificate_policies: <oid>` for each
    /// policy it asserts (or `none`), and `extension <oid>: <hex>` (the
    /// value's first 32 bytes) or `extension <oid>: absent` for each OID
    /// the rule names. At most eight entries; the rule's own values are
    /// never shown.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The rule's name (or its position, for a rule without one).
    pub fn rule(&self) -> &str {
        &self.rule
    }

    /// The keys of the constraints that failed; empty when only the chain
    /// did (see [`Explanation::chain`]).
    pub fn failed(&self) -> &[&'static str] {
        &self.failed
    }
}

/// What a chain that did not verify was checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFacts {
    set: String,
    anchors: Arc<[String]>,
    intermediates: usize,
}

impl ChainFacts {
    pub(crate) const fn new(set: String, anchors: Arc<[String]>, intermediates: usize) -> Self {
        Self {
            set,
            anchors,
            intermediates,
        }
    }

    /// The anchor set's name (the rule's `chain`).
    pub fn set(&self) -> &str {
        &self.set
    }

    /// The subjects (RFC 4514) of the set's trust anchors.
    pub fn anchors(&self) -> &[String] {
        &self.anchors
    }

    /// How many certificates besides the leaf the element carried.
    /// `unknown_issuer` with none usually means the proxy forwards no chain
    /// (or the client sent none); with some, a wrong anchor.
    pub const fn intermediates(&self) -> usize {
        self.intermediates
    }
}

impl Explanation {
    pub(crate) const fn about(certificate: CertIdentity) -> Self {
        Self {
            certificate: Some(certificate),
            fields: None,
            rules: Vec::new(),
            clock: None,
            chain: None,
        }
    }

    pub(crate) const fn about_fields(fields: ProxyFields) -> Self {
        Self {
            certificate: None,
            fields: Some(fields),
            rules: Vec::new(),
            clock: None,
            chain: None,
        }
    }

    pub(crate) fn with_rules(mut self, rules: Vec<RuleMiss>) -> Self {
        self.rules = rules;
        self
    }

    pub(crate) const fn with_clock(mut self, now: SystemTime, leeway: Duration) -> Self {
        self.clock = Some((now, leeway));
        self
    }

    pub(crate) fn with_chain(mut self, chain: ChainFacts) -> Self {
        self.chain = Some(chain);
        self
    }

    /// The certificate concerned, when one was decoded.
    pub const fn certificate(&self) -> Option<&CertIdentity> {
        self.certificate.as_ref()
    }

    /// The proxy's fields concerned, with `identity_from = "proxy-fields"`
    /// and an element without a certificate.
    pub const fn proxy_fields(&self) -> Option<&ProxyFields> {
        self.fields.as_ref()
    }

    /// For `not_allowed` (and `chain_invalid`): every rule, in order, with
    /// what failed.
    pub fn rules(&self) -> &[RuleMiss] {
        &self.rules
    }

    /// For `expired` and `not_yet_valid`: the time the policy's clock read
    /// and the leeway it allowed.
    pub const fn clock(&self) -> Option<(SystemTime, Duration)> {
        self.clock
    }

    /// For `chain_invalid`: what the chain was checked against.
    pub const fn chain(&self) -> Option<&ChainFacts> {
        self.chain.as_ref()
    }
}

/// At most this many SANs, and this many bytes of any one name, are
/// written: the client chooses them, and one rejection must not cost more
/// than a bounded log line (about 3 KiB).
const MAX_SANS: usize = 8;
const MAX_NAME: usize = 256;

/// `s`, cut to `MAX_NAME` bytes on a character boundary, with the number
/// of bytes left out.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_NAME {
        return s.into();
    }
    let mut end = MAX_NAME;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...(+{} bytes)", &s[..end], s.len() - end).into()
}

impl Explanation {
    /// The certificate's subject, clipped for a log line.
    #[cfg(feature = "tracing")]
    pub(crate) fn subject(&self) -> Option<std::borrow::Cow<'_, str>> {
        match (&self.certificate, &self.fields) {
            (Some(c), _) => Some(clip(c.subject())),
            (None, Some(f)) => f
                .subject_name()
                .map(|s| clip(&s.to_string()).into_owned().into()),
            (None, None) => None,
        }
    }

    /// The certificate's issuer, clipped for a log line.
    #[cfg(feature = "tracing")]
    pub(crate) fn issuer(&self) -> Option<std::borrow::Cow<'_, str>> {
        self.certificate.as_ref().map(|c| clip(c.issuer()))
    }

    /// What did not hold, without the certificate: the clock, each rule's
    /// failed constraints, the chain facts (the `findings` field of the
    /// adapters' event, beside the certificate's own fields).
    pub fn findings(&self) -> impl fmt::Display + '_ {
        Findings(self)
    }
}

struct Findings<'a>(&'a Explanation);

impl fmt::Display for Findings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = self.0;
        let mut sep = "";
        if let Some((now, leeway)) = e.clock {
            let secs = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let now = crate::x509::rfc3339(secs);
            write!(f, "clock {now} leeway {}s", leeway.as_secs())?;
            sep = "; ";
        }
        for r in &e.rules {
            if r.failed.is_empty() {
                write!(f, "{sep}rule {:?} failed only its chain", &*r.rule)?;
            } else {
                write!(f, "{sep}rule {:?} failed {}", &*r.rule, r.failed.join(", "))?;
            }
            if !r.seen.is_empty() {
                write!(f, " (certificate has {})", r.seen.join(", "))?;
            }
            sep = "; ";
        }
        if let Some(c) = &e.chain {
            let anchors: Vec<_> = c.anchors.iter().take(MAX_SANS).map(|a| clip(a)).collect();
            write!(
                f,
                "{sep}chain {:?}: {} intermediate(s) presented, anchors {anchors:?}",
                c.set, c.intermediates
            )?;
        }
        Ok(())
    }
}

/// ` san=[..]` with the first [`MAX_SANS`] of `names` (already clipped),
/// and ` (+N more SANs)` when there were `all` in all.
fn write_sans(
    f: &mut fmt::Formatter<'_>,
    names: impl Iterator<Item = String>,
    all: usize,
) -> fmt::Result {
    let names: Vec<String> = names.take(MAX_SANS).collect();
    if !names.is_empty() {
        write!(f, " san={names:?}")?;
    }
    if all > names.len() {
        write!(f, " (+{} more SANs)", all - names.len())?;
    }
    Ok(())
}

/// One line, bounded in length: `certificate subject=".." issuer=".."
/// san=[..] sha256=.. sha1=.. valid .. to ..; ` then the
/// [`findings`](Self::findings).
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.certificate {
            write!(
                f,
                "certificate subject={:?} issuer={:?}",
                clip(c.subject()),
                clip(c.issuer())
            )?;
            let san = c.san();
            let all = san.dns().len() + san.uri().len() + san.email().len() + san.ip().len();
            let names = san
                .dns()
                .iter()
                .map(|d| format!("dns:{}", clip(d)))
                .chain(san.uri().iter().map(|u| format!("uri:{}", clip(u))))
                .chain(san.email().iter().map(|e| format!("email:{}", clip(e))))
                .chain(san.ip().iter().map(|i| format!("ip:{i}")));
            write_sans(f, names, all)?;
            write!(
                f,
                " sha256={} sha1={} valid {} to {}",
                c.sha256_hex().to_ascii_uppercase(),
                c.sha1_hex().to_ascii_uppercase(),
                c.not_before_rfc3339(),
                c.not_after_rfc3339()
            )?;
            if self.clock.is_some() || !self.rules.is_empty() || self.chain.is_some() {
                f.write_str("; ")?;
            }
        } else if let Some(p) = &self.fields {
            let subject = p.subject_name().map(ToString::to_string);
            write!(f, "proxy fields subject={:?}", subject.as_deref().map(clip))?;
            let names = p
                .dns()
                .iter()
                .map(|d| format!("dns:{}", clip(d)))
                .chain(p.uri().iter().map(|u| format!("uri:{}", clip(u))));
            write_sans(f, names, p.dns().len() + p.uri().len())?;
            write!(f, " sha256={}", p.sha256_hex())?;
            if !self.rules.is_empty() {
                f.write_str("; ")?;
            }
        }
        self.findings().fmt(f)
    }
}
