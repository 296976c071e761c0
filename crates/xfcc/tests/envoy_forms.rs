//! The forms Envoy writes since 1.38, captured from a real Envoy 1.40 (see
//! `tests/fixtures/envoy/capture.sh`): the JSON form (`format: JSON`,
//! fixtures in `json/`) and the `Issuer` key (`issuer: true`, in both
//! forms; text-form fixtures in `issuer/`).
#![expect(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

#[path = "support/mesh.rs"]
mod mesh;

use xfcc::{
    ElementCount, Policy, Rule,
    error::{ErrorKind, Inconsistency, ParseErrorKind},
    inspect::{CertIdentity, Limits, ParseOptions, Syntax, XfccHeader},
    outcome::IdentityFrom,
};

const EDGE_BY: &str = "spiffe://xfcc.test/ns/edge/sa/envoy";
const INNER_BY: &str = "spiffe://xfcc.test/ns/app/sa/sidecar";
const CLIENT_ID: &str = "spiffe://contoso.example/ns/payments/sa/client";
const ISSUER: &str = "CN=Contoso Issuing CA 1,O=Contoso,C=US";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn cert(name: &str) -> CertIdentity {
    CertIdentity::from_der(
        std::fs::read(fixtures().join("certs").join(format!("{name}.der"))).unwrap(),
    )
    .unwrap()
}

fn parse_kind(h: &str) -> ParseErrorKind {
    match XfccHeader::parse(h) {
        Err(e) => e.kind(),
        Ok(_) => panic!("parsed: {h}"),
    }
}

/// Every JSON capture reads as its text twin does: the same certificate,
/// chain, `By`, `Subject`, SANs, and an `Issuer` that agrees with the
/// certificate.
#[test]
fn every_json_capture_reads_as_its_text_twin() {
    let cases = [
        ("rsa-chain", "client-rsa"),
        ("rsa-leaf-only", "client-rsa"),
        ("p256-two-intermediates", "client-p256"),
        ("utf8-special-subject", "client-utf8"),
        ("no-cn", "client-nocn"),
        ("many-sans", "client-many-sans"),
        ("wrong-cn", "client-wrongcn"),
        ("self-signed-lookalike", "client-selfsigned"),
        ("universal-string-cn", "client-universal"),
    ];
    for (name, cert_name) in cases {
        let json_text = capture(&format!("json/{name}"));
        let text_text = capture(name);
        assert!(json_text.starts_with("[{\"by\":"), "{name}");
        let json = XfccHeader::parse(&json_text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let text = XfccHeader::parse(&text_text).unwrap();
        assert!(json.is_json() && !text.is_json(), "{name}");
        assert_eq!(json.len(), 1, "{name}");
        let (j, t) = (json.element(0).unwrap(), text.element(0).unwrap());
        assert!(j.is_json(), "{name}");
        let (jc, tc) = (j.decode().unwrap(), t.decode().unwrap());
        assert_eq!(jc.leaf(), &cert(cert_name), "{name}");
        assert_eq!(jc.leaf(), tc.leaf(), "{name}");
        assert!(jc.chain_der().eq(tc.chain_der()), "{name}");
        let texts = |it: &mut dyn Iterator<Item = xfcc::inspect::Value<'_>>| {
            it.map(|v| v.text().into_owned()).collect::<Vec<_>>()
        };
        assert_eq!(texts(&mut j.by()), [EDGE_BY], "{name}");
        assert_eq!(texts(&mut j.dns()), texts(&mut t.dns()), "{name}");
        // Envoy's text form writes `URI=` for none; the JSON form leaves
        // the key out.
        let text_uri: Vec<String> = texts(&mut t.uri())
            .into_iter()
            .filter(|u| !u.is_empty())
            .collect();
        assert_eq!(texts(&mut j.uri()), text_uri, "{name}");
        assert_eq!(
            j.subject().unwrap().text(),
            t.subject().unwrap().raw(),
            "{name}: Subject is the same RFC 2253 text once JSON is undone"
        );
        let issuer = j.issuer().unwrap().text();
        let expected = jc.leaf().issuer_name();
        assert_eq!(
            &xfcc::inspect::DistinguishedName::parse(&issuer).unwrap(),
            expected,
            "{name}"
        );
        assert!(json.check_all(&Limits::DEFAULT).is_ok(), "{name}");
    }
}

