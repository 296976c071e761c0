//! What the `metrics` feature records: see `crates/xfcc/METRICS.md`, the
//! one metrics reference (`tests/metrics_reference.rs` holds it to the
//! names recorded here).

use crate::outcome::{ClientCert, Rejection};

/// When a verification started (nothing without the feature: no clock read).
#[cfg(feature = "metrics")]
pub(crate) type Start = std::time::Instant;
#[cfg(not(feature = "metrics"))]
#[derive(Clone, Copy)]
pub(crate) struct Start;

/// The start of a verification.
#[cfg(feature = "metrics")]
pub(crate) fn start() -> Start {
    std::time::Instant::now()
}

/// Without the feature: nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) const fn start() -> Start {
    Start
}

/// Records one verification that started at `start`.
#[cfg(feature = "metrics")]
pub(crate) fn verification(start: Start, result: Result<Option<&ClientCert>, &Rejection>) {
    let (outcome, reason) = match result {
        Ok(Some(_)) => ("allowed", "none"),
        Ok(None) => ("anonymous", "none"),
        Err(r) if r.is_report_only() => ("would_deny", r.code()),
        Err(r) => ("rejected", r.code()),
    };
    // With [[sources]], the source whose request it was; "none" without
    // sources (or for a peer that belongs to none).
    let source = match result {
        Ok(Some(c)) => c.source(),
        Ok(None) => None,
        Err(r) => r.source(),
    };
    let source = source.map_or(std::borrow::Cow::Borrowed("none"), |s| {
        std::borrow::Cow::Owned(s.to_owned())
    });
    metrics::counter!("xfcc_verifications_total", "result" => outcome, "reason" => reason, "source" => source)
        .increment(1);
    metrics::histogram!("xfcc_verification_duration_seconds", "result" => outcome)
        .record(start.elapsed().as_secs_f64());
    // Allowed requests per rule and per anchor set (both the policy's own,
    // bounded names): when a CA is rotated, the old set's count falls to
    // zero before it is removed.
    if let Ok(Some(cert)) = result {
        metrics::counter!(
            "xfcc_allowed_total",
            "rule" => cert.rule().to_owned(),
            "anchor_set" => cert.anchor_set().unwrap_or("none").to_owned()
        )
        .increment(1);
    }
    // Proxy fields carry no validity period: nothing to record.
    if let Ok(Some(cert)) = result
        && let Some(left) = cert.expires_in()
    {
        let days = left.as_secs_f64() / 86_400.0;
        metrics::histogram!("xfcc_allowed_certificate_expiry_days", "rule" => cert.rule().to_owned())
            .record(days);
    }
}

/// Without the feature: nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) const fn verification(_: Start, _: Result<Option<&ClientCert>, &Rejection>) {}

/// Records a cache lookup.
#[cfg(feature = "metrics")]
pub(crate) fn cache_lookup(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("xfcc_cache_lookups_total", "result" => result).increment(1);
}

/// Without the feature: nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) const fn cache_lookup(_: bool) {}

/// Records one reload by a policy watcher.
#[cfg(feature = "metrics")]
pub(crate) fn policy_reload(ok: bool) {
    metrics::counter!("xfcc_policy_reloads_total", "result" => if ok { "ok" } else { "error" })
        .increment(1);
}

/// Without the feature: nothing.
#[cfg(not(feature = "metrics"))]
pub(crate) const fn policy_reload(_ok: bool) {}

/// Records one CRL fetch of an anchor set, and the age of its CRLs.
#[cfg(all(feature = "metrics", feature = "crl-fetch"))]
pub(crate) fn crl_fetch(set: &str, ok: bool, age_seconds: Option<u64>) {
    let result = if ok { "ok" } else { "error" };
    metrics::counter!("xfcc_crl_fetches_total", "anchor_set" => set.to_owned(), "result" => result)
        .increment(1);
    if let Some(age) = age_seconds {
        #[expect(clippy::cast_precision_loss, reason = "seconds of age, far below 2^52")]
        metrics::gauge!("xfcc_crl_age_seconds", "anchor_set" => set.to_owned()).set(age as f64);
    }
}

/// Without the feature: nothing.
#[cfg(all(not(feature = "metrics"), feature = "crl-fetch"))]
pub(crate) const fn crl_fetch(_set: &str, _ok: bool, _age_seconds: Option<u64>) {}
