//! `trusted_proxies`: the header is believed for the certificate the hop
//! presented on its connection, not for its address. Real certificates
//! (rcgen): a mesh CA, the proxy it issued, a look-alike of the proxy with
//! the same names and its own key, and a client.
#![expect(clippy::unwrap_used)]

use std::net::IpAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType, date_time_ymd,
};
use xfcc::{
    Peer, PeerCert, Policy, Rule, Source, TrustAnchors, TrustedProxy,
    inspect::CertIdentity,
    outcome::ConfigErrorKind,
    render::{EnvoyFields, render_envoy},
};

const PROXY_ID: &str = "spiffe://mesh.example/ns/edge/sa/envoy";
const OTHER_ID: &str = "spiffe://mesh.example/ns/edge/sa/other";

struct Pki {
    ca_pem: String,
    proxy: Vec<u8>,
    other: Vec<u8>,
    lookalike: Vec<u8>,
    client: CertIdentity,
}

fn ca_params(cn: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    p
}

fn leaf_params(uri: &str) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.subject_alt_names = vec![SanType::URI(uri.try_into().unwrap())];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    p.not_before = date_time_ymd(2020, 1, 1);
    p.not_after = date_time_ymd(2045, 1, 1);
    p
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params("Mesh CA").self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params("Mesh CA"), ca_key);
    let proxy = leaf_params(PROXY_ID)
        .signed_by(&KeyPair::generate().unwrap(), &issuer)
        .unwrap();
    let other = leaf_params(OTHER_ID)
        .signed_by(&KeyPair::generate().unwrap(), &issuer)
        .unwrap();
    // Same names as the proxy, signed by a CA of the attacker's that is
    // also called "Mesh CA".
    let fake_issuer = Issuer::new(ca_params("Mesh CA"), KeyPair::generate().unwrap());
    let lookalike = leaf_params(PROXY_ID)
        .signed_by(&KeyPair::generate().unwrap(), &fake_issuer)
        .unwrap();
    let mut c = CertificateParams::new(vec!["client.example".to_owned()]).unwrap();
    c.distinguished_name
        .push(DnType::CommonName, "client.example");
    c.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = c.self_signed(&KeyPair::generate().unwrap()).unwrap();
    Pki {
        ca_pem: ca.pem(),
        proxy: proxy.der().to_vec(),
        other: other.der().to_vec(),
        lookalike: lookalike.der().to_vec(),
        client: CertIdentity::from_der(client.der().to_vec()).unwrap(),
    }
}

fn by_chain(pki: &Pki) -> Policy {
    Policy::builder()
        .chain(TrustAnchors::new("mesh", pki.ca_pem.clone()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").chain("mesh").spiffe_id([PROXY_ID]),
        )])
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .build()
        .unwrap()
}

/// The SPKI pin of a certificate, as `xfcc inspect` prints it.
fn pin(der: &[u8]) -> String {
    CertIdentity::from_der(der.to_vec())
        .unwrap()
        .spki_sha256_base64()
}

/// A policy that names the proxy by its key, beside `trusted_peers` if
/// given.
fn pinned(pki: &Pki, peers: Option<&str>) -> Policy {
    let mut b = Policy::builder()
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").spki_sha256([pin(&pki.proxy)]),
        )])
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]));
    if let Some(p) = peers {
        b = b.trusted_peers([p]);
    }
    b.build().unwrap()
}

fn header(pki: &Pki, by: &str) -> String {
    render_envoy(&[by], &pki.client, &[], EnvoyFields::ACA)
}

fn over(der: &[u8]) -> Peer {
    let ip: IpAddr = "10.0.0.9".parse().unwrap();
    Peer::from(ip).with_tls(Some(Arc::new(PeerCert::new([der.to_vec()]))))
}

fn decide(
    p: &Policy,
    peer: Peer,
    value: Option<&str>,
) -> Result<Option<xfcc::ClientCert>, xfcc::Rejection> {
    p.verify_request(peer, |name| {
        value
            .filter(|_| name == "x-forwarded-client-cert")
            .map(str::as_bytes)
    })
}

