//! Chain verification with rustls-webpki (feature `chain`): the leaf from
//! `Cert`, candidate intermediates from `Chain` (the client chose them), and
//! the policy's own trust anchors. No path validation is written here.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};
use webpki::{
    CertRevocationList, EndEntityCert, Error as WebpkiError, ExtendedKeyUsageValidator,
    KeyPurposeIdIter, KeyUsage, RevocationOptionsBuilder,
};

use super::AnchorSource;
use super::crl::{self, Crl};
use crate::forwarded::ForwardedCert;
use crate::limits::Limits;
use crate::outcome::ChainError;
use crate::outcome::ConfigError;
use crate::outcome::ConfigErrorRepr as Repr;
use crate::rules::CompiledRule;
use crate::x509::CertView;

/// Which certificates of the path are checked against the CRLs
/// (webpki's `RevocationCheckDepth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RevocationDepth {
    /// Only the leaf.
    EndEntity,
    /// Every certificate of the path. The default.
    #[default]
    Chain,
}

/// What to do when no configured CRL covers a certificate
/// (webpki's `UnknownStatusPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UnknownStatus {
    /// Accept it. The default: typically only the issuing CA's CRL is configured.
    #[default]
    Allow,
    /// Reject it (`revocation_unknown`).
    Deny,
}

/// Whether a CRL past its `nextUpdate` is still used
/// (webpki's `ExpirationPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum CrlExpiry {
    /// A stale CRL fails verification (`crl_expired`). The default.
    #[default]
    Enforce,
    /// A stale CRL is used as it is.
    Ignore,
}

/// How CRLs are applied; see the `chain` feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Revocation {
    /// Which certificates are checked. Default [`RevocationDepth::Chain`].
    pub depth: RevocationDepth,
    /// Certificates no CRL covers. Default [`UnknownStatus::Allow`].
    pub unknown: UnknownStatus,
    /// Stale CRLs. Default [`CrlExpiry::Enforce`].
    pub expiry: CrlExpiry,
}

struct AnchorSet {
    /// The set's name, shared with every [`ClientCert`](crate::ClientCert)
    /// it verifies.
    name: Arc<str>,
    /// CRLs fetched from URLs, refreshed in the background.
    fetched: Option<Arc<Fetched>>,
    anchors: Vec<TrustAnchor<'static>>,
    /// Each anchor's subject name (contents), as webpki compares it.
    subjects: Vec<Vec<u8>>,
    /// Each anchor's subject as RFC 4514 text, for explanations.
    names: Arc<[String]>,
    /// CRL files, read at build.
    crls: Vec<Crl>,
    require_client_auth: bool,
}

pub(crate) struct Chains {
    sets: BTreeMap<String, AnchorSet>,
    max_intermediates: usize,
    revocation: Revocation,
    /// Recently failed chains: (detail, remembered until), by
    /// [`failure_key`].
    failures: quick_cache::sync::Cache<[u8; 32], (ChainError, SystemTime)>,
    /// The thread that refreshes fetched CRLs, stopped when the policy
    /// holding these sets is dropped.
    #[cfg(feature = "crl-fetch")]
    _refresher: crate::background::Background,
}

impl fmt::Debug for Chains {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chains")
            .field("sets", &self.sets.keys().collect::<Vec<_>>())
            .field("max_intermediates", &self.max_intermediates)
            .finish_non_exhaustive()
    }
}

/// Accepts any EKU (for `require_client_auth = false`).
struct AnyUsage;

impl ExtendedKeyUsageValidator for AnyUsage {
    fn validate(&self, iter: KeyPurposeIdIter<'_, '_>) -> Result<(), WebpkiError> {
        for id in iter {
            id?;
        }
        Ok(())
    }
}

