//! `trusted_proxies`: the proxies a reading believes, named by the
//! certificate each presents on its connection to the service (an SPKI
//! pin, a CA plus SAN, a SPIFFE ID), and the judgement of a connection's
//! certificate against them.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use super::Policy;
use super::reading::Reading;
use crate::cert::CertIdentity;
use crate::forwarded::ForwardedCert;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::outcome::{ConfigError, Detail, Hint, ProxyProblem, Reason, Rejection};
use crate::peer::{Hop, Judged, MAX_PEER_CHAIN, Peer, PeerCert, PeerTls};
use crate::rules::{CompiledRule, Rule};

/// One proxy a policy believes, named by the certificate it presents to
/// the service in TLS (a `[[trusted_proxies]]` table): a [`Rule`] on that
/// certificate, with the same keys as an `[[allow]]` rule. It must pin the
/// key or certificate (`spki_sha256`, `thumbprint`) or verify a chain to
/// an anchor set (`chain`, with `spiffe_id`, `san_uri` or `san_dns` to
/// name the proxy among the CA's certificates): names alone are what a
/// self-signed look-alike carries.
///
/// ```
/// use xfcc::{Policy, Rule, TrustedProxy};
/// # let mesh_ca = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs/root.pem")).unwrap();
/// let policy = Policy::builder()
///     .chain(xfcc::TrustAnchors::new("mesh", mesh_ca))
///     .trusted_proxies([TrustedProxy::new(
///         Rule::new("ingress")
///             .chain("mesh")
///             .spiffe_id(["spiffe://cluster.local/ns/ingress/sa/envoy"]),
///     )])
///     .allow(Rule::new("partner").thumbprint(["ab".repeat(32)]))
///     .build();
/// # #[cfg(feature = "chain")] assert!(policy.is_ok());
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct TrustedProxy {
    pub(crate) rule: Rule,
    pub(crate) allow_cloudflare_global: bool,
}

impl TrustedProxy {
    /// The proxy whose certificate `rule` matches.
    pub fn new(rule: Rule) -> Self {
        Self {
            rule,
            allow_cloudflare_global: false,
        }
    }

    /// Whether Cloudflare's shared ("global") origin-pull certificate may
    /// match this entry (`allow_cloudflare_global`). Default `false`, and
    /// then a connection presenting it is `untrusted_proxy`
    /// (`cloudflare_global`), and an anchor set holding its CA is refused
    /// when the policy is built: Cloudflare presents that one certificate
    /// for every customer's zone, so it proves only that the request came
    /// through Cloudflare, for anyone's account. Use a per-zone or
    /// per-hostname certificate of your own instead.
    pub fn allow_cloudflare_global(mut self, allow: bool) -> Self {
        self.allow_cloudflare_global = allow;
        self
    }
}

/// Where each reading's decisions are remembered on a [`PeerCert`]: no
/// two readings (of any policy) share an id.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// How long a refusal of a connection's certificate is remembered on it.
const REFUSAL_KEPT: Duration = Duration::from_secs(60);

/// The common name of Cloudflare's shared origin-pull certificate and of
/// its CA.
const CLOUDFLARE_GLOBAL_CN: &str = "origin-pull.cloudflare.net";

/// A reading's `trusted_proxies`, checked.
#[derive(Debug)]
pub(crate) struct Proxies {
    pub(crate) rules: Vec<CompiledRule>,
    cloudflare: Vec<bool>,
    /// `[elements] by_is_proxy`: the trusted element's `By` must be one of
    /// the proxy certificate's URI SANs.
    pub(crate) by_is_proxy: bool,
    id: u64,
}

