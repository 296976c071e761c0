//! Every rejection a certificate causes carries an explanation a person can
//! act on (seed `mtls-failures.txt`): the certificate's values beside what
//! did not hold. It never holds a rule's pinned values, nor certificate bytes.
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[cfg(feature = "chain")]
use xfcc::TrustAnchors;
use xfcc::{Policy, Reason, Rejection, Rule, inspect::CertIdentity};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("envoy/{name}.txt"))).unwrap()
}

#[cfg(feature = "chain")]
fn pem(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("certs/{name}.pem"))).unwrap()
}

fn leaf() -> CertIdentity {
    CertIdentity::from_der(std::fs::read(fixtures().join("certs/client-rsa.der")).unwrap()).unwrap()
}

/// 2027-01-15, inside the fixtures' validity.
fn at() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn reject(policy: &Policy, header: &str) -> Rejection {
    policy.verify(header).unwrap_err()
}

/// What every explanation of the `client-rsa` leaf shows: both thumbprints
/// (the SHA-1 as the Azure portal shows it), subject, issuer, validity.
fn assert_shows_the_certificate(text: &str) {
    let c = leaf();
    for part in [
        format!("subject={:?}", c.subject()),
        format!("issuer={:?}", c.issuer()),
        format!("sha256={}", c.sha256_hex().to_ascii_uppercase()),
        "sha1=6F18C6529EDAE7A0D5E701161F898AF5ABEA684F".to_owned(),
        format!(
            "valid {} to {}",
            c.not_before_rfc3339(),
            c.not_after_rfc3339()
        ),
    ] {
        assert!(text.contains(&part), "{part} not in {text}");
    }
}

#[test]
fn not_allowed_lists_each_rule_and_what_failed_never_the_pinned_values() {
    let pinned = "sha1:0123456789abcdef0123456789abcdef01234567";
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(
            Rule::new("payments")
                .issuer_cn(["Contoso Issuing CA 1"])
                .subject_cn(["secret-partner.example"])
                .thumbprint([pinned]),
        )
        .allow(Rule::new("ops").san_uri_prefix(["spiffe://ops.example/"]))
        .build()
        .unwrap();
    let r = reject(&policy, &capture("rsa-chain"));
    assert_eq!(r.reason(), Reason::NotAllowed);
    let why = r.explanation().unwrap();
    let rules: Vec<(&str, &[&str])> = why.rules().iter().map(|m| (m.rule(), m.failed())).collect();
    assert_eq!(
        rules,
        [
            ("payments", &["subject_cn", "thumbprint"][..]),
            ("ops", &["san_uri_prefix"][..])
        ]
    );
    assert_eq!(why.certificate(), Some(&leaf()));
    let text = why.to_string();
    assert_shows_the_certificate(&text);
    assert!(
        text.contains(r#"rule "payments" failed subject_cn, thumbprint"#),
        "{text}"
    );
    assert!(
        text.contains(r#"rule "ops" failed san_uri_prefix"#),
        "{text}"
    );
    // What the rules pin is not the client's to learn, even from logs.
    for secret in ["secret-partner", "0123456789", "spiffe://ops.example"] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
        assert!(
            !format!("{r:?}").contains(secret),
            "{secret} leaked in Debug"
        );
    }
    assert_eq!(
        r.thumbprint(),
        Some(leaf().sha256_hex().to_ascii_uppercase())
    );
}

#[test]
fn expired_and_not_yet_valid_show_the_dates_and_the_clock() {
    for (year_secs, reason, clock) in [
        (2_524_608_000, Reason::Expired, "2050-01-01T00:00:00Z"),
        (1_577_836_800, Reason::NotYetValid, "2020-01-01T00:00:00Z"),
    ] {
        let policy = Policy::builder()
            .proxy_verifies_chain(true)
            .clock(move || UNIX_EPOCH + Duration::from_secs(year_secs))
            .leeway(Duration::from_secs(60))
            .allow(Rule::new("any").issuer_cn(["Contoso Issuing CA 1"]))
            .build()
            .unwrap();
        let r = reject(&policy, &capture("rsa-chain"));
        assert_eq!(r.reason(), reason);
        let why = r.explanation().unwrap();
        assert_eq!(
            why.clock(),
            Some((
                UNIX_EPOCH + Duration::from_secs(year_secs),
                Duration::from_secs(60)
            ))
        );
        let text = why.to_string();
        assert_shows_the_certificate(&text);
        assert!(
            text.contains(&format!("clock {clock} leeway 60s")),
            "{text}"
        );
        assert!(why.rules().is_empty());
    }
}

#[test]
#[cfg(feature = "chain")]
fn chain_invalid_tells_no_intermediate_from_wrong_anchor() {
    let policy = |anchor: &str| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .clock(at)
            .chain(TrustAnchors::new("partners", pem(anchor)))
            .allow(
                Rule::new("chained")
                    .issuer_cn(["Contoso Issuing CA 1"])
                    .chain("partners"),
            )
            .build()
            .unwrap()
    };
    // The proxy forwarded only the leaf.
    let r = reject(&policy("root"), &capture("rsa-leaf-only"));
    assert_eq!(
        (r.reason(), r.detail().code()),
        (Reason::ChainInvalid, "unknown_issuer")
    );
    let chain = r.explanation().unwrap().chain().unwrap();
    assert_eq!((chain.set(), chain.intermediates()), ("partners", 0));
    let root =
        CertIdentity::from_der(std::fs::read(fixtures().join("certs/root.der")).unwrap()).unwrap();
    assert_eq!(chain.anchors(), [root.subject().to_owned()]);
    let text = r.explanation().unwrap().to_string();
    assert_shows_the_certificate(&text);
    assert!(
        text.contains(r#"chain "partners": 0 intermediate(s) presented"#),
        "{text}"
    );

    // The intermediate came, but the anchor is someone else's.
    let r = reject(&policy("client-selfsigned"), &capture("rsa-chain"));
    assert_eq!(
        (r.reason(), r.detail().code()),
        (Reason::ChainInvalid, "unknown_issuer")
    );
    let chain = r.explanation().unwrap().chain().unwrap();
    assert_eq!(chain.intermediates(), 1);
    assert_ne!(chain.anchors(), [root.subject().to_owned()]);
    // The rule's names matched: only its chain failed.
    assert_eq!(
        r.explanation().unwrap().rules()[0].failed(),
        [] as [&str; 0]
    );
}

#[test]
fn inconsistent_elements_name_the_certificate_and_the_field() {
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(at)
        .allow(Rule::new("any").issuer_cn(["Contoso Issuing CA 1"]))
        .build()
        .unwrap();
    let header = capture("rsa-chain");
    let hash = leaf().sha256_hex().to_ascii_lowercase();
    let forged = header.replacen(&hash, &"0".repeat(64), 1);
    let r = reject(&policy, &forged);
    assert_eq!(
        (r.reason(), r.detail().code()),
        (Reason::HashMismatch, "hash_mismatch")
    );
    assert_eq!(r.explanation().unwrap().certificate(), Some(&leaf()));
    assert_shows_the_certificate(&r.explanation().unwrap().to_string());
}

#[test]
fn parse_and_decode_errors_give_element_field_and_offset_without_an_explanation() {
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("any").issuer_cn(["Contoso Issuing CA 1"]))
        .build()
        .unwrap();
    let r = reject(&policy, "Hash=00;Cert=\"unterminated");
    assert_eq!(r.reason(), Reason::Malformed);
    assert!(r.offset().is_some());
    assert!(r.explanation().is_none());

    let r = reject(
        &policy,
        "Hash=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa;Cert=\"-----BEGIN%20CERTIFICATE-----%0AAAAA%0A-----END%20CERTIFICATE-----%0A\"",
    );
    assert_eq!((r.reason(), r.element()), (Reason::BadCertificate, Some(0)));
    assert_eq!(r.field().map(|f| f.to_string()), Some("Cert".to_owned()));
    assert!(r.to_string().contains("in element 0 Cert"), "{r}");
    assert!(r.explanation().is_none());

    assert!(Rejection::missing().explanation().is_none());
}

