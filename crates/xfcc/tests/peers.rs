//! `trusted_peers`: the header is honoured only from the proxy's own
//! connections, so a request that reaches the service around the proxy
//! cannot bring a certificate header of its own.
#![expect(clippy::unwrap_used)]

#[path = "support/vars.rs"]
mod support_vars;

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

#[cfg(feature = "toml")]
use support_vars::vars;
use xfcc::{Mode, Policy, Reason, Rule, outcome::ConfigErrorKind};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

fn policy(mode: Mode) -> Policy {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .mode(mode)
        .trusted_peers(["10.0.0.0/8", "127.0.0.1", "fd00::/8"])
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap()
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

/// The verdict for one request from `peer`, with `header` as its only line.
fn verdict(
    p: &Policy,
    peer: Option<IpAddr>,
    header: Option<&str>,
) -> Result<Option<String>, String> {
    p.verify_request(peer, |name| {
        header
            .filter(|_| name == "x-forwarded-client-cert")
            .map(str::as_bytes)
            .into_iter()
            .collect::<Vec<_>>()
    })
    .map(|c| c.map(|c| c.rule().to_owned()))
    .map_err(|r| r.code().to_owned())
}

#[test]
fn honours_the_header_only_from_trusted_peers() {
    let good = capture("rsa-chain");
    let p = policy(Mode::Require);
    for peer in ["10.1.2.3", "127.0.0.1", "fd00::1", "::ffff:10.9.9.9"] {
        assert_eq!(
            verdict(&p, ip(peer), Some(&good)),
            Ok(Some("partner".to_owned())),
            "{peer}"
        );
    }
    for peer in [
        "192.168.1.5",
        "127.0.0.2",
        "2001:db8::1",
        "::ffff:192.168.1.5",
    ] {
        // Around the proxy, with a header: refused, whatever the header.
        assert_eq!(
            verdict(&p, ip(peer), Some(&good)),
            Err("untrusted_peer".to_owned()),
            "{peer}"
        );
        assert_eq!(
            verdict(&p, ip(peer), Some("junk")),
            Err("untrusted_peer".to_owned()),
            "{peer}"
        );
        // Without one: as missing.
        assert_eq!(
            verdict(&p, ip(peer), None),
            Err("missing".to_owned()),
            "{peer}"
        );
    }
    let accept = policy(Mode::Accept);
    assert_eq!(verdict(&accept, ip("192.168.1.5"), None), Ok(None));
    assert_eq!(
        verdict(&accept, ip("192.168.1.5"), Some(&good)),
        Err("untrusted_peer".to_owned())
    );
    assert!(p.is_trusted_peer("10.0.0.1".parse().unwrap()));
    assert!(!p.is_trusted_peer("11.0.0.1".parse().unwrap()));
}

#[test]
fn an_unknown_peer_is_never_allowed() {
    let good = capture("rsa-chain");
    for mode in [Mode::Require, Mode::Accept] {
        let p = policy(mode);
        assert_eq!(
            verdict(&p, None, Some(&good)),
            Err("peer_unavailable".to_owned())
        );
        assert_eq!(verdict(&p, None, None), Err("peer_unavailable".to_owned()));
        // The request-level methods that cannot know the peer refuse too.
        let r = p.verify_header_values([good.as_bytes()]).unwrap_err();
        assert_eq!(r.reason(), Reason::PeerUnavailable);
        let r = p.verify_request(None, |_| [good.as_bytes()]).unwrap_err();
        assert_eq!(r.reason(), Reason::PeerUnavailable);
    }
    // Without trusted_peers the peer is not looked at.
    let open = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(|| UNIX_EPOCH + Duration::from_secs(1_800_000_000))
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    assert_eq!(
        verdict(&open, None, Some(&good)),
        Ok(Some("partner".to_owned()))
    );
    assert!(open.is_trusted_peer("192.168.1.1".parse().unwrap()));
}

#[test]
fn bad_peer_lists_are_refused_naming_the_setting() {
    let build = |peers: &[&str]| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .trusted_peers(peers.iter().copied())
            .allow(Rule::new("p").subject_cn(["a"]))
            .build()
            .unwrap_err()
    };
    let e = build(&[]);
    assert_eq!(
        (e.kind(), e.setting()),
        (ConfigErrorKind::EmptyList, "trusted_peers".into())
    );
    for bad in ["10.0.0.0/33", "ten.0.0.0/8", "10.0.0.0/8/8", ""] {
        let e = build(&["127.0.0.1", bad]).to_string();
        assert!(e.contains("trusted_peers") && e.contains(bad), "{bad}: {e}");
    }
}

