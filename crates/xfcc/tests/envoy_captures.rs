//! Tests against headers captured from a real Envoy (see
//! `tests/fixtures/envoy/capture.sh`) and certificates checked against
//! openssl's own view of them (`tests/fixtures/certs/expected.tsv`).
#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use xfcc::{
    error::{ErrorKind, Field, Inconsistency, ParseErrorKind},
    inspect::{CertIdentity, KeyAlgorithm, Limits, XfccHeader},
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

fn cert(name: &str) -> CertIdentity {
    CertIdentity::from_der(
        std::fs::read(fixtures().join("certs").join(format!("{name}.der"))).unwrap(),
    )
    .unwrap()
}

struct Expected {
    name: String,
    sha256: String,
    sha1: String,
    serial: String,
    not_before: i64,
    not_after: i64,
    subject_openssl: String,
}

fn expected() -> Vec<Expected> {
    std::fs::read_to_string(fixtures().join("certs/expected.tsv"))
        .unwrap()
        .lines()
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Expected {
                name: c[0].to_owned(),
                sha256: c[1].to_owned(),
                sha1: c[2].to_owned(),
                serial: c[3].to_owned(),
                not_before: c[4].parse().unwrap(),
                not_after: c[5].parse().unwrap(),
                subject_openssl: c[6].to_owned(),
            }
        })
        .collect()
}

#[test]
fn identity_agrees_with_openssl_for_every_fixture() {
    let all = expected();
    assert!(all.len() >= 18);
    for e in all {
        let c = cert(&e.name);
        assert_eq!(c.sha256_hex(), e.sha256, "{}", e.name);
        assert_eq!(c.sha1_hex(), e.sha1, "{}", e.name);
        assert_eq!(
            c.serial_hex(),
            e.serial.trim_start_matches("00"),
            "{}",
            e.name
        );
        assert_eq!(c.not_before_unix(), e.not_before, "{}", e.name);
        assert_eq!(c.not_after_unix(), e.not_after, "{}", e.name);
        let expected = std::process::Command::new("date")
            .args([
                "-u",
                "-d",
                &format!("@{}", e.not_after),
                "+%Y-%m-%dT%H:%M:%SZ",
            ])
            .output()
            .map(|o| String::from_utf8(o.stdout).unwrap().trim().to_owned());
        if let Ok(expected) = expected {
            assert_eq!(c.not_after_rfc3339(), expected, "{}", e.name);
        }
        // Our OpenSSL-style rendering is byte-identical to openssl's.
        assert_eq!(
            c.subject_name().to_openssl_rfc2253(),
            e.subject_openssl,
            "{}",
            e.name
        );
        // And the parsed forms are equal.
        let parsed = xfcc::inspect::DistinguishedName::parse(&e.subject_openssl).unwrap();
        assert_eq!(&parsed, c.subject_name(), "{}", e.name);
    }
}

#[test]
fn identity_fields_of_the_rsa_client() {
    let c = cert("client-rsa");
    assert_eq!(
        c.subject(),
        "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"
    );
    assert_eq!(
        c.subject_cns().collect::<Vec<_>>(),
        ["client-app.contoso.example"]
    );
    assert_eq!(c.issuer(), "CN=Contoso Issuing CA 1,O=Contoso,C=US");
    assert_eq!(c.issuer_cns().collect::<Vec<_>>(), ["Contoso Issuing CA 1"]);
    assert_eq!(
        c.san().dns(),
        ["client-app.contoso.example", "api.contoso.example"]
    );
    assert_eq!(
        c.san().uri(),
        ["spiffe://contoso.example/ns/payments/sa/client"]
    );
    assert_eq!(c.san().email(), ["ops@contoso.example"]);
    assert_eq!(
        c.san().ip(),
        [
            "10.1.2.3".parse::<std::net::IpAddr>().unwrap(),
            "2001:db8::1".parse().unwrap()
        ]
    );
    assert_eq!(c.public_key().to_string(), "rsa-2048");
    assert_eq!(c.public_key().bits(), 2048);
    assert_eq!(c.extended_key_usages(), ["1.3.6.1.5.5.7.3.2"]);
    assert!(c.has_client_auth_eku());
    assert!(!c.is_self_issued());
    assert!(cert("client-selfsigned").is_self_issued());
    assert!(!cert("client-serverauth").has_client_auth_eku());
    let debug = format!("{c:?}");
    assert!(debug.contains("client-app.contoso.example") && debug.len() < 400);
}

