//! Other proxies' formats, and render -> parse round trips.
#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use proptest::prelude::*;
use xfcc::{
    Format,
    error::{CertErrorKind, ErrorKind},
    inspect::{CertIdentity, Limits, XfccHeader},
    render::{EnvoyFields, render_envoy},
};

fn cert(name: &str) -> CertIdentity {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/certs/{name}.der"));
    CertIdentity::from_der(std::fs::read(p).unwrap()).unwrap()
}

fn envoy_capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

#[test]
fn every_format_round_trips_leaf_and_chain() {
    let leaf = cert("client-p256");
    let chain = [cert("inter-ec"), cert("inter")];
    for &format in Format::ALL {
        let value = format.render(&leaf, &chain);
        let chain_value = (format == Format::Rfc9440).then(|| {
            chain
                .iter()
                .map(|c| Format::Rfc9440.render(c, &[]))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let fc = format
            .decode(&value, chain_value.as_deref(), &Limits::DEFAULT)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(fc.leaf(), &leaf, "{format}");
        let carries_chain = matches!(
            format,
            Format::Envoy | Format::Rfc9440 | Format::Traefik | Format::AwsAlb
        );
        let expected: Vec<&[u8]> = if carries_chain {
            chain.iter().map(CertIdentity::der).collect()
        } else {
            vec![]
        };
        let got: Vec<&[u8]> = fc.intermediates_der().iter().map(Vec::as_slice).collect();
        assert_eq!(got, expected, "{format}");
    }
}

#[test]
fn rfc9440_values_as_written_by_a_proxy() {
    let leaf = cert("client-rsa");
    let b64 = <base64ct::Base64 as base64ct::Encoding>::encode_string(leaf.der());
    let inter = <base64ct::Base64 as base64ct::Encoding>::encode_string(cert("inter").der());
    let fc = Format::Rfc9440
        .decode(
            &format!(" :{b64}: "),
            Some(&format!(":{inter}:,  :{inter}:")),
            &Limits::DEFAULT,
        )
        .unwrap();
    assert_eq!(fc.leaf(), &leaf);
    assert_eq!(fc.chain_der().len(), 2);
    // Not a byte sequence.
    let err = Format::Rfc9440
        .decode(&b64, None, &Limits::DEFAULT)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cert(CertErrorKind::BadEncoding));
    // Parameters are not part of RFC 9440's fields.
    assert!(
        Format::Rfc9440
            .decode(&format!(":{b64}:;a=1"), None, &Limits::DEFAULT)
            .is_err()
    );
    let err = Format::Rfc9440
        .decode(
            &format!(":{b64}:"),
            Some(&vec![format!(":{inter}:"); 3].join(",")),
            &Limits::DEFAULT.max_chain(2),
        )
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cert(CertErrorKind::ChainTooLong));
}

#[test]
fn nginx_escaped_cert_is_envoys_cert_value() {
    // nginx's $ssl_client_escaped_cert encodes PEM exactly as Envoy does.
    let capture = envoy_capture("rsa-chain");
    let start = capture.find("Cert=\"").unwrap() + 6;
    let value = &capture[start..start + capture[start..].find('"').unwrap()];
    let fc = Format::Nginx.decode(value, None, &Limits::DEFAULT).unwrap();
    assert_eq!(fc.leaf(), &cert("client-rsa"));
}

#[test]
fn alb_keeps_plus_equals_slash_raw() {
    let leaf = cert("client-rsa");
    let value = Format::AwsAlb.render(&leaf, &[]);
    assert!(value.contains('+') || value.contains('/') || value.contains('='));
    assert!(value.contains("%0A") && !value.contains('\n'));
    assert_eq!(
        Format::AwsAlb
            .decode(&value, None, &Limits::DEFAULT)
            .unwrap()
            .leaf(),
        &leaf
    );
}

#[test]
fn traefik_accepts_query_escaped_values() {
    let leaf = cert("client-rsa");
    let value = Format::Traefik.render(&leaf, &[cert("inter")]);
    let escaped = value
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D")
        .replace(',', "%2C");
    let fc = Format::Traefik
        .decode(&escaped, None, &Limits::DEFAULT)
        .unwrap();
    assert_eq!(fc.leaf(), &leaf);
    assert_eq!(fc.intermediates_der().len(), 1);
}

#[test]
fn single_certificate_formats_reject_garbage() {
    for format in [
        Format::AppService,
        Format::Gorouter,
        Format::Nginx,
        Format::Traefik,
        Format::AwsAlb,
    ] {
        for bad in ["", "!!!!", "AAAA", "%GG"] {
            assert!(
                format.decode(bad, None, &Limits::DEFAULT).is_err(),
                "{format} {bad:?}"
            );
        }
    }
}

