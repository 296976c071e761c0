//! `identity_from = "proxy-fields"`: elements without `Cert` (what Istio
//! sidecars forward by default), verified from `Hash`, `Subject`, `URI`
//! and `DNS`. The headers are real Envoy captures with `Cert` and `Chain`
//! taken out, which is what Envoy writes with `cert: false, chain: false`
//! (the e2e suite runs that configuration against a real Envoy).
#![expect(clippy::unwrap_used)]

#[path = "support/mesh.rs"]
mod mesh;

use xfcc::{
    Policy, PolicyBuilder, Rule,
    outcome::{ConfigErrorKind, IdentityFrom},
};

const EDGE_BY: &str = "spiffe://xfcc.test/ns/edge/sa/envoy";
const CLIENT_ID: &str = "spiffe://contoso.example/ns/payments/sa/client";
const CLIENT_SHA256: &str = "642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4";

fn capture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/envoy/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path).unwrap().trim_end().to_owned()
}

fn sidecar(rules: impl IntoIterator<Item = Rule>) -> PolicyBuilder {
    let mut b = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_proxy(EDGE_BY);
    for r in rules {
        b = b.allow(r);
    }
    b
}

#[test]
fn the_stripped_capture_has_no_certificate() {
    let h = mesh::without_cert(&capture("rsa-chain"));
    // The fixture the adapters and the CLI read is this same text.
    assert_eq!(capture("rsa-chain-fields-only"), h);
    assert!(!h.contains("Cert=") && !h.contains("Chain="), "{h}");
    assert!(
        h.starts_with("By=spiffe://xfcc.test/ns/edge/sa/envoy;Hash=642d3d0c"),
        "{h}"
    );
    assert!(
        h.contains(";URI=spiffe://contoso.example/ns/payments/sa/client;DNS="),
        "{h}"
    );
}

#[test]
fn verifies_an_element_without_cert_from_its_fields() {
    let header = mesh::without_cert(&capture("rsa-chain"));
    let policy = sidecar([Rule::new("client").spiffe_id([CLIENT_ID])])
        .build()
        .unwrap();
    let client = policy.verify(&header).unwrap();
    assert_eq!(client.verified_from(), IdentityFrom::ProxyFields);
    assert!(client.certificate().is_none());
    assert_eq!(client.rule(), "client");
    assert_eq!(client.spiffe_id(), Some(CLIENT_ID));
    assert_eq!(client.sha256_hex(), CLIENT_SHA256.to_ascii_uppercase());
    assert_eq!(
        client.subject_cns().collect::<Vec<_>>(),
        ["client-app.contoso.example"]
    );
    assert_eq!(
        client.subject(),
        "CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"
    );
    assert_eq!(
        client.san_dns(),
        ["client-app.contoso.example", "api.contoso.example"]
    );
    assert_eq!(client.san_uris(), [CLIENT_ID]);
    assert!(client.expires_in().is_none());
    assert!(!client.chain_verified());
    let fields = client.proxy_fields().unwrap();
    assert_eq!(fields.uri(), [CLIENT_ID]);

    // Every constraint the fields can answer, each on its own.
    for rule in [
        Rule::new("pin").thumbprint([CLIENT_SHA256]),
        Rule::new("cn").subject_cn(["client-app.contoso.example"]),
        Rule::new("dn").subject(["CN=client-app.contoso.example,OU=Payments,O=Contoso Ltd,C=US"]),
        Rule::new("uri").san_uri([CLIENT_ID]),
        Rule::new("prefix").san_uri_prefix(["spiffe://contoso.example/ns/payments/"]),
        Rule::new("td").spiffe_trust_domain(["contoso.example"]),
    ] {
        let policy = sidecar([rule]).build().unwrap();
        assert_eq!(
            policy.verify(&header).unwrap().verified_from(),
            IdentityFrom::ProxyFields
        );
    }
}

#[test]
fn fields_that_do_not_match_are_not_allowed_and_explained() {
    let header = mesh::without_cert(&capture("rsa-chain"));
    let other = "spiffe://contoso.example/ns/payments/sa/other";
    let policy = sidecar([
        Rule::new("other").spiffe_id([other]),
        Rule::new("pin").thumbprint(["ab".repeat(32)]),
    ])
    .build()
    .unwrap();
    let r = policy.verify(&header).unwrap_err();
    assert_eq!(r.code(), "not_allowed");
    let why = r.explanation().unwrap();
    assert!(why.certificate().is_none());
    assert_eq!(why.proxy_fields().unwrap().uri(), [CLIENT_ID]);
    assert_eq!(why.rules()[0].failed(), ["spiffe_id"]);
    assert_eq!(why.rules()[1].failed(), ["thumbprint"]);
    let line = why.to_string();
    assert!(line.starts_with("proxy fields subject="), "{line}");
    assert!(line.contains(&format!("uri:{CLIENT_ID}")), "{line}");
    assert!(!line.contains(&"AB".repeat(32)), "a pin leaked: {line}");
}