#[cfg(feature = "chain")]
#[test]
fn the_proxy_s_own_connection_passes_and_names_the_entry() {
    let pki = pki();
    let p = by_chain(&pki);
    let cert = decide(&p, over(&pki.proxy), Some(&header(&pki, PROXY_ID)))
        .unwrap()
        .unwrap();
    assert_eq!(cert.rule(), "client");
    assert_eq!(cert.proxy(), Some("edge"));
    assert!(p.has_trusted_proxies());
}

#[cfg(feature = "chain")]
#[test]
fn every_other_connection_is_refused_whatever_its_address() {
    let pki = pki();
    let p = by_chain(&pki);
    let value = header(&pki, PROXY_ID);
    let ip: IpAddr = "10.0.0.9".parse().unwrap();
    let cases: Vec<(&str, Peer, &str, &str)> = vec![
        // TLS without a client certificate: a direct caller.
        (
            "no certificate",
            Peer::from(ip).with_tls(None),
            "untrusted_proxy",
            "no_proxy_certificate",
        ),
        // Another certificate of the same CA, another SPIFFE ID.
        (
            "other id",
            over(&pki.other),
            "untrusted_proxy",
            "proxy_not_allowed",
        ),
        // The proxy's names, the attacker's key and CA.
        (
            "look-alike",
            over(&pki.lookalike),
            "untrusted_proxy",
            "bad_signature",
        ),
        // Not a certificate at all.
        (
            "garbage",
            over(b"\x30\x03\x02\x01\x00"),
            "untrusted_proxy",
            "proxy_certificate_unreadable",
        ),
        // The adapter could not see the TLS: a wiring error, never a pass.
        (
            "no tls info",
            Peer::from(ip),
            "peer_unavailable",
            "peer_unavailable",
        ),
    ];
    for (what, peer, reason, detail) in cases {
        let e = decide(&p, peer, Some(&value)).unwrap_err();
        assert_eq!((e.code(), e.detail().code()), (reason, detail), "{what}");
        assert!(e.hint().is_some(), "{what}");
        // The refusal never carries certificate bytes.
        assert!(!e.to_string().contains("MII"), "{what}");
    }
}

#[cfg(feature = "chain")]
#[test]
fn a_refused_connection_without_the_header_gets_the_mode_s_answer() {
    let pki = pki();
    let p = by_chain(&pki);
    let ip: IpAddr = "10.0.0.9".parse().unwrap();
    let e = decide(&p, Peer::from(ip).with_tls(None), None).unwrap_err();
    assert_eq!(e.code(), "missing");
    // But an adapter that cannot see the TLS is a wiring error still.
    let e = decide(&p, Peer::from(ip), None).unwrap_err();
    assert_eq!(e.code(), "peer_unavailable");
}

#[cfg(feature = "chain")]
#[test]
fn by_must_be_the_proxy_s_uri_san_unless_the_policy_says_otherwise() {
    let pki = pki();
    let p = by_chain(&pki);
    let forged = header(&pki, OTHER_ID);
    let e = decide(&p, over(&pki.proxy), Some(&forged)).unwrap_err();
    assert_eq!(
        (e.code(), e.detail().code()),
        ("untrusted_proxy", "by_not_proxy")
    );
    assert_eq!(e.element(), Some(0));
    // Twice: the second read comes from the cache and still compares.
    let cached = Policy::builder()
        .chain(TrustAnchors::new("mesh", pki.ca_pem.clone()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").chain("mesh").spiffe_id([PROXY_ID]),
        )])
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .cache(64)
        .build()
        .unwrap();
    let good = header(&pki, PROXY_ID);
    assert!(decide(&cached, over(&pki.proxy), Some(&good)).is_ok());
    assert!(decide(&cached, over(&pki.proxy), Some(&good)).is_ok());
    // The same header over a trusted connection of another identity.
    let two = Policy::builder()
        .chain(TrustAnchors::new("mesh", pki.ca_pem.clone()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge")
                .chain("mesh")
                .spiffe_id([PROXY_ID, OTHER_ID]),
        )])
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .cache(64)
        .build()
        .unwrap();
    assert!(decide(&two, over(&pki.proxy), Some(&good)).is_ok());
    let e = decide(&two, over(&pki.other), Some(&good)).unwrap_err();
    assert_eq!(e.detail().code(), "by_not_proxy");
    // No By at all.
    let bare = render_envoy(&[], &pki.client, &[], EnvoyFields::ACA);
    assert_eq!(
        decide(&p, over(&pki.proxy), Some(&bare))
            .unwrap_err()
            .detail()
            .code(),
        "by_not_proxy"
    );
    // by_is_proxy = false: the By is not compared.
    let off = Policy::builder()
        .chain(TrustAnchors::new("mesh", pki.ca_pem.clone()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").chain("mesh").spiffe_id([PROXY_ID]),
        )])
        .by_is_proxy(false)
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .build()
        .unwrap();
    assert!(decide(&off, over(&pki.proxy), Some(&bare)).is_ok());
}

