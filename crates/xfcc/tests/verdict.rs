//! `Policy::decide`: the one verdict every adapter translates, in each
//! mode, with the status and body of a refusal and what a handler that
//! needs the identity gets.
#![expect(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use xfcc::{
    Mode, Policy, Reason, Rule,
    outcome::{Outcome, Refused},
    run::{LogLimiter, LogRate},
};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap().trim().to_owned()
}

const PIN: &str = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";

fn policy(mode: Mode, peers: Option<&str>) -> Policy {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut b = Policy::builder()
        .mode(mode)
        .clock(move || at)
        .allow(Rule::new("pinned").thumbprint([PIN]));
    if let Some(p) = peers {
        b = b.trusted_peers([p]);
    }
    b.build().unwrap()
}

fn decide(p: &Policy, header: Option<&str>, peer: Option<&str>) -> xfcc::outcome::Verdict {
    let peer: Option<IpAddr> = peer.map(|p| p.parse().unwrap());
    p.decide(peer, |name| {
        header
            .filter(|_| name == "x-forwarded-client-cert")
            .map(str::as_bytes)
    })
}

#[test]
fn each_mode_gives_its_outcome_and_no_adapter_needs_to_know_it() {
    let ok = capture("rsa-chain");
    let wrong = capture("wrong-cn");
    // require: allowed, or refused 403 with the body.
    let require = policy(Mode::Require, None);
    let v = decide(&require, Some(&ok), None);
    assert!(v.serves() && v.client_cert().unwrap().rule() == "pinned");
    assert_eq!(v.header_names(), ["x-forwarded-client-cert"]);
    let v = decide(&require, Some(&wrong), None);
    let refused = v.refused().unwrap();
    assert_eq!(
        (refused.status(), refused.json_body().as_str()),
        (403, r#"{"error":"not_allowed"}"#)
    );
    assert!(!v.serves() && v.identity().is_err());
    // report: served, the would-be refusal beside it, and a handler that
    // needs the identity answers with it.
    let report = policy(Mode::Report, None);
    let v = decide(&report, Some(&wrong), None);
    assert!(matches!(v.outcome(), Outcome::Report(r) if r.code() == "not_allowed"));
    assert!(v.serves() && v.refused().is_none() && v.client_cert().is_none());
    assert_eq!(v.identity().unwrap_err().code(), "not_allowed");
    // accept: no header is served without an identity; a handler that
    // needs one answers `missing`.
    let accept = policy(Mode::Accept, None);
    let v = decide(&accept, None, None);
    assert!(matches!(v.outcome(), Outcome::Allow(None)));
    assert_eq!(v.identity().unwrap_err().code(), "missing");
    // A wiring error is the service's fault: 500, and the peer is kept.
    let peers = policy(Mode::Require, Some("10.0.0.0/8"));
    let v = decide(&peers, Some(&ok), None);
    assert_eq!(v.refused().unwrap().status(), 500);
    let v = decide(&peers, Some(&ok), Some("192.0.2.1"));
    assert_eq!(v.peer(), Some("192.0.2.1".parse().unwrap()));
    assert_eq!(v.refused().unwrap().code(), "untrusted_peer");
}

#[test]
fn wiring_refusals_are_named_once_for_every_binding() {
    for code in ["xfcc_layer_missing", "peer_rewritten", "unsafe_server"] {
        let r = Refused::wiring(code).unwrap();
        assert_eq!((r.code(), r.status()), (code, 500));
        assert_eq!(r.json_body(), format!("{{\"error\":\"{code}\"}}"));
    }
    assert!(Refused::wiring("not_allowed").is_none());
}

#[test]
fn the_log_limiter_admits_the_rate_then_summarises() {
    let limiter = LogLimiter::new(LogRate::per_second(std::num::NonZeroU32::new(3).unwrap()));
    let admitted: Vec<bool> = (0..10)
        .map(|_| limiter.admit(Reason::NotAllowed).log)
        .collect();
    // Within one second (the loop takes far less), three are written.
    assert_eq!(admitted.iter().filter(|l| **l).count(), 3);
    // A wiring error is always written.
    assert!((0..10).all(|_| limiter.admit(Reason::PeerUnavailable).log));
    assert_eq!(limiter.flush(), [(Reason::NotAllowed, 7)]);
    assert!(limiter.flush().is_empty());
}