pub(crate) fn build(
    sources: Vec<(String, AnchorSource)>,
    rules: &[CompiledRule],
    max_intermediates: usize,
    revocation: Revocation,
) -> Result<Chains, ConfigError> {
    // How CRLs apply, where there are none, would be a setting ignored.
    if !sources
        .iter()
        .any(|(_, s)| !s.crls.is_empty() || !s.crl_urls.is_empty())
    {
        let d = Revocation::default();
        let set = [
            ("stale_crls", revocation.expiry != d.expiry, "allow"),
            ("depth", revocation.depth != d.depth, "end-entity"),
            ("unknown_status", revocation.unknown != d.unknown, "deny"),
        ]
        .into_iter()
        .find(|(_, changed, _)| *changed);
        if let Some((key, _, value)) = set {
            return Err(ConfigError::value(
                key,
                value,
                "it applies to CRLs, and no anchor set has crls or crl_urls",
            ));
        }
    }
    let mut sets = BTreeMap::new();
    for (name, src) in sources {
        let err = |message: String| {
            ConfigError::from(Repr::AnchorSet {
                set: name.clone(),
                message,
            })
        };
        let mut anchors = Vec::new();
        let mut names = Vec::new();
        for (i, der) in CertificateDer::pem_slice_iter(&src.pem).enumerate() {
            let der = der.map_err(|e| err(format!("trust anchor {i}: {}", pem_problem(&e))))?;
            names.push(
                crate::cert::CertIdentity::from_der(der.to_vec()).map_or_else(
                    |_| format!("(anchor {i}: a name this crate does not read)"),
                    |c| c.subject().to_owned(),
                ),
            );
            let anchor = webpki::anchor_from_trusted_cert(&der)
                .map_err(|e| err(format!("trust anchor {i}: {e}")))?
                .to_owned();
            anchors.push(anchor);
        }
        if anchors.is_empty() {
            return Err(err("no CERTIFICATE in the trust-anchor PEM".to_owned()));
        }
        let mut crls = Vec::new();
        for (i, bytes) in src.crls.iter().enumerate() {
            crls.extend(crl::parse(bytes, None).map_err(|e| err(format!("CRL {i}: {e}")))?);
        }
        // Per issuer the newest file: a request merges at most one CRL per
        // issuer from the files with one per anchor from a fetch.
        let crls = crl::newest(crls);
        let fetched = fetched_crls(&name, &src, &anchors)?;
        if sets.contains_key(&name) {
            return Err(err("defined twice".to_owned()));
        }
        let subjects = anchors
            .iter()
            .map(|a| a.subject.as_ref().to_vec())
            .collect();
        sets.insert(
            name.clone(),
            AnchorSet {
                name: Arc::from(name.as_str()),
                fetched,
                anchors,
                subjects,
                names: names.into(),
                crls,
                require_client_auth: src.require_client_auth,
            },
        );
    }
    for rule in rules {
        if let Some(set) = &rule.chain
            && !sets.contains_key(set)
        {
            return Err(ConfigError::from(Repr::Rule {
                rule: rule.label.to_string(),
                error: ConfigError::from(Repr::UnknownAnchorSet(set.clone())),
            }));
        }
    }
    #[cfg(feature = "crl-fetch")]
    let refresher = fetch::refresh_in_background(sets.values().filter_map(|s| s.fetched.as_ref()));
    Ok(Chains {
        sets,
        max_intermediates,
        revocation,
        failures: quick_cache::sync::Cache::new(FAILURE_CAPACITY),
        #[cfg(feature = "crl-fetch")]
        _refresher: refresher,
    })
}

/// CRLs fetched from a set's URLs: the last answer accepted (every CRL
/// signed by an anchor of the set, none older than what was held, no
/// issuer dropped: [`crl::accept`]), swapped in whole, and when it was
/// fetched.
#[cfg_attr(
    not(feature = "crl-fetch"),
    expect(dead_code, reason = "read by the fetcher (feature crl-fetch)")
)]
pub(crate) struct Fetched {
    set: String,
    urls: Vec<String>,
    refresh: Duration,
    max_age: Duration,
    /// The set's anchors: a fetched CRL must be signed by one of them.
    anchors: Vec<TrustAnchor<'static>>,
    crls: arc_swap::ArcSwap<Vec<Crl>>,
    /// Unix seconds of the last accepted fetch; 0: none.
    fetched_at: std::sync::atomic::AtomicU64,
}

/// The fetched CRLs of every live policy's anchor sets, so that a policy
/// rebuilt with the same set (name, URLs and anchors: a reload of
/// unchanged files) starts from the CRLs last accepted, not from none: a
/// reload while the CRL server is down keeps the revocations.
static LIVE: std::sync::Mutex<Vec<std::sync::Weak<Fetched>>> = std::sync::Mutex::new(Vec::new());

impl Fetched {
    /// Takes the CRLs and their age from a live set fetched from the same
    /// URLs with the same anchors, if there is one, and registers this
    /// set for the next reload.
    fn carry_over(self: &Arc<Self>) {
        let mut live = LIVE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        live.retain(|w| w.strong_count() > 0);
        if let Some(old) = live
            .iter()
            .filter_map(std::sync::Weak::upgrade)
            .find(|o| o.set == self.set && o.urls == self.urls && o.anchors == self.anchors)
        {
            self.crls.store(old.crls.load_full());
            self.fetched_at.store(
                old.fetched_at.load(std::sync::atomic::Ordering::Acquire),
                std::sync::atomic::Ordering::Release,
            );
        }
        live.push(Arc::downgrade(self));
    }