#[test]
fn an_spki_pin_names_the_proxy_by_its_key() {
    let pki = pki();
    let p = pinned(&pki, None);
    let value = header(&pki, PROXY_ID);
    assert_eq!(
        decide(&p, over(&pki.proxy), Some(&value))
            .unwrap()
            .unwrap()
            .proxy(),
        Some("edge")
    );
    // The look-alike has the names but not the key.
    let e = decide(&p, over(&pki.lookalike), Some(&value)).unwrap_err();
    assert_eq!(e.detail().code(), "proxy_not_allowed");
}

#[test]
fn addresses_and_certificates_combine() {
    let pki = pki();
    let p = pinned(&pki, Some("10.0.0.0/24"));
    let value = header(&pki, PROXY_ID);
    assert!(decide(&p, over(&pki.proxy), Some(&value)).is_ok());
    // The key from the wrong address.
    let far = over(&pki.proxy).with_addr(Some("192.0.2.1".parse().unwrap()));
    assert_eq!(
        decide(&p, far, Some(&value)).unwrap_err().code(),
        "untrusted_peer"
    );
    // The address without the key.
    let e = decide(&p, over(&pki.other), Some(&value)).unwrap_err();
    assert_eq!(e.code(), "untrusted_proxy");
    // Neither the header value alone nor lines without a peer are trusted.
    assert_eq!(
        p.verify_header_values([value.as_bytes()])
            .unwrap_err()
            .code(),
        "peer_unavailable"
    );
}

#[test]
fn sources_are_chosen_by_certificate() {
    let pki = pki();
    let p = Policy::builder()
        .source(
            Source::new("edge", Vec::<String>::new()).trusted_proxies([TrustedProxy::new(
                Rule::new("edge").spki_sha256([pin(&pki.proxy)]),
            )]),
        )
        .source(
            Source::new("internal", Vec::<String>::new())
                .trusted_proxies([TrustedProxy::new(
                    Rule::new("internal").spki_sha256([pin(&pki.other)]),
                )])
                .by_is_proxy(false),
        )
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .build()
        .unwrap();
    let value = header(&pki, PROXY_ID);
    let c = decide(&p, over(&pki.proxy), Some(&value)).unwrap().unwrap();
    assert_eq!((c.source(), c.proxy()), (Some("edge"), Some("edge")));
    let c = decide(&p, over(&pki.other), Some(&value)).unwrap().unwrap();
    assert_eq!(c.source(), Some("internal"));
    let e = decide(&p, over(&pki.lookalike), Some(&value)).unwrap_err();
    assert_eq!(e.code(), "untrusted_proxy");
    let e = decide(&p, Peer::unknown(), Some(&value)).unwrap_err();
    assert_eq!(e.code(), "peer_unavailable");
}

#[test]
fn settings_a_policy_cannot_honour_are_refused_by_name() {
    let pki = pki();
    let allow = || Rule::new("client").thumbprint([pki.client.sha256_hex()]);
    // Names alone: a self-signed certificate with them would pass.
    let e = Policy::builder()
        .trusted_proxies([TrustedProxy::new(Rule::new("edge").san_uri([PROXY_ID]))])
        .allow(allow())
        .build()
        .unwrap_err();
    assert_eq!(e.setting(), "[[trusted_proxies]] san_uri");
    assert!(e.to_string().contains("self-signed"), "{e}");
    // by_is_proxy without trusted_proxies compares nothing.
    let e = Policy::builder()
        .by_is_proxy(true)
        .allow(allow())
        .build()
        .unwrap_err();
    assert_eq!(e.setting(), "by_is_proxy");
    // A format without By.
    let e = Policy::builder()
        .format(xfcc::Format::Nginx)
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").thumbprint(["ab".repeat(32)]),
        )])
        .by_is_proxy(true)
        .allow(allow())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ConfigErrorKind::FormatCannot);
    // An entry naming an anchor set that does not exist.
    let e = Policy::builder()
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").chain("nope").san_uri([PROXY_ID]),
        )])
        .allow(allow())
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("[[trusted_proxies]] \"edge\""),
        "{e}"
    );
    // With sources, a policy-wide list is ambiguous.
    let e = Policy::builder()
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").thumbprint(["ab".repeat(32)]),
        )])
        .source(Source::new("a", ["10.0.0.0/8"]))
        .allow(allow())
        .build()
        .unwrap_err();
    assert_eq!(e.setting(), "trusted_proxies");
}

