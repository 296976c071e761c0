//! Chain verification under attack: headers a client can send through an
//! ingress that accepts any certificate, built to make path building
//! expensive. Each is refused with a stable code before (or while)
//! rustls-webpki runs; the `worst/*` benches measure what they cost.
#![cfg(feature = "chain")]
#![expect(clippy::unwrap_used)]

#[path = "support/attack.rs"]
mod attack;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/certs");

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
use xfcc::{CertIdentity, Policy, Rule};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(attack::fixture_cert("client-rsa").not_before_unix() + 86_400)
}

/// The chain policy the README recommends: issuer name plus a chain to
/// the partner's root.
fn policy(max_intermediates: usize) -> Policy {
    Policy::builder()
        .clock(now)
        .chain(xfcc::TrustAnchors::new(
            "partners",
            attack::root_pem().into_bytes(),
        ))
        .max_chain_intermediates(max_intermediates)
        .allow(
            Rule::new("partner")
                .issuer_cn([attack::ISSUING_CA])
                .chain("partners"),
        )
        .build()
        .unwrap()
}

fn outcome(p: &Policy, h: &str) -> (String, String) {
    match p.verify(h) {
        Ok(c) => ("ok".into(), c.rule().into()),
        Err(r) => (r.code().into(), r.detail().into()),
    }
}

#[test]
fn every_attack_is_refused_with_its_code() {
    let p = policy(4);
    for (name, header, detail) in attack::attacks() {
        assert!(header.len() <= 64 * 1024, "{name}: {} bytes", header.len());
        let first = outcome(&p, &header);
        assert_eq!(first, ("chain_invalid".into(), detail.into()), "{name}");
        // Remembered: the same answer on second sight.
        assert_eq!(outcome(&p, &header), first, "{name} (repeated)");
    }
}

#[test]
fn ambiguous_names_within_the_intermediate_limit_are_refused_before_webpki() {
    let p = policy(4);
    assert_eq!(
        outcome(&p, &attack::ambiguous_within_limit()),
        ("chain_invalid".into(), "ambiguous_chain".into())
    );
}

#[test]
fn a_legitimate_chain_still_verifies_beside_the_attacks() {
    let p = policy(4);
    let real = attack::header(
        &attack::fixture_cert("client-rsa"),
        &[attack::fixture_cert("inter")],
    );
    for (_, header, _) in attack::attacks() {
        assert!(p.verify(&header).is_err());
    }
    assert_eq!(outcome(&p, &real), ("ok".into(), "partner".into()));
    // Duplicates of the real intermediate and unrelated certificates are
    // dropped before path building.
    let padded = attack::header(
        &attack::fixture_cert("client-rsa"),
        &[
            attack::fixture_cert("inter"),
            attack::fixture_cert("client-p384"),
            attack::fixture_cert("inter"),
            attack::fixture_cert("inter-ec"),
            attack::fixture_cert("inter"),
        ],
    );
    assert_eq!(outcome(&p, &padded), ("ok".into(), "partner".into()));
}

#[test]
fn several_rules_on_one_anchor_set_verify_it_once() {
    // Ten rules that all match the forged leaf and name the same set: the
    // answer is the set's, found once (and then remembered).
    let mut b = Policy::builder().clock(now).chain(xfcc::TrustAnchors::new(
        "partners",
        attack::root_pem().into_bytes(),
    ));
    for i in 0..10 {
        b = b.allow(
            Rule::new(format!("r{i}"))
                .issuer_cn([attack::ISSUING_CA])
                .chain("partners"),
        );
    }
    let p = b.build().unwrap();
    let (_, header, detail) = attack::attacks().swap_remove(0);
    assert_eq!(
        outcome(&p, &header),
        ("chain_invalid".into(), detail.into())
    );
}

#[test]
fn a_failure_is_remembered_for_thirty_seconds_then_checked_again() {
    // An intermediate that becomes valid ten seconds after `t0`.
    let root = Issuer::from_ca_cert_pem(
        &attack::root_pem(),
        KeyPair::from_pem(&std::fs::read_to_string(format!("{FIXTURES}/root.key")).unwrap())
            .unwrap(),
    )
    .unwrap();
    let t0 = now();
    let start = time::OffsetDateTime::from_unix_timestamp(
        (t0.duration_since(UNIX_EPOCH).unwrap().as_secs() + 10) as i64,
    )
    .unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, "late-inter");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.not_before = start;
    ca.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let ca_key = KeyPair::generate().unwrap();
    let inter = ca.signed_by(&ca_key, &root).unwrap();
    let mut leaf = CertificateParams::new(vec!["late.example".into()]).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, "late");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let leaf = leaf
        .signed_by(&KeyPair::generate().unwrap(), &Issuer::new(ca, ca_key))
        .unwrap();
    let ident = |der: &[u8]| CertIdentity::from_der(der.to_vec()).unwrap();
    let h = attack::header(&ident(leaf.der()), &[ident(inter.der())]);
    let p = Policy::builder()
        .chain(xfcc::TrustAnchors::new(
            "partners",
            attack::root_pem().into_bytes(),
        ))
        .allow(Rule::new("late").subject_cn(["late"]).chain("partners"))
        .build()
        .unwrap();
    let at = |secs| {
        p.verify_at(&h, t0 + Duration::from_secs(secs))
            .map(|c| c.rule().to_owned())
            .map_err(|r| r.detail())
    };
    assert_eq!(at(0), Err("not_yet_valid"));
    // Valid from t0 + 10 s, but the failure is remembered until t0 + 30 s.
    assert_eq!(at(20), Err("not_yet_valid"));
    assert_eq!(at(31), Ok("late".to_owned()));
}