#[test]
fn envoy_format_requires_exactly_one_element() {
    let two = envoy_capture("two-hop");
    let err = Format::Envoy
        .decode(&two, None, &Limits::DEFAULT)
        .unwrap_err();
    assert_eq!(err.kind().code(), "too_many_elements");
    let one = envoy_capture("rsa-chain");
    assert_eq!(
        Format::Envoy
            .decode(&one, None, &Limits::DEFAULT)
            .unwrap()
            .leaf(),
        &cert("client-rsa")
    );
}

/// `render_envoy` reproduces real Envoy output byte for byte.
#[test]
fn render_envoy_matches_real_envoy_captures() {
    let by = ["spiffe://xfcc.test/ns/edge/sa/envoy"];
    for (capture, leaf, chain) in [
        ("rsa-chain", "client-rsa", vec!["inter"]),
        ("rsa-leaf-only", "client-rsa", vec![]),
        (
            "p256-two-intermediates",
            "client-p256",
            vec!["inter-ec", "inter"],
        ),
        ("p384", "client-p384", vec!["inter"]),
        ("utf8-special-subject", "client-utf8", vec!["inter"]),
        ("no-cn", "client-nocn", vec!["inter"]),
        ("many-sans", "client-many-sans", vec!["inter"]),
        ("self-signed-lookalike", "client-selfsigned", vec![]),
        ("injection-uri", "evil-uri", vec![]),
    ] {
        let chain: Vec<_> = chain.into_iter().map(cert).collect();
        let rendered = render_envoy(&by, &cert(leaf), &chain, EnvoyFields::ALL);
        assert_eq!(rendered, envoy_capture(capture), "{capture}");
    }
}

fn any_cert() -> impl Strategy<Value = CertIdentity> {
    prop::sample::select(vec![
        "client-rsa",
        "client-p256",
        "client-p384",
        "client-ed25519",
        "client-utf8",
        "client-nocn",
        "client-many-sans",
        "client-selfsigned",
        "edge",
        "inner",
    ])
    .prop_map(cert)
}

fn any_fields() -> impl Strategy<Value = EnvoyFields> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(hash, cert, chain, subject, uri, dns)| {
            let mut f = EnvoyFields::NONE;
            (f.hash, f.cert, f.chain) = (hash, cert || !chain, chain);
            (f.subject, f.uri, f.dns) = (subject, uri, dns);
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Render any mix of certificates, hops and fields; parsing gives back
    /// the same elements, each consistent and decoding to the same leaf.
    #[test]
    fn render_then_parse_round_trips(
        hops in prop::collection::vec((any_cert(), any_fields(), prop::collection::vec("spiffe://[a-z]{1,8}/[a-z0-9/]{0,12}", 0..3)), 1..4),
    ) {
        let elements: Vec<String> = hops
            .iter()
            .map(|(c, f, by)| {
                let by: Vec<&str> = by.iter().map(String::as_str).collect();
                render_envoy(&by, c, &[], *f)
            })
            .collect();
        let value = elements.join(",");
        let header = XfccHeader::parse(&value).unwrap();
        prop_assert_eq!(header.len(), hops.len());
        prop_assert!(header.check_all(&Limits::DEFAULT).is_ok());
        for ((c, f, by), e) in hops.iter().zip(header.elements()) {
            prop_assert_eq!(e.by().map(|v| v.raw().to_owned()).collect::<Vec<_>>(), by.clone());
            prop_assert_eq!(e.hash().is_some(), f.hash);
            let fc = e.decode().unwrap();
            prop_assert_eq!(fc.leaf(), c);
            if f.subject {
                let dn = xfcc::inspect::DistinguishedName::parse(e.subject().unwrap().raw()).unwrap();
                prop_assert_eq!(&dn, c.subject_name());
            }
        }
    }

    /// Arbitrary input never panics, and errors carry an offset inside it.
    #[test]
    fn parse_never_panics(input in ".{0,200}") {
        match XfccHeader::parse(&input) {
            Ok(h) => { for e in h.elements() { let _ = e.decode(); } }
            Err(e) => prop_assert!(e.offset() <= input.len()),
        }
    }

    /// Text built from the XFCC alphabet never panics either.
    #[test]
    fn parse_never_panics_on_xfcc_alphabet(input in r#"[A-Za-z=;,"\\ %]{0,120}"#) {
        if let Ok(h) = XfccHeader::parse(&input) {
            prop_assert!(h.len() >= 1);
            prop_assert_eq!(h.elements().count(), h.len());
        }
    }
}