#[test]
fn the_text_form_with_issuer_parses_strictly_and_agrees() {
    for (name, cert_name) in [
        ("rsa-chain", "client-rsa"),
        ("self-signed-lookalike", "client-selfsigned"),
        ("many-sans", "client-many-sans"),
    ] {
        let text = capture(&format!("issuer/{name}"));
        assert!(text.ends_with('"') && text.contains(";Issuer=\""), "{name}");
        let header = XfccHeader::parse(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let e = header.element(0).unwrap();
        assert_eq!(e.decode().unwrap().leaf(), &cert(cert_name), "{name}");
        assert!(e.issuer().is_some(), "{name}");
    }
    let rsa = capture("issuer/rsa-chain");
    let header = XfccHeader::parse(&rsa).unwrap();
    assert_eq!(header.element(0).unwrap().issuer().unwrap().raw(), ISSUER);
    // Issuer is a singleton, like Subject.
    assert_eq!(
        parse_kind(&format!("{rsa};Issuer=\"CN=x\"")),
        ParseErrorKind::DuplicateKey
    );
}

/// The DNS injection through a hop with `issuer: true`: the smuggled
/// element takes the proxy's `Issuer`, and the first no longer matches its
/// certificate.
#[test]
fn the_dns_injection_with_issuer_is_still_refused() {
    let text = capture("issuer/injection-dns");
    let header = XfccHeader::parse(&text).unwrap();
    assert_eq!(header.len(), 2);
    let err = header.check_all(&Limits::DEFAULT).unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Inconsistent(Inconsistency::DnsMismatch)
    );
    assert_eq!(err.element(), Some(0));
}

/// JSON escapes what the text form writes bare: the injections are one
/// element each, whose SAN is exactly the certificate's, and name nobody
/// else.
#[test]
fn injections_are_one_element_in_the_json_form() {
    for (name, cert_name) in [
        ("injection-uri", "evil-uri"),
        ("injection-dns", "evil-dns"),
        ("injection-semicolon", "evil-semicolon"),
    ] {
        let text = capture(&format!("json/{name}"));
        let header = XfccHeader::parse(&text).unwrap();
        assert_eq!(header.len(), 1, "{name}");
        let e = header.element(0).unwrap();
        let fc = e.decode().unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(fc.leaf(), &cert(cert_name), "{name}");
        assert_eq!(e.uri().count() + e.dns().count(), 1, "{name}");
    }
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("client").spiffe_id([CLIENT_ID]))
        .allow(Rule::new("dns").san_dns(["client-app.contoso.example"]))
        .build()
        .unwrap();
    for name in ["injection-uri", "injection-dns", "injection-semicolon"] {
        let r = policy
            .verify(&capture(&format!("json/{name}")))
            .unwrap_err();
        assert_eq!(r.reason().code(), "not_allowed", "{name}");
    }
}

#[test]
fn an_edited_issuer_is_inconsistent_in_both_forms() {
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .allow(Rule::new("client").subject_cn(["client-app.contoso.example"]))
        .build()
        .unwrap();
    let text = capture("issuer/rsa-chain");
    let json = capture("json/rsa-chain");
    assert!(policy.verify(&text).is_ok());
    assert!(policy.verify(&json).is_ok());
    for edited in [
        text.replace(ISSUER, "CN=Contoso Root Override,O=Contoso,C=US"),
        json.replace(ISSUER, "CN=Contoso Root Override,O=Contoso,C=US"),
        // Not a name at all.
        json.replace(ISSUER, "not a name"),
    ] {
        assert_ne!(edited, text);
        let r = policy.verify(&edited).unwrap_err();
        assert_eq!(r.reason().code(), "inconsistent");
        assert_eq!(r.detail().code(), "issuer_mismatch");
    }
    // The same name spelled differently is the same name.
    let spaced = json.replace(ISSUER, "cn=Contoso Issuing CA 1, o=Contoso, c=US");
    assert_ne!(spaced, json);
    assert!(policy.verify(&spaced).is_ok());
}