#[test]
fn key_algorithms() {
    assert_eq!(
        *cert("client-p256").public_key().algorithm(),
        KeyAlgorithm::EcdsaP256
    );
    assert_eq!(cert("client-p256").public_key().to_string(), "ecdsa-p256");
    assert_eq!(cert("client-p384").public_key().to_string(), "ecdsa-p384");
    assert_eq!(cert("client-ed25519").public_key().to_string(), "ed25519");
    assert_eq!(cert("root").public_key().to_string(), "rsa-2048");
}

#[test]
fn utf8_and_special_characters_in_subject() {
    let c = cert("client-utf8");
    assert_eq!(
        c.subject(),
        r#"emailAddress=jose@acme.example,CN=José \"Q\" \<x\>\\y#1+UID=jq,OU=Team\+Ops\;East,O=Acme\, Inc.,C=FR"#
    );
    assert_eq!(c.subject_cns().collect::<Vec<_>>(), [r#"José "Q" <x>\y#1"#]);
    let attrs: Vec<_> = c
        .subject_name()
        .attributes()
        .map(|a| (a.name().unwrap(), a.value().unwrap().to_owned()))
        .collect();
    assert!(attrs.contains(&("UID", "jq".to_owned())));
    assert!(attrs.contains(&("OU", "Team+Ops;East".to_owned())));
}

#[test]
fn no_cn_certificate_has_no_cns() {
    let c = cert("client-nocn");
    assert_eq!(c.subject_cns().count(), 0);
    assert_eq!(c.subject(), "OU=No Common Name,O=Contoso");
}

/// Every benign single-hop capture: one element, consistent, the leaf is the
/// certificate curl presented, and Hash is its SHA-256.
#[test]
fn decodes_every_benign_single_hop_capture() {
    let cases = [
        // curl sends the issuing CA too (it completes the chain from its CA
        // file), except where the capture script prevents it.
        ("rsa-chain", "client-rsa", 2),
        ("rsa-leaf-only", "client-rsa", 1),
        ("p256-two-intermediates", "client-p256", 3),
        ("p384", "client-p384", 2),
        ("utf8-special-subject", "client-utf8", 2),
        ("no-cn", "client-nocn", 2),
        ("many-sans", "client-many-sans", 2),
        ("wrong-cn", "client-wrongcn", 2),
        ("self-signed-lookalike", "client-selfsigned", 1),
        ("server-auth-only", "client-serverauth", 2),
        ("forged-through-sanitize-set", "client-wrongcn", 2),
    ];
    for (capture_name, cert_name, chain_len) in cases {
        let text = capture(capture_name);
        let header = XfccHeader::parse(&text).unwrap_or_else(|e| panic!("{capture_name}: {e}"));
        assert_eq!(header.len(), 1, "{capture_name}");
        let element = header.element(0).unwrap();
        assert_eq!(
            element.by().map(|v| v.raw()).collect::<Vec<_>>(),
            ["spiffe://xfcc.test/ns/edge/sa/envoy"]
        );
        let fc = element
            .decode()
            .unwrap_or_else(|e| panic!("{capture_name}: {e}"));
        let expected = cert(cert_name);
        assert_eq!(fc.leaf(), &expected, "{capture_name}");
        assert_eq!(
            element.hash().unwrap().raw(),
            expected.sha256_hex().to_lowercase()
        );
        assert_eq!(fc.chain_der().len(), chain_len, "{capture_name}");
        assert_eq!(
            fc.intermediates_der().len(),
            chain_len - 1,
            "{capture_name}"
        );
        assert_eq!(fc.chain().unwrap()[0], expected);
        assert!(header.check_all(&Limits::DEFAULT).is_ok());
    }
}

#[test]
fn two_hop_capture_has_client_then_edge() {
    let text = capture("two-hop");
    let header = XfccHeader::parse(&text).unwrap();
    assert_eq!(header.len(), 2);
    let e: Vec<_> = header.elements().collect();
    assert_eq!(
        e[0].by().next().unwrap().raw(),
        "spiffe://xfcc.test/ns/edge/sa/envoy"
    );
    assert_eq!(
        e[1].by().next().unwrap().raw(),
        "spiffe://xfcc.test/ns/app/sa/sidecar"
    );
    assert_eq!(e[0].decode().unwrap().leaf(), &cert("client-rsa"));
    assert_eq!(e[1].decode().unwrap().leaf(), &cert("edge"));
    assert!(header.check_all(&Limits::DEFAULT).is_ok());
}

/// The attack from the issue, as a real Envoy 1.40 forwards it: a
/// self-signed certificate whose URI SAN is
/// `spiffe://evil.example/x,Hash=<victim>;Cert="<victim PEM>"`.
#[test]
fn rejects_uri_san_injection_captured_from_envoy() {
    let text = capture("injection-uri");
    let header = XfccHeader::parse(&text).unwrap();
    // A naive split sees two elements, the second one carrying the
    // victim's certificate with a matching Hash...
    assert_eq!(header.len(), 2);
    let smuggled = header.element(1).unwrap();
    assert_eq!(smuggled.decode().unwrap().leaf(), &cert("client-rsa"));
    // ...but the first element no longer matches its own certificate, and
    // checking the whole header rejects it.
    let err = header.element(0).unwrap().decode().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Inconsistent(Inconsistency::UriMismatch)
    );
    assert_eq!(err.element(), Some(0));
    let err = header.check_all(&Limits::DEFAULT).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Inconsistent(Inconsistency::UriMismatch)
    );
    assert_eq!(err.kind().reason().code(), "inconsistent");
}

