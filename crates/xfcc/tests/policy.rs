//! The validation policy, with real certificates and Envoy captures.
#![expect(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/vars.rs"]
mod support_vars;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support_vars::vars;
use xfcc::{
    ElementCount, Mode, Policy, PolicyBuilder, PolicyHandle, Reason, Rule, inspect::CertIdentity,
    outcome::ConfigErrorKind,
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("envoy/{name}.txt"))).unwrap()
}

fn cert(name: &str) -> CertIdentity {
    CertIdentity::from_der(std::fs::read(fixtures().join(format!("certs/{name}.der"))).unwrap())
        .unwrap()
}

/// A moment inside every fixture's validity period.
fn in_validity() -> SystemTime {
    cert("client-rsa").not_before() + Duration::from_secs(86_400)
}

fn builder() -> PolicyBuilder {
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(in_validity)
}

fn allow(rule: Rule) -> Policy {
    builder().allow(rule).build().unwrap()
}

fn code(policy: &Policy, header: &str) -> &'static str {
    match policy.verify(header) {
        Ok(_) => "ok",
        Err(r) => r.code(),
    }
}

#[test]
fn each_constraint_allows_and_rejects() {
    let rsa = capture("rsa-chain"); // client-rsa
    let other = capture("wrong-cn"); // client-wrongcn, same issuer
    let p256 = capture("p256-two-intermediates"); // other issuer
    let c = cert("client-rsa");
    let cases: Vec<(Rule, &str, &str)> = vec![
        (
            Rule::new("r").issuer(["CN=Contoso Issuing CA 1,O=Contoso,C=US"]),
            &rsa,
            &p256,
        ),
        (
            Rule::new("r").issuer(["cn=contoso issuing ca 1, o=CONTOSO, c=us"]),
            &rsa,
            &p256,
        ),
        (
            Rule::new("r").issuer_cn(["Contoso Issuing CA 1"]),
            &rsa,
            &p256,
        ),
        (
            Rule::new("r")
                .subject(["CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"]),
            &rsa,
            &other,
        ),
        (
            Rule::new("r").subject_cn(["client-app.contoso.example"]),
            &rsa,
            &other,
        ),
        (
            Rule::new("r").san_dns(["api.contoso.example"]),
            &rsa,
            &other,
        ),
        (Rule::new("r").san_dns(["*.contoso.example"]), &rsa, &p256),
        (
            Rule::new("r").san_uri(["spiffe://contoso.example/ns/payments/sa/client"]),
            &rsa,
            &p256,
        ),
        (
            Rule::new("r").san_uri_prefix(["spiffe://contoso.example/ns/payments/"]),
            &rsa,
            &p256,
        ),
        (
            Rule::new("r").san_email(["OPS@contoso.example"]),
            &rsa,
            &other,
        ),
        (Rule::new("r").san_ip(["2001:db8:0::1"]), &rsa, &other),
        (Rule::new("r").thumbprint([c.sha256_hex()]), &rsa, &other),
        (
            Rule::new("r").thumbprint([c.sha1_hex().to_lowercase()]),
            &rsa,
            &other,
        ),
    ];
    for (rule, good, bad) in cases {
        let label = format!("{rule:?}");
        let p = allow(rule);
        assert_eq!(code(&p, good), "ok", "{label}");
        assert_eq!(code(&p, bad), "not_allowed", "{label}");
    }
}

