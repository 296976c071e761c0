//! Shared inputs for the workspace benchmarks: real Envoy captures and the
//! ACA-style header built from them.
#![expect(clippy::unwrap_used)]

use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/xfcc/tests/fixtures")
}

/// A header captured from Envoy (`crates/xfcc/tests/fixtures/envoy/<name>.txt`).
pub fn capture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("envoy").join(format!("{name}.txt"))).unwrap()
}

/// DER of the RSA-2048 client certificate.
pub fn leaf_der() -> Vec<u8> {
    std::fs::read(fixtures().join("certs/client-rsa.der")).unwrap()
}

/// What Azure Container Apps sends: `Hash=…;Cert="…";Chain="…";` (RSA-2048
/// leaf plus its issuing CA), cut from a real Envoy capture.
pub fn aca_header() -> String {
    let full = capture("rsa-chain");
    let start = full.find("Hash=").unwrap();
    let end = full.find(";Subject=").unwrap();
    format!("{};", &full[start..end])
}

/// `Hash=…;Cert="…"` only.
pub fn cert_only_header() -> String {
    let aca = aca_header();
    aca[..aca.find(";Chain=").unwrap()].to_owned()
}

/// Three hops: the two-hop capture with the single-hop one in front.
pub fn three_hop() -> String {
    format!("{},{}", capture("rsa-chain"), capture("two-hop"))
}

/// DER of a fixture certificate (`crates/xfcc/tests/fixtures/certs/<name>.der`).
pub fn der(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("certs/{name}.der"))).unwrap()
}

/// PEM text of a fixture certificate.
pub fn pem(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(format!("certs/{name}.pem"))).unwrap()
}

/// A time inside every fixture's validity period.
pub fn fixture_time() -> std::time::SystemTime {
    let c = xfcc::inspect::CertIdentity::from_der(der("client-rsa")).unwrap();
    c.not_before() + std::time::Duration::from_secs(86_400)
}

/// The allowlist the verify benches use (issuer CN plus a thumbprint pin
/// of the RSA fixture leaf, at a time inside its validity), on `builder`'s
/// other settings.
fn allowlist(builder: xfcc::PolicyBuilder) -> xfcc::Policy {
    let leaf = xfcc::inspect::CertIdentity::from_der(der("client-rsa")).unwrap();
    let t = fixture_time();
    builder
        .clock(move || t)
        .allow(
            xfcc::Rule::new("partner")
                .issuer_cn(["Contoso Issuing CA 1"])
                .thumbprint([leaf.sha256_hex()]),
        )
        .build()
        .unwrap()
}

/// The allowlist policy, optionally with a cache.
pub fn allowlist_policy(cache: usize) -> xfcc::Policy {
    allowlist(xfcc::Policy::builder().cache(cache))
}

/// [`allowlist_policy`] for the nginx format (one certificate per value,
/// any text encoding).
pub fn nginx_policy(cache: usize) -> xfcc::Policy {
    allowlist(
        xfcc::Policy::builder()
            .format(xfcc::Format::Nginx)
            .cache(cache),
    )
}

/// [`allowlist_policy`], uncached, for any number of elements, trusting
/// the last.
pub fn any_hops_policy() -> xfcc::Policy {
    allowlist(
        xfcc::Policy::builder()
            .elements(xfcc::ElementCount::Any)
            .trust_element(-1),
    )
}

/// A policy whose only rule requires a chain to the fixture root.
pub fn chain_policy() -> xfcc::Policy {
    let t = fixture_time();
    xfcc::Policy::builder()
        .clock(move || t)
        .chain(xfcc::TrustAnchors::new("root", pem("root").into_bytes()))
        .allow(
            xfcc::Rule::new("chained")
                .issuer_cn(["Contoso Issuing CA 1", "Contoso EC Issuing CA"])
                .chain("root"),
        )
        .build()
        .unwrap()
}

/// An Envoy header (ACA fields) for `leaf` and its intermediates.
pub fn header_for(leaf: &str, intermediates: &[&str]) -> String {
    let c = |n: &str| xfcc::inspect::CertIdentity::from_der(der(n)).unwrap();
    let chain: Vec<_> = intermediates.iter().map(|n| c(n)).collect();
    xfcc::render::render_envoy(&[], &c(leaf), &chain, xfcc::render::EnvoyFields::ACA)
}

/// The root README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The guide's Rust blocks (docs/), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/src/quick-start.md")]
pub struct GuideQuickStart;

/// See [`GuideQuickStart`].
#[cfg(doctest)]
#[doc = include_str!("../../docs/src/operations.md")]
pub struct GuideOperations;

/// See [`GuideQuickStart`].
#[cfg(doctest)]
#[doc = include_str!("../../docs/src/policy/tokens.md")]
pub struct GuideTokens;