    /// Whether the last complete fetch is older than the maximum age (by
    /// the wall clock: CRL freshness is not the policy's validity clock).
    fn is_stale(&self) -> bool {
        let at = self.fetched_at.load(std::sync::atomic::Ordering::Acquire);
        at == 0 || unix_now().saturating_sub(at) > self.max_age.as_secs()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The set's fetched CRLs, when it names URLs: checked, and fetched once
/// before the policy is in use.
fn fetched_crls(
    set: &str,
    src: &AnchorSource,
    anchors: &[TrustAnchor<'static>],
) -> Result<Option<Arc<Fetched>>, ConfigError> {
    if src.crl_urls.is_empty() {
        // An interval for URLs that are not there would be ignored.
        let set_alone = [
            ("crl_refresh_seconds", src.crl_refresh),
            ("crl_max_age_seconds", src.crl_max_age),
        ]
        .into_iter()
        .find_map(|(key, d)| d.map(|d| (key, d)));
        return match set_alone {
            Some((key, d)) => Err(ConfigError::value(
                key,
                d.as_secs().to_string(),
                "it applies to crl_urls, and this anchor set has none",
            )),
            None => Ok(None),
        };
    }
    let refresh = src.crl_refresh.unwrap_or(Duration::from_secs(3600));
    let max_age = src.crl_max_age.unwrap_or(Duration::from_secs(86_400));
    let urls = src.crl_urls.join(", ");
    if !cfg!(feature = "crl-fetch") {
        return Err(ConfigError::value(
            "crl_urls",
            urls,
            "fetching CRLs needs the xfcc crate's `crl-fetch` feature",
        ));
    }
    if let Some(bad) = src.crl_urls.iter().find(|u| {
        let rest = u.strip_prefix("http://").unwrap_or("");
        rest.is_empty() || rest.starts_with('/')
    }) {
        return Err(ConfigError::value(
            "crl_urls",
            bad.clone(),
            "an http:// URL with a host (CAs publish CRLs, which are signed, over plain HTTP; https is not fetched)",
        ));
    }
    if refresh < Duration::from_secs(1) {
        return Err(ConfigError::value(
            "crl_refresh_seconds",
            refresh.as_secs().to_string(),
            "at least 1 second",
        ));
    }
    if max_age < refresh {
        return Err(ConfigError::value(
            "crl_max_age_seconds",
            max_age.as_secs().to_string(),
            format!(
                "at least crl_refresh_seconds ({}): CRLs would go stale between fetches",
                refresh.as_secs()
            ),
        ));
    }
    let f = Arc::new(Fetched {
        set: set.to_owned(),
        urls: src.crl_urls.clone(),
        refresh,
        max_age,
        anchors: anchors.to_vec(),
        crls: arc_swap::ArcSwap::from_pointee(Vec::new()),
        fetched_at: std::sync::atomic::AtomicU64::new(0),
    });
    f.carry_over();
    #[cfg(feature = "crl-fetch")]
    fetch::record(&f, fetch::fetch_all(&f));
    Ok(Some(f))
}

/// Fetching (feature `crl-fetch`): bounded in time and size, never on the
/// request path.
#[cfg(feature = "crl-fetch")]
mod fetch {
    use std::sync::atomic::Ordering;
    use std::sync::{Arc, Weak};
    use std::time::{Duration, Instant};

    use super::{Fetched, crl, unix_now};

    /// Most bytes one CRL response may hold.
    pub(super) const MAX_CRL_BYTES: u64 = 8 << 20;
    /// Longest one fetch may take (or the refresh interval, if shorter).
    const MAX_FETCH_TIME: Duration = Duration::from_secs(10);

    /// Every URL of the set, then the answer judged against the anchors
    /// and the CRLs held ([`crl::accept`]) and swapped in whole; on any
    /// failure or refusal the last ones stay.
    pub(super) fn fetch_all(f: &Fetched) -> Result<usize, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(f.refresh.min(MAX_FETCH_TIME)))
            .max_redirects(0)
            .http_status_as_error(true)
            .build()
            .into();
        let mut all = Vec::new();
        for url in &f.urls {
            let bytes = agent
                .get(url)
                .call()
                .and_then(|mut r| {
                    r.body_mut()
                        .with_config()
                        .limit(MAX_CRL_BYTES)
                        .read_to_vec()
                })
                .map_err(|e| format!("{url}: {e}"))?;
            all.extend(crl::parse(&bytes, Some(&f.anchors)).map_err(|e| format!("{url}: {e}"))?);
        }
        let kept = crl::accept(all, &f.crls.load())?;
        let n = kept.len();
        f.crls.store(Arc::new(kept));
        f.fetched_at.store(unix_now(), Ordering::Release);
        Ok(n)
    }

    /// Logs and counts a fetch.
    pub(super) fn record(f: &Fetched, result: Result<usize, String>) {
        let at = f.fetched_at.load(Ordering::Acquire);
        let age = if at == 0 {
            None
        } else {
            Some(unix_now().saturating_sub(at))
        };
        crate::metrics::crl_fetch(&f.set, result.is_ok(), age);
        #[cfg(feature = "tracing")]
        match &result {
            Ok(n) => tracing::debug!(target: "xfcc", set = %f.set, crls = n, "CRLs fetched"),
            Err(e) => {
                tracing::warn!(target: "xfcc", set = %f.set, error = %e, age_seconds = age, "CRL fetch failed; the last CRLs stay until they are older than crl_max_age_seconds")
            }
        }
        #[cfg(not(feature = "tracing"))]
        let _ = result;
    }

    /// One thread refreshes every set's CRLs on its interval, waking when
    /// the next set is due; it ends when the policy holding the sets drops
    /// the returned [`Background`](crate::background::Background)
    /// (the thread holds them only weakly).
    pub(super) fn refresh_in_background<'a>(
        sets: impl Iterator<Item = &'a Arc<Fetched>>,
    ) -> crate::background::Background {
        use crate::background::Background;
        let sets: Vec<(Weak<Fetched>, Duration)> =
            sets.map(|f| (Arc::downgrade(f), f.refresh)).collect();
        let Some(first) = sets.iter().map(|(_, r)| *r).min() else {
            return Background::none();
        };
        let mut due: Vec<Instant> = sets.iter().map(|(_, r)| Instant::now() + *r).collect();
        Background::spawn("xfcc-crl-fetch", first, false, move || {
            let mut alive = false;
            for ((weak, refresh), next) in sets.iter().zip(due.iter_mut()) {
                let Some(f) = weak.upgrade() else { continue };
                alive = true;
                if Instant::now() >= *next {
                    record(&f, fetch_all(&f));
                    *next = Instant::now() + *refresh;
                }
            }
            let now = Instant::now();
            let wait = due.iter().map(|d| d.saturating_duration_since(now)).min();
            alive.then(|| wait.unwrap_or(first))
        })
    }
}