#[test]
fn rules_are_any_of_and_constraints_all_of() {
    let p = builder()
        .allow(
            Rule::new("both")
                .issuer_cn(["Contoso Issuing CA 1"])
                .subject_cn(["nobody"]),
        )
        .allow(Rule::new("cn").subject_cn(["intruder"]))
        .build()
        .unwrap();
    // client-rsa matches the issuer of "both" but not its CN: not allowed.
    let r = p.verify(&capture("rsa-chain")).unwrap_err();
    assert_eq!(r.code(), "not_allowed");
    assert_eq!(r.thumbprint(), Some(cert("client-rsa").sha256_hex()));
    assert_eq!(p.verify("Hash=zz").unwrap_err().thumbprint(), None);
    assert_eq!(p.verify(&capture("wrong-cn")).unwrap().rule(), "cn");
    // Unnamed rules are reported by index.
    let p = builder()
        .allow(Rule::unnamed().subject_cn(["x"]))
        .allow(Rule::unnamed().subject_cn(["intruder"]))
        .build()
        .unwrap();
    assert_eq!(p.verify(&capture("wrong-cn")).unwrap().rule(), "1");
}

#[test]
fn sha1_and_sha256_pins_are_not_confused() {
    let c = cert("client-rsa");
    // The first 40 digits of the SHA-256 are not a SHA-1 thumbprint.
    let p = allow(Rule::new("r").thumbprint([&c.sha256_hex()[..40]]));
    assert_eq!(code(&p, &capture("rsa-chain")), "not_allowed");
    // Colon-separated SHA-1, as `openssl x509 -fingerprint -sha1` prints it.
    let colons: Vec<String> = c
        .sha1_hex()
        .as_bytes()
        .chunks(2)
        .map(|p| String::from_utf8(p.to_vec()).unwrap())
        .collect();
    assert_eq!(
        code(
            &allow(Rule::new("r").thumbprint([colons.join(":")])),
            &capture("rsa-chain")
        ),
        "ok"
    );
    // A 62-digit pin is a configuration error that names both algorithms.
    let err = builder()
        .allow(Rule::new("r").thumbprint([&c.sha256_hex()[..62]]))
        .build()
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("SHA-256") && msg.contains("SHA-1") && msg.contains("\"r\""),
        "{msg}"
    );
}

#[test]
fn missing_header_follows_the_mode() {
    let require = allow(Rule::new("r").subject_cn(["client-app.contoso.example"]));
    let r = require.verify_header_values([]).unwrap_err();
    assert_eq!(r.reason(), Reason::Missing);
    assert!(r.is_missing());
    assert_eq!(
        require
            .verify_header_values(std::iter::empty::<&[u8]>())
            .unwrap_err()
            .code(),
        "missing"
    );

    let accept = builder()
        .mode(Mode::Accept)
        .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    assert_eq!(accept.verify_header_values([]).unwrap(), None);
    assert!(
        accept
            .verify_header_values([capture("rsa-chain").as_bytes()])
            .unwrap()
            .is_some()
    );
    // Present but invalid is still rejected in accept mode.
    assert_eq!(
        accept
            .verify_header_values([capture("wrong-cn").as_bytes()])
            .unwrap_err()
            .code(),
        "not_allowed"
    );
    assert_eq!(
        accept
            .verify_header_values([b"Cert=\"x".as_slice()])
            .unwrap_err()
            .code(),
        "malformed"
    );
}

#[test]
fn multiple_header_lines_are_rejected() {
    let p = allow(Rule::new("r").subject_cn(["client-app.contoso.example"]));
    let one = capture("rsa-chain");
    assert!(p.verify_header_values([one.as_bytes()]).unwrap().is_some());
    let r = p
        .verify_header_values([one.as_bytes(), one.as_bytes()])
        .unwrap_err();
    assert_eq!(r.code(), "multiple_headers");
    assert_eq!(
        p.verify_header_values([&b"URI=\xff"[..]])
            .unwrap_err()
            .code(),
        "malformed"
    );
}