#[test]
fn a_json_edge_makes_a_text_hop_append_json() {
    let text = capture("json/two-hop");
    let header = XfccHeader::parse(&text).unwrap();
    assert!(header.is_json());
    assert_eq!(header.len(), 2);
    let e: Vec<_> = header.elements().collect();
    assert_eq!(e[0].by().next().unwrap().text(), EDGE_BY);
    assert_eq!(e[1].by().next().unwrap().text(), INNER_BY);
    assert_eq!(e[0].decode().unwrap().leaf(), &cert("client-rsa"));
    assert_eq!(e[1].decode().unwrap().leaf(), &cert("edge"));
    // The inner hop is configured without issuer: its element has none.
    assert!(e[0].issuer().is_some() && e[1].issuer().is_none());
}

/// A client sends its own JSON header to an `APPEND_FORWARD` hop
/// configured for the text form: the hop appends in JSON. The client's
/// forged element claims the edge's `By` and an admin's SPIFFE ID.
#[test]
fn a_client_forcing_json_is_allowed_as_itself_never_as_its_forgery() {
    let forced = capture("json/client-forced-json");
    let header = XfccHeader::parse(&forced).unwrap();
    assert!(header.is_json());
    assert_eq!(header.len(), 2);
    let admin = "spiffe://contoso.example/ns/payments/sa/admin";
    let builder = || {
        Policy::builder()
            .proxy_verifies_chain(true)
            .allow(Rule::new("admin").spiffe_id([admin]))
            .allow(Rule::new("client").spiffe_id([CLIENT_ID]))
    };
    // The one-hop default refuses two elements.
    let r = builder().build().unwrap().verify(&forced).unwrap_err();
    assert_eq!(r.reason().code(), "too_many_elements");
    // Trusting the element the hop appended: the client, as itself.
    let policy = builder()
        .elements(ElementCount::Any)
        .trust_element(-1)
        .trusted_proxy(INNER_BY)
        .build()
        .unwrap();
    let client = policy.verify(&forced).unwrap();
    assert_eq!(client.rule(), "client");
    assert_eq!(client.spiffe_id(), Some(CLIENT_ID));
    // Trusting the first element, as the edge's: the forged element has
    // no certificate, and its fields are not read from a certificate.
    let policy = builder()
        .elements(ElementCount::Any)
        .trust_element(0)
        .trusted_proxy(EDGE_BY)
        .build()
        .unwrap();
    let r = policy.verify(&forced).unwrap_err();
    assert_eq!(r.detail().code(), "no_certificate");
    // Nor from its fields: the forged Hash names no certificate the rule
    // allows, and a variable count needs the proxy's `by`, which the
    // inner hop's element does not repeat.
    let policy = Policy::builder()
        .proxy_verifies_chain(true)
        .proxy_verifies_chain(true)
        .identity_from(IdentityFrom::ProxyFields)
        .elements(ElementCount::Any)
        .trust_element(-1)
        .trusted_proxy(INNER_BY)
        .allow(Rule::new("admin").spiffe_id([admin]))
        .build()
        .unwrap();
    let r = policy.verify(&forced).unwrap_err();
    assert_eq!(r.reason().code(), "not_allowed");
}

