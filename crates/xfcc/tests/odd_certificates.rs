//! Valid but unusual certificates that real PKIs issue and OpenSSL,
//! rustls-webpki and Envoy accept (`tests/fixtures/certs/gen-odd.sh`), read
//! from the DER and from what a real Envoy forwarded for them
//! (`tests/fixtures/envoy/{uuid-oids,x520-attributes,universal-string-cn}.txt`).
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::Duration;

use xfcc::{
    Policy, Rule,
    inspect::{CertIdentity, XfccHeader},
};

const UUID: &str = "2.25.329800735698586629295641978511506172918";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

fn der(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("certs").join(format!("{name}.der"))).unwrap()
}

/// Decodes the capture (every consistency check, `Subject` included) and
/// verifies it with an issuer + subject CN rule.
fn verifies(capture_name: &str, cert_name: &str, cn: &str) -> CertIdentity {
    let header = capture(capture_name);
    let parsed = XfccHeader::parse(&header).unwrap();
    let fc = parsed.element(0).unwrap().decode().unwrap();
    assert_eq!(fc.leaf().der(), der(cert_name).as_slice());
    let at = fc.leaf().not_before() + Duration::from_secs(60);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .allow(
            Rule::new("odd")
                .issuer_cn(["Contoso Issuing CA 1"])
                .subject_cn([cn]),
        )
        .build()
        .unwrap();
    assert_eq!(policy.verify(&header).unwrap().rule(), "odd");
    fc.into_leaf()
}

#[test]
fn uuid_oids_in_a_name_an_eku_and_an_extension() {
    let c = verifies("uuid-oids", "client-uuid-oids", "uuid-client");
    // Envoy (BoringSSL) prints the UUID attribute's type as nothing.
    assert!(capture("uuid-oids").contains("Subject=\"=#0C03616263,CN=uuid-client"));
    let uuid_attr = c
        .subject_name()
        .attributes()
        .find(|a| a.name().is_none())
        .unwrap();
    assert_eq!(uuid_attr.oid(), UUID);
    assert_eq!(uuid_attr.value(), Some("abc"));
    assert_eq!(
        c.extended_key_usages(),
        ["1.3.6.1.5.5.7.3.2".to_owned(), format!("{UUID}.1")]
    );
    assert!(c.has_client_auth_eku());
    // OpenSSL prints the type in full.
    assert_eq!(
        c.subject_name().to_openssl_rfc2253(),
        format!("{UUID}=#0C03616263,CN=uuid-client,O=Contoso")
    );
}

#[test]
fn an_empty_subject_type_matches_only_an_unprintable_oid() {
    let header = capture("uuid-oids");
    // The same Subject with a real OID in place of the empty type, or a
    // different value, no longer matches.
    for forged in [
        "Subject=\"2.5.4.3=#0C03616263,CN=uuid-client,O=Contoso\"",
        "Subject=\"=#0C03616264,CN=uuid-client,O=Contoso\"",
        "Subject=\"=#0C03616263,CN=uuid-clienT,O=Contoso\"",
    ] {
        let start = header.find("Subject=").unwrap();
        let end = start + header[start..].find("\";").unwrap() + 1;
        let tampered = format!("{}{forged}{}", &header[..start], &header[end..]);
        let parsed = XfccHeader::parse(&tampered).unwrap();
        let e = parsed.element(0).unwrap().decode().unwrap_err();
        assert_eq!(e.kind().code(), "subject_mismatch", "{forged}");
    }
}

#[test]
fn x520_attributes_envoy_prints_by_name() {
    let c = verifies("x520-attributes", "client-x520", "x520-client");
    assert!(capture("x520-attributes").contains("role=operator"));
    let names: Vec<_> = c
        .subject_name()
        .attributes()
        .map(|a| a.name().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "O",
            "CN",
            "role",
            "unstructuredAddress",
            "challengePassword",
            "title"
        ]
    );
}

#[test]
fn a_universal_string_common_name() {
    let d = der("client-universal");
    // The subject's CN (the last CN; the issuer's comes first):
    // SEQUENCE { OID 2.5.4.3, UniversalString (0x1c) }
    let at = d
        .windows(5)
        .rposition(|w| w == [0x06, 0x03, 0x55, 0x04, 0x03])
        .unwrap();
    assert_eq!(d[at + 5], 0x1c, "CN is a UniversalString");
    let c = verifies(
        "universal-string-cn",
        "client-universal",
        "universal-client-é",
    );
    assert_eq!(c.subject_cns().collect::<Vec<_>>(), ["universal-client-é"]);
}

#[test]
fn a_certificate_that_does_not_read_says_where_without_its_bytes() {
    use base64ct::Encoding;
    let mut d = der("client-rsa");
    // version [0] { INTEGER 2 } made v4.
    let at = d
        .windows(5)
        .position(|w| w == [0xa0, 0x03, 0x02, 0x01, 0x02])
        .unwrap();
    d[at + 4] = 3;
    let b64 = base64ct::Base64::encode_string(&d);
    let encoded: String = b64
        .chars()
        .map(|c| match c {
            '+' => "%2B".to_owned(),
            '/' => "%2F".to_owned(),
            '=' => "%3D".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let header = format!(
        "Cert=\"-----BEGIN%20CERTIFICATE-----%0A{encoded}%0A-----END%20CERTIFICATE-----%0A\""
    );
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("any").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let r = policy.verify(&header).unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("bad_certificate", "bad_der")
    );
    let d = r.der_error().unwrap();
    assert_eq!(
        (d.field(), d.kind(), d.offset()),
        (
            xfcc::error::DerField::Version,
            xfcc::error::DerErrorKind::UnsupportedVersion,
            at + 4
        )
    );
    let text = r.to_string();
    assert!(
        text.contains("version: unsupported_version at DER byte"),
        "{text}"
    );
    assert!(!text.contains(&b64[..16]), "{text}");
}