#[test]
fn element_trust_options_on_a_real_two_hop_header() {
    let two = capture("two-hop"); // [0] client-rsa via edge, [1] edge via inner sidecar
    let client = Rule::new("client").subject_cn(["client-app.contoso.example"]);
    let edge = Rule::new("edge").subject_cn(["edge.xfcc.test"]);

    assert_eq!(code(&allow(client.clone()), &two), "too_many_elements");
    let p = builder()
        .elements(ElementCount::Exactly(2))
        .allow(client.clone())
        .build()
        .unwrap();
    let c = p.verify(&two).unwrap();
    assert_eq!((c.rule(), c.element()), ("client", 0));
    assert_eq!(code(&p, &capture("rsa-chain")), "too_few_elements");
    let p = builder()
        .elements(ElementCount::Exactly(2))
        .trust_element(-1)
        .allow(edge.clone())
        .build()
        .unwrap();
    assert_eq!(p.verify(&two).unwrap().element(), 1);
    let p = builder()
        .elements(ElementCount::Any)
        .trust_element(-1)
        .allow(edge.clone())
        .build()
        .unwrap();
    assert_eq!(
        p.verify(&two).unwrap().subject_cns().next(),
        Some("edge.xfcc.test")
    );
    let by = |v: &str| {
        builder()
            .elements(ElementCount::Exactly(2))
            .trusted_proxy(v)
            .allow(client.clone())
            .build()
            .unwrap()
    };
    assert_eq!(code(&by("spiffe://xfcc.test/ns/edge/sa/envoy"), &two), "ok");
    let r = by("spiffe://xfcc.test/ns/app/sa/sidecar")
        .verify(&two)
        .unwrap_err();
    assert_eq!((r.code(), r.element()), ("untrusted_proxy", Some(0)));
    let e = builder()
        .elements(ElementCount::Exactly(2))
        .trust_element(2)
        .allow(edge.clone())
        .build()
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.setting(), e.to_string()),
        (
            ConfigErrorKind::TrustIndex,
            "[elements] trust".into(),
            "cannot trust element 2 of exactly 2: [elements] trust must name one of the [elements] count elements".to_owned()
        )
    );
    assert!(
        builder()
            .elements(ElementCount::Exactly(2))
            .trust_element(-3)
            .allow(edge)
            .build()
            .is_err()
    );
}

#[test]
fn injection_is_never_authenticated_as_the_victim() {
    // Even a policy that trusts the last of any number of elements and pins
    // the victim's thumbprint must not accept the smuggled element.
    let victim = cert("client-rsa");
    let p = builder()
        .elements(ElementCount::Any)
        .trust_element(-1)
        .allow(Rule::new("victim").thumbprint([victim.sha256_hex()]))
        .build()
        .unwrap();
    for name in ["injection-uri", "injection-dns"] {
        let r = p.verify(&capture(name)).unwrap_err();
        assert_eq!(r.code(), "inconsistent", "{name}");
        assert_eq!(r.element(), Some(0), "{name}");
    }
    let r = allow(Rule::new("victim").san_dns(["client-app.contoso.example"]))
        .verify(&capture("injection-semicolon"))
        .unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("inconsistent", "uri_mismatch")
    );
}

#[test]
fn validity_window_with_leeway() {
    let c = cert("client-rsa");
    let nb = c.not_before();
    let na = c.not_after();
    let at = |t: SystemTime| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .clock(move || t)
            .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
            .build()
            .unwrap()
    };
    let h = capture("rsa-chain");
    assert_eq!(code(&at(nb - Duration::from_secs(61)), &h), "not_yet_valid");
    assert_eq!(code(&at(nb - Duration::from_secs(59)), &h), "ok");
    assert_eq!(code(&at(na + Duration::from_secs(59)), &h), "ok");
    assert_eq!(code(&at(na + Duration::from_secs(61)), &h), "expired");
    let strict = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || nb - Duration::from_secs(1))
        .leeway(Duration::ZERO)
        .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    assert_eq!(code(&strict, &h), "not_yet_valid");
    assert_eq!(
        at(nb)
            .verify_at(&h, na + Duration::from_secs(3600))
            .unwrap_err()
            .code(),
        "expired"
    );
    let cc = at(na - Duration::from_secs(86_400)).verify(&h).unwrap();
    assert_eq!(cc.expires_in(), Some(Duration::from_secs(86_400)));
}

