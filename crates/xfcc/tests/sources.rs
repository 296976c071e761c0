//! `[[sources]]`: several proxies in front of one service, each judged by
//! its own addresses, header, format and elements.
#![expect(clippy::unwrap_used)]

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use xfcc::{ElementCount, Format, Policy, PolicyBuilder, Rule, Source};

fn capture(name: &str) -> String {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/envoy/{name}.txt"));
    std::fs::read_to_string(p).unwrap()
}

/// The `Cert=` value of a capture: what nginx's `$ssl_client_escaped_cert`
/// sends for the same client.
fn nginx_value(name: &str) -> String {
    let c = capture(name);
    let start = c.find("Cert=\"").unwrap() + 6;
    c[start..start + c[start..].find('"').unwrap()].to_owned()
}

fn builder() -> PolicyBuilder {
    let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    Policy::builder()
        .proxy_verifies_chain(true)
        .clock(move || at)
        .allow(Rule::new("partner").subject_cn(["client-app.contoso.example"]))
}

/// An ingress-nginx and a Gateway (Envoy) in front of one service.
fn two_proxies() -> Policy {
    builder()
        .source(
            Source::new("ingress-nginx", ["10.0.1.0/24"])
                .format(Format::Nginx)
                .header_name("X-SSL-Client-Cert"),
        )
        .source(Source::new("gateway", ["10.0.2.0/24", "fd00::/64"]))
        .build()
        .unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// Verifies a request from `peer` carrying `headers` (name, value).
fn send(
    policy: &Policy,
    peer: Option<&str>,
    headers: &[(&str, String)],
) -> Result<Option<xfcc::ClientCert>, xfcc::Rejection> {
    policy.verify_request(peer.map(ip), |name| {
        headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_bytes())
            .collect::<Vec<_>>()
    })
}

#[test]
fn each_proxy_is_read_by_its_own_header_and_format() {
    let p = two_proxies();
    let envoy = ("x-forwarded-client-cert", capture("rsa-chain"));
    let nginx = ("x-ssl-client-cert", nginx_value("rsa-chain"));
    let c = send(&p, Some("10.0.2.7"), std::slice::from_ref(&envoy))
        .unwrap()
        .unwrap();
    assert_eq!((c.rule(), c.source()), ("partner", Some("gateway")));
    let c = send(&p, Some("fd00::9"), std::slice::from_ref(&envoy))
        .unwrap()
        .unwrap();
    assert_eq!(c.source(), Some("gateway"));
    let c = send(&p, Some("10.0.1.7"), std::slice::from_ref(&nginx))
        .unwrap()
        .unwrap();
    assert_eq!((c.rule(), c.source()), ("partner", Some("ingress-nginx")));
    // An IPv4-mapped peer is its IPv4 address.
    let c = send(&p, Some("::ffff:10.0.1.7"), std::slice::from_ref(&nginx))
        .unwrap()
        .unwrap();
    assert_eq!(c.source(), Some("ingress-nginx"));
    // A header the source does not write is not read: through nginx, a
    // client's own X-Forwarded-Client-Cert is nothing (missing).
    let r = send(&p, Some("10.0.1.7"), std::slice::from_ref(&envoy)).unwrap_err();
    assert_eq!((r.code(), r.source()), ("missing", Some("ingress-nginx")));
    // The gateway's header read with the gateway's rules: a refusal names it.
    let wrong = ("x-forwarded-client-cert", capture("wrong-cn"));
    let r = send(&p, Some("10.0.2.7"), &[wrong]).unwrap_err();
    assert_eq!((r.code(), r.source()), ("not_allowed", Some("gateway")));
    let r = send(
        &p,
        Some("10.0.2.7"),
        &[("x-forwarded-client-cert", capture("two-hop"))],
    )
    .unwrap_err();
    assert_eq!(r.code(), "too_many_elements");
}

#[test]
fn a_peer_in_no_source_is_untrusted_and_a_request_without_a_peer_unavailable() {
    let p = two_proxies();
    for header in [
        ("x-forwarded-client-cert", capture("rsa-chain")),
        ("X-SSL-Client-Cert", nginx_value("rsa-chain")),
    ] {
        let r = send(&p, Some("192.0.2.1"), &[header]).unwrap_err();
        assert_eq!(r.code(), "untrusted_peer");
        assert_eq!((r.peer(), r.source()), (Some(ip("192.0.2.1")), None));
    }
    let r = send(&p, Some("192.0.2.1"), &[]).unwrap_err();
    assert_eq!(r.code(), "missing");
    let r = send(
        &p,
        None,
        &[("x-forwarded-client-cert", capture("rsa-chain"))],
    )
    .unwrap_err();
    assert_eq!(r.code(), "peer_unavailable");
    // Without a peer, which proxy's reading applies is unknown.
    assert_eq!(
        p.verify(&capture("rsa-chain")).unwrap_err().code(),
        "peer_unavailable"
    );
    assert!(p.is_trusted_peer(ip("10.0.1.200")) && !p.is_trusted_peer(ip("10.0.3.1")));
    // Each source's reading is there to read.
    let names: Vec<Option<&str>> = p.readings().map(|r| r.source()).collect();
    assert_eq!(names, [Some("ingress-nginx"), Some("gateway")]);
    let nginx = p.readings().next().unwrap();
    assert_eq!(
        (nginx.format(), nginx.header_name()),
        (Format::Nginx, "x-ssl-client-cert")
    );
    // The policy read through one source alone verifies a value as that
    // proxy writes it, and names the source; the rules are the policy's.
    let only = p.for_source("ingress-nginx").unwrap();
    assert_eq!(only.readings().len(), 1);
    assert_eq!(only.header_names(), ["x-ssl-client-cert"]);
    let r = only.verify(&capture("rsa-chain")).unwrap_err();
    assert_eq!(
        (r.code(), r.source()),
        ("bad_certificate", Some("ingress-nginx"))
    );
    assert!(p.for_source("nobody").is_none());
}