fn fields_only(json_header: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(json_header).unwrap();
    for e in v.as_array_mut().unwrap() {
        let o = e.as_object_mut().unwrap();
        o.remove("cert");
        o.remove("chain");
    }
    // Envoy's own key order (serde_json keeps insertion order only with a
    // feature; rebuild by hand).
    let order = ["by", "hash", "subject", "uri", "dns", "issuer"];
    let objs: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let members: Vec<String> = order
                .iter()
                .filter_map(|k| e.get(*k).map(|x| format!("\"{k}\":{x}")))
                .collect();
            format!("{{{}}}", members.join(","))
        })
        .collect();
    format!("[{}]", objs.join(","))
}

/// `identity_from = "proxy-fields"` with `Issuer`: issuer rules read the
/// proxy's Issuer, and in the JSON form every SAN is the proxy's.
#[test]
fn proxy_fields_read_issuer_and_every_json_san() {
    let mesh = |rule: Rule| {
        Policy::builder()
            .proxy_verifies_chain(true)
            .proxy_verifies_chain(true)
            .identity_from(IdentityFrom::ProxyFields)
            .trusted_proxy(EDGE_BY)
            .allow(rule)
            .build()
            .unwrap()
    };
    let json = fields_only(&capture("json/rsa-chain"));
    assert!(
        !json.contains("\"cert\"") && json.contains("\"issuer\""),
        "{json}"
    );
    let by_issuer = mesh(Rule::new("ca").issuer_cn(["Contoso Issuing CA 1"]));
    let client = by_issuer.verify(&json).unwrap();
    assert_eq!(client.verified_from(), IdentityFrom::ProxyFields);
    assert!(mesh(Rule::new("ca").issuer([ISSUER])).verify(&json).is_ok());
    assert_eq!(
        mesh(Rule::new("ca").issuer_cn(["Other CA"]))
            .verify(&json)
            .unwrap_err()
            .reason()
            .code(),
        "not_allowed"
    );
    // The second of two DNS SANs: only the JSON form says it is one.
    let second = mesh(Rule::new("api").san_dns(["api.contoso.example"]));
    assert!(second.verify(&json).is_ok());
    let many = fields_only(&capture("json/many-sans"));
    assert!(
        mesh(Rule::new("id2").san_uri(["spiffe://contoso.example/ns/many/sa/id2"]))
            .verify(&many)
            .is_ok()
    );

    // The text form: an Issuer after a non-empty DNS may be that SAN's
    // text (Envoy writes it bare), so it is not read...
    let text = capture("issuer/rsa-chain");
    let text_fields = mesh::without_cert(&text);
    assert!(text_fields.contains(";DNS=api.contoso.example;Issuer="));
    assert_eq!(
        by_issuer.verify(&text_fields).unwrap_err().reason().code(),
        "not_allowed"
    );
    // ...which is what stops a SAN that carries one: a DNS SAN
    // `x;Issuer=CN=Other CA` reads as a DNS and an Issuer.
    let forged = "By=spiffe://xfcc.test/ns/edge/sa/envoy;Hash=642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4;Subject=\"CN=x\";URI=;DNS=x;Issuer=CN=Other CA";
    assert_eq!(
        mesh(Rule::new("ca").issuer_cn(["Other CA"]))
            .verify(forged)
            .unwrap_err()
            .reason()
            .code(),
        "not_allowed"
    );
    // With no SAN before it, the text form's Issuer is read.
    let no_sans = "By=spiffe://xfcc.test/ns/edge/sa/envoy;Hash=642d3d0cbbf64d1e59f2c73be3d715c222020123909713797a9ee8b9410643a4;Subject=\"CN=x\";URI=;Issuer=\"CN=Contoso Issuing CA 1,O=Contoso,C=US\"";
    assert!(by_issuer.verify(no_sans).is_ok());
}

