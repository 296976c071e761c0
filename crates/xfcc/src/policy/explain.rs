//! Why a certificate was refused, in terms a person can act on: the
//! certificate's own values beside what did not hold.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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
}

impl RuleMiss {
    pub(crate) const fn new(rule: Arc<str>, failed: Vec<&'static str>) -> Self {
        Self { rule, failed }
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

/// One line: `certificate subject=".." issuer=".." san=[..] sha256=..
/// sha1=.. valid ..; rule "a" failed issuer_cn; ...`.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(c) = &self.certificate {
            write!(
                f,
                "certificate subject={:?} issuer={:?}",
                c.subject(),
                c.issuer()
            )?;
            let san = c.san();
            let names: Vec<String> = san
                .dns()
                .iter()
                .map(|d| format!("dns:{d}"))
                .chain(san.uri().iter().map(|u| format!("uri:{u}")))
                .chain(san.email().iter().map(|e| format!("email:{e}")))
                .chain(san.ip().iter().map(|i| format!("ip:{i}")))
                .collect();
            if !names.is_empty() {
                write!(f, " san={names:?}")?;
            }
            write!(
                f,
                " sha256={} sha1={} valid {} to {}",
                c.sha256_hex().to_ascii_uppercase(),
                c.sha1_hex().to_ascii_uppercase(),
                c.not_before_rfc3339(),
                c.not_after_rfc3339()
            )?;
            sep = "; ";
        }
        if let Some((now, leeway)) = self.clock {
            let secs = now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let now = der::DateTime::from_unix_duration(Duration::from_secs(secs))
                .map_or_else(|_| secs.to_string(), |d| d.to_string());
            write!(f, "{sep}clock {now} leeway {}s", leeway.as_secs())?;
            sep = "; ";
        }
        for r in &self.rules {
            if r.failed.is_empty() {
                write!(f, "{sep}rule {:?} failed only its chain", &*r.rule)?;
            } else {
                write!(f, "{sep}rule {:?} failed {}", &*r.rule, r.failed.join(", "))?;
            }
            sep = "; ";
        }
        if let Some(c) = &self.chain {
            write!(
                f,
                "{sep}chain {:?}: {} intermediate(s) presented, anchors {:?}",
                c.set, c.intermediates, c.anchors
            )?;
        }
        Ok(())
    }
}