/// Cloudflare's shared origin-pull certificate: issued under the CN every
/// zone's connection carries. Built here with that name (the real one is
/// not needed to show the refusal).
#[cfg(feature = "chain")]
#[test]
fn cloudflare_s_global_certificate_is_refused_unless_allowed() {
    const CF: &str = "origin-pull.cloudflare.net";
    let ca_key = KeyPair::generate().unwrap();
    let ca = ca_params(CF).self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params(CF), ca_key);
    let mut lp = leaf_params("https://origin-pull.cloudflare.net/");
    lp.distinguished_name.push(DnType::CommonName, CF);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = lp.signed_by(&leaf_key, &issuer).unwrap();
    let pki = pki();
    let allow = || Rule::new("client").thumbprint([pki.client.sha256_hex()]);
    // At build: an anchor set holding its CA.
    let e = Policy::builder()
        .chain(TrustAnchors::new("cf", ca.pem()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("cloudflare")
                .chain("cf")
                .san_uri(["https://origin-pull.cloudflare.net/"]),
        )])
        .allow(allow())
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("allow_cloudflare_global"), "{e}");
    // Per request: a pin of the global certificate itself.
    let pin = pin(leaf.der());
    let pinned = |allowed| {
        Policy::builder()
            .trusted_proxies([TrustedProxy::new(
                Rule::new("cloudflare").spki_sha256([pin.as_str()]),
            )
            .allow_cloudflare_global(allowed)])
            .by_is_proxy(false)
            .allow(allow())
            .build()
            .unwrap()
    };
    let value = header(&pki, PROXY_ID);
    let e = decide(&pinned(false), over(leaf.der()), Some(&value)).unwrap_err();
    assert_eq!(
        (e.code(), e.detail().code()),
        ("untrusted_proxy", "cloudflare_global")
    );
    assert!(decide(&pinned(true), over(leaf.der()), Some(&value)).is_ok());
    let allowed = Policy::builder()
        .chain(TrustAnchors::new("cf", ca.pem()))
        .trusted_proxies([TrustedProxy::new(
            Rule::new("cloudflare")
                .chain("cf")
                .san_uri(["https://origin-pull.cloudflare.net/"]),
        )
        .allow_cloudflare_global(true)])
        .allow(allow())
        .build();
    assert!(allowed.is_ok());
}

