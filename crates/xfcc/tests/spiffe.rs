//! SPIFFE rules: the identity is an X.509-SVID's only URI SAN; a
//! certificate with zero or several URI SANs, a CA, or a key that may sign
//! certificates is not an SVID and matches no SPIFFE rule.
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose, SanType};
use xfcc::{Policy, Reason, Rule, inspect::CertIdentity, render::EnvoyFields};

const ID: &str = "spiffe://prod.contoso.example/ns/payments/sa/api";

fn cert(uris: &[&str], ca: bool, usages: &[KeyUsagePurpose]) -> CertIdentity {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, "workload");
    p.subject_alt_names = uris
        .iter()
        .map(|u| SanType::URI((*u).try_into().unwrap()))
        .collect();
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    p.key_usages = usages.to_vec();
    let key = KeyPair::generate().unwrap();
    CertIdentity::from_der(p.self_signed(&key).unwrap().der().to_vec()).unwrap()
}

fn header(c: &CertIdentity) -> String {
    let mut f = EnvoyFields::NONE;
    (f.hash, f.cert, f.uri) = (true, true, true);
    xfcc::render::render_envoy(&[], c, &[], f)
}

fn policies() -> [Policy; 2] {
    [
        Policy::builder()
            .proxy_verifies_chain(true)
            .allow(Rule::new("exact").spiffe_id([ID]))
            .build()
            .unwrap(),
        Policy::builder()
            .proxy_verifies_chain(true)
            .allow(Rule::new("domain").spiffe_trust_domain(["prod.contoso.example"]))
            .build()
            .unwrap(),
    ]
}

#[test]
fn an_x509_svid_matches_by_id_and_by_trust_domain() {
    let svid = cert(&[ID], false, &[KeyUsagePurpose::DigitalSignature]);
    assert_eq!(svid.spiffe_id(), Some(ID));
    for p in policies() {
        let allowed = p.verify(&header(&svid)).unwrap();
        assert!(["exact", "domain"].contains(&allowed.rule()));
    }
    // Another ID in the same trust domain: the domain rule only.
    let sibling = cert(&["spiffe://prod.contoso.example/ns/other"], false, &[]);
    let [exact, domain] = policies();
    assert_eq!(
        exact.verify(&header(&sibling)).unwrap_err().reason(),
        Reason::NotAllowed
    );
    assert!(domain.verify(&header(&sibling)).is_ok());
    let elsewhere = cert(
        &["spiffe://staging.contoso.example/ns/payments/sa/api"],
        false,
        &[],
    );
    assert!(domain.verify(&header(&elsewhere)).is_err());
}

#[test]
fn what_is_not_an_svid_matches_no_spiffe_rule() {
    let cases = [
        ("no URI SAN", cert(&[], false, &[])),
        (
            "two URI SANs",
            cert(&[ID, "spiffe://prod.contoso.example/x"], false, &[]),
        ),
        ("a CA", cert(&[ID], true, &[])),
        (
            "keyCertSign",
            cert(&[ID], false, &[KeyUsagePurpose::KeyCertSign]),
        ),
        ("cRLSign", cert(&[ID], false, &[KeyUsagePurpose::CrlSign])),
        (
            "not a SPIFFE ID",
            cert(&["https://prod.contoso.example/ns/payments"], false, &[]),
        ),
        (
            "bad SPIFFE syntax",
            cert(&["spiffe://prod.contoso.example/ns//api"], false, &[]),
        ),
    ];
    for (what, c) in cases {
        assert_eq!(c.spiffe_id(), None, "{what}");
        for p in policies() {
            let r = p.verify(&header(&c)).unwrap_err();
            assert_eq!(r.reason(), Reason::NotAllowed, "{what}");
            let failed = r.explanation().unwrap().rules()[0].failed().to_vec();
            assert!(
                failed == ["spiffe_id"] || failed == ["spiffe_trust_domain"],
                "{what}: {failed:?}"
            );
        }
    }
}

#[test]
fn reads_basic_constraints_and_key_usage_of_real_certificates() {
    let fixture = |name: &str| {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/certs/{name}.der"));
        CertIdentity::from_der(std::fs::read(p).unwrap()).unwrap()
    };
    for (name, ca, signs) in [
        ("root", true, true),
        ("inter", true, true),
        ("client-rsa", false, false),
    ] {
        let c = fixture(name);
        assert_eq!(
            (c.is_ca(), c.can_sign_certificates()),
            (ca, signs),
            "{name}"
        );
    }
}

#[test]
fn spiffe_ids_and_trust_domains_are_checked_when_the_policy_is_built() {
    let build = |r: Rule| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .allow(r)
            .build()
            .unwrap_err()
    };
    for (rule, key, bad) in [
        (
            Rule::new("a").spiffe_id(["spiffe://td/a/"]),
            "spiffe_id",
            "ends with /",
        ),
        (
            Rule::new("a").spiffe_id(["https://td/a"]),
            "spiffe_id",
            "does not start with spiffe://",
        ),
        (
            Rule::new("a").spiffe_id(["spiffe://TD/a"]),
            "spiffe_id",
            "trust domain character",
        ),
        (
            Rule::new("a").spiffe_trust_domain(["Contoso.example"]),
            "spiffe_trust_domain",
            "trust domain character",
        ),
        (
            Rule::new("a").spiffe_trust_domain([""]),
            "spiffe_trust_domain",
            "spiffe_trust_domain",
        ),
    ] {
        let e = build(rule);
        let text = e.to_string();
        assert!(text.contains(key) && text.contains(bad), "{text}");
        assert_eq!(e.rule(), Some("a"), "{e:?}");
    }
    // spiffe://td is accepted as the trust domain td.
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("d").spiffe_trust_domain(["spiffe://prod.contoso.example"]))
        .build()
        .unwrap();
    assert!(p.verify(&header(&cert(&[ID], false, &[]))).is_ok());
}

#[cfg(feature = "toml")]
#[test]
fn policy_file_keys() {
    let text = format!(
        "proxy_verifies_chain = true\n[[allow]]\nname = \"svid\"\nspiffe_id = [\"{ID}\"]\n[[allow]]\nname = \"td\"\nspiffe_trust_domain = \"prod.contoso.example\"\n"
    );
    let p = Policy::from_toml_str(&text, ".").unwrap();
    assert_eq!(
        p.verify(&header(&cert(&[ID], false, &[]))).unwrap().rule(),
        "svid"
    );
}