/// The JSON reader is strict: each departure from what Envoy writes has
/// its own code, at the byte where it starts.
#[test]
fn the_json_reader_refuses_precisely() {
    let h = "0".repeat(64);
    let cases: &[(&str, ParseErrorKind, usize)] = &[
        ("[]", ParseErrorKind::Empty, 0),
        ("[ ]", ParseErrorKind::Empty, 0),
        // What Envoy makes of a client's `[]`.
        ("[,{\"uri\":[\"a\"]}]", ParseErrorKind::InvalidJson, 1),
        ("{\"uri\":[\"a\"]}", ParseErrorKind::InvalidJson, 0),
        ("[{\"uri\":[\"a\"]}", ParseErrorKind::InvalidJson, 14),
        ("[{\"uri\":[\"a\"]}] x", ParseErrorKind::InvalidJson, 16),
        ("[{\"uri\":[\"a\"]},]", ParseErrorKind::InvalidJson, 15),
        ("[{\"uri\":[\"a\"],}]", ParseErrorKind::InvalidJson, 14),
        ("[{}]", ParseErrorKind::EmptyElement, 1),
        ("[1]", ParseErrorKind::JsonType, 1),
        ("[{\"uri\":\"a\"}]", ParseErrorKind::JsonType, 8),
        ("[{\"uri\":[1]}]", ParseErrorKind::JsonType, 9),
        ("[{\"hash\":[\"a\"]}]", ParseErrorKind::JsonType, 9),
        ("[{\"cert\":null}]", ParseErrorKind::JsonType, 9),
        (
            "[{\"uri\":[\"a\"],\"uri\":[\"b\"]}]",
            ParseErrorKind::DuplicateKey,
            15,
        ),
        ("[{\"URI\":[\"a\"]}]", ParseErrorKind::UnknownKey, 3),
        ("[{\"u\\u0072i\":[\"a\"]}]", ParseErrorKind::InvalidKey, 3),
        ("[{\"uri\":[\"a\\x\"]}]", ParseErrorKind::InvalidJson, 11),
        ("[{\"uri\":[\"\\ud800\"]}]", ParseErrorKind::InvalidJson, 10),
        (
            "[{\"uri\":[\"a\tb\"]}]",
            ParseErrorKind::ControlCharacter,
            11,
        ),
        ("[{\"uri\":[\"a]}]", ParseErrorKind::UnterminatedQuote, 9),
        ("[{\"hash\":\"abc\"}]", ParseErrorKind::InvalidHash, 10),
        ("[{\"uri\" [\"a\"]}]", ParseErrorKind::InvalidJson, 8),
    ];
    for &(input, kind, offset) in cases {
        let e = XfccHeader::parse(input)
            .err()
            .unwrap_or_else(|| panic!("parsed: {input}"));
        assert_eq!((e.kind(), e.offset()), (kind, offset), "{input}");
        // The message names the form's keys, never the input's text.
        assert!(!e.to_string().contains("\"a"), "{e}");
    }
    // A hash duplicated under two spellings is two keys in JSON only if
    // both are known: "Hash" is unknown (strict) rather than a duplicate.
    assert_eq!(
        parse_kind(&format!("[{{\"hash\":\"{h}\",\"Hash\":\"{h}\"}}]")),
        ParseErrorKind::UnknownKey
    );
}

