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

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use xfcc::{Policy, Rule, inspect::CertIdentity};

fn now() -> SystemTime {
    attack::fixture_cert("client-rsa").not_before() + Duration::from_secs(86_400)
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
        Err(r) => (r.code().into(), r.detail().code().into()),
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
    let root_params = ca_params("late-root");
    let root_key = KeyPair::generate().unwrap();
    let root_pem = root_params.self_signed(&root_key).unwrap().pem();
    let root = Issuer::new(root_params, root_key);
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
        .chain(xfcc::TrustAnchors::new("partners", root_pem.into_bytes()))
        .allow(Rule::new("late").subject_cn(["late"]).chain("partners"))
        .build()
        .unwrap();
    let at = |secs| {
        p.verify_at(&h, t0 + Duration::from_secs(secs))
            .map(|c| c.rule().to_owned())
            .map_err(|r| r.detail().code())
    };
    assert_eq!(at(0), Err("not_yet_valid"));
    // Valid from t0 + 10 s, but the failure is remembered until t0 + 30 s.
    assert_eq!(at(20), Err("not_yet_valid"));
    assert_eq!(at(31), Ok("late".to_owned()));
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    p
}

fn ident(der: &[u8]) -> CertIdentity {
    CertIdentity::from_der(der.to_vec()).unwrap()
}

/// A CA made here: its self-signed certificate (PEM), its parameters and key.
struct Ca {
    pem: String,
    params: CertificateParams,
    key: KeyPair,
}

impl Ca {
    fn root(cn: &str) -> Self {
        let params = ca_params(cn);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { pem, params, key }
    }

    fn issuer(&self) -> Issuer<'_, &KeyPair> {
        Issuer::new(self.params.clone(), &self.key)
    }

    /// This CA's name and key, certified by `by` (a cross-certificate).
    fn cross_signed_by(&self, by: &Ca) -> CertIdentity {
        ident(
            self.params
                .signed_by(&self.key, &by.issuer())
                .unwrap()
                .der(),
        )
    }
}

fn leaf_below(issuer: &Ca, cn: &str) -> CertIdentity {
    let mut p = CertificateParams::new(vec![format!("{cn}.example")]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    ident(
        p.signed_by(&KeyPair::generate().unwrap(), &issuer.issuer())
            .unwrap()
            .der(),
    )
}

fn chain_policy(anchors: &str, cn: &str) -> Policy {
    Policy::builder()
        .clock(now)
        .chain(xfcc::TrustAnchors::new("pki", anchors.as_bytes().to_vec()))
        .allow(Rule::new("leaf").subject_cn([cn]).chain("pki"))
        .build()
        .unwrap()
}

#[test]
fn distributed_trust_with_cross_signed_roots_verifies() {
    // leaf <- Intermediate A1 <- Root A (the anchor), with every
    // cross-certificate among Roots A, B and C also presented, as during a
    // CA migration: seven candidates, more than max_chain_intermediates
    // (4), and name links that make a large search; the path is two long.
    let (a, b, c) = (Ca::root("Root A"), Ca::root("Root B"), Ca::root("Root C"));
    let a1 = Ca::root("Intermediate A1");
    let a1_cert = a1.cross_signed_by(&a);
    let leaf = leaf_below(&a1, "distributed");
    let crosses = [
        a.cross_signed_by(&b),
        a.cross_signed_by(&c),
        b.cross_signed_by(&a),
        b.cross_signed_by(&c),
        c.cross_signed_by(&a),
        c.cross_signed_by(&b),
    ];
    for at in 0..=crosses.len() {
        // The intermediate anywhere among the cross-certificates.
        let mut chain = crosses.to_vec();
        chain.insert(at, a1_cert.clone());
        let h = attack::header(&leaf, &chain);
        assert_eq!(
            outcome(&chain_policy(&a.pem, "distributed"), &h),
            ("ok".into(), "leaf".into()),
            "A1 at {at}"
        );
    }
    // Trusting Root B instead: the path goes through A's certificate
    // cross-signed by B.
    let mut chain = crosses.to_vec();
    chain.push(a1_cert.clone());
    let h = attack::header(&leaf, &chain);
    assert_eq!(
        outcome(&chain_policy(&b.pem, "distributed"), &h),
        ("ok".into(), "leaf".into())
    );
    // An untrusted root is still refused, and not as a path length.
    let d = Ca::root("Root D");
    assert_eq!(
        outcome(&chain_policy(&d.pem, "distributed"), &h),
        ("chain_invalid".into(), "unknown_issuer".into())
    );
}

#[test]
fn a_ca_migration_with_both_cross_signs_verifies_to_either_root() {
    // Old root O, new root N; N cross-signed by O and O by N both travel
    // in Chain, with the issuing CA below N.
    let (old, new) = (Ca::root("Old Root"), Ca::root("New Root"));
    let issuing = Ca::root("Issuing CA 2");
    let chain = [
        issuing.cross_signed_by(&new),
        new.cross_signed_by(&old),
        old.cross_signed_by(&new),
    ];
    let leaf = leaf_below(&issuing, "migrating");
    let h = attack::header(&leaf, &chain);
    for anchors in [&old.pem, &new.pem, &format!("{}{}", old.pem, new.pem)] {
        assert_eq!(
            outcome(&chain_policy(anchors, "migrating"), &h),
            ("ok".into(), "leaf".into())
        );
    }
    // The old cross-sign first, the new one last: order does not matter.
    let reversed: Vec<_> = chain.iter().rev().cloned().collect();
    assert_eq!(
        outcome(
            &chain_policy(&old.pem, "migrating"),
            &attack::header(&leaf, &reversed)
        ),
        ("ok".into(), "leaf".into())
    );
}

#[test]
fn a_real_path_longer_than_the_limit_is_path_too_long() {
    // A real path of five intermediates, limit four: path_too_long.
    let root = Ca::root("Deep Root");
    let mut above = &root;
    let mut cas = Vec::new();
    for i in 0..5 {
        cas.push(Ca::root(&format!("deep {i}")));
    }
    let mut chain = Vec::new();
    for ca in &cas {
        chain.push(ca.cross_signed_by(above));
        above = ca;
    }
    let leaf = leaf_below(above, "deep");
    let h = attack::header(&leaf, &chain);
    assert_eq!(
        outcome(&chain_policy(&root.pem, "deep"), &h),
        ("chain_invalid".into(), "path_too_long".into())
    );
}