/// Most path-building steps (a candidate issuer tried) that one
/// verification may cost; a header whose names allow more is refused as
/// `ambiguous_chain` before rustls-webpki runs.
pub(crate) const MAX_SEARCH_STEPS: usize = 32;
/// Most trust-anchor signature checks one verification may cost (each a
/// signature verification with an anchor's key).
pub(crate) const MAX_ANCHOR_CHECKS: usize = 4;
/// rustls-webpki's own limit on intermediates in a path.
const WEBPKI_MAX_DEPTH: usize = 6;
/// How long a failed chain is remembered.
pub(crate) const FAILURE_TTL: Duration = Duration::from_secs(30);
/// How many failed chains are remembered.
const FAILURE_CAPACITY: usize = 1024;

/// What chain selection reads of a certificate, through the crate's own
/// DER reader (so every date on a path comes from the same reader).
struct Node<'a> {
    der: &'a [u8],
    subject: &'a [u8],
    issuer: &'a [u8],
    spki: &'a [u8],
    not_after: i64,
}

impl<'a> Node<'a> {
    fn read(der: &'a [u8], limits: &Limits) -> Option<Self> {
        let v = CertView::parse(der, limits).ok()?;
        v.subject.check(limits.name_attributes()).ok()?;
        v.issuer.check(limits.name_attributes()).ok()?;
        Some(Self {
            der,
            subject: v.subject.bytes(),
            issuer: v.issuer.bytes(),
            spki: v.spki,
            not_after: v.not_after,
        })
    }
}

impl Chains {
    /// The subjects of a set's anchors (empty for an unknown set).
    /// The set's name and its anchors' names, shared (no allocation): what
    /// a [`ClientCert`](crate::ClientCert) says verified its chain.
    pub(crate) fn verified_by(&self, set: &str) -> Option<(Arc<str>, Arc<[String]>)> {
        self.sets
            .get(set)
            .map(|s| (Arc::clone(&s.name), Arc::clone(&s.names)))
    }

    pub(crate) fn anchor_names(&self, set: &str) -> Arc<[String]> {
        self.sets
            .get(set)
            .map_or_else(|| Arc::from([]), |s| Arc::clone(&s.names))
    }