#[test]
fn overlapping_duplicate_or_empty_sources_are_refused_by_name() {
    let refused = |b: PolicyBuilder, says: &[&str]| {
        let e = b.build().unwrap_err().to_string();
        for s in says {
            assert!(e.contains(s), "{s:?} not in {e}");
        }
    };
    refused(
        builder()
            .source(Source::new("a", ["10.0.0.0/8"]))
            .source(Source::new("b", ["192.0.2.0/24", "10.1.2.3"])),
        &["trusted_peers", "10.0.0.0/8 (a)", "10.1.2.3/32 (b)"],
    );
    refused(
        builder()
            .source(Source::new("a", ["10.0.0.1"]))
            .source(Source::new("a", ["10.0.0.2"])),
        &["name", "\"a\""],
    );
    refused(builder().source(Source::new(" ", ["10.0.0.1"])), &["name"]);
    refused(
        builder().source(Source::new("a", Vec::<String>::new())),
        &["trusted_peers"],
    );
    refused(
        builder().source(Source::new("a", ["0.0.0.0/0"])),
        &["trusted_peers"],
    );
    // One proxy's settings for the whole policy beside sources: ambiguous.
    let one = || builder().source(Source::new("a", ["10.0.0.1"]));
    refused(
        one().trusted_peers(["10.0.0.1"]),
        &["trusted_peers", "each [[sources]]"],
    );
    refused(one().format(Format::Nginx), &["format", "each [[sources]]"]);
    refused(
        one().header_name("x-client-cert"),
        &["header_name", "each [[sources]]"],
    );
    refused(
        one().elements(ElementCount::Exactly(2)),
        &["count", "each [[sources]]"],
    );
    refused(one().trust_element(-1), &["trust", "each [[sources]]"]);
    refused(
        one().trusted_proxy("spiffe://x/edge"),
        &["by", "each [[sources]]"],
    );
    // A source's own settings are judged as the policy's are.
    refused(
        builder().source(
            Source::new("a", ["10.0.0.1"])
                .format(Format::Nginx)
                .trusted_proxy("x"),
        ),
        &["by"],
    );
}

#[test]
#[cfg(feature = "toml")]
fn the_file_reads_sources_and_the_environment_may_not_override_them() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("xfcc-sources");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("policy.toml");
    std::fs::write(
        &file,
        r#"
[[sources]]
name = "ingress-nginx"
trusted_peers = ["10.0.1.0/24"]
format = "nginx"
header = "x-ssl-client-cert"

[[sources]]
name = "gateway"
trusted_peers = ["10.0.2.0/24"]
[sources.elements]
count = 0
trust = -1

[[allow]]
name = "partner"
subject_cn = ["client-app.contoso.example"]
thumbprint = ["ab"]
"#
        .replace(
            "thumbprint = [\"ab\"]",
            &format!("thumbprint = [\"{}\"]", "ab".repeat(32)),
        ),
    )
    .unwrap();
    let config = xfcc::config::PolicyConfig::from_toml_file(&file).unwrap();
    assert_eq!(config.source_names(), ["ingress-nginx", "gateway"]);
    let p = config.build().unwrap();
    let gw = p
        .readings()
        .find(|r| r.source() == Some("gateway"))
        .unwrap();
    assert_eq!(
        (gw.element_count(), gw.trusted_element()),
        (ElementCount::Any, -1)
    );
    // The gateway's any-count reading without `by` is warned about, by
    // source; with trusted_peers and trust = -1 it is tied to the proxy.
    assert!(
        p.warnings()
            .iter()
            .all(|w| w.code() != "elements_without_by"),
        "{:?}",
        p.warnings()
    );
    for var in ["XFCC_FORMAT", "XFCC_HEADER"] {
        let value = if var == "XFCC_FORMAT" {
            "nginx"
        } else {
            "x-client-cert"
        };
        let e =
            Policy::from_env_pairs([("XFCC_POLICY_FILE", file.to_str().unwrap()), (var, value)])
                .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(var) && msg.contains("[[sources]]"), "{msg}");
    }
    // An unknown key in a source is refused by name.
    let e = xfcc::config::PolicyConfig::from_toml_str(
        "[[sources]]\nname = \"a\"\ntrusted_peer = [\"10.0.0.1\"]\n",
        ".",
    )
    .unwrap_err();
    assert!(e.to_string().contains("trusted_peer"), "{e}");
}

#[test]
fn a_sources_reading_is_warned_about_under_its_name() {
    let p = builder()
        .source(
            Source::new("edge", ["10.0.0.1"])
                .elements(ElementCount::Any)
                .trust_element(0),
        )
        .build()
        .unwrap();
    let w: Vec<String> = p
        .warnings()
        .iter()
        .filter(|w| w.code() == "elements_without_by")
        .map(ToString::to_string)
        .collect();
    assert_eq!(w.len(), 1, "{:?}", p.warnings());
    assert!(w[0].starts_with("[[sources]] \"edge\": "), "{w:?}");
}