#[test]
fn consistency_and_parse_reasons() {
    let p = allow(Rule::new("r").subject_cn(["client-app.contoso.example"]));
    let h = capture("rsa-chain");
    let c = cert("client-rsa");
    let other = cert("client-wrongcn").sha256_hex().to_lowercase();
    let r = p
        .verify(&h.replace(&c.sha256_hex().to_lowercase(), &other))
        .unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("hash_mismatch", "hash_mismatch")
    );
    let r = p
        .verify(&h.replace("DNS=api.contoso.example", "DNS=admin.contoso.example"))
        .unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("inconsistent", "dns_mismatch")
    );
    let r = p.verify(&h.replace("MII", "%ZZ")).unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("bad_certificate", "bad_percent_encoding")
    );
    assert_eq!(
        p.verify(&format!("{h},{h}")).unwrap_err().code(),
        "too_many_elements"
    );
    let r = p.verify("Hash=zz").unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code(), r.offset()),
        ("malformed", "invalid_hash", Some(5))
    );
    assert_eq!(
        p.verify(&"a".repeat(70_000)).unwrap_err().code(),
        "too_large"
    );
    for bad in [h.replace("MII", "%ZZ"), h.replace("DNS=api", "DNS=x")] {
        let msg = p.verify(&bad).unwrap_err().to_string();
        assert!(
            !msg.contains("MII") && !msg.contains("CERTIFICATE") && !msg.contains("contoso"),
            "{msg}"
        );
    }
}

#[test]
fn other_formats_through_the_policy() {
    let c = cert("client-rsa");
    let p = builder()
        .format(xfcc::Format::AppService)
        .allow(Rule::new("r").thumbprint([c.sha256_hex()]))
        .build()
        .unwrap();
    assert_eq!(
        p.readings().next().unwrap().header_name(),
        "x-arr-clientcert"
    );
    assert_eq!(
        p.verify(&xfcc::Format::AppService.render(&c, &[]))
            .unwrap()
            .rule(),
        "r"
    );
    assert_eq!(
        code(
            &p,
            &xfcc::Format::AppService.render(&cert("client-wrongcn"), &[])
        ),
        "not_allowed"
    );
    assert_eq!(code(&p, "!!!"), "bad_certificate");
}

#[test]
fn build_time_errors() {
    assert_eq!(
        Policy::builder()
            .proxy_verifies_chain(true)
            .build()
            .unwrap_err()
            .kind(),
        ConfigErrorKind::NoRules
    );
    let e = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r"))
        .build()
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.rule()),
        (ConfigErrorKind::EmptyRule, Some("r"))
    );
    let dup = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("r").subject_cn(["a"]))
        .allow(Rule::new("r").subject_cn(["b"]))
        .build();
    let e = dup.unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::DuplicateRule);
    assert!(e.to_string().contains("two rules are named \"r\""), "{e}");
    for rule in [
        Rule::new("r").issuer(["not a dn"]),
        Rule::new("r").san_dns(["*.com"]),
        Rule::new("r").san_uri_prefix(["spiffe://contoso.example"]),
        Rule::new("r").san_ip(["10.0.0.256"]),
        Rule::new("r").subject_cn([" "]),
        Rule::new("r").chain("nowhere"),
    ] {
        assert!(
            Policy::builder()
                .proxy_verifies_chain(true)
                .allow(rule.clone())
                .build()
                .is_err(),
            "{rule:?}"
        );
    }
}