#[test]
fn rejects_dns_san_injection_captured_from_envoy() {
    let header_text = capture("injection-dns");
    let header = XfccHeader::parse(&header_text).unwrap();
    assert_eq!(header.len(), 2);
    let err = header.check_all(&Limits::DEFAULT).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Inconsistent(Inconsistency::DnsMismatch)
    );
    assert_eq!(err.element(), Some(0));
}

#[test]
fn rejects_semicolon_injection_captured_from_envoy() {
    let text = capture("injection-semicolon");
    let header = XfccHeader::parse(&text).unwrap();
    assert_eq!(header.len(), 1);
    let e = header.element(0).unwrap();
    // The smuggled DNS pair claims the victim's DNS name.
    assert_eq!(e.dns().next().unwrap().raw(), "client-app.contoso.example");
    let err = e.decode().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Inconsistent(Inconsistency::UriMismatch)
    );
    let fc = e.decode_without_checks(&Limits::DEFAULT).unwrap().unwrap();
    let problems: Vec<_> = e.inconsistencies(&fc).collect();
    assert_eq!(
        problems,
        [Inconsistency::UriMismatch, Inconsistency::DnsMismatch]
    );
}

fn tamper(capture_name: &str, f: impl Fn(&str) -> String) -> Vec<Inconsistency> {
    let text = f(&capture(capture_name));
    let header = XfccHeader::parse(&text).unwrap();
    let e = header.element(0).unwrap();
    let fc = e.decode_without_checks(&Limits::DEFAULT).unwrap().unwrap();
    e.inconsistencies(&fc).collect()
}

#[test]
fn rejects_hash_that_does_not_match() {
    let other = cert("client-wrongcn").sha256_hex().to_lowercase();
    let mine = cert("client-rsa").sha256_hex().to_lowercase();
    let p = tamper("rsa-chain", |s| s.replace(&mine, &other));
    assert_eq!(p, [Inconsistency::HashMismatch]);
    // Upper-case hex (Linkerd 1 style) is the same hash.
    assert!(tamper("rsa-chain", |s| s.replace(&mine, &mine.to_uppercase())).is_empty());
    // A SHA-1 Hash (nginx $ssl_client_fingerprint) is compared as SHA-1.
    let sha1 = cert("client-rsa").sha1_hex();
    assert!(tamper("rsa-chain", |s| s.replace(&mine, &sha1)).is_empty());
    let wrong_sha1 = cert("client-wrongcn").sha1_hex();
    assert_eq!(
        tamper("rsa-chain", |s| s.replace(&mine, &wrong_sha1)),
        [Inconsistency::HashMismatch]
    );
}

#[test]
fn rejects_chain_whose_first_cert_is_not_cert() {
    // Put the wrong-CN client's chain into the RSA client's element.
    let other = capture("wrong-cn");
    let other_chain = field(&other, "Chain");
    let p = tamper("rsa-chain", |s| s.replace(&field(s, "Chain"), &other_chain));
    assert_eq!(p, [Inconsistency::ChainLeafMismatch]);
}

