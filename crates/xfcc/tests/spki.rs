//! SPKI pins: the SHA-256 of the SubjectPublicKeyInfo, which survives
//! re-issuance with the same key (Envoy's `verify_certificate_spki`).
#![expect(clippy::unwrap_used)]

use base64::Engine as _;
use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair};
use sha2::Digest as _;
use x509_cert::der::{Decode as _, Encode as _};
use xfcc::{
    Policy, Rule,
    inspect::CertIdentity,
    outcome::{ConfigErrorKind, IdentityFrom},
    render::EnvoyFields,
};

/// A certificate for `key`, with its own serial: a re-issue.
fn issue(key: &KeyPair, serial: u8) -> CertIdentity {
    let mut p = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
    p.distinguished_name
        .push(DnType::CommonName, "client.example");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.serial_number = Some(rcgen::SerialNumber::from(vec![serial]));
    CertIdentity::from_der(p.self_signed(key).unwrap().der().to_vec()).unwrap()
}

/// The pin as an independent reader (x509-cert) computes it.
fn oracle_pin(c: &CertIdentity) -> String {
    let cert = x509_cert::Certificate::from_der(c.der()).unwrap();
    let spki = cert
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .unwrap();
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&spki))
}

fn header(c: &CertIdentity) -> String {
    xfcc::render::render_envoy(&[], c, &[], EnvoyFields::ACA)
}

#[test]
fn a_key_pin_survives_reissuance_where_a_thumbprint_does_not() {
    let key = KeyPair::generate().unwrap();
    let (first, reissued) = (issue(&key, 1), issue(&key, 2));
    assert_ne!(first.sha256(), reissued.sha256());
    let pin = oracle_pin(&first);
    assert_eq!(first.spki_sha256_base64(), pin);
    let by_key = Policy::builder()
        .allow(Rule::new("key").spki_sha256([pin.as_str()]))
        .build()
        .unwrap();
    let by_print = Policy::builder()
        .allow(Rule::new("print").thumbprint([first.sha256_hex()]))
        .build()
        .unwrap();
    for c in [&first, &reissued] {
        assert_eq!(by_key.verify(&header(c)).unwrap().rule(), "key");
    }
    assert!(by_print.verify(&header(&first)).is_ok());
    assert_eq!(
        by_print.verify(&header(&reissued)).unwrap_err().code(),
        "not_allowed"
    );
    // Another key: refused, and the explanation names the pin.
    let other = issue(&KeyPair::generate().unwrap(), 3);
    let r = by_key.verify(&header(&other)).unwrap_err();
    assert_eq!(r.code(), "not_allowed");
    let missed: Vec<&str> = r.explanation().unwrap().rules()[0].failed().to_vec();
    assert_eq!(missed, ["spki_sha256"]);
    // A pin is not a names-only rule.
    assert!(by_key.warnings().is_empty(), "{:?}", by_key.warnings());
}

#[test]
fn pins_are_read_in_every_spelling_and_refused_with_their_name() {
    let c = issue(&KeyPair::generate().unwrap(), 1);
    let b64 = c.spki_sha256_base64();
    let hex: String = c.spki_sha256().iter().map(|b| format!("{b:02x}")).collect();
    for spelling in [
        b64.clone(),
        format!("sha256/{b64}"),
        format!("pin-sha256=\"{b64}\""),
        hex,
    ] {
        let p = Policy::builder()
            .allow(Rule::new("k").spki_sha256([spelling.as_str()]))
            .build()
            .unwrap();
        assert!(p.verify(&header(&c)).is_ok(), "{spelling}");
    }
    for bad in ["abc", "AAAA", &"ab".repeat(31)] {
        let e = Policy::builder()
            .allow(Rule::new("k").spki_sha256([bad]))
            .build()
            .unwrap_err();
        assert_eq!(e.setting(), "spki_sha256", "{e}");
        assert!(e.to_string().contains("44 characters of base64"), "{e}");
    }
    #[cfg(feature = "toml")]
    {
        let p = Policy::from_toml_str(
            &format!("[[allow]]\nname = \"k\"\nspki_sha256 = [\"{b64}\"]\n"),
            ".",
        )
        .unwrap();
        assert!(p.verify(&header(&c)).is_ok());
    }
    let p = Policy::from_env_vars(|name| (name == "XFCC_ALLOWED_SPKI_SHA256").then(|| b64.clone()))
        .unwrap();
    assert_eq!(p.verify(&header(&c)).unwrap().rule(), "env");
}

#[test]
fn proxy_fields_mode_refuses_a_key_pin() {
    let e = Policy::builder()
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("k").spki_sha256(["ab".repeat(32)]))
        .build()
        .unwrap_err();
    assert!(
        e.rule().is_some()
            && (e.kind(), &*e.setting()) == (ConfigErrorKind::ProxyFieldsCannot, "spki_sha256"),
        "{e}"
    );
}