#[test]
fn warns_about_rules_a_self_signed_certificate_can_satisfy() {
    let c = cert("client-rsa");
    let p = builder()
        .allow(Rule::new("names").subject_cn(["client-app.contoso.example"]))
        .allow(Rule::new("pinned").thumbprint([c.sha256_hex()]))
        .build()
        .unwrap();
    let w = p.warnings();
    assert_eq!(w.len(), 1);
    assert!(w[0].message().contains("\"names\"") && w[0].message().contains("self-signed"));
    assert_eq!(
        (w[0].code(), w[0].fix()),
        (
            "names_only_rule",
            "add `thumbprint` or `chain` to rule \"names\""
        )
    );
    // And indeed: the self-signed look-alike passes the names-only rule...
    let names = allow(Rule::new("names").subject_cn(["client-app.contoso.example"]));
    assert_eq!(code(&names, &capture("self-signed-lookalike")), "ok");
    // ...but not a pin.
    let pinned = allow(Rule::new("pinned").thumbprint([c.sha256_hex()]));
    assert_eq!(
        code(&pinned, &capture("self-signed-lookalike")),
        "not_allowed"
    );
}

#[test]
fn env_reads_the_recipes_variables_unchanged() {
    let c = cert("client-rsa");
    let p = Policy::from_env_vars(vars(&[(
        "ALLOWED_CERT_THUMBPRINTS",
        &format!(" {} , ", c.sha256_hex()),
    )]))
    .unwrap();
    assert_eq!(
        p.verify_at(&capture("rsa-chain"), in_validity())
            .unwrap()
            .rule(),
        "thumbprint"
    );
    assert_eq!(
        p.verify_at(&capture("wrong-cn"), in_validity())
            .unwrap_err()
            .code(),
        "not_allowed"
    );

    // The recipe's common names alone are met by a self-signed look-alike:
    // refused, naming the variable and both fixes, until the operator says
    // the proxy verifies client certificates.
    let recipe = [
        (
            "ALLOWED_CERT_COMMON_NAMES",
            "api-client.contoso.com,intruder",
        ),
        ("ALLOWED_CERT_FINGERPRINTS", ""),
    ];
    let e = Policy::from_env_vars(vars(&recipe)).unwrap_err();
    assert_eq!(e.kind().code(), "names_only_rule");
    assert_eq!(e.setting(), "ALLOWED_CERT_COMMON_NAMES");
    let text = e.to_string();
    for fix in [
        "XFCC_CHAIN_ANCHORS",
        "ALLOWED_CERT_THUMBPRINTS",
        "XFCC_PROXY_VERIFIES_CHAIN",
    ] {
        assert!(text.contains(fix), "{fix}: {text}");
    }
    let p = Policy::from_env_vars(vars(&[
        recipe[0],
        recipe[1],
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
    ]))
    .unwrap();
    assert!(p.proxy_verifies_chain());
    // A value that is not true or false is refused, naming the variable.
    let e = Policy::from_env_vars(vars(&[recipe[0], ("XFCC_PROXY_VERIFIES_CHAIN", "yes")]))
        .unwrap_err();
    assert_eq!(e.setting(), "XFCC_PROXY_VERIFIES_CHAIN", "{e}");
    assert!(e.to_string().contains("true or false"), "{e}");
    assert_eq!(
        p.verify_at(&capture("wrong-cn"), in_validity())
            .unwrap()
            .rule(),
        "common_name"
    );
    assert_eq!(p.warnings().len(), 1);

    let p = Policy::from_env_vars(vars(&[
        (
            "XFCC_ALLOWED_ISSUER",
            "CN=Contoso Issuing CA 1,O=Contoso,C=US",
        ),
        (
            "XFCC_ALLOWED_SAN_URI_PREFIXES",
            "spiffe://contoso.example/ns/payments/",
        ),
        ("XFCC_MODE", "accept"),
        ("XFCC_ELEMENT_COUNT", "0"),
        ("XFCC_TRUST_ELEMENT", "0"),
        ("XFCC_CACHE", "16"),
        ("XFCC_PROXY_VERIFIES_CHAIN", "TRUE"),
    ]))
    .unwrap();
    assert_eq!(p.mode(), Mode::Accept);
    assert_eq!(
        p.verify_at(&capture("two-hop"), in_validity())
            .unwrap()
            .rule(),
        "env"
    );
    assert_eq!(
        p.verify_at(&capture("p256-two-intermediates"), in_validity())
            .unwrap_err()
            .code(),
        "not_allowed"
    );
    assert!(p.cache_len() > 0);
}

