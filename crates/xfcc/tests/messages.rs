//! The messages a first user meets (issue 43's trial): each names the file,
//! key or next step, and none quotes bytes.
#![cfg(all(feature = "toml", feature = "chain"))]
#![expect(clippy::unwrap_used)]

#[path = "support/vars.rs"]
mod support_vars;

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    date_time_ymd,
};
use support_vars::vars;
use xfcc::{
    Policy, Rule, TrustAnchors,
    inspect::CertIdentity,
    outcome::ConfigErrorKind,
    render::{EnvoyFields, render_envoy},
};

fn dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("messages-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ca_pem() -> String {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "Contoso Test CA");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.self_signed(&KeyPair::generate().unwrap()).unwrap().pem()
}

/// A PEM cut short: its END line is gone.
fn truncated(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----END"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn rule_file(extra: &str) -> String {
    format!(
        "[[allow]]\nname = \"partner\"\nsubject_cn = [\"client-app.contoso.example\"]\nchain = \"partners\"\n{extra}[chain.partners]\ntrust_anchors = \"ca.pem\"\n"
    )
}

#[test]
fn a_broken_anchor_file_is_named_and_no_byte_of_it_quoted() {
    let d = dir("pem");
    std::fs::write(d.join("ca.pem"), truncated(&ca_pem())).unwrap();
    let e = Policy::from_toml_str(&rule_file(""), &d).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("trust_anchors file \"ca.pem\": a BEGIN line without its END line"),
        "{msg}"
    );
    // The PEM parser's own message lists bytes as numbers.
    assert!(!msg.contains("[45, 45") && !msg.contains("67, 69"), "{msg}");
    assert_eq!(e.kind(), ConfigErrorKind::AnchorSet);

    // A file with no certificate in it, beside a good one, is named too.
    std::fs::write(d.join("ca.pem"), ca_pem()).unwrap();
    std::fs::write(
        d.join("key.pem"),
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let two = rule_file("").replace(
        "trust_anchors = \"ca.pem\"",
        "trust_anchors = [\"ca.pem\", \"key.pem\"]",
    );
    let e = Policy::from_toml_str(&two, &d).unwrap_err().to_string();
    assert!(
        e.contains("trust_anchors file \"key.pem\": no -----BEGIN CERTIFICATE----- in it"),
        "{e}"
    );

    // From the environment: the variable and the file.
    std::fs::write(d.join("bad.pem"), truncated(&ca_pem())).unwrap();
    let e = Policy::from_env_vars(vars(&[
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("XFCC_CHAIN_ANCHORS", d.join("bad.pem").to_str().unwrap()),
    ]))
    .unwrap_err();
    assert_eq!(e.variable(), Some("XFCC_CHAIN_ANCHORS"));
    assert!(
        e.to_string()
            .contains("bad.pem\": a BEGIN line without its END line"),
        "{e}"
    );
}

#[test]
fn a_missing_anchor_file_without_a_policy_file_says_no_policy_file() {
    let missing = dir("missing").join("nowhere.pem");
    let e = Policy::from_env_vars(vars(&[
        ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ("XFCC_CHAIN_ANCHORS", missing.to_str().unwrap()),
    ]))
    .unwrap_err();
    let msg = e.to_string();
    assert!(!msg.contains("policy file"), "{msg}");
    assert!(
        msg.starts_with("environment variable XFCC_CHAIN_ANCHORS: cannot read ")
            && msg.contains("nowhere.pem"),
        "{msg}"
    );
    assert_eq!(e.kind(), ConfigErrorKind::File);
}

#[test]
fn an_unknown_allow_key_is_named_whatever_its_value() {
    for value in ["\"x\"", "3", "true", "[1, 2]"] {
        let text = format!("[[allow]]\nsubjct_cn = {value}\n");
        let e = Policy::from_toml_str(&text, ".").unwrap_err().to_string();
        assert!(
            e.contains("unknown field `subjct_cn`, expected one of `name`, `chain`"),
            "{value}: {e}"
        );
    }
    // A known key with a value of the wrong type says what to write.
    let e = Policy::from_toml_str("[[allow]]\nthumbprint = 3\n", ".")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`thumbprint` is an integer: write a string in quotes, or a list of them"),
        "{e}"
    );
    let e = Policy::from_toml_str("[[allow]]\nsubject_cn = [\"a\", 2]\n", ".")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`subject_cn` holds an integer: write each value as a string in quotes"),
        "{e}"
    );
}

#[test]
fn anchors_written_straight_under_chain_get_the_form_to_write() {
    let text =
        "[[allow]]\nsubject_cn = [\"a\"]\nchain = \"partners\"\n[chain]\nanchors = [\"ca.pem\"]\n";
    let e = Policy::from_toml_str(text, ".").unwrap_err().to_string();
    assert!(
        e.contains("[chain] holds one table per anchor set, not an array: write [chain.<set>] with trust_anchors"),
        "{e}"
    );
    assert!(!e.contains("invalid length"), "{e}");
}

fn self_signed(cn: &str, ca: bool, eku: ExtendedKeyUsagePurpose) -> CertIdentity {
    let mut p = CertificateParams::new(vec![format!("{cn}")]).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    if ca {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    p.extended_key_usages = vec![eku];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    let der = p.self_signed(&KeyPair::generate().unwrap()).unwrap();
    CertIdentity::from_der(der.der().to_vec()).unwrap()
}

#[test]
fn a_self_signed_look_alike_refused_for_its_eku_or_as_a_ca_is_said_to_be_self_issued() {
    let ca = ca_pem();
    let policy = Policy::builder()
        .chain(TrustAnchors::new("partners", ca.into_bytes()))
        .allow(
            Rule::new("partner")
                .subject_cn(["client-app.contoso.example"])
                .chain("partners"),
        )
        .build()
        .unwrap();
    let cn = "client-app.contoso.example";
    // `openssl req -x509` makes a CA; a server certificate has no
    // clientAuth.
    for (leaf, detail) in [
        (
            self_signed(cn, true, ExtendedKeyUsagePurpose::ClientAuth),
            "ca_used_as_leaf",
        ),
        (
            self_signed(cn, false, ExtendedKeyUsagePurpose::ServerAuth),
            "wrong_eku",
        ),
    ] {
        let r = policy
            .verify(&render_envoy(&[], &leaf, &[], EnvoyFields::ACA))
            .unwrap_err();
        assert_eq!((r.code(), r.detail().code()), ("chain_invalid", detail));
        let hint = r.hint().unwrap_or_default();
        assert!(hint.contains("self-issued"), "{detail}: {hint}");
    }
    // A self-signed one that is neither is refused as from an unknown
    // issuer, which says so already.
    let plain = self_signed(cn, false, ExtendedKeyUsagePurpose::ClientAuth);
    let r = policy
        .verify(&render_envoy(&[], &plain, &[], EnvoyFields::ACA))
        .unwrap_err();
    assert_eq!(r.detail().code(), "unknown_issuer");
    assert!(r.hint().is_none_or(|h| !h.contains("self-issued")));
}
