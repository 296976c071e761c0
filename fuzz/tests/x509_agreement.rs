//! xfcc reads certificates with its own borrowed DER walker (for speed);
//! x509-cert is the reference. Every fixture must read the same through
//! both, and the walker must refuse what DER or RFC 5280 forbids.

// The fuzz targets' bodies: only the differential check is used here.
use xfcc_fuzz as targets;

use std::path::Path;

use xfcc::{
    error::{CertErrorKind, ErrorKind},
    inspect::CertIdentity,
};

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/xfcc/tests/fixtures/certs");
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "der"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_fixture_reads_as_x509_cert_reads_it() {
    let all = fixtures();
    assert!(all.len() >= 15, "fixtures present");
    for (name, der) in all {
        let c = CertIdentity::from_der(der.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        targets::agrees_with_x509_cert(&der, &c);
    }
}

#[test]
fn rcgen_certificates_with_every_san_kind_agree() {
    use rcgen::{CertificateParams, DnType, ExtendedKeyUsagePurpose, KeyPair, SanType};
    let mut params = CertificateParams::new(vec!["a.example".into(), "b.example".into()]).unwrap();
    params.subject_alt_names.extend([
        SanType::URI("spiffe://contoso.example/ns/a/sa/b".try_into().unwrap()),
        SanType::Rfc822Name("ops@contoso.example".try_into().unwrap()),
        SanType::IpAddress("192.0.2.7".parse().unwrap()),
        SanType::IpAddress("2001:db8::1".parse().unwrap()),
    ]);
    params.distinguished_name.push(DnType::CommonName, "client");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Contoso");
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ClientAuth,
        ExtendedKeyUsagePurpose::ServerAuth,
    ];
    let key = KeyPair::generate().unwrap();
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let c = CertIdentity::from_der(der.clone()).unwrap();
    targets::agrees_with_x509_cert(&der, &c);
    assert_eq!(c.san().dns(), ["a.example", "b.example"]);
    assert_eq!(c.san().ip().len(), 2);
    assert!(c.has_client_auth_eku());
}

fn bad_der(der: Vec<u8>) -> bool {
    matches!(
        CertIdentity::from_der(der).map_err(|e| e.kind()),
        Err(ErrorKind::Cert(CertErrorKind::BadDer))
    )
}

/// Replaces the first occurrence of `from` in `der` with `to` (same length).
fn patch(der: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let at = der
        .windows(from.len())
        .position(|w| w == from)
        .expect("pattern present");
    let mut out = der.to_vec();
    out[at..at + to.len()].copy_from_slice(to);
    out
}

#[test]
fn refuses_what_der_forbids() {
    let der = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../crates/xfcc/tests/fixtures/certs/client-rsa.der"),
    )
    .unwrap();
    assert!(!bad_der(der.clone()));
    // Trailing byte after the certificate.
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(bad_der(trailing));
    // Truncated anywhere.
    for cut in [1, 4, der.len() / 2, der.len() - 1] {
        assert!(bad_der(der[..cut].to_vec()), "cut at {cut}");
    }
    // Indefinite length (BER) on the outer SEQUENCE.
    let mut ber = der.clone();
    ber[1] = 0x80;
    assert!(bad_der(ber));
    // A BOOLEAN critical flag other than 00/FF, and a SAN extension twice.
    let san_oid = [0x06, 0x03, 0x55, 0x1d, 0x11];
    let eku_oid = [0x06, 0x03, 0x55, 0x1d, 0x25];
    assert!(
        bad_der(patch(&der, &eku_oid, &san_oid)),
        "duplicate extension"
    );
    // Every single-byte change either still reads the same as x509-cert
    // reads it, or is refused: never a different reading.
    for i in 0..der.len() {
        for flip in [0x01u8, 0x80] {
            let mut d = der.clone();
            d[i] ^= flip;
            if let Ok(c) = CertIdentity::from_der(d.clone()) {
                targets::agrees_with_x509_cert(&d, &c);
            }
        }
    }
}

#[test]
fn every_string_type_reads_as_both_oracles_read_it() {
    use rcgen::{CertificateParams, DnType, DnValue, KeyPair};
    let values = [
        DnValue::Utf8String("Zoë".into()),
        DnValue::PrintableString("Printable 1".try_into().unwrap()),
        DnValue::Ia5String("ia5@example".try_into().unwrap()),
        DnValue::TeletexString("T61 name".try_into().unwrap()),
        DnValue::BmpString("BMP Ω".try_into().unwrap()),
        DnValue::UniversalString("Universal 𝄞".try_into().unwrap()),
    ];
    for value in values {
        let mut p = CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, value.clone());
        let der = p
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec();
        let c = CertIdentity::from_der(der.clone()).unwrap_or_else(|e| panic!("{value:?}: {e}"));
        targets::agrees_with_x509_cert(&der, &c);
        let expected = match &value {
            DnValue::Utf8String(s) => s.clone(),
            DnValue::PrintableString(s) => s.as_str().to_owned(),
            DnValue::Ia5String(s) => s.as_str().to_owned(),
            DnValue::TeletexString(s) => s.as_str().to_owned(),
            DnValue::BmpString(_) => "BMP Ω".to_owned(),
            DnValue::UniversalString(_) => "Universal 𝄞".to_owned(),
            _ => unreachable!(),
        };
        assert_eq!(
            c.subject_cns().collect::<Vec<_>>(),
            [expected.as_str()],
            "{value:?}"
        );
    }
}
