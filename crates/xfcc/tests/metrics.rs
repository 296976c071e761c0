//! The `metrics` feature: what a verification records, read back through a
//! local `metrics-util` debugging recorder.
#![cfg(feature = "metrics")]
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::{CompositeKey, MetricKind};
use xfcc::{Mode, Policy, Rule};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

/// (kind, name, sorted labels) -> value.
type Seen = Vec<(MetricKind, String, Vec<(String, String)>, DebugValue)>;

fn record(f: impl FnOnce()) -> Seen {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, f);
    let mut seen: Seen = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value): (CompositeKey, _, _, DebugValue)| {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            (kind, key.name().to_owned(), labels, value)
        })
        .collect();
    seen.sort_by(|a, b| (&a.1, &a.2).cmp(&(&b.1, &b.2)));
    seen
}

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn counter(seen: &Seen, name: &str, l: &[(&str, &str)]) -> Option<u64> {
    seen.iter().find_map(|(kind, n, ls, v)| match v {
        DebugValue::Counter(c) if *kind == MetricKind::Counter && n == name && *ls == labels(l) => {
            Some(*c)
        }
        _ => None,
    })
}

fn histogram(seen: &Seen, name: &str, l: &[(&str, &str)]) -> Vec<f64> {
    seen.iter()
        .find_map(|(_, n, ls, v)| match v {
            DebugValue::Histogram(h) if n == name && *ls == labels(l) => {
                Some(h.iter().map(|x| x.into_inner()).collect())
            }
            _ => None,
        })
        .unwrap_or_default()
}

#[test]
fn records_results_reasons_time_cache_and_days_to_expiry() {
    // 2027-01-15; the fixture leaf expires 2046-11-17.
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .mode(Mode::Accept)
        .cache(16)
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let good = capture("rsa-chain");
    let wrong = capture("wrong-cn");
    let seen = record(|| {
        for _ in 0..3 {
            policy.verify(&good).unwrap();
        }
        policy.verify(&wrong).unwrap_err();
        policy.verify("Hash=00").unwrap_err();
        assert!(policy.verify_header_values([]).unwrap().is_none());
    });
    let total = "xfcc_verifications_total";
    assert_eq!(
        counter(
            &seen,
            total,
            &[
                ("reason", "none"),
                ("result", "allowed"),
                ("source", "none")
            ]
        ),
        Some(3)
    );
    assert_eq!(
        counter(
            &seen,
            total,
            &[
                ("reason", "not_allowed"),
                ("result", "rejected"),
                ("source", "none")
            ]
        ),
        Some(1)
    );
    assert_eq!(
        counter(
            &seen,
            total,
            &[
                ("reason", "malformed"),
                ("result", "rejected"),
                ("source", "none")
            ]
        ),
        Some(1)
    );
    assert_eq!(
        counter(
            &seen,
            total,
            &[
                ("reason", "none"),
                ("result", "anonymous"),
                ("source", "none")
            ]
        ),
        Some(1)
    );
    // The first sight of each certificate misses; repeats of the allowed one hit.
    let lookups = "xfcc_cache_lookups_total";
    assert_eq!(counter(&seen, lookups, &[("result", "hit")]), Some(2));
    assert_eq!(counter(&seen, lookups, &[("result", "miss")]), Some(2));
    let times = histogram(
        &seen,
        "xfcc_verification_duration_seconds",
        &[("result", "allowed")],
    );
    assert_eq!(times.len(), 3);
    assert!(times.iter().all(|t| *t > 0.0 && *t < 10.0), "{times:?}");
    let days = histogram(
        &seen,
        "xfcc_allowed_certificate_expiry_days",
        &[("rule", "partner")],
    );
    assert_eq!(days.len(), 3);
    // 2027-01-15 to 2046-11-17: about 7,245 days.
    assert!(
        days.iter().all(|d| (7_240.0..7_250.0).contains(d)),
        "{days:?}"
    );
    // Allowed requests per rule and anchor set (none: a names rule).
    assert_eq!(
        counter(
            &seen,
            "xfcc_allowed_total",
            &[("anchor_set", "none"), ("rule", "partner")]
        ),
        Some(3)
    );
    // No label takes a value the client chose.
    for (_, _, ls, _) in &seen {
        for (k, _) in ls {
            assert!(
                ["result", "reason", "rule", "anchor_set", "source"].contains(&k.as_str()),
                "{k}"
            );
        }
    }
}

#[test]
fn report_mode_counts_would_be_refusals_as_would_deny() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let build = |mode| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .clock(move || at)
            .mode(mode)
            .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
            .build()
            .unwrap()
    };
    let (report, require) = (build(Mode::Report), build(Mode::Require));
    let seen = record(|| {
        assert!(report.verify(&capture("rsa-chain")).is_ok());
        for header in ["wrong-cn", "injection-uri"] {
            // The decision require makes, marked as one that only reports.
            let r = report.verify(&capture(header)).unwrap_err();
            let q = require.verify(&capture(header)).unwrap_err();
            assert!(r.is_report_only() && !q.is_report_only());
            assert_eq!(
                (r.reason(), r.detail(), r.explanation()),
                (q.reason(), q.detail(), q.explanation())
            );
        }
        let missing = report.verify_header_values([]).unwrap_err();
        assert!(missing.is_missing() && missing.is_report_only());
    });
    let total = "xfcc_verifications_total";
    for (reason, n) in [("not_allowed", 2), ("too_many_elements", 2), ("missing", 1)] {
        let would = counter(
            &seen,
            total,
            &[
                ("reason", reason),
                ("result", "would_deny"),
                ("source", "none"),
            ],
        )
        .unwrap_or(0);
        let rejected = counter(
            &seen,
            total,
            &[
                ("reason", reason),
                ("result", "rejected"),
                ("source", "none"),
            ],
        )
        .unwrap_or(0);
        // Report-mode refusals are would_deny; require's are rejected.
        assert_eq!(would + rejected, n, "{reason}");
        assert_eq!(would, 1, "{reason}");
    }
    assert_eq!(
        counter(
            &seen,
            total,
            &[
                ("reason", "none"),
                ("result", "allowed"),
                ("source", "none")
            ]
        ),
        Some(1)
    );
}

#[test]
fn with_sources_every_verification_carries_its_source() {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .source(xfcc::Source::new("gateway", ["10.0.2.0/24"]))
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let (good, wrong) = (capture("rsa-chain"), capture("wrong-cn"));
    let send = |peer: &str, value: &str| {
        policy
            .verify_request(Some(peer.parse().unwrap()), |_| [value.as_bytes()])
            .map(|c| c.map(|c| c.source().map(str::to_owned)))
    };
    let seen = record(|| {
        assert_eq!(
            send("10.0.2.1", &good).unwrap(),
            Some(Some("gateway".to_owned()))
        );
        assert!(send("10.0.2.1", &wrong).is_err());
        assert!(send("192.0.2.1", &good).is_err());
    });
    let total = "xfcc_verifications_total";
    let at = |reason, result, source| {
        counter(
            &seen,
            total,
            &[("reason", reason), ("result", result), ("source", source)],
        )
    };
    assert_eq!(at("none", "allowed", "gateway"), Some(1));
    assert_eq!(at("not_allowed", "rejected", "gateway"), Some(1));
    assert_eq!(at("untrusted_peer", "rejected", "none"), Some(1));
}