#[test]
fn rejects_subject_that_does_not_match() {
    let p = tamper("rsa-chain", |s| {
        s.replace("CN=client-app.contoso.example", "CN=admin.contoso.example")
    });
    assert_eq!(p, [Inconsistency::SubjectMismatch]);
    // Different but equivalent escaping is fine: \61 is "a".
    assert!(
        tamper("rsa-chain", |s| s
            .replace("CN=client-app", r"CN=client-\61pp"))
        .is_empty()
    );
    // A Subject that does not parse as a DN cannot match.
    let p = tamper("rsa-chain", |s| s.replace("CN=client-app", r"CN=\zz"));
    assert_eq!(p, [Inconsistency::SubjectMismatch]);
}

#[test]
fn rejects_uri_and_dns_that_do_not_match() {
    let p = tamper("rsa-chain", |s| {
        s.replace(
            "URI=spiffe://contoso.example/ns/payments/sa/client",
            "URI=spiffe://contoso.example/ns/admin/sa/root",
        )
    });
    assert_eq!(p, [Inconsistency::UriMismatch]);
    let p = tamper("rsa-chain", |s| s.replace(";DNS=api.contoso.example", ""));
    assert_eq!(p, [Inconsistency::DnsMismatch]);
    let p = tamper("no-cn", |s| format!("{s};DNS=extra.example"));
    assert_eq!(p, [Inconsistency::DnsMismatch]);
    // `URI=` (empty) claims "no URI SAN": Envoy wrote it for the P-384
    // client, which has none; a second one is not what Envoy writes.
    assert!(capture("p384").contains(";URI=;"));
    assert!(tamper("p384", |s| s.to_owned()).is_empty());
    let p = tamper("p384", |s| s.replace(";URI=;", ";URI=;URI=;"));
    assert_eq!(p, [Inconsistency::UriMismatch]);
    let p = tamper("rsa-chain", |s| {
        s.replace("URI=spiffe://contoso.example/ns/payments/sa/client", "URI=")
    });
    assert_eq!(p, [Inconsistency::UriMismatch]);
}

fn field(header: &str, key: &str) -> String {
    let start = header.find(&format!("{key}=\"")).unwrap() + key.len() + 2;
    let len = header[start..].find('"').unwrap();
    header[start..start + len].to_owned()
}

#[test]
fn decodes_every_cert_encoding_to_the_same_identity() {
    let expected = cert("client-rsa");
    let url = field(&capture("rsa-chain"), "Cert");
    let pem =
        String::from_utf8(std::fs::read(fixtures().join("certs/client-rsa.pem")).unwrap()).unwrap();
    let escaped_nl = pem.replace('\n', "\\n");
    let crlf = pem.replace('\n', "\r\n");
    let no_newlines = pem.replace('\n', "");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for (what, value) in [
        ("url-encoded", url.as_str()),
        ("raw pem", pem.as_str()),
        ("\\n-escaped", escaped_nl.as_str()),
        ("crlf", crlf.as_str()),
        ("no newlines", no_newlines.as_str()),
        ("bare base64", body.as_str()),
    ] {
        let c = xfcc::inspect::decode_certificate(value).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(c, expected, "{what}");
    }
}

#[test]
fn form_decoding_would_break_what_we_decode() {
    // `+` must stay `+`: take the URL-encoded value, leave + raw (AWS style).
    let url = field(&capture("rsa-chain"), "Cert").replace("%2B", "+");
    assert!(url.contains('+'));
    assert_eq!(
        xfcc::inspect::decode_certificate(&url).unwrap(),
        cert("client-rsa")
    );
    // Turning + into a space (form decoding) corrupts the certificate.
    assert!(xfcc::inspect::decode_certificate(&url.replace('+', "%20")).is_err());
}

#[test]
fn cert_with_two_certificates_is_rejected() {
    let chain = field(&capture("rsa-chain"), "Chain");
    let err = xfcc::inspect::decode_certificate(&chain).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Cert(xfcc::error::CertErrorKind::MultipleCertificates)
    );
}

#[test]
fn chain_limit_is_enforced() {
    let text = capture("p256-two-intermediates");
    let header = XfccHeader::parse(&text).unwrap();
    let e = header.element(0).unwrap();
    let err = e.decode_with(&Limits::DEFAULT.max_chain(2)).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Cert(xfcc::error::CertErrorKind::ChainTooLong)
    );
    assert_eq!(err.element(), Some(0));
    assert!(e.decode_with(&Limits::DEFAULT.max_chain(3)).is_ok());
}