#[test]
fn env_errors_name_the_variable() {
    let e = Policy::from_env_vars(vars(&[])).unwrap_err().to_string();
    assert!(e.contains("no allow rule"), "{e}");
    for (var, value) in [
        ("XFCC_MODE", "sometimes"),
        ("XFCC_ELEMENT_COUNT", "-1"),
        ("XFCC_LEEWAY_SECONDS", "soon"),
        ("XFCC_FORMAT", "pound"),
        ("XFCC_CHAIN_ANCHORS", "/nonexistent.pem"),
    ] {
        let e = Policy::from_env_vars(vars(&[("ALLOWED_CERT_COMMON_NAMES", "a"), (var, value)]))
            .unwrap_err();
        assert!(e.to_string().contains(var), "{e}");
    }
    let e = Policy::from_env_vars(vars(&[("ALLOWED_CERT_THUMBPRINTS", "abcd")])).unwrap_err();
    assert!(e.to_string().contains("thumbprint"), "{e}");
    #[cfg(feature = "toml")]
    {
        let e = Policy::from_env_vars(vars(&[
            ("XFCC_POLICY_FILE", "/nonexistent.toml"),
            ("ALLOWED_CERT_COMMON_NAMES", "a"),
        ]))
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("ALLOWED_CERT_COMMON_NAMES: policy file: XFCC_POLICY_FILE is set"),
            "{e}"
        );
        let e =
            Policy::from_env_vars(vars(&[("XFCC_POLICY_FILE", "/nonexistent.toml")])).unwrap_err();
        assert!(e.to_string().contains("XFCC_POLICY_FILE"), "{e}");
    }
}

#[cfg(feature = "toml")]
#[test]
fn toml_policy_file() {
    let c = cert("client-rsa");
    let text = format!(
        r#"
mode = "accept"
proxy_verifies_chain = true
[elements]
count = 2
trust = -2
by = "spiffe://xfcc.test/ns/edge/sa/envoy"
[validity]
leeway_seconds = 0
[[allow]]
name = "partner"
issuer = "CN=Contoso Issuing CA 1,O=Contoso,C=US"
san_uri_prefix = ["spiffe://contoso.example/"]
[[allow]]
name = "pinned"
thumbprint = ["{}"]
"#,
        c.sha1_hex()
    );
    let p = Policy::from_toml_str(&text, ".").unwrap();
    assert_eq!(p.mode(), Mode::Accept);
    let cc = p.verify_at(&capture("two-hop"), in_validity()).unwrap();
    assert_eq!((cc.rule(), cc.element()), ("partner", 0));
    assert_eq!(
        p.verify_at(&capture("rsa-chain"), in_validity())
            .unwrap_err()
            .code(),
        "too_few_elements"
    );
    // The names-only rule, and accept mode.
    let w = p.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[1].message().starts_with("mode = \"accept\""), "{w:?}");
    assert_eq!(w[1].kind(), xfcc::outcome::WarningKind::AcceptMode);

    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("xfcc-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.toml");
    std::fs::write(&file, &text).unwrap();
    assert!(Policy::from_toml_file(&file).is_ok());
    let from_env =
        Policy::from_env_vars(vars(&[("XFCC_POLICY_FILE", file.to_str().unwrap())])).unwrap();
    assert_eq!(from_env.mode(), Mode::Accept);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(feature = "toml")]