#[cfg(feature = "toml")]
#[test]
fn toml_key_and_environment_variable() {
    let text = "proxy_verifies_chain = true\ntrusted_peers = [\"10.0.0.0/8\"]\n[[allow]]\nsubject_cn = [\"client-app.contoso.example\"]";
    let p = Policy::from_toml_str(text, ".").unwrap();
    assert!(p.is_trusted_peer("10.2.3.4".parse().unwrap()));
    assert!(!p.is_trusted_peer("127.0.0.1".parse().unwrap()));
    let e = Policy::from_toml_str(
        "trusted_peers = [\"nope\"]\n[[allow]]\nsubject_cn = [\"a\"]",
        ".",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("trusted_peers") && e.contains("nope"), "{e}");

    let p = Policy::from_env_vars(vars(&[
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
        ("XFCC_ALLOWED_SUBJECT_CNS", "client-app.contoso.example"),
        ("XFCC_TRUSTED_PEERS", "10.0.0.0/8, 127.0.0.1/32"),
    ]))
    .unwrap();
    assert!(p.is_trusted_peer("127.0.0.1".parse().unwrap()));
    assert!(!p.is_trusted_peer("127.0.0.2".parse().unwrap()));
    let e = Policy::from_env_vars(vars(&[
        ("XFCC_ALLOWED_SUBJECT_CNS", "a"),
        ("XFCC_TRUSTED_PEERS", "10.0.0.0/8,bogus"),
    ]))
    .unwrap_err();
    assert!(
        e.setting() == "XFCC_TRUSTED_PEERS" && e.kind() == ConfigErrorKind::Value,
        "{e}"
    );
    assert!(e.to_string().contains("bogus"), "{e}");
}

#[test]
fn a_list_that_trusts_every_address_is_refused() {
    for every in ["0.0.0.0/0", "::/0", "::ffff:0:0/96", "::ffff:0.0.0.0/96"] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .trusted_peers(["10.0.0.0/8", every])
            .allow(Rule::new("x").subject_cn(["y"]))
            .build()
            .unwrap_err();
        assert_eq!(
            (e.kind(), e.setting()),
            (ConfigErrorKind::Value, "trusted_peers".into()),
            "{every}: {e}"
        );
        assert!(e.to_string().contains("every address"), "{e}");
    }
    // Nor does it count as the trusted_peers that proxy-fields requires.
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(xfcc::outcome::IdentityFrom::ProxyFields)
        .trusted_peers(["::/0"])
        .allow(Rule::new("x").subject_cn(["y"]))
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("every address"), "{e}");
}

#[test]
fn ipv4_mapped_entries_and_peers_compare_in_one_form() {
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_peers(["::ffff:10.0.0.0/104", "::ffff:192.0.2.7"])
        .allow(Rule::new("x").subject_cn(["y"]))
        .build()
        .unwrap();
    for (peer, trusted) in [
        ("10.1.2.3", true),
        ("::ffff:10.1.2.3", true),
        ("192.0.2.7", true),
        ("::ffff:192.0.2.7", true),
        ("11.0.0.1", false),
        ("192.0.2.8", false),
        ("::1", false),
    ] {
        assert_eq!(p.is_trusted_peer(peer.parse().unwrap()), trusted, "{peer}");
    }
    // And an IPv4 entry matches an IPv4-mapped peer (a dual-stack socket).
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("x").subject_cn(["y"]))
        .build()
        .unwrap();
    assert!(p.is_trusted_peer("::ffff:10.9.9.9".parse().unwrap()));
}