#[test]
fn chain_only_element_uses_first_chain_cert_as_leaf() {
    let text = capture("rsa-chain");
    let cert_pair = format!(";Cert=\"{}\"", field(&text, "Cert"));
    let without_cert = text.replace(&cert_pair, "");
    let header = XfccHeader::parse(&without_cert).unwrap();
    let fc = header.element(0).unwrap().decode().unwrap();
    assert_eq!(fc.leaf(), &cert("client-rsa"));
}

#[test]
fn element_without_certificate_is_no_certificate() {
    let h = "Hash=642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4;URI=x";
    let header = XfccHeader::parse(h).unwrap();
    let err = header.element(0).unwrap().decode().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Cert(xfcc::error::CertErrorKind::NoCertificate)
    );
    assert_eq!(err.kind().reason().code(), "bad_certificate");
    // Nothing to check it against: check_all skips it.
    assert!(header.check_all(&Limits::DEFAULT).is_ok());
}

#[test]
fn bad_der_in_chain_names_the_entry() {
    let text = capture("rsa-chain");
    let chain = field(&text, "Chain");
    // Corrupt the second certificate's body, keeping valid base64.
    let second = chain
        .find("-----BEGIN%20CERTIFICATE-----%0AMII")
        .map(|i| chain[i + 1..].find("-----BEGIN").unwrap() + i + 1)
        .unwrap();
    let mut broken = chain.clone();
    broken.replace_range(second + 40..second + 44, "AAAA");
    let text = text.replace(&chain, &broken);
    let header = XfccHeader::parse(&text).unwrap();
    let fc = header.element(0).unwrap().decode().unwrap();
    let err = fc.chain().unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Cert(xfcc::error::CertErrorKind::BadDer)
    );
    assert_eq!(err.field(), Some(Field::Chain(1)));
}

#[test]
fn errors_never_contain_certificate_text() {
    let text = capture("rsa-chain");
    let cert_value = field(&text, "Cert");
    let corrupted = text.replace(&cert_value, &cert_value.replace("MII", "%ZZMII"));
    let err = XfccHeader::parse(&corrupted)
        .unwrap()
        .element(0)
        .unwrap()
        .decode()
        .unwrap_err();
    assert_eq!(err.kind().code(), "bad_percent_encoding");
    let msg = format!("{err} {err:?}");
    assert!(!msg.contains("MII") && !msg.contains("BEGIN"), "{msg}");
}

#[test]
fn gorouter_raw_value_under_xfcc_name_is_a_clear_error() {
    let b64 = field(&capture("rsa-chain"), "Cert");
    let der = xfcc::inspect::decode_certificate(&b64).unwrap();
    let raw = <base64ct::Base64 as base64ct::Encoding>::encode_string(der.der());
    let err = XfccHeader::parse(&raw).unwrap_err();
    assert_eq!(err.kind(), ParseErrorKind::WrongFormat);
}

/// The element remembers where its first `URI`/`DNS` pair is, to check them
/// without walking `Cert` and `Chain` again: any order of pairs must give
/// the same answer.
#[test]
fn san_checks_do_not_depend_on_pair_order() {
    let h = capture("rsa-chain").trim_end().to_owned();
    let uri_at = h.find(";URI=").unwrap();
    let dns_at = h.find(";DNS=").unwrap();
    assert!(uri_at < dns_at);
    let (uris, dnss) = (&h[uri_at..dns_at], &h[dns_at..]);
    let body = &h[..uri_at];
    let by_end = body.find(";Hash=").unwrap();
    let (by, rest) = body.split_at(by_end);
    let orders = [
        // URI and DNS before Cert and Chain, and split around them.
        format!("{by}{uris}{dnss}{rest}"),
        format!("{by}{uris}{rest}{dnss}"),
        format!("{by}{dnss}{rest}{uris}"),
    ];
    for header in &orders {
        let h = XfccHeader::parse(header).unwrap();
        let e = h.element(0).unwrap();
        let fc = e.decode().unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(e.inconsistencies(&fc).count(), 0);
        assert_eq!(e.uri().count(), 1);
        assert_eq!(e.dns().count(), 2);
        assert_eq!(e.by().count(), 1);
    }
    // A forged URI ahead of Cert is still seen.
    let forged = format!("{};URI=spiffe://evil.example/x{}", by, &h[by_end..]);
    let parsed = XfccHeader::parse(&forged).unwrap();
    let e = parsed.element(0).unwrap();
    assert_eq!(e.uri().count(), 2);
    assert_eq!(
        e.decode().unwrap_err().kind(),
        ErrorKind::Inconsistent(Inconsistency::UriMismatch)
    );
}