#[test]
fn toml_errors() {
    let bad = [
        (
            "mode = \"require\"\nextra = 1\n[[allow]]\nsubject_cn = [\"a\"]",
            "unknown field",
        ),
        (
            "[[allow]]\nsubject_cn = [\"a\"]\ncolour = \"red\"",
            "unknown field",
        ),
        (
            "mode = \"sometimes\"\n[[allow]]\nsubject_cn = [\"a\"]",
            "sometimes",
        ),
        ("[[allow]]\nthumbprint = [\"abc\"]", "thumbprint"),
        (
            "[elements]\ncount = 1\ntrust = 3\n[[allow]]\nsubject_cn = [\"a\"]",
            "element 3",
        ),
        ("[[allow]]\nname = \"x\"", "no constraint"),
        ("mode = ", "policy file"),
        ("", "no allow rule"),
        (
            "[[allow]]\nsubject_cn = \"a\"\nchain = \"p\"\n[chain.p]\ntrust_anchors = \"/nonexistent.pem\"",
            "[chain.p] trust_anchors \"/nonexistent.pem\": ",
        ),
        (
            "[allow]\nsubject_cn = [\"a\"]",
            "[allow] is written with two brackets, [[allow]], once per rule",
        ),
        (
            "[[allow]]\nthumbprint = [\"sha1:0000000000000000000000000000000000000000000000000000000000000000\"]",
            "sha1: is followed by 64 hex digits, a SHA-256 thumbprint",
        ),
        (
            "[[allow]]\nthumbprint = [\"\u{200e}6f18c6529edae7a0d5e701161f898af5abea684f\"]",
            "character 1 of the thumbprint is U+200E",
        ),
    ];
    for (text, expected) in bad {
        let e = Policy::from_toml_str(text, ".").unwrap_err().to_string();
        assert!(e.contains(expected), "{text:?} -> {e}");
    }
    // A relative anchor path: what was written and where it was looked for.
    let e = Policy::from_toml_str(
        "[[allow]]\nsubject_cn = \"a\"\nchain = \"p\"\n[chain.p]\ntrust_anchors = \"certs/ca.pem\"",
        "/srv/app",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("trust_anchors \"certs/ca.pem\" (relative to the policy file's directory: /srv/app/certs/ca.pem)"),
        "{e}"
    );
    let e = Policy::from_toml_file("/nonexistent/policy.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/policy.toml"), "{e}");
}