#[test]
fn an_element_with_a_certificate_is_still_checked_against_it() {
    let full = capture("rsa-chain");
    let policy = sidecar([Rule::new("client").spiffe_id([CLIENT_ID])])
        .build()
        .unwrap();
    let client = policy.verify(&full).unwrap();
    assert_eq!(client.verified_from(), IdentityFrom::Cert);
    assert!(client.certificate().is_some());
    // A Hash that does not match the certificate is caught as before.
    let tampered = full.replacen(CLIENT_SHA256, &"0".repeat(64), 1);
    assert_eq!(
        policy.verify(&tampered).unwrap_err().code(),
        "hash_mismatch"
    );
}

#[test]
fn the_default_still_requires_a_certificate() {
    let header = mesh::without_cert(&capture("rsa-chain"));
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_proxy(EDGE_BY)
        .allow(Rule::new("client").spiffe_id([CLIENT_ID]))
        .build()
        .unwrap();
    let r = policy.verify(&header).unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("bad_certificate", "no_certificate")
    );
}

#[test]
fn malformed_fields_are_refused_precisely() {
    let header = mesh::without_cert(&capture("rsa-chain"));
    let policy = sidecar([Rule::new("client").spiffe_id([CLIENT_ID])])
        .build()
        .unwrap();
    let cases = [
        // No Hash: nothing ties the fields to a certificate.
        (
            // No Hash: named as the missing field, not as a missing Cert.
            header.replacen(&format!("Hash={CLIENT_SHA256};"), "", 1),
            "no_hash",
        ),
        // A SHA-1 Hash: SHA-256 pins cannot be checked against it.
        (
            header.replacen(CLIENT_SHA256, &"a".repeat(40), 1),
            "hash_not_sha256",
        ),
        // A Subject that does not parse as Envoy writes it.
        // (`\q` is no RFC 4514 escape.)
        (
            header.replacen("Subject=\"CN=", "Subject=\"CN=\\q", 1),
            "bad_subject",
        ),
    ];
    for (h, detail) in cases {
        let r = policy.verify(&h).unwrap_err();
        assert_eq!(r.detail().code(), detail, "{h}");
        assert_eq!(r.element(), Some(0));
    }
    // The wrong proxy wrote it.
    let other_proxy = header.replacen(EDGE_BY, "spiffe://xfcc.test/ns/x/sa/y", 1);
    assert_eq!(
        policy.verify(&other_proxy).unwrap_err().code(),
        "untrusted_proxy"
    );
}

#[test]
fn two_uris_are_no_spiffe_id_and_match_no_uri_rule() {
    // Envoy writes URI SANs unescaped: a SAN "x;URI=<victim>" reads as two
    // URIs. Only a single URI counts.
    let header = mesh::without_cert(&capture("rsa-chain")).replacen(
        &format!(";URI={CLIENT_ID}"),
        &format!(";URI=spiffe://evil.example/x;URI={CLIENT_ID}"),
        1,
    );
    for rule in [
        Rule::new("id").spiffe_id([CLIENT_ID]),
        Rule::new("td").spiffe_trust_domain(["contoso.example"]),
        Rule::new("uri").san_uri([CLIENT_ID]),
        Rule::new("prefix").san_uri_prefix(["spiffe://contoso.example/"]),
    ] {
        let policy = sidecar([rule]).build().unwrap();
        assert_eq!(policy.verify(&header).unwrap_err().code(), "not_allowed");
    }
}

#[test]
fn the_sidecar_element_of_two_is_verified() {
    // Edge (SANITIZE_SET) then sidecar (APPEND_FORWARD), neither forwarding
    // the certificate: trust the last element, written by the sidecar.
    let header = mesh::without_cert(&capture("two-hop"));
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .elements(xfcc::ElementCount::Exactly(2))
        .trust_element(-1)
        .trusted_proxy("spiffe://xfcc.test/ns/app/sa/sidecar")
        .allow(Rule::new("edge").spiffe_id(["spiffe://xfcc.test/ns/edge/sa/envoy"]))
        .build()
        .unwrap();
    let client = policy.verify(&header).unwrap();
    assert_eq!(client.element(), 1);
    assert_eq!(client.subject_cns().collect::<Vec<_>>(), ["edge.xfcc.test"]);
}