    /// What weakens these anchor sets (see `Policy::warnings`).
    pub(crate) fn warnings(&self) -> Vec<crate::outcome::Warning> {
        use crate::outcome::{Warning, WarningKind};
        let mut out: Vec<Warning> = self
            .sets
            .iter()
            .filter(|(_, s)| !s.require_client_auth)
            .map(|(name, _)| {
                Warning::new(
                    WarningKind::ClientAuthNotRequired,
                    format!(
                        "[chain.{name}] require_client_auth = false: leaves issued for other purposes (servers) are accepted"
                    ),
                    format!("[chain.{name}] require_client_auth = true (the default)"),
                )
            })
            .collect();
        if self.revocation.expiry == CrlExpiry::Ignore
            && self
                .sets
                .values()
                .any(|s| !s.crls.is_empty() || s.fetched.is_some())
        {
            out.push(Warning::new(
                WarningKind::StaleCrlsUsed,
                "stale_crls = \"allow\": CRLs past their nextUpdate, and fetched CRLs older than crl_max_age_seconds, are used anyway (a certificate revoked since they were issued is allowed)",
                "[revocation] stale_crls = \"deny\" (the default), and publish or fetch fresh CRLs",
            ));
        }
        out
    }

    /// Verifies `fc` to the named set at `now`. On success, with
    /// `want_until`, the time until which the result may be reused (the
    /// earliest `notAfter` on the path), or `None` when it must not be
    /// reused (CRLs are in play, or nobody asked).
    ///
    /// The cost is bounded before rustls-webpki runs: the presented
    /// intermediates are de-duplicated and those that cannot be on a path
    /// from the leaf to an anchor (by subject and issuer names) are
    /// dropped. The shortest path the names allow is verified alone first:
    /// a legitimate chain costs its own length, whatever cross-signed or
    /// migration certificates travel beside it. Only if that fails does
    /// the whole search run, and only if the search those names allow fits
    /// [`MAX_SEARCH_STEPS`] and [`MAX_ANCHOR_CHECKS`] (else
    /// `ambiguous_chain`). A verified path longer than `max_intermediates`
    /// is `path_too_long`. A failure is remembered for [`FAILURE_TTL`], so
    /// a repeated attack costs one hash and a lookup.
    pub(crate) fn verify(
        &self,
        set_name: &str,
        fc: &ForwardedCert,
        now: SystemTime,
        want_until: bool,
        limits: &Limits,
    ) -> Result<(Option<SystemTime>, usize), ChainError> {
        let set = self
            .sets
            .get(set_name)
            .ok_or(ChainError::UnknownAnchorSet)?;
        // webpki applies its EKU check along the whole path, where a CA
        // without an EKU extension is fine ("required if present"); the leaf
        // itself must list clientAuth.
        if set.require_client_auth && !fc.leaf().has_client_auth_eku() {
            return Err(ChainError::WrongEku);
        }
        // Fetched CRLs older than their maximum age (or never fetched) are
        // expired CRLs, judged as `Revocation::expiry` says. Not
        // remembered as a failure: the next fetch may end it.
        if self.revocation.expiry == CrlExpiry::Enforce
            && set.fetched.as_ref().is_some_and(|f| f.is_stale())
        {
            return Err(ChainError::CrlExpired);
        }
        // No remembered failure (the usual state): no key to compute.
        if !self.failures.is_empty()
            && let Some((detail, until)) = self.failures.get(&failure_key(set_name, fc))
            && now < until
        {
            return Err(detail);
        }
        let result = self.verify_uncached(set, fc, now, want_until, limits);
        if let Err(detail) = result {
            self.failures.insert(
                failure_key(set_name, fc),
                (detail, now.checked_add(FAILURE_TTL).unwrap_or(now)),
            );
        }
        result
    }