#[test]
fn cache_hits_still_check_fields_and_validity() {
    let c = cert("client-rsa");
    let clock = Arc::new(AtomicU64::new(c.not_before_unix().unsigned_abs() + 86_400));
    let now = {
        let clock = clock.clone();
        move || UNIX_EPOCH + Duration::from_secs(clock.load(Ordering::SeqCst))
    };
    let p = Policy::builder()
        .proxy_verifies_chain(true)
        .clock(now)
        .cache(8)
        .allow(Rule::new("r").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let h = capture("rsa-chain");
    let first = p.verify(&h).unwrap();
    assert_eq!(p.cache_len(), 1);
    let second = p.verify(&h).unwrap();
    assert_eq!(first.certificate(), second.certificate());
    assert_eq!(p.cache_len(), 1);
    // The sender's Hash only picks the bucket: a wrong Hash with a cached
    // Cert is caught, every time, and never stored.
    let other = cert("client-wrongcn").sha256_hex().to_lowercase();
    let wrong_hash = h.replace(&c.sha256_hex().to_lowercase(), &other);
    assert_eq!(code(&p, &wrong_hash), "hash_mismatch");
    assert_eq!(code(&p, &wrong_hash), "hash_mismatch");
    assert_eq!(p.cache_len(), 1, "an inconsistent element is not cached");
    assert_eq!(code(&p, &h.replace("DNS=api", "DNS=x")), "inconsistent");
    // The same certificate under an upper-case Hash is another key, checked
    // and stored on its own.
    let upper = h.replace(&c.sha256_hex().to_lowercase(), &c.sha256_hex());
    assert_eq!(p.verify(&upper).unwrap().certificate(), first.certificate());
    assert_eq!(p.cache_len(), 2);
    // Without a Hash, the texts are the key.
    let start = h.find("Hash=").unwrap();
    let no_hash = format!("{}{}", &h[..start], &h[start + 5 + 64 + 1..]);
    assert!(!no_hash.contains("Hash="));
    assert_eq!(
        p.verify(&no_hash).unwrap().certificate(),
        first.certificate()
    );
    assert_eq!(p.cache_len(), 3);
    assert_eq!(
        p.verify(&no_hash).unwrap().certificate(),
        first.certificate()
    );
    assert_eq!(p.cache_len(), 3);
    // Validity is checked on every hit.
    clock.store(c.not_after_unix().unsigned_abs() + 3600, Ordering::SeqCst);
    assert_eq!(code(&p, &h), "expired");
    // A certificate that is not allowed stays not allowed once cached.
    clock.store(
        c.not_before_unix().unsigned_abs() + 86_400,
        Ordering::SeqCst,
    );
    assert_eq!(code(&p, &capture("wrong-cn")), "not_allowed");
    assert_eq!(code(&p, &capture("wrong-cn")), "not_allowed");
}

#[test]
fn reload_swaps_atomically_under_concurrent_verifies() {
    let h = capture("rsa-chain");
    let policy = |name: &str| {
        builder()
            .cache(4)
            .allow(Rule::new(name).subject_cn(["client-app.contoso.example"]))
            .build()
            .unwrap()
    };
    let handle = PolicyHandle::new(policy("old"));
    assert_eq!(handle.verify(&h).unwrap().rule(), "old");
    assert_eq!(handle.current().cache_len(), 1);
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (handle, h, stop) = (handle.clone(), h.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen: Vec<String> = Vec::new();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let rule = handle
                        .verify(&h)
                        .expect("verifies on old or new")
                        .rule()
                        .to_owned();
                    n += 1;
                    if seen.last() != Some(&rule) {
                        seen.push(rule);
                    }
                }
                (seen, n)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    handle.reload(policy("new"));
    std::thread::sleep(Duration::from_millis(50));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let (seen, n) = w.join().unwrap();
        assert!(n > 1);
        // Each worker moves from old to new once, never back.
        assert!(seen == ["old", "new"] || seen == ["new"], "{seen:?}");
    }
    assert_eq!(handle.verify(&h).unwrap().rule(), "new");
    assert_eq!(
        handle.current().cache_len(),
        1,
        "the new policy has its own cache"
    );
}

#[cfg(feature = "toml")]
#[test]
fn proxy_verifies_chain_in_a_file_is_a_bool_or_refused_by_name() {
    let rule = "[[allow]]\nsubject_cn = [\"a\"]\n";
    let e = Policy::from_toml_str(&format!("proxy_verifies_chain = \"yes\"\n{rule}"), ".")
        .unwrap_err()
        .to_string();
    assert!(e.contains("proxy_verifies_chain"), "{e}");
    let e =
        Policy::from_toml_str(&format!("proxy_verifies_chain = false\n{rule}"), ".").unwrap_err();
    assert_eq!(e.kind().code(), "names_only_rule");
    assert!(
        Policy::from_toml_str(&format!("proxy_verifies_chain = true\n{rule}"), ".")
            .unwrap()
            .proxy_verifies_chain()
    );
}

/// `ClientCert` has what Python's has: the issuer, its common names and the
/// SHA-1 thumbprint, beside the subject's and the SHA-256.
#[test]
fn a_client_cert_has_the_issuer_and_the_sha1_thumbprint() {
    let p = Policy::builder()
        .allow(
            Rule::new("pin")
                .thumbprint(["642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4"]),
        )
        .clock(|| UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000))
        .build()
        .unwrap();
    let c = p.verify(&capture("rsa-chain")).unwrap();
    let leaf = c.certificate().unwrap();
    assert_eq!(c.issuer(), leaf.issuer());
    assert_eq!(c.issuer_cns().collect::<Vec<_>>(), ["Contoso Issuing CA 1"]);
    assert_eq!(c.issuer_name(), Some(leaf.issuer_name()));
    assert_eq!(c.sha1_hex(), Some(leaf.sha1_hex()));
    assert_eq!(c.sha1_hex().map(|h| h.len()), Some(40));
}