#[test]
fn build_refuses_what_proxy_fields_cannot_honour() {
    let err = |b: PolicyBuilder| b.build().unwrap_err();
    // Neither trusted_peers nor by.
    let e = err(Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .allow(Rule::new("x").spiffe_id([CLIENT_ID])));
    assert!(
        (e.kind(), &*e.setting()) == (ConfigErrorKind::ProxyFieldsCannot, "identity_from"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("trusted_peers, [[trusted_proxies]] or [elements] by"),
        "{e}"
    );
    // trusted_peers alone is enough.
    Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("x").spiffe_id([CLIENT_ID]))
        .build()
        .unwrap();
    // Each rule key that needs the certificate itself.
    let sha1 = format!("sha1:{}", "ab".repeat(20));
    for (rule, key) in [
        (Rule::new("r").san_email(["a@b.example"]), "san_email"),
        (Rule::new("r").san_ip(["10.0.0.1"]), "san_ip"),
        (
            Rule::new("r").thumbprint([sha1.as_str()]),
            "thumbprint (SHA-1)",
        ),
        (Rule::new("r").subject_cn(["x"]).chain("set"), "chain"),
        (
            Rule::new("r").spki_sha256([&"ab".repeat(32)]),
            "spki_sha256",
        ),
    ] {
        let e = err(sidecar([rule]));
        assert_eq!(
            (e.rule(), e.kind(), &*e.setting()),
            (Some("r"), ConfigErrorKind::ProxyFieldsCannot, key),
            "{e}"
        );
    }
    // `issuer` and `issuer_cn` read the proxy's `Issuer` (Envoy 1.38+),
    // tested in `envoy_forms.rs`.
    for rule in [
        Rule::new("r").issuer(["CN=CA"]),
        Rule::new("r").issuer_cn(["CA"]),
    ] {
        sidecar([rule]).build().unwrap();
    }
    // A format without fields.
    let e = err(Policy::builder()
        .proxy_verifies_chain(true)
        .format(xfcc::Format::Nginx)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("x").subject_cn(["y"])));
    assert!(
        (e.kind(), &*e.setting()) == (ConfigErrorKind::FormatCannot, "identity_from"),
        "{e}"
    );
}

#[cfg(feature = "toml")]
#[test]
fn policy_file_and_environment_spell_it_identity_from() {
    let text = format!(
        "proxy_verifies_chain = true\n[elements]\nidentity_from = \"proxy-fields\"\nby = \"{EDGE_BY}\"\n[[allow]]\nspiffe_id = [\"{CLIENT_ID}\"]\n"
    );
    let policy = xfcc::config::PolicyConfig::from_toml_str(&text, ".")
        .unwrap()
        .builder()
        .unwrap()
        .build()
        .unwrap();
    let client = policy
        .verify(&mesh::without_cert(&capture("rsa-chain")))
        .unwrap();
    assert_eq!(client.verified_from(), IdentityFrom::ProxyFields);

    let bad = text.replace("proxy-fields", "fields");
    let e = xfcc::config::PolicyConfig::from_toml_str(&bad, ".")
        .unwrap()
        .builder()
        .unwrap_err();
    assert!(
        (e.kind(), &*e.setting()) == (ConfigErrorKind::Value, "identity_from"),
        "{e}"
    );

    let no_by = text.replace(&format!("by = \"{EDGE_BY}\"\n"), "");
    let e = xfcc::config::PolicyConfig::from_toml_str(&no_by, ".")
        .unwrap()
        .builder()
        .unwrap()
        .build()
        .unwrap_err();
    assert!(
        (e.kind(), &*e.setting()) == (ConfigErrorKind::ProxyFieldsCannot, "identity_from"),
        "{e}"
    );
}