#[cfg(feature = "toml")]
#[test]
fn the_policy_file_and_the_environment_read_the_settings() {
    let pki = pki();
    let dir = std::env::temp_dir().join(format!("xfcc-proxies-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mesh.pem"), &pki.ca_pem).unwrap();
    let text = format!(
        r#"
[chain.mesh]
trust_anchors = ["mesh.pem"]

[[trusted_proxies]]
name = "edge"
chain = "mesh"
spiffe_id = "{PROXY_ID}"

[[allow]]
name = "client"
thumbprint = "{}"
"#,
        pki.client.sha256_hex()
    );
    let p = Policy::from_toml_str(&text, &dir).unwrap();
    let r = p.readings().next().unwrap();
    assert!(r.has_trusted_proxies() && r.by_is_proxy());
    assert_eq!(r.trusted_proxy_names().collect::<Vec<_>>(), ["edge"]);
    #[cfg(feature = "chain")]
    assert!(decide(&p, over(&pki.proxy), Some(&header(&pki, PROXY_ID))).is_ok());
    let e = Policy::from_toml_str(
        &format!("{text}\n[elements]\nby_is_proxy = \"yes\"\n"),
        &dir,
    )
    .unwrap_err();
    assert!(e.to_string().contains("by_is_proxy"), "{e}");
    let e = Policy::from_toml_str(
        &text.replace(
            "name = \"edge\"",
            "name = \"edge\"\nallow_cloudflare_global = 1",
        ),
        &dir,
    )
    .unwrap_err();
    assert!(e.to_string().contains("allow_cloudflare_global"), "{e}");
    // A source named by certificate alone.
    let sources = format!(
        r#"
[[sources]]
name = "edge"
[[sources.trusted_proxies]]
name = "edge"
spki_sha256 = "{}"

[[allow]]
name = "client"
thumbprint = "{}"
"#,
        pin(&pki.proxy),
        pki.client.sha256_hex()
    );
    let p = Policy::from_toml_str(&sources, &dir).unwrap();
    let c = decide(&p, over(&pki.proxy), Some(&header(&pki, PROXY_ID)))
        .unwrap()
        .unwrap();
    assert_eq!(c.source(), Some("edge"));
    std::fs::remove_dir_all(&dir).unwrap();

    // The environment: SPKI pins.
    let pin = pin(&pki.proxy);
    let thumb = pki.client.sha256_hex();
    let env = [
        ("XFCC_TRUSTED_PROXY_SPKI", pin.as_str()),
        ("XFCC_ALLOWED_THUMBPRINTS", thumb.as_str()),
    ];
    let p = Policy::from_env_pairs(env).unwrap();
    let c = decide(&p, over(&pki.proxy), Some(&header(&pki, PROXY_ID)))
        .unwrap()
        .unwrap();
    assert_eq!(c.proxy(), Some("env"));
    assert_eq!(
        decide(&p, over(&pki.other), Some(&header(&pki, PROXY_ID)))
            .unwrap_err()
            .code(),
        "untrusted_proxy"
    );
}

#[test]
fn a_bad_pin_in_the_environment_is_blamed_on_its_variable() {
    let env = [
        ("XFCC_TRUSTED_PROXY_SPKI", "not-a-pin"),
        ("XFCC_ALLOWED_THUMBPRINTS", &*"ab".repeat(32)),
    ];
    let e = Policy::from_env_pairs(env).unwrap_err();
    assert_eq!(e.variable(), Some("XFCC_TRUSTED_PROXY_SPKI"), "{e}");
}

#[test]
fn recent_peers_give_the_same_chain_the_same_peer_cert() {
    let pki = pki();
    let recent = xfcc::RecentPeers::new(2);
    let a = recent.get(std::slice::from_ref(&pki.proxy));
    assert!(Arc::ptr_eq(
        &a,
        &recent.get(std::slice::from_ref(&pki.proxy))
    ));
    let b = recent.get(std::slice::from_ref(&pki.other));
    assert!(!Arc::ptr_eq(&a, &b));
    // A third chain pushes out the least recently used (the proxy's).
    let _ = recent.get(std::slice::from_ref(&pki.lookalike));
    let _ = recent.get(std::slice::from_ref(&pki.other));
    let _ = recent.get(std::slice::from_ref(&pki.lookalike));
    assert!(!Arc::ptr_eq(
        &a,
        &recent.get(std::slice::from_ref(&pki.proxy))
    ));
}

/// The proxy's certificate is judged at the policy's clock, with its
/// leeway, as a client's is: expired is `untrusted_proxy` (`expired`).
#[test]
fn an_expired_proxy_certificate_is_refused() {
    let pki = pki();
    let after = || std::time::UNIX_EPOCH + std::time::Duration::from_secs(2_400_000_000); // 2046
    let p = Policy::builder()
        .trusted_proxies([TrustedProxy::new(
            Rule::new("edge").spki_sha256([pin(&pki.proxy)]),
        )])
        .allow(Rule::new("client").thumbprint([pki.client.sha256_hex()]))
        .clock(after)
        .build()
        .unwrap();
    let e = decide(&p, over(&pki.proxy), Some(&header(&pki, PROXY_ID))).unwrap_err();
    assert_eq!(
        (e.code(), e.detail().code()),
        ("untrusted_proxy", "expired")
    );
}