#[test]
fn single_certificate_formats_use_the_cache_for_allowed_values_only() {
    let leaf = cert("client-rsa");
    let wrong = cert("client-wrongcn");
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    for format in [
        Format::Nginx,
        Format::Rfc9440,
        Format::AppService,
        Format::Traefik,
    ] {
        let policy = xfcc::Policy::builder()
            .proxy_verifies_chain(true)
            .clock(move || at)
            .format(format)
            .cache(16)
            .allow(xfcc::Rule::new("partner").subject_cn(["client-app.contoso.example"]))
            .build()
            .unwrap();
        let value = format.render(&leaf, &[]);
        assert_eq!(policy.verify(&value).unwrap().rule(), "partner", "{format}");
        assert_eq!(policy.cache_len(), 1, "{format}");
        // A hit gives the same answer, and a rejected value is not kept.
        assert_eq!(policy.verify(&value).unwrap().sha256(), leaf.sha256());
        assert!(policy.verify(&format.render(&wrong, &[])).is_err());
        assert_eq!(policy.cache_len(), 1, "{format}");
        // One byte more is another key: decoded afresh, not matched to the
        // cached certificate.
        assert!(policy.verify(&format!("{value}x")).is_err(), "{format}");
    }
}

#[test]
fn base64_formats_name_another_proxys_form() {
    use xfcc::error::ParseErrorKind as P;
    let leaf = cert("client-rsa");
    let envoy = envoy_capture("rsa-chain");
    let pem = Format::Nginx.render(&leaf, &[]);
    let raw_pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
        Format::AppService.render(&leaf, &[])
    );
    let rfc = Format::Rfc9440.render(&leaf, &[]);
    for format in [
        Format::Haproxy,
        Format::Caddy,
        Format::AppService,
        Format::Gorouter,
    ] {
        let kind = |v: &str| format.decode(v, None, &Limits::DEFAULT).unwrap_err().kind();
        assert_eq!(
            kind(envoy.trim()),
            ErrorKind::Parse(P::WrongFormatEnvoy),
            "{format}"
        );
        assert_eq!(kind(&pem), ErrorKind::Parse(P::WrongFormatPem), "{format}");
        assert_eq!(
            kind(&raw_pem),
            ErrorKind::Parse(P::WrongFormatPem),
            "{format}"
        );
        assert_eq!(
            kind(&rfc),
            ErrorKind::Parse(P::WrongFormatRfc9440),
            "{format}"
        );
        // Its own form still reads, and garbage is still just bad base64.
        let own = format.render(&leaf, &[]);
        assert_eq!(
            format.decode(&own, None, &Limits::DEFAULT).unwrap().leaf(),
            &leaf
        );
        assert_eq!(
            kind("!!!!"),
            ErrorKind::Cert(CertErrorKind::BadEncoding),
            "{format}"
        );
    }
    let e = Format::Haproxy
        .decode(envoy.trim(), None, &Limits::DEFAULT)
        .unwrap_err();
    assert_eq!(e.kind().code(), "wrong_format_envoy");
    assert!(e.to_string().contains("the format is envoy"), "{e}");
    assert!(!e.to_string().contains("MII"), "{e}");
}

#[test]
fn haproxy_and_caddy_read_their_no_certificate_value_as_missing() {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    for format in [Format::Haproxy, Format::Caddy] {
        let build = |mode| {
            xfcc::Policy::builder()
                .proxy_verifies_chain(true)
                .clock(move || at)
                .format(format)
                .mode(mode)
                .allow(xfcc::Rule::new("partner").subject_cn(["client-app.contoso.example"]))
                .build()
                .unwrap()
        };
        let accept = build(xfcc::Mode::Accept);
        assert_eq!(
            accept.verify_header_values([&b""[..]]).unwrap(),
            None,
            "{format}"
        );
        assert_eq!(
            accept.verify_header_values([&b"  "[..]]).unwrap(),
            None,
            "{format}"
        );
        // Caddy 2.6 forwards its placeholder unreplaced (seen through a
        // real Caddy in the e2e suite); HAProxy never writes braces.
        let placeholder = b"{http.request.tls.client.certificate_der_base64}";
        let got = accept.verify_header_values([&placeholder[..]]);
        if format == Format::Caddy {
            assert_eq!(got.unwrap(), None);
        } else {
            assert_eq!(got.unwrap_err().code(), "bad_certificate");
        }
        assert!(!format.means_no_certificate("{http.request.tls.client.x}{y}"));
        let require = build(xfcc::Mode::Require);
        let r = require.verify_header_values([&b""[..]]).unwrap_err();
        assert_eq!(r.code(), "missing", "{format}");
        assert_eq!(
            require.verify("").unwrap_err().code(),
            "missing",
            "{format}"
        );
        // Any other format reads an empty value as a broken one.
        let nginx = xfcc::Policy::builder()
            .proxy_verifies_chain(true)
            .format(Format::Nginx)
            .mode(xfcc::Mode::Accept)
            .allow(xfcc::Rule::new("partner").subject_cn(["x"]))
            .build()
            .unwrap();
        assert_eq!(
            nginx.verify_header_values([&b""[..]]).unwrap_err().code(),
            "bad_certificate"
        );
        let value = format.render(&cert("client-rsa"), &[]);
        assert_eq!(
            require.verify(&value).unwrap().rule(),
            "partner",
            "{format}"
        );
        assert_eq!(
            format.header_name(),
            if format == Format::Haproxy {
                "x-ssl-client-cert"
            } else {
                "x-client-cert"
            }
        );
    }
}