impl Proxies {
    /// Checks the entries: named uniquely, each with a constraint, none
    /// that only names (a self-signed certificate would meet it).
    pub(crate) fn check(
        entries: Vec<TrustedProxy>,
        by_is_proxy: bool,
    ) -> Result<Option<Self>, ConfigError> {
        if entries.is_empty() {
            return Ok(None);
        }
        let mut rules: Vec<CompiledRule> = Vec::with_capacity(entries.len());
        let mut cloudflare = Vec::with_capacity(entries.len());
        for (i, entry) in entries.into_iter().enumerate() {
            let label = entry.rule.name.clone().unwrap_or_else(|| i.to_string());
            let at = |error: ConfigError| {
                ConfigError::from(Repr::Proxy {
                    proxy: label.clone(),
                    error,
                })
            };
            let compiled = entry
                .rule
                .compile(i)
                .map_err(|e| match e.into_inner_rule() {
                    Ok(inner) => at(inner),
                    Err(e) => at(e),
                })?;
            if compiled.is_name_only() {
                return Err(at(ConfigError::value(
                    compiled.first_key(),
                    "(names only)",
                    "an entry that pins the proxy's key or certificate (spki_sha256, thumbprint) or verifies its chain to your CA (chain): any client can present a self-signed certificate with those names",
                )));
            }
            if rules.iter().any(|r| r.label == compiled.label) {
                return Err(ConfigError::value(
                    "[[trusted_proxies]] name",
                    label,
                    "a name no other [[trusted_proxies]] entry has",
                ));
            }
            rules.push(compiled);
            cloudflare.push(entry.allow_cloudflare_global);
        }
        Ok(Some(Self {
            rules,
            cloudflare,
            by_is_proxy,
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }))
    }

    /// Refuses an entry whose anchor set holds Cloudflare's origin-pull CA
    /// unless it allows the global certificate.
    pub(crate) fn check_anchors(&self, chains: &crate::chain::Chains) -> Result<(), ConfigError> {
        for (rule, allowed) in self.rules.iter().zip(&self.cloudflare) {
            let Some(set) = rule.chain.as_deref() else {
                continue;
            };
            let at = |error| {
                ConfigError::from(Repr::Proxy {
                    proxy: rule.label.to_string(),
                    error,
                })
            };
            if cfg!(not(feature = "chain")) {
                return Err(at(ConfigError::from(Repr::ChainUnavailable)));
            }
            if chains.verified_by(set).is_none() {
                return Err(at(ConfigError::from(Repr::UnknownAnchorSet(
                    set.to_owned(),
                ))));
            }
            let global = chains.anchor_names(set).iter().any(|n| {
                n.to_ascii_lowercase()
                    .contains(&format!("cn={CLOUDFLARE_GLOBAL_CN}"))
            });
            if global && !allowed {
                return Err(at(ConfigError::value(
                    "chain",
                    set,
                    "an anchor set without Cloudflare's origin-pull CA: it issued the one certificate Cloudflare presents for every customer, so it proves nothing about whose zone sent the request; use a per-zone or per-hostname certificate of your own, or set allow_cloudflare_global = true to accept that",
                )));
            }
        }
        Ok(())
    }
}

/// Whether `leaf` is (or is issued by the CA of) Cloudflare's shared
/// origin-pull certificate.
fn is_cloudflare_global(leaf: &CertIdentity) -> bool {
    let cn = |x: &str| x.eq_ignore_ascii_case(CLOUDFLARE_GLOBAL_CN);
    leaf.any_cn(false, cn) || leaf.any_cn(true, cn)
}

impl Policy {
    /// Whether `cert` (a chain a proxy presents, as the service's TLS
    /// would receive it) is one of the policy's `[[trusted_proxies]]`: the
    /// name of the entry that matches it (in the first reading, or source,
    /// that lists proxies and matches), `Ok(None)` when the policy names no
    /// proxy by certificate, or why it is refused (`untrusted_proxy`). For
    /// tools that check a proxy's configured certificate against the
    /// policy (`xfcc doctor --proxy`).
    ///
    /// # Errors
    /// The first reading's refusal of the certificate.
    pub fn proxy_of(&self, cert: &Arc<PeerCert>) -> Result<Option<String>, Rejection> {
        let peer = Peer::unknown().with_tls(Some(Arc::clone(cert)));
        let now = self.now();
        let mut refused = None;
        for r in self.readings().filter(|r| r.proxies.is_some()) {
            match self.hop(r, &peer, now) {
                Ok(Some(hop)) => return Ok(Some(hop.proxy.to_string())),
                Ok(None) => {}
                Err(e) => {
                    refused.get_or_insert(e);
                }
            }
        }
        refused.map_or(Ok(None), Err)
    }