    fn verify_uncached(
        &self,
        set: &AnchorSet,
        fc: &ForwardedCert,
        now: SystemTime,
        want_until: bool,
        limits: &Limits,
    ) -> Result<(Option<SystemTime>, usize), ChainError> {
        let leaf_der = CertificateDer::from(fc.leaf().der());
        let leaf = EndEntityCert::try_from(&leaf_der).map_err(|e| sub_reason(&e))?;
        let leaf_node = Node::read(fc.leaf().der(), limits).ok_or(ChainError::InvalidChain)?;
        let nodes = select(&leaf_node, fc.intermediates_der(), &set.subjects, limits);
        let time = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        let fetched = set.fetched.as_ref().map(|f| f.crls.load_full());
        // Per issuer the newest CRL, whether a file or fetched.
        let crl_refs: Vec<&CertRevocationList<'_>> =
            crl::newest(set.crls.iter().chain(fetched.iter().flat_map(|v| v.iter())))
                .into_iter()
                .map(|c| &c.list)
                .collect();
        // No CRL at all covers nothing: with unknown_status = "deny" that
        // is a refusal (webpki is given no revocation options then).
        if crl_refs.is_empty() && self.revocation.unknown == UnknownStatus::Deny {
            return Err(ChainError::RevocationUnknown);
        }
        let run = |candidates: &[&Node<'_>]| {
            self.run_webpki(set, &leaf, &leaf_node, candidates, time, &crl_refs)
        };
        // First the shortest path the names allow, alone: a chain a CA
        // issued verifies here at the cost of its own length, however many
        // cross-signed or migration certificates travel beside it.
        let shortest = shortest_path(&leaf_node, &nodes, &set.subjects);
        // Every path to an anchor is at least that long: if it is over the
        // limit, so is any path webpki could find.
        if shortest
            .as_ref()
            .is_some_and(|p| p.len() > self.max_intermediates)
        {
            return Err(ChainError::PathTooLong);
        }
        let first = match &shortest {
            Some(path) => run(path),
            None => Err(WebpkiError::UnknownIssuer),
        };
        let (until, anchor) = match first {
            Ok(verified) => verified,
            // Nothing else to try: that path was every candidate.
            Err(e) if shortest.as_ref().is_some_and(|p| p.len() == nodes.len()) => {
                return Err(sub_reason(&e));
            }
            Err(_) => {
                // Then the whole search, if its work fits the budget.
                let mut path = vec![(leaf_node.spki, leaf_node.subject)];
                let mut cost = Cost::default();
                if !search_cost(
                    leaf_node.issuer,
                    &mut path,
                    &nodes,
                    &set.subjects,
                    &mut cost,
                ) {
                    return Err(ChainError::AmbiguousChain);
                }
                let all: Vec<&Node<'_>> = nodes.iter().collect();
                run(&all).map_err(|e| sub_reason(&e))?
            }
        };
        // A path webpki verified has no date before 1970 (it reads none).
        let until = u64::try_from(until)
            .ok()
            .and_then(|s| UNIX_EPOCH.checked_add(Duration::from_secs(s)));
        let no_crls = set.crls.is_empty() && set.fetched.is_none();
        Ok((until.filter(|_| want_until && no_crls), anchor))
    }

    /// One rustls-webpki verification of `leaf` with `candidates` as the
    /// intermediates: on success, the earliest `notAfter` on the path and
    /// the index of the anchor it ends at.
    fn run_webpki(
        &self,
        set: &AnchorSet,
        leaf: &EndEntityCert<'_>,
        leaf_node: &Node<'_>,
        candidates: &[&Node<'_>],
        time: UnixTime,
        crl_refs: &[&CertRevocationList<'_>],
    ) -> Result<(i64, usize), WebpkiError> {
        let intermediates: Vec<CertificateDer<'_>> = candidates
            .iter()
            .map(|n| CertificateDer::from(n.der))
            .collect();
        let revocation = RevocationOptionsBuilder::new(crl_refs).ok().map(|b| {
            b.with_depth(match self.revocation.depth {
                RevocationDepth::EndEntity => webpki::RevocationCheckDepth::EndEntity,
                RevocationDepth::Chain => webpki::RevocationCheckDepth::Chain,
            })
            .with_status_policy(match self.revocation.unknown {
                UnknownStatus::Allow => webpki::UnknownStatusPolicy::Allow,
                UnknownStatus::Deny => webpki::UnknownStatusPolicy::Deny,
            })
            .with_expiration_policy(match self.revocation.expiry {
                CrlExpiry::Enforce => webpki::ExpirationPolicy::Enforce,
                CrlExpiry::Ignore => webpki::ExpirationPolicy::Ignore,
            })
            .build()
        });
        let until = Cell::new(leaf_node.not_after);
        let max = self.max_intermediates;
        let check_path = |path: &webpki::VerifiedPath<'_>| {
            let mut n = 0;
            for cert in path.intermediate_certificates() {
                n += 1;
                // Every path certificate is a candidate, read by our reader.
                let der = cert.der();
                let date = candidates
                    .iter()
                    .find(|c| c.der == der.as_ref())
                    .map(|c| c.not_after);
                until.set(until.get().min(date.unwrap_or(0)));
            }
            if n > max {
                return Err(WebpkiError::MaximumPathDepthExceeded);
            }
            Ok(())
        };
        let algs = webpki::ALL_VERIFICATION_ALGS;
        let path = if set.require_client_auth {
            leaf.verify_for_usage(
                algs,
                &set.anchors,
                &intermediates,
                time,
                KeyUsage::client_auth(),
                revocation,
                Some(&check_path),
            )
        } else {
            leaf.verify_for_usage(
                algs,
                &set.anchors,
                &intermediates,
                time,
                AnyUsage,
                revocation,
                Some(&check_path),
            )
        }?;
        let anchor = path.anchor().subject.as_ref();
        let index = set
            .anchors
            .iter()
            .position(|a| a.subject.as_ref() == anchor)
            .unwrap_or_default();
        Ok((until.get(), index))
    }
}

/// The fewest candidates that link the leaf to an anchor by names
/// (breadth-first from the leaf; ties go to the first presented), leaf
/// side first: empty when an anchor issued the leaf, `None` when the
/// names link it to no anchor.
fn shortest_path<'n, 'a>(
    leaf: &Node<'_>,
    nodes: &'n [Node<'a>],
    anchors: &[Vec<u8>],
) -> Option<Vec<&'n Node<'a>>> {
    let is_anchor = |name: &[u8]| anchors.iter().any(|a| a.as_slice() == name);
    if is_anchor(leaf.issuer) {
        return Some(Vec::new());
    }
    // parent[i]: the node that node i issued (None: the leaf).
    let mut parent: Vec<Option<Option<usize>>> = vec![None; nodes.len()];
    let mut queue = std::collections::VecDeque::new();
    for (i, n) in nodes.iter().enumerate() {
        if n.subject == leaf.issuer {
            parent[i] = Some(None);
            queue.push_back(i);
        }
    }
    while let Some(j) = queue.pop_front() {
        if is_anchor(nodes[j].issuer) {
            let mut path = vec![&nodes[j]];
            let mut at = parent[j].flatten();
            while let Some(k) = at {
                path.push(&nodes[k]);
                at = parent[k].flatten();
            }
            path.reverse();
            return Some(path);
        }
        for (i, n) in nodes.iter().enumerate() {
            if parent[i].is_none() && n.subject == nodes[j].issuer {
                parent[i] = Some(Some(j));
                queue.push_back(i);
            }
        }
    }
    None
}

