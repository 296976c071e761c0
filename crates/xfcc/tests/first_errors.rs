//! The first errors a new user meets each say what to change: the codes
//! (and the decision) stay, and `Rejection::hint` adds the next step.
#![expect(clippy::unwrap_used)]

#[path = "support/mesh.rs"]
mod mesh;

use std::path::PathBuf;

use xfcc::{Policy, Rule};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

fn policy() -> Policy {
    Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap()
}

#[test]
fn a_two_proxy_header_says_how_many_elements_came_and_were_expected() {
    let h = capture("rsa-chain");
    let r = policy().verify(&format!("{h},{h}")).unwrap_err();
    assert_eq!(r.code(), "too_many_elements");
    assert!(
        r.to_string().contains("(2 elements, expected exactly 1)"),
        "{r}"
    );
    let hint = r.hint().unwrap();
    assert!(
        hint.contains("holds 2 element(s)") && hint.contains("count"),
        "{hint}"
    );
}

#[test]
fn a_mesh_header_without_cert_points_to_proxy_fields() {
    let r = policy()
        .verify(&mesh::without_cert(&capture("rsa-chain")))
        .unwrap_err();
    assert_eq!(r.detail().code(), "no_certificate");
    assert!(
        r.hint()
            .unwrap()
            .contains("identity_from = \"proxy-fields\"")
    );
    // A value with nothing of the proxy's in it gets no such hint.
    let r = policy().verify("By=spiffe://x/y").unwrap_err();
    assert_eq!(r.hint(), None, "{r}");
}

#[test]
fn a_header_pasted_with_its_name_says_so() {
    let h = capture("rsa-chain");
    let r = policy()
        .verify(&format!("X-Forwarded-Client-Cert: {h}"))
        .unwrap_err();
    assert_eq!(r.code(), "malformed");
    assert!(
        r.hint().unwrap().contains("begins with a header name"),
        "{r}"
    );
    // The hint never repeats the value.
    assert!(!r.hint().unwrap().contains(&h[..20]));
}

#[test]
fn pem_read_as_envoy_is_named_as_the_other_format() {
    let pem = std::fs::read_to_string(fixtures().join("certs/client-rsa.pem")).unwrap();
    let encoded: String = pem
        .bytes()
        .map(|b| match b {
            b'\n' => "%0A".to_owned(),
            b' ' => "%20".to_owned(),
            b => (b as char).to_string(),
        })
        .collect();
    for value in [encoded.as_str(), pem.trim()] {
        let r = policy().verify(value).unwrap_err();
        assert_eq!(
            (r.code(), r.detail().code()),
            ("malformed", "wrong_format_pem")
        );
    }
    let r = policy().verify(":MIIBkTCB+wIJAK:").unwrap_err();
    assert_eq!(r.detail().code(), "wrong_format_rfc9440");
}

#[test]
fn an_untrusted_peer_is_named_and_a_missing_peer_names_the_wiring() {
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let h = capture("rsa-chain");
    let peer: std::net::IpAddr = "192.0.2.7".parse().unwrap();
    let r = p
        .verify_request(Some(peer), |_| [h.as_bytes()])
        .unwrap_err();
    assert_eq!(r.code(), "untrusted_peer");
    assert_eq!(r.peer(), Some(peer));
    assert!(r.to_string().contains("from 192.0.2.7"), "{r}");
    assert!(
        r.hint()
            .unwrap()
            .contains("add it (or its block) to trusted_peers")
    );
    let r = p.verify_request(None, |_| [h.as_bytes()]).unwrap_err();
    assert_eq!(r.code(), "peer_unavailable");
    assert!(
        r.hint()
            .unwrap()
            .contains("into_make_service_with_connect_info")
    );
}