    /// The hop a request came through, judged by the reading's
    /// `trusted_proxies`: `Ok(None)` when the reading names none. A
    /// connection the adapter cannot see into is `peer_unavailable`; one
    /// without a certificate, or whose certificate no entry matches, is
    /// `untrusted_proxy`. Remembered on the connection's [`PeerCert`].
    pub(crate) fn hop(
        &self,
        r: &Reading,
        peer: &Peer,
        now: SystemTime,
    ) -> Result<Option<Arc<Hop>>, Rejection> {
        let Some(proxies) = &r.proxies else {
            return Ok(None);
        };
        let cert = match peer.tls() {
            None => {
                return Err(Rejection::of(Reason::PeerUnavailable).with_hint(Hint::NoPeerTls));
            }
            Some(PeerTls::NoCertificate) => {
                return Err(Rejection::proxy(Detail::Proxy(ProxyProblem::NoCertificate)));
            }
            Some(PeerTls::Certificate(cert)) => cert,
        };
        if let Some(j) = cert.judged(proxies.id, now) {
            return j.outcome.map(Some);
        }
        let (outcome, until) = self.judge_hop(proxies, cert, now);
        if let Some(until) = until {
            cert.remember(Judged {
                reading: proxies.id,
                until,
                outcome: outcome.clone(),
            });
        }
        outcome.map(Some)
    }

    /// A connection's certificate against the entries: the hop, or why
    /// not, and until when the answer holds (`None`: not to be kept, as
    /// when CRLs are in play).
    fn judge_hop(
        &self,
        proxies: &Proxies,
        cert: &PeerCert,
        now: SystemTime,
    ) -> (Result<Arc<Hop>, Rejection>, Option<SystemTime>) {
        let p = self.decision();
        let refused = |problem| Rejection::proxy(Detail::Proxy(problem));
        let kept = now.checked_add(REFUSAL_KEPT);
        let mut der = cert.chain_der();
        let leaf = match der.next() {
            None => return (Err(refused(ProxyProblem::NoCertificate)), kept),
            Some(_) if der.len() >= MAX_PEER_CHAIN => {
                return (Err(refused(ProxyProblem::Unreadable)), kept);
            }
            Some(leaf) => leaf,
        };
        let Ok(leaf) = CertIdentity::from_der_with(leaf.to_vec(), p.options.limits()) else {
            return (Err(refused(ProxyProblem::Unreadable)), kept);
        };
        let fc = ForwardedCert::new(leaf, der.map(<[u8]>::to_vec).collect(), false);
        let leaf = fc.leaf();
        if let Some(reason) = self.out_of_date(leaf, now) {
            let c = match reason {
                Reason::Expired => crate::outcome::ChainError::Expired,
                _ => crate::outcome::ChainError::NotYetValid,
            };
            return (Err(Rejection::proxy(Detail::Chain(c))), kept);
        }
        match self.judge_rules(&proxies.rules, &fc, now, true) {
            Ok((i, _, until)) => {
                if is_cloudflare_global(leaf) && !proxies.cloudflare[i] {
                    return (Err(refused(ProxyProblem::CloudflareGlobal)), kept);
                }
                let hop = Hop {
                    proxy: Arc::clone(&proxies.rules[i].label),
                    uris: leaf.san().uri().to_vec(),
                };
                // Until the leaf's `notAfter` (a pin) or the path's earliest
                // (a chain); never with CRLs in play.
                (Ok(Arc::new(hop)), until)
            }
            Err(e) => (Err(e.of_proxy()), kept),
        }
    }
}