#[test]
fn environment_variable_is_xfcc_identity_from() {
    let env = |pairs: &[(&str, &str)]| {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Policy::from_env_vars(move |name| map.get(name).cloned())
    };
    let base = [
        ("XFCC_IDENTITY_FROM", "proxy-fields"),
        ("XFCC_ALLOWED_SAN_URIS", CLIENT_ID),
    ];
    let e = env(&base).unwrap_err();
    assert!(e.setting() == "XFCC_IDENTITY_FROM", "{e}");
    assert!(
        e.to_string()
            .contains("XFCC_TRUSTED_PEERS, XFCC_TRUSTED_PROXY_SPKI or XFCC_TRUSTED_BY"),
        "{e}"
    );
    let policy = env(&[
        base[0],
        base[1],
        ("XFCC_TRUSTED_BY", EDGE_BY),
        ("XFCC_PROXY_VERIFIES_CHAIN", "true"),
    ])
    .unwrap();
    let client = policy
        .verify(&mesh::without_cert(&capture("rsa-chain")))
        .unwrap();
    assert_eq!(client.verified_from(), IdentityFrom::ProxyFields);
    let e = env(&[("XFCC_IDENTITY_FROM", "certificate"), base[1]]).unwrap_err();
    assert!(e.setting() == "XFCC_IDENTITY_FROM", "{e}");
}

#[test]
fn warns_when_only_by_guards_the_fields() {
    let with_by = sidecar([Rule::new("x").spiffe_id([CLIENT_ID])])
        .build()
        .unwrap();
    let w = with_by.warnings();
    // The names-only rule's fix is one proxy-fields mode accepts: a
    // thumbprint pin, not a chain (refused without a certificate).
    let names = w
        .iter()
        .find(|w| w.kind() == xfcc::outcome::WarningKind::NamesOnlyRule)
        .unwrap();
    assert!(
        names.fix().contains("thumbprint") && !names.fix().contains("chain"),
        "{}",
        names.fix()
    );
    assert!(
        w.iter()
            .any(|w| w.message().contains("without trusted_peers")),
        "{w:?}"
    );
    let with_peers = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["10.0.0.0/8"])
        .allow(Rule::new("x").spiffe_id([CLIENT_ID]))
        .build()
        .unwrap();
    assert!(
        !with_peers
            .warnings()
            .iter()
            .any(|w| w.message().contains("proxy-fields"))
    );
}

/// What a real Envoy sidecar writes (APPEND_FORWARD, by/hash/subject/uri)
/// for a client whose certificate's only URI SAN is `san`: Envoy writes
/// the SAN unescaped.
fn sidecar_element(hash: &str, san: &str) -> String {
    format!("By={EDGE_BY};Hash={hash};Subject=\"CN=attacker\";URI={san}")
}

const ATTACKER_SHA256: &str = "1111111111111111111111111111111111111111111111111111111111111111";

/// The outside review's attack: a SAN that closes the element and writes a
/// second one, with the proxy's own By, the victim's Hash and URI.
fn smuggled() -> String {
    sidecar_element(
        ATTACKER_SHA256,
        &format!("spiffe://attacker.example/x,By={EDGE_BY};Hash={CLIENT_SHA256};URI={CLIENT_ID}"),
    )
}

#[test]
fn a_split_element_repeating_the_trusted_by_is_refused() {
    let header = smuggled();
    // The policy the review defeated, now with the `by` build requires.
    for rule in [
        Rule::new("pin").thumbprint([CLIENT_SHA256]),
        Rule::new("id").spiffe_id([CLIENT_ID]),
    ] {
        let policy = sidecar([rule])
            .trusted_peers(["127.0.0.6/32"])
            .elements(xfcc::ElementCount::Any)
            .trust_element(-1)
            .build()
            .unwrap();
        let r = policy.verify(&header).unwrap_err();
        assert_eq!(
            (r.code(), r.detail().code()),
            ("untrusted_proxy", "repeated_by")
        );
        // The same client without the split is its own, unpinned self.
        let honest = sidecar_element(ATTACKER_SHA256, "spiffe://attacker.example/x");
        assert_eq!(policy.verify(&honest).unwrap_err().code(), "not_allowed");
    }
    // An exact count of one refuses the extra element by itself.
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .trusted_peers(["127.0.0.6/32"])
        .allow(Rule::new("pin").thumbprint([CLIENT_SHA256]))
        .build()
        .unwrap();
    assert_eq!(
        policy.verify(&header).unwrap_err().code(),
        "too_many_elements"
    );
    // A forged element without the By is not the proxy's.
    let no_by = sidecar_element(
        ATTACKER_SHA256,
        &format!("spiffe://attacker.example/x,Hash={CLIENT_SHA256};URI={CLIENT_ID}"),
    );
    let policy = sidecar([Rule::new("pin").thumbprint([CLIENT_SHA256])])
        .elements(xfcc::ElementCount::Any)
        .trust_element(-1)
        .build()
        .unwrap();
    assert_eq!(policy.verify(&no_by).unwrap_err().code(), "untrusted_proxy");
}