#[test]
fn the_json_reader_is_bounded() {
    let one = "{\"uri\":[\"a\"]}";
    let many = format!("[{}]", vec![one; 33].join(","));
    assert_eq!(parse_kind(&many), ParseErrorKind::TooManyElements);
    let items = format!("[{{\"dns\":[{}]}}]", vec!["\"a\""; 65].join(","));
    assert_eq!(parse_kind(&items), ParseErrorKind::TooManyPairs);
    let big = format!("[{{\"uri\":[\"{}\"]}}]", "a".repeat(64 * 1024));
    assert_eq!(parse_kind(&big), ParseErrorKind::TooLong);
    // Lenient syntax ignores an unknown key with a scalar or a flat array,
    // and refuses anything deeper.
    let lenient = ParseOptions::DEFAULT.with_syntax(Syntax::Lenient);
    let ok = "[ {\"uri\" : [\"a\"] , \"x\": 1.5e3, \"y\": [true, null, \"z\"] } ]";
    let header = XfccHeader::parse_with(ok, &lenient).unwrap();
    assert_eq!(header.element(0).unwrap().uri().next().unwrap().text(), "a");
    for deep in [
        "[{\"uri\":[\"a\"],\"x\":{\"y\":1}}]",
        "[{\"uri\":[\"a\"],\"x\":[[1]]}]",
        &format!("[{{\"x\":{}1{}}}]", "[".repeat(10_000), "]".repeat(10_000)),
    ] {
        let e = XfccHeader::parse_with(deep, &lenient).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::JsonType, "{}", &deep[..20]);
    }
}

#[test]
fn json_escapes_are_undone_before_anything_compares() {
    let header = XfccHeader::parse(
        r#"[{"by":["spiffe:\/\/edge"],"subject":"CN=a\\,b","uri":["x\u002Cy"]}]"#,
    )
    .unwrap();
    let e = header.element(0).unwrap();
    assert_eq!(e.by().next().unwrap().text(), "spiffe://edge");
    assert_eq!(e.by().next().unwrap().raw(), r"spiffe:\/\/edge");
    assert_eq!(e.subject().unwrap().text(), r"CN=a\,b");
    let dn = xfcc::inspect::DistinguishedName::parse(&e.subject().unwrap().text()).unwrap();
    assert_eq!(dn.common_names().collect::<Vec<_>>(), ["a,b"]);
    assert_eq!(e.uri().next().unwrap().text(), "x,y");
    // The pairs, in order, each array item one.
    let keys: Vec<_> = e.pairs().map(|p| p.key()).collect();
    assert_eq!(
        keys,
        [
            xfcc::inspect::Key::By,
            xfcc::inspect::Key::Subject,
            xfcc::inspect::Key::Uri
        ]
    );
    // An escaped certificate decodes as Envoy's plain one.
    let json = capture("json/rsa-chain");
    let escaped = json.replace("MII", "\\u004dII").replace('/', "\\/");
    assert_ne!(escaped, json);
    let a = XfccHeader::parse(&json)
        .unwrap()
        .element(0)
        .unwrap()
        .decode()
        .unwrap();
    let b = XfccHeader::parse(&escaped)
        .unwrap()
        .element(0)
        .unwrap()
        .decode()
        .unwrap();
    assert_eq!(a.leaf(), b.leaf());
    assert!(a.chain_der().eq(b.chain_der()));
}

/// The renderers write what Envoy 1.40 writes, byte for byte.
#[test]
fn the_renderers_write_what_envoy_writes() {
    let chain = |name: &str| {
        let pem =
            std::fs::read_to_string(fixtures().join("certs").join(format!("{name}.pem"))).unwrap();
        xfcc::inspect::decode_certificate(&pem).unwrap()
    };
    let mut fields = xfcc::render::EnvoyFields::ALL;
    fields.issuer = true;
    for (name, leaf, intermediates) in [
        ("rsa-chain", "client-rsa", &["inter"][..]),
        ("many-sans", "client-many-sans", &["inter"][..]),
        ("utf8-special-subject", "client-utf8", &["inter"][..]),
        ("injection-uri", "evil-uri", &[][..]),
    ] {
        let inter: Vec<_> = intermediates.iter().map(|n| chain(n)).collect();
        let json = xfcc::render::render_envoy_json(&[EDGE_BY], &cert(leaf), &inter, fields);
        assert_eq!(json, capture(&format!("json/{name}")), "{name}");
    }
    let text =
        xfcc::render::render_envoy(&[EDGE_BY], &cert("client-rsa"), &[chain("inter")], fields);
    assert_eq!(text, capture("issuer/rsa-chain"));
}
