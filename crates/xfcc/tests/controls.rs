//! What a certificate or a header may not carry to a terminal or a log:
//! control characters and bidirectional overrides. SANs (IA5Strings, which
//! RFC 5280 and RFC 3986 allow no controls in) holding one are refused as
//! `control_character`; a subject (any UTF-8) is kept and shown escaped;
//! proxy-written `URI` and `DNS` values must be printable ASCII. Also: a
//! notBefore in 1950-1969 (UTCTime, valid under RFC 5280).
#![expect(clippy::unwrap_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{CertificateParams, DnType, KeyPair, SanType, string::Ia5String};
use xfcc::{
    Policy, Rule,
    inspect::CertIdentity,
    outcome::IdentityFrom,
    render::{EnvoyFields, render_envoy},
};

fn cert(cn: &str, sans: Vec<SanType>) -> CertIdentity {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.subject_alt_names = sans;
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let c = p.self_signed(&KeyPair::generate().unwrap()).unwrap();
    CertIdentity::from_der(c.der().to_vec()).unwrap()
}

/// An Envoy header carrying `der` whatever it holds.
fn raw_header(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let enc = pem
        .replace('\n', "%0A")
        .replace('+', "%2B")
        .replace('/', "%2F")
        .replace('=', "%3D");
    format!("Cert=\"{enc}\"")
}

fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

const UNSAFE: [char; 7] = ['\u{1b}', '\u{7}', '\r', '\n', '\0', '\u{202e}', '\u{85}'];

fn assert_printable(text: &str) {
    for c in UNSAFE {
        assert!(!text.contains(c), "{c:?} raw in {text:?}");
    }
}

#[test]
fn a_san_with_a_control_character_is_refused_as_control_character() {
    let ia5 = |s: &str| Ia5String::try_from(s).unwrap();
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(Rule::new("any-cn").subject_cn(["plain"]))
        .build()
        .unwrap();
    for san in [
        SanType::DnsName(ia5("ok.example\u{1b}[31mRED")),
        SanType::URI(ia5("spiffe://x/\u{1b}]0;TITLE\u{7}y")),
        SanType::Rfc822Name(ia5("a\nINJECTED: line@x")),
        SanType::DnsName(ia5("cr\r.example")),
        SanType::DnsName(ia5("nul\0.example")),
        SanType::DnsName(ia5("del\u{7f}.example")),
    ] {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.distinguished_name.push(DnType::CommonName, "plain");
        p.subject_alt_names = vec![san.clone()];
        let der = p
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec();
        let e = CertIdentity::from_der(der.clone()).unwrap_err();
        assert!(
            e.to_string().contains("control_character")
                || format!("{e:?}").contains("ControlCharacter"),
            "{san:?}: {e}"
        );
        let r = policy.verify(&raw_header(&der)).unwrap_err();
        assert_eq!(r.code(), "bad_certificate", "{san:?}");
        assert_eq!(r.der_error().unwrap().kind().code(), "control_character");
        assert_printable(&r.to_string());
    }
}

#[test]
fn a_subject_with_controls_and_overrides_is_kept_and_shown_escaped() {
    let cn = "evil\u{1b}[31m\u{7}\r\nINJECTED\0\u{202e}gpj.exe\u{85}";
    let c = cert(cn, vec![]);
    // The value itself is kept (a rule may name it exactly) ...
    assert_eq!(c.subject_cns().next(), Some(cn));
    // ... and every text form of it escapes what a terminal would obey.
    assert_printable(c.subject());
    assert!(
        c.subject()
            .contains("\\1B[31m\\07\\0D\\0AINJECTED\\00\\E2\\80\\AEgpj.exe\\C2\\85"),
        "{}",
        c.subject()
    );
    assert_eq!(
        xfcc::inspect::display_safe(cn),
        "evil\\u{1b}[31m\\u{7}\\u{d}\\u{a}INJECTED\\u{0}\\u{202e}gpj.exe\\u{85}"
    );
    let h = render_envoy(&[], &c, &[], EnvoyFields::ACA);
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(Rule::new("other").subject_cn(["someone"]))
        .build()
        .unwrap();
    let r = policy.verify(&h).unwrap_err();
    assert_eq!(r.code(), "not_allowed");
    let why = r.explanation().unwrap();
    assert_printable(&why.to_string());
    // A rule naming the exact CN allows it.
    let exact = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(Rule::new("exact").subject_cn([cn]))
        .build()
        .unwrap();
    assert_eq!(exact.verify(&h).unwrap().rule(), "exact");
}

#[test]
fn proxy_fields_must_be_printable_ascii() {
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["127.0.0.6/32"])
        .allow(Rule::new("td").spiffe_trust_domain(["contoso.example"]))
        .build()
        .unwrap();
    let hash = "ab".repeat(32);
    for (uri, detail) in [
        (
            "spiffe://contoso.example/ns/a/sa/\u{202e}nimda",
            "unprintable_field",
        ),
        (
            "spiffe://contoso.example/ns/a/sa/x\u{85}",
            "unprintable_field",
        ),
        // The header parser refuses C0 controls and DEL in any value.
        (
            "spiffe://contoso.example/ns/a/sa/x\u{7f}",
            "control_character",
        ),
    ] {
        let h = format!("Hash={hash};Subject=\"\";URI={uri}");
        let r = policy.verify(&h).unwrap_err();
        assert_eq!(
            (r.code(), r.detail().code()),
            ("malformed", detail),
            "{uri:?}"
        );
    }
    let ok = format!("Hash={hash};Subject=\"\";URI=spiffe://contoso.example/ns/a/sa/b");
    assert_eq!(policy.verify(&ok).unwrap().rule(), "td");
}

#[test]
fn a_not_before_in_the_1960s_reads_as_written_and_only_a_chain_cannot_use_it() {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, "Root 2020");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.not_before = rcgen::date_time_ymd(2020, 1, 1);
    ca.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let mut p = CertificateParams::new(vec!["old.example".into()]).unwrap();
    p.distinguished_name.push(DnType::CommonName, "old");
    p.not_before = rcgen::date_time_ymd(1960, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let leaf = p.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
    // UTCTime "600101000000Z": 1960, valid under RFC 5280.
    assert!(leaf.der().windows(13).any(|w| w == b"600101000000Z"));
    let c = CertIdentity::from_der(leaf.der().to_vec()).unwrap();
    // Reported as written (it once read as the epoch).
    assert_eq!(c.not_before_unix(), -315_619_200);
    assert_eq!(c.not_before_rfc3339(), "1960-01-01T00:00:00Z");
    assert_eq!(
        c.not_before(),
        std::time::UNIX_EPOCH - std::time::Duration::from_secs(315_619_200)
    );
    let h = render_envoy(&[], &c, &[], EnvoyFields::ACA);
    let pin = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(Rule::new("pin").thumbprint([c.sha256_hex()]))
        .build()
        .unwrap();
    assert_eq!(pin.verify(&h).unwrap().rule(), "pin");
    // rustls-webpki reads no date before 1970: the chain says so.
    #[cfg(feature = "chain")]
    {
        let chained = Policy::builder()
            .proxy_verifies_chain(true)
            .clock(at)
            .chain(xfcc::TrustAnchors::new("root", ca_pem.into_bytes()))
            .allow(Rule::new("chained").subject_cn(["old"]).chain("root"))
            .build()
            .unwrap();
        let r = chained.verify(&h).unwrap_err();
        assert_eq!(
            (r.code(), r.detail().code()),
            ("chain_invalid", "time_before_1970")
        );
    }
    #[cfg(not(feature = "chain"))]
    drop((issuer, ca_pem));
}