#[test]
fn an_explanation_is_bounded_whatever_the_certificate_holds() {
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::OrganizationName, "o".repeat(3_000));
    params
        .distinguished_name
        .push(DnType::CommonName, "é".repeat(200));
    params.subject_alt_names = (0..300)
        .map(|i| {
            SanType::DnsName(
                format!("{i}.{}.example", "a".repeat(60))
                    .try_into()
                    .unwrap(),
            )
        })
        .collect();
    let key = KeyPair::generate().unwrap();
    let der = params.self_signed(&key).unwrap().der().to_vec();
    let cert = CertIdentity::from_der(der).unwrap();
    let header = xfcc::render::render_envoy(&[], &cert, &[], {
        let mut f = xfcc::render::EnvoyFields::NONE;
        (f.hash, f.cert) = (true, true);
        f
    });
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("partner").issuer_cn(["Contoso Issuing CA 1"]))
        .build()
        .unwrap();
    let r = reject(&policy, &header);
    assert_eq!(r.reason(), Reason::NotAllowed);
    let text = r.explanation().unwrap().to_string();
    assert!(text.len() < 4_096, "{} bytes", text.len());
    assert!(text.contains("(+292 more SANs)"), "{text}");
    assert!(text.contains("...(+"), "{text}");
    assert!(
        text.contains(r#"rule "partner" failed issuer_cn"#),
        "{text}"
    );
}

#[test]
fn every_reason_code_carries_what_locates_or_explains_it() {
    use xfcc::ElementCount;
    let base = || {
        Policy::builder()
            .proxy_verifies_chain(true)
            .clock(at)
            .allow(Rule::new("any").issuer_cn(["Contoso Issuing CA 1"]))
    };
    let policy = base().build().unwrap();
    let good = capture("rsa-chain");
    // Header-level reasons: no certificate was read, so no explanation;
    // the codes (and element or offset where there is one) say it all.
    let r = policy
        .verify_header_values([good.as_bytes(), good.as_bytes()])
        .unwrap_err();
    assert_eq!(
        (r.reason(), r.explanation()),
        (Reason::MultipleHeaders, None)
    );
    let r = reject(&policy, &"x".repeat(70_000));
    assert_eq!(r.reason(), Reason::TooLarge);
    assert!(r.offset().is_some() && r.explanation().is_none());
    let r = reject(&policy, &capture("two-hop"));
    assert_eq!(
        (r.reason(), r.explanation()),
        (Reason::TooManyElements, None)
    );
    let by = base()
        .elements(ElementCount::Any)
        .trust_element(-1)
        .trusted_proxy("spiffe://not-this-proxy")
        .build()
        .unwrap();
    let r = reject(&by, &good);
    assert_eq!((r.reason(), r.element()), (Reason::UntrustedProxy, Some(0)));
    assert!(r.explanation().is_none());
    // Certificate-level reasons name the certificate.
    let r = reject(&policy, &capture("injection-semicolon"));
    assert_eq!(r.reason(), Reason::Inconsistent);
    assert!(r.explanation().unwrap().certificate().is_some());
    let text = r.explanation().unwrap().to_string();
    assert!(text.starts_with("certificate subject="), "{text}");
}