/// The exact leaf and chain (every presented certificate, in order) and
/// the anchor set, hashed: what a remembered failure is found by. The leaf
/// enters as its SHA-256, already computed, and Envoy's copy of it at the
/// head of `Chain` is not hashed again: on the success path this key is
/// pure overhead, and hashing the leaf twice cost a tenth of a chain
/// verify.
fn failure_key(set: &str, fc: &ForwardedCert) -> [u8; 32] {
    let rest = fc
        .chain_der()
        .skip(usize::from(fc.chain_starts_with_leaf()));
    let mut h = Sha256::new();
    h.update([u8::from(fc.chain_starts_with_leaf())]);
    for part in [set.as_bytes(), fc.leaf().sha256()].into_iter().chain(rest) {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

/// The presented intermediates that can be on a path from the leaf to an
/// anchor, by names alone: de-duplicated, read by our reader (one that
/// does not read cannot be dated, and is dropped), reachable from the leaf
/// through issuer-to-subject links and leading to an anchor's subject.
/// O(n²) name comparisons for n presented certificates (n is bounded by
/// [`Limits::max_chain`](crate::inspect::Limits::max_chain)).
fn select<'a>(
    leaf: &Node<'_>,
    presented: &'a [Vec<u8>],
    anchors: &[Vec<u8>],
    limits: &Limits,
) -> Vec<Node<'a>> {
    let mut nodes: Vec<Node<'a>> = presented
        .iter()
        .filter_map(|d| Node::read(d, limits))
        .collect();
    nodes.sort_unstable_by(|a, b| a.der.cmp(b.der));
    nodes.dedup_by(|a, b| a.der == b.der);
    // Towards the leaf: issued (by name) the leaf or a reached node.
    let from_leaf = reach(
        &nodes,
        |n| n.subject == leaf.issuer,
        |child, parent| parent.subject == child.issuer,
    );
    // Towards an anchor: issued by an anchor's name, or by a node that is.
    let to_anchor = reach(
        &nodes,
        |n| anchors.iter().any(|a| a.as_slice() == n.issuer),
        |issuer, issued| issued.issuer == issuer.subject,
    );
    let mut i = 0;
    nodes.retain(|_| {
        let keep = from_leaf[i] && to_anchor[i];
        i += 1;
        keep
    });
    nodes
}