#[test]
fn a_variable_element_count_without_by_is_refused_at_build() {
    for count in [xfcc::ElementCount::Any, xfcc::ElementCount::Exactly(2)] {
        let e = Policy::builder()
            .proxy_verifies_chain(true)
            .identity_from(IdentityFrom::ProxyFields)
            .trusted_peers(["127.0.0.6/32"])
            .elements(count)
            .trust_element(-1)
            .allow(Rule::new("pin").thumbprint([CLIENT_SHA256]))
            .build()
            .unwrap_err();
        assert!(
            (e.kind(), &*e.setting()) == (ConfigErrorKind::ProxyFieldsCannot, "by"),
            "{e}"
        );
        assert!(e.to_string().contains("[elements] by"), "{e}");
    }
    // In the default (cert) mode the split element's certificate disagrees
    // with its truncated URI, so a variable count stays a warning there.
    Policy::builder()
        .proxy_verifies_chain(true)
        .trusted_peers(["127.0.0.6/32"])
        .elements(xfcc::ElementCount::Any)
        .trust_element(-1)
        .allow(Rule::new("pin").thumbprint([CLIENT_SHA256]))
        .build()
        .unwrap();
}

#[test]
fn pairs_smuggled_inside_one_element_are_refused() {
    let policy = sidecar([Rule::new("pin").thumbprint([CLIENT_SHA256])])
        .build()
        .unwrap();
    // `;Hash=` inside the URI SAN: a second Hash in the element.
    let h = sidecar_element(
        ATTACKER_SHA256,
        &format!("spiffe://a.example/x;Hash={CLIENT_SHA256}"),
    );
    assert_eq!(policy.verify(&h).unwrap_err().code(), "malformed");
    // `;By=` inside the URI SAN: a By after a URI, which Envoy never writes.
    let h = sidecar_element(
        ATTACKER_SHA256,
        &format!("spiffe://a.example/x;By={EDGE_BY}"),
    );
    let r = policy.verify(&h).unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("malformed", "fields_out_of_order")
    );
    // A DNS SAN holding `;URI=`: a URI after a DNS.
    let h = format!(
        "By={EDGE_BY};Hash={CLIENT_SHA256};Subject=\"\";URI=;DNS=a.example;URI={CLIENT_ID}"
    );
    let r = policy.verify(&h).unwrap_err();
    assert_eq!(
        (r.code(), r.detail().code()),
        ("malformed", "fields_out_of_order")
    );
}

#[test]
fn dns_names_count_only_when_no_san_could_have_written_them() {
    let rule = || Rule::new("dns").san_dns(["admin.contoso.example"]);
    let policy = sidecar([rule()]).build().unwrap();
    let element = |tail: &str| format!("By={EDGE_BY};Hash={CLIENT_SHA256};Subject=\"\";{tail}");
    // A single DNS and no URI SAN: the one reading that cannot be smuggled.
    let client = policy
        .verify(&element("URI=;DNS=admin.contoso.example"))
        .unwrap();
    assert_eq!(client.rule(), "dns");
    assert_eq!(
        policy
            .verify(&element("DNS=admin.contoso.example"))
            .unwrap()
            .rule(),
        "dns"
    );
    // A URI SAN "spiffe://a.example/x;DNS=admin.contoso.example" reads as
    // this; so does a DNS SAN "a.example;DNS=admin.contoso.example".
    for tail in [
        "URI=spiffe://a.example/x;DNS=admin.contoso.example",
        "URI=;DNS=a.example;DNS=admin.contoso.example",
    ] {
        let r = policy.verify(&element(tail)).unwrap_err();
        assert_eq!(r.code(), "not_allowed", "{tail}");
        assert_eq!(r.explanation().unwrap().rules()[0].failed(), ["san_dns"]);
    }
    // The real capture (one URI, two DNS SANs) is refused by a DNS rule
    // for the same reason; a URI or pin rule is the way to name it.
    let header = mesh::without_cert(&capture("rsa-chain"));
    let policy = sidecar([Rule::new("dns").san_dns(["*.contoso.example"])])
        .build()
        .unwrap();
    assert_eq!(policy.verify(&header).unwrap_err().code(), "not_allowed");
}