/// Which nodes are reached from those `start` picks, following `step(from,
/// to)` links: a breadth-first walk, O(n²) comparisons.
fn reach(
    nodes: &[Node<'_>],
    start: impl Fn(&Node<'_>) -> bool,
    step: impl Fn(&Node<'_>, &Node<'_>) -> bool,
) -> Vec<bool> {
    let mut reached: Vec<bool> = nodes.iter().map(&start).collect();
    let mut queue: Vec<usize> = (0..nodes.len()).filter(|&i| reached[i]).collect();
    while let Some(j) = queue.pop() {
        for (i, node) in nodes.iter().enumerate() {
            if !reached[i] && step(&nodes[j], node) {
                reached[i] = true;
                queue.push(i);
            }
        }
    }
    reached
}

#[derive(Default)]
struct Cost {
    steps: usize,
    anchor_checks: usize,
}

/// Walks the search rustls-webpki would make over `nodes` (the same
/// name matching, loop rule and depth limit), counting its steps and
/// anchor signature checks as if every path failed. False as soon as
/// either passes its limit: the walk itself is bounded by the same limits.
fn search_cost<'a>(
    issuer: &[u8],
    path: &mut Vec<(&'a [u8], &'a [u8])>,
    nodes: &[Node<'a>],
    anchors: &[Vec<u8>],
    cost: &mut Cost,
) -> bool {
    cost.anchor_checks += anchors.iter().filter(|a| a.as_slice() == issuer).count();
    if cost.anchor_checks > MAX_ANCHOR_CHECKS {
        return false;
    }
    for c in nodes.iter().filter(|c| c.subject == issuer) {
        if path
            .iter()
            .any(|&(spki, subject)| spki == c.spki && subject == c.subject)
        {
            continue;
        }
        cost.steps += 1;
        if cost.steps > MAX_SEARCH_STEPS {
            return false;
        }
        // `path` holds the leaf and the intermediates so far.
        if path.len() > WEBPKI_MAX_DEPTH {
            continue;
        }
        path.push((c.spki, c.subject));
        let ok = search_cost(c.issuer, path, nodes, anchors, cost);
        path.pop();
        if !ok {
            return false;
        }
    }
    true
}

/// The chain failure behind a webpki error (`Rejection::detail`).
fn sub_reason(e: &WebpkiError) -> ChainError {
    match e {
        WebpkiError::UnknownIssuer => ChainError::UnknownIssuer,
        WebpkiError::CertExpired { .. } => ChainError::Expired,
        WebpkiError::CertNotValidYet { .. } => ChainError::NotYetValid,
        WebpkiError::RequiredEkuNotFoundContext(_) => ChainError::WrongEku,
        WebpkiError::CertRevoked => ChainError::Revoked,
        WebpkiError::UnknownRevocationStatus => ChainError::RevocationUnknown,
        WebpkiError::CrlExpired { .. } => ChainError::CrlExpired,
        WebpkiError::InvalidSignatureForPublicKey
        | WebpkiError::UnsupportedSignatureAlgorithmContext(_)
        | WebpkiError::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | WebpkiError::SignatureAlgorithmMismatch => ChainError::BadSignature,
        WebpkiError::MaximumPathDepthExceeded | WebpkiError::PathLenConstraintViolated => {
            ChainError::PathTooLong
        }
        WebpkiError::CaUsedAsEndEntity => ChainError::CaUsedAsLeaf,
        WebpkiError::NameConstraintViolation => ChainError::NameConstraints,
        // Every time reached rustls-webpki through this crate's reader,
        // which refuses malformed ones: what webpki cannot read is a real
        // date before 1970.
        WebpkiError::BadDerTime => ChainError::TimeBefore1970,
        _ => ChainError::InvalidChain,
    }
}
/// What is wrong with a PEM bundle, in words (the PEM parser's own message
/// quotes the bytes it stopped at, which may be a certificate's).
fn pem_problem(e: &rustls_pki_types::pem::Error) -> &'static str {
    use rustls_pki_types::pem::Error as E;
    match e {
        E::MissingSectionEnd { .. } => {
            "a BEGIN line without its END line (a truncated or pasted-over file?)"
        }
        E::IllegalSectionStart { .. } => "a line starting with -----BEGIN that is not a PEM header",
        E::Base64Decode(_) => "a PEM section whose body is not base64",
        E::SectionTooLarge => "a PEM section over 256 MB",
        _ => "not a PEM file",
    }
}

/// Whether an anchor file holds at least one readable CERTIFICATE, for
/// an error that names the file (the files of a set are read as one
/// bundle, which no longer knows them apart).
pub(crate) fn check_anchor_file(pem: &[u8]) -> Result<(), &'static str> {
    let mut any = false;
    for der in CertificateDer::pem_slice_iter(pem) {
        der.map_err(|e| pem_problem(&e))?;
        any = true;
    }
    if any {
        Ok(())
    } else {
        Err("no -----BEGIN CERTIFICATE----- in it (a key, a CRL, or DER rather than PEM?)")
    }
}
